-- A request carries its item's task and prompt version (copied when the batch is made), so ingestion finds each
-- line's rubric and release policy from the request alone, without reading the queue item. Existing requests are
-- filled from their items before the columns become required.
ALTER TABLE "batch_requests" ADD COLUMN "task_id" bigint;--> statement-breakpoint
ALTER TABLE "batch_requests" ADD COLUMN "prompt_version_id" bigint;--> statement-breakpoint
UPDATE "batch_requests" r SET "task_id" = q."task_id", "prompt_version_id" = q."prompt_version_id" FROM "queue_items" q WHERE q."id" = r."queue_item_id";--> statement-breakpoint
ALTER TABLE "batch_requests" ALTER COLUMN "task_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "batch_requests" ALTER COLUMN "prompt_version_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "batch_requests" ADD CONSTRAINT "batch_requests_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_requests" ADD CONSTRAINT "batch_requests_prompt_version_id_prompt_versions_id_fk" FOREIGN KEY ("prompt_version_id") REFERENCES "public"."prompt_versions"("id") ON DELETE no action ON UPDATE no action;
