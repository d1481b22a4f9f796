ALTER TABLE "assessments" DROP CONSTRAINT "assessments_override_reason_check";--> statement-breakpoint
ALTER TABLE "assessments" ALTER COLUMN "queue_item_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ALTER COLUMN "custom_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ALTER COLUMN "prompt_version_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "kind" text DEFAULT 'llm' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "criteria" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "auto_release_min_confidence" real;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "attempt_policy" text DEFAULT 'last' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "late_policy" text DEFAULT 'accept' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "waiting_note" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "assessments_manual_submission_key" ON "assessments" USING btree ("submission_id") WHERE "assessments"."kind" = 'manual';--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_kind_check" CHECK ("assessments"."kind" in ('llm', 'manual'));--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_llm_source_check" CHECK ("assessments"."kind" = 'manual' or ("assessments"."queue_item_id" is not null and "assessments"."custom_id" is not null and "assessments"."prompt_version_id" is not null));--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_override_reason_check" CHECK ("assessments"."kind" = 'manual' or "assessments"."override_score" is null or "assessments"."override_reason" is not null);--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_attempt_policy_check" CHECK ("tasks"."attempt_policy" in ('last', 'best'));--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_late_policy_check" CHECK ("tasks"."late_policy" in ('accept', 'refuse'));--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_auto_release_confidence_check" CHECK ("tasks"."auto_release_min_confidence" is null or "tasks"."auto_release_min_confidence" between 0 and 1);