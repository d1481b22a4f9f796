CREATE TABLE "daily_metrics" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "daily_metrics_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"day" date NOT NULL,
	"platform_id" bigint NOT NULL,
	"course_id" bigint,
	"assessments_queued" integer DEFAULT 0 NOT NULL,
	"assessments_completed" integer DEFAULT 0 NOT NULL,
	"assessments_failed" integer DEFAULT 0 NOT NULL,
	"batches_created" integer DEFAULT 0 NOT NULL,
	"batches_completed" integer DEFAULT 0 NOT NULL,
	"batches_failed" integer DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	"avg_queue_seconds" real,
	"avg_processing_seconds" real,
	"avg_confidence" real,
	"provider_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_metrics_day_scope_key" UNIQUE NULLS NOT DISTINCT("day","platform_id","course_id")
);
--> statement-breakpoint
ALTER TABLE "daily_metrics" ADD CONSTRAINT "daily_metrics_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_metrics" ADD CONSTRAINT "daily_metrics_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "daily_metrics_platform_day_idx" ON "daily_metrics" USING btree ("platform_id","day");