CREATE TABLE "platform_privacy" (
	"platform_id" bigint PRIMARY KEY NOT NULL,
	"allowed_providers" text[] DEFAULT '{openai,anthropic}'::text[] NOT NULL,
	"max_retention_days" integer,
	"default_retention_days" integer DEFAULT 30,
	"default_anonymize" boolean DEFAULT true NOT NULL,
	"default_consent_required" boolean DEFAULT false NOT NULL,
	"updated_by" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "platform_privacy_max_retention_check" CHECK ("platform_privacy"."max_retention_days" is null or "platform_privacy"."max_retention_days" >= 1),
	CONSTRAINT "platform_privacy_default_retention_check" CHECK ("platform_privacy"."default_retention_days" is null or "platform_privacy"."default_retention_days" >= 1)
);
--> statement-breakpoint
ALTER TABLE "platform_privacy" ADD CONSTRAINT "platform_privacy_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_privacy" ADD CONSTRAINT "platform_privacy_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;