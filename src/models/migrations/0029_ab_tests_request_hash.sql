CREATE TABLE "ab_paired_grades" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ab_paired_grades_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"ab_test_id" bigint NOT NULL,
	"submission_id" bigint NOT NULL,
	"prompt_version_id" bigint NOT NULL,
	"arm" text NOT NULL,
	"score" numeric(8, 2),
	"criteria" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ab_paired_grades_test_submission_key" UNIQUE("ab_test_id","submission_id"),
	CONSTRAINT "ab_paired_grades_arm_check" CHECK ("ab_paired_grades"."arm" in ('A', 'B'))
);
--> statement-breakpoint
CREATE TABLE "prompt_ab_tests" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "prompt_ab_tests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"platform_id" bigint NOT NULL,
	"course_id" bigint NOT NULL,
	"task_id" bigint NOT NULL,
	"version_a_id" bigint NOT NULL,
	"version_b_id" bigint NOT NULL,
	"share_b" smallint NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"winner_version_id" bigint,
	"started_by" bigint,
	"ended_by" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "prompt_ab_tests_status_check" CHECK ("prompt_ab_tests"."status" in ('running', 'ended')),
	CONSTRAINT "prompt_ab_tests_share_check" CHECK ("prompt_ab_tests"."share_b" between 1 and 99),
	CONSTRAINT "prompt_ab_tests_two_versions_check" CHECK ("prompt_ab_tests"."version_a_id" <> "prompt_ab_tests"."version_b_id")
);
--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "reused_from_id" bigint;--> statement-breakpoint
ALTER TABLE "queue_items" ADD COLUMN "ab_test_id" bigint;--> statement-breakpoint
ALTER TABLE "queue_items" ADD COLUMN "request_hash" text;--> statement-breakpoint
ALTER TABLE "ab_paired_grades" ADD CONSTRAINT "ab_paired_grades_ab_test_id_prompt_ab_tests_id_fk" FOREIGN KEY ("ab_test_id") REFERENCES "public"."prompt_ab_tests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ab_paired_grades" ADD CONSTRAINT "ab_paired_grades_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ab_paired_grades" ADD CONSTRAINT "ab_paired_grades_prompt_version_id_prompt_versions_id_fk" FOREIGN KEY ("prompt_version_id") REFERENCES "public"."prompt_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_version_a_id_prompt_versions_id_fk" FOREIGN KEY ("version_a_id") REFERENCES "public"."prompt_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_version_b_id_prompt_versions_id_fk" FOREIGN KEY ("version_b_id") REFERENCES "public"."prompt_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_winner_version_id_prompt_versions_id_fk" FOREIGN KEY ("winner_version_id") REFERENCES "public"."prompt_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_started_by_users_id_fk" FOREIGN KEY ("started_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_ab_tests" ADD CONSTRAINT "prompt_ab_tests_ended_by_users_id_fk" FOREIGN KEY ("ended_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "prompt_ab_tests_one_running_per_task" ON "prompt_ab_tests" USING btree ("task_id") WHERE "prompt_ab_tests"."status" = 'running';--> statement-breakpoint
CREATE INDEX "prompt_ab_tests_course_idx" ON "prompt_ab_tests" USING btree ("course_id","task_id");--> statement-breakpoint
ALTER TABLE "queue_items" ADD CONSTRAINT "queue_items_ab_test_id_prompt_ab_tests_id_fk" FOREIGN KEY ("ab_test_id") REFERENCES "public"."prompt_ab_tests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "queue_items_request_hash_idx" ON "queue_items" USING btree ("task_id","request_hash");