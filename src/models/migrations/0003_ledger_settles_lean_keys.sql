-- The unique key a new foreign key points at is created before that key (drizzle-kit wrote it after).
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_platform_id_lti_platforms_id_fk";--> statement-breakpoint
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_course_id_courses_id_fk";--> statement-breakpoint
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_task_id_tasks_id_fk";--> statement-breakpoint
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_submission_id_submissions_id_fk";--> statement-breakpoint
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_prompt_version_id_prompt_versions_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" DROP CONSTRAINT "cost_ledger_platform_id_lti_platforms_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" DROP CONSTRAINT "cost_ledger_course_id_courses_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" DROP CONSTRAINT "cost_ledger_queue_item_id_queue_items_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" DROP CONSTRAINT "cost_ledger_batch_id_batches_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" DROP CONSTRAINT "cost_ledger_assessment_id_assessments_id_fk";--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "settled_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_id_platform_key" UNIQUE("id","platform_id");--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD CONSTRAINT "cost_ledger_course_fk" FOREIGN KEY ("course_id","platform_id") REFERENCES "public"."courses"("id","platform_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD CONSTRAINT "cost_ledger_settled_check" CHECK ("cost_ledger"."settled_micros" = 0 or "cost_ledger"."kind" = 'charge');
