import { createHash } from 'node:crypto';

/**
 * What a grading request sends, as one hash: the prompt version (its template, rubric, schema and temperature are
 * frozen with it), the model, the source language and the text as sent (anonymized when the course asks, which is
 * deterministic). Two requests with one hash ask the model the same question, so at temperature 0 a second answer
 * would only cost money: an identical resubmission reuses the first (submissions.service.ts).
 */
export function requestHashOf(parts: { promptVersionId: number; model: string; language: string | null; text: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.promptVersionId, parts.model, parts.language, parts.text]))
    .digest('hex');
}
