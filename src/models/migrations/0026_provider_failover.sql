CREATE TABLE "provider_failover_settings" (
	"platform_id" bigint PRIMARY KEY NOT NULL,
	"mode" text DEFAULT 'off' NOT NULL,
	"provider_order" text[] DEFAULT '{openai,anthropic}'::text[] NOT NULL,
	"failover_models" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sla_minutes" integer DEFAULT 1440 NOT NULL,
	"updated_by" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_failover_settings_mode_check" CHECK ("provider_failover_settings"."mode" in ('off', 'automatic')),
	CONSTRAINT "provider_failover_settings_sla_check" CHECK ("provider_failover_settings"."sla_minutes" between 15 and 1440)
);
--> statement-breakpoint
CREATE TABLE "provider_health_marks" (
	"platform_id" bigint NOT NULL,
	"provider" text NOT NULL,
	"unhealthy_since" timestamp with time zone,
	"reason" text NOT NULL,
	"batch_id" bigint,
	"cleared_at" timestamp with time zone,
	"last_probe_at" timestamp with time zone,
	"last_probe_error" text,
	"probes" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_health_marks_platform_id_provider_pk" PRIMARY KEY("platform_id","provider")
);
--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "failed_over_from" bigint;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "failover_reason" text;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "overdue_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "provider_failover_settings" ADD CONSTRAINT "provider_failover_settings_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_failover_settings" ADD CONSTRAINT "provider_failover_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_health_marks" ADD CONSTRAINT "provider_health_marks_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_health_marks" ADD CONSTRAINT "provider_health_marks_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_failed_over_from_batches_id_fk" FOREIGN KEY ("failed_over_from") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "batches_failed_over_from_key" ON "batches" USING btree ("failed_over_from") WHERE "batches"."failed_over_from" is not null;