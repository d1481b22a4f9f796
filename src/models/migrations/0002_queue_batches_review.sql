DROP INDEX "assessments_queue_item_idx";--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "decision_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "rejected_to" text;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "grade_synced_seq" integer;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "grade_sync_next_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "grade_sync_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "cancel_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "submit_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "submit_requested_by" bigint;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "submit_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "next_poll_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "polls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "est_input_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "ingested_lines" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "unmatched_lines" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_submit_requested_by_users_id_fk" FOREIGN KEY ("submit_requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assessments_queue_item_key" ON "assessments" USING btree ("queue_item_id");--> statement-breakpoint
CREATE INDEX "assessments_grade_sync_due_idx" ON "assessments" USING btree ("grade_sync_next_at") WHERE "assessments"."grade_sync_status" = 'pending';--> statement-breakpoint
CREATE INDEX "assessments_prompt_version_idx" ON "assessments" USING btree ("prompt_version_id","id");--> statement-breakpoint
CREATE INDEX "batches_open_idx" ON "batches" USING btree ("id") WHERE "batches"."ingested_at" is null;--> statement-breakpoint
CREATE INDEX "queue_items_task_idx" ON "queue_items" USING btree ("task_id","status");--> statement-breakpoint
CREATE INDEX "queue_items_platform_created_idx" ON "queue_items" USING btree ("platform_id","created_at");--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_rejected_to_check" CHECK ("assessments"."rejected_to" is null or "assessments"."rejected_to" in ('queue', 'manual'));