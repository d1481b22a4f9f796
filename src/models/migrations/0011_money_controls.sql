ALTER TABLE "batches" ADD COLUMN "override_reason" text;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "mode" text DEFAULT 'batch' NOT NULL;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "task_id" bigint;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "input_tokens" integer;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "cached_input_tokens" integer;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD COLUMN "output_tokens" integer;--> statement-breakpoint
ALTER TABLE "cost_ledger" ADD CONSTRAINT "cost_ledger_mode_check" CHECK ("cost_ledger"."mode" in ('batch', 'realtime'));