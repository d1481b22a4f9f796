CREATE TABLE "realtime_requests" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "realtime_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"platform_id" bigint NOT NULL,
	"course_id" bigint NOT NULL,
	"task_id" bigint NOT NULL,
	"queue_item_id" bigint NOT NULL,
	"custom_id" text NOT NULL,
	"source" text NOT NULL,
	"requested_by" bigint,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"lease_until" timestamp with time zone,
	"assessment_id" bigint,
	"cost_micros" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "realtime_requests_custom_id_unique" UNIQUE("custom_id"),
	CONSTRAINT "realtime_requests_source_check" CHECK ("realtime_requests"."source" in ('student', 'instructor', 'realtime_only')),
	CONSTRAINT "realtime_requests_status_check" CHECK ("realtime_requests"."status" in ('pending', 'running', 'succeeded', 'failed', 'refused'))
);
--> statement-breakpoint
ALTER TABLE "course_privacy" ADD COLUMN "escalation" text DEFAULT 'instructors' NOT NULL;--> statement-breakpoint
ALTER TABLE "course_privacy" ADD COLUMN "escalation_limit" integer DEFAULT 2 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_privacy" ADD COLUMN "max_student_escalations" integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE "realtime_requests" ADD CONSTRAINT "realtime_requests_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "realtime_requests" ADD CONSTRAINT "realtime_requests_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "realtime_requests" ADD CONSTRAINT "realtime_requests_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "realtime_requests" ADD CONSTRAINT "realtime_requests_queue_item_id_queue_items_id_fk" FOREIGN KEY ("queue_item_id") REFERENCES "public"."queue_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "realtime_requests" ADD CONSTRAINT "realtime_requests_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "realtime_requests_one_live_per_item" ON "realtime_requests" USING btree ("queue_item_id") WHERE "realtime_requests"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "realtime_requests_student_idx" ON "realtime_requests" USING btree ("course_id","requested_by","created_at") WHERE "realtime_requests"."source" = 'student';--> statement-breakpoint
CREATE INDEX "realtime_requests_live_idx" ON "realtime_requests" USING btree ("created_at") WHERE "realtime_requests"."status" in ('pending', 'running');--> statement-breakpoint
ALTER TABLE "course_privacy" ADD CONSTRAINT "course_privacy_escalation_check" CHECK ("course_privacy"."escalation" in ('off', 'instructors', 'students'));--> statement-breakpoint
ALTER TABLE "course_privacy" ADD CONSTRAINT "course_privacy_escalation_limit_check" CHECK ("course_privacy"."escalation_limit" between 1 and 50);--> statement-breakpoint
ALTER TABLE "platform_privacy" ADD CONSTRAINT "platform_privacy_max_escalations_check" CHECK ("platform_privacy"."max_student_escalations" between 0 and 50);