ALTER TABLE "audit_log" ADD COLUMN "seal_seq" bigint;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash" text;--> statement-breakpoint
CREATE INDEX "audit_log_unsealed_idx" ON "audit_log" USING btree ("id") WHERE "audit_log"."hash" is null;--> statement-breakpoint
CREATE INDEX "audit_log_platform_action_idx" ON "audit_log" USING btree ("platform_id","action","created_at");--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_seal_seq_unique" UNIQUE("seal_seq");--> statement-breakpoint
-- Append-only, whoever asks (the application's role owns the table, so a REVOKE would not bind it): no DELETE,
-- no TRUNCATE, and no UPDATE except the sealing job's one write of seal_seq and hash into a row not sealed yet.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.hash IS NULL AND OLD.seal_seq IS NULL AND NEW.hash IS NOT NULL AND NEW.seal_seq IS NOT NULL
     AND (NEW.id, NEW.platform_id, NEW.course_id, NEW.actor_id, NEW.actor_kind, NEW.action, NEW.entity_type, NEW.entity_id, NEW.details, NEW.created_at)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.platform_id, OLD.course_id, OLD.actor_id, OLD.actor_kind, OLD.action, OLD.entity_type, OLD.entity_id, OLD.details, OLD.created_at)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;--> statement-breakpoint
CREATE TRIGGER "audit_log_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
