ALTER TABLE "tasks" ADD COLUMN "registration_id" bigint;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "roster_registration_id" bigint;--> statement-breakpoint
ALTER TABLE "lti_deployments" ADD COLUMN "courses_of" text;--> statement-breakpoint
ALTER TABLE "lti_platforms" ADD COLUMN "joined_platform_id" bigint;--> statement-breakpoint
ALTER TABLE "registration_invites" ADD COLUMN "join_platform_id" bigint;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_registration_id_lti_platforms_id_fk" FOREIGN KEY ("registration_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_roster_registration_id_lti_platforms_id_fk" FOREIGN KEY ("roster_registration_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lti_platforms" ADD CONSTRAINT "lti_platforms_joined_platform_id_lti_platforms_id_fk" FOREIGN KEY ("joined_platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registration_invites" ADD CONSTRAINT "registration_invites_join_platform_id_lti_platforms_id_fk" FOREIGN KEY ("join_platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lti_platforms" ADD CONSTRAINT "lti_platforms_not_joined_to_itself" CHECK ("lti_platforms"."joined_platform_id" is distinct from "lti_platforms"."id");