ALTER TABLE "course_privacy" ALTER COLUMN "retention_days" SET DEFAULT 30;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "provider_files_deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "provider_files_delete_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "provider_files_delete_error" text;