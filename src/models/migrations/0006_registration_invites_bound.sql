-- Registration links say who made them and which issuer they may register. Links made before this could register
-- any issuer, whoever made them (the tenant takeover of issue 13): unused ones are expired, to be made again.
ALTER TABLE "registration_invites" ADD COLUMN "created_by_platform_id" bigint;--> statement-breakpoint
ALTER TABLE "registration_invites" ADD COLUMN "issuer" text;--> statement-breakpoint
ALTER TABLE "registration_invites" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "registration_invites" ADD CONSTRAINT "registration_invites_created_by_platform_id_lti_platforms_id_fk" FOREIGN KEY ("created_by_platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
UPDATE "registration_invites" SET "expires_at" = now() WHERE "used_at" IS NULL AND "expires_at" > now();
