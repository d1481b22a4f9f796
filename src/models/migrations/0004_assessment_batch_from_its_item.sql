-- An assessment's batch is copied from its queue item by the insert, as its platform, course, task, submission and
-- prompt version are; the queue item's own key vouches for it, so ingestion checks one foreign key less per result.
ALTER TABLE "assessments" DROP CONSTRAINT "assessments_batch_id_batches_id_fk";
