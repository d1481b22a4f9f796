ALTER TABLE "courses" ADD COLUMN "memberships_url" text;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "roster_synced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "memberships" ADD COLUMN "active" boolean DEFAULT true NOT NULL;