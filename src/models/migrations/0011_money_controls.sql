CREATE TABLE "cost_settings" (
	"platform_id" bigint PRIMARY KEY NOT NULL,
	"hourly_rate_micros" bigint,
	"default_manual_minutes" integer,
	"updated_by" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cost_settings_rate_check" CHECK ("cost_settings"."hourly_rate_micros" is null or "cost_settings"."hourly_rate_micros" between 0 and 10000000000),
	CONSTRAINT "cost_settings_minutes_check" CHECK ("cost_settings"."default_manual_minutes" is null or "cost_settings"."default_manual_minutes" between 1 and 600)
);
--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "override_reason" text;--> statement-breakpoint
ALTER TABLE "budgets" ADD COLUMN "carry_over" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "mode" text DEFAULT 'batch' NOT NULL;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "task_id" bigint;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "input_tokens" integer;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "cached_input_tokens" integer;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "output_tokens" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "manual_minutes_per_assessment" integer;--> statement-breakpoint
ALTER TABLE "cost_settings" ADD CONSTRAINT "cost_settings_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cost_settings" ADD CONSTRAINT "cost_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cost_ledger_realtime_reservations_idx" ON "cost_ledger" USING btree ("created_at") WHERE "cost_ledger"."mode" = 'realtime' and "cost_ledger"."kind" = 'reservation';--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD CONSTRAINT "cost_ledger_mode_check" CHECK ("cost_ledger"."mode" in ('batch', 'realtime'));--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_manual_minutes_check" CHECK ("tasks"."manual_minutes_per_assessment" is null or "tasks"."manual_minutes_per_assessment" between 1 and 600);