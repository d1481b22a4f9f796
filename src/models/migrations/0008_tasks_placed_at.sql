-- A task is placed in the LMS once, recorded when the deep-linking answer is made (a second placement of the same task
-- made a second gradebook column). Tasks already linked count as placed.
ALTER TABLE "tasks" ADD COLUMN "placed_at" timestamp with time zone;--> statement-breakpoint
UPDATE "tasks" SET "placed_at" = "created_at" WHERE "resource_link_id" IS NOT NULL OR "line_item_url" IS NOT NULL;
