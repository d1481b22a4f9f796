-- What the prompt-injection scan found in each request's text, written when the request line is built (issue 13,
-- item 5). Null for requests sent before: their assessments get the post-check on the model's answer only.
ALTER TABLE "batch_requests" ADD COLUMN "injection_scan" jsonb;