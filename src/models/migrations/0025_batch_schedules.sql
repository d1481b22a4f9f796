CREATE TABLE "batch_schedule_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batch_schedule_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"schedule_id" bigint NOT NULL,
	"platform_id" bigint NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"batch_ids" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"items" integer DEFAULT 0 NOT NULL,
	"est_cost_micros" bigint DEFAULT 0 NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batch_schedule_runs_slot_key" UNIQUE("schedule_id","due_at"),
	CONSTRAINT "batch_schedule_runs_outcome_check" CHECK ("batch_schedule_runs"."outcome" in ('created', 'sent', 'skipped', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "batch_schedules" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batch_schedules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"platform_id" bigint NOT NULL,
	"course_id" bigint,
	"task_id" bigint,
	"name" text NOT NULL,
	"trigger" text NOT NULL,
	"interval_minutes" integer,
	"cron" text,
	"threshold_items" integer,
	"threshold_wait_minutes" integer,
	"window_start_minute" integer,
	"window_end_minute" integer,
	"priority" text,
	"min_items" integer NOT NULL,
	"max_items" integer NOT NULL,
	"needs_confirmation" boolean DEFAULT true NOT NULL,
	"paused_at" timestamp with time zone,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone,
	"created_by" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batch_schedules_trigger_check" CHECK ("batch_schedules"."trigger" in ('interval', 'cron', 'threshold')),
	CONSTRAINT "batch_schedules_trigger_fields_check" CHECK (("batch_schedules"."trigger" <> 'interval' or "batch_schedules"."interval_minutes" > 0) and ("batch_schedules"."trigger" <> 'cron' or "batch_schedules"."cron" is not null)
          and ("batch_schedules"."trigger" <> 'threshold' or ("batch_schedules"."threshold_items" > 0 and "batch_schedules"."threshold_wait_minutes" > 0))),
	CONSTRAINT "batch_schedules_items_check" CHECK ("batch_schedules"."min_items" >= 1 and "batch_schedules"."max_items" >= "batch_schedules"."min_items")
);
--> statement-breakpoint
ALTER TABLE "batch_schedule_runs" ADD CONSTRAINT "batch_schedule_runs_schedule_id_batch_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."batch_schedules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_schedule_runs" ADD CONSTRAINT "batch_schedule_runs_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_schedules" ADD CONSTRAINT "batch_schedules_platform_id_lti_platforms_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."lti_platforms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_schedules" ADD CONSTRAINT "batch_schedules_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_schedules" ADD CONSTRAINT "batch_schedules_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_schedules" ADD CONSTRAINT "batch_schedules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batch_schedule_runs_platform_idx" ON "batch_schedule_runs" USING btree ("platform_id","created_at");--> statement-breakpoint
CREATE INDEX "batch_schedules_due_idx" ON "batch_schedules" USING btree ("next_run_at") WHERE paused_at is null;--> statement-breakpoint
CREATE INDEX "batch_schedules_platform_idx" ON "batch_schedules" USING btree ("platform_id");