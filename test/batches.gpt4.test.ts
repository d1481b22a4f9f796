import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { validateChatRequest } from '../src/emulator/chat/request.js';
import { intendedAnswer } from '../src/emulator/grader/answer.js';
import { ANSWER_SCHEMA_OPEN } from '../src/grading/answer-format.js';
import { gradingRequestFor, type GradingRequest } from '../src/grading/request.js';
import { listCourseAssessments } from '../src/models/assessments/assessments.repository.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { customIdFor, estimateRequest } from '../src/providers/index.js';
import { chatCompletionBody } from '../src/providers/openai/request-line.js';
import { countChatTokens } from '../src/providers/tokens.js';
import { bulkSubmit, ESSAYS, seedTenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';

/**
 * Issue 16, item 9: a prompt on gpt-4, which has no Structured Outputs, graded end to end through the emulator.
 * Its requests carry no response format (the emulator, like the API, refuses a json_schema one for gpt-4) and tell
 * the schema in the system message; its answers, some inside a ```json fence, become assessments with results.
 */

const env = useEmulatedBatches();
const TASK = { title: 'Persuasive paragraph', description: 'Argue for or against school uniforms in one paragraph.' };

/**
 * An emulator seed under which some of these requests are answered inside a fence and some bare. The fence is
 * rolled per request (1 in 10), and bulkSubmit sends only four distinct essays, so the default seed may fence none.
 */
function seedFencingSome(requests: GradingRequest[]): string {
  for (let i = 0; i < 500; i++) {
    const seed = `gpt4-${i}`;
    const fenced = requests.filter((r) => intendedAnswer(validateChatRequest(chatCompletionBody(r)), seed).fenced).length;
    if (fenced > 0 && fenced < requests.length) return seed;
  }
  throw new Error('no seed fences some answers and not others: has the emulator stopped fencing?');
}

describe('a batch on gpt-4', () => {
  it('sends requests without a response format, and ingests every answer, fenced or not, as an assessment with a result', async () => {
    const db = env.db.db;
    const seeded = await seedTenant(db, { anonymize: false });
    await db.execute(sql`update prompt_versions set model = 'gpt-4' where id = ${seeded.version.id}`);
    const t = { ...seeded, version: { ...seeded.version, model: 'gpt-4' } };

    const requests = ESSAYS.map((text) => gradingRequestFor({ version: t.version, task: TASK }, text, customIdFor(1, 1)));
    for (const r of requests) {
      expect(r.responseFormat).toBeUndefined();
      expect(r.messages[0]!.content).toContain(ANSWER_SCHEMA_OPEN);
    }
    env.emulator.setFaults({ seed: seedFencingSome(requests) });

    const items = await bulkSubmit(db, env.config, t, 12);
    // Estimated at gpt-4's prices, from the messages alone (the schema is in them).
    const queued = await db.execute<{ model: string; est_input_tokens: number; est_cost_micros: string }>(sql`select model, est_input_tokens, est_cost_micros from queue_items where id = any(${sql.param(items)}::bigint[]) order by id`);
    expect(queued.rows.map((r) => r.model)).toEqual(Array(12).fill('gpt-4'));
    expect(Number(queued.rows[0]!.est_input_tokens)).toBe(countChatTokens('gpt-4', requests[0]!.messages));
    expect(Number(queued.rows[0]!.est_cost_micros)).toBe(estimateRequest(requests[0]!, 'batch', { criteria: t.version.rubric.length }).costMicros);

    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db, t.admin, batch!.id);
    await drive(env.worker, submitSteps([batch!.id]));

    const done = (await findBatchById(db, batch!.id))!;
    expect(done.status).toBe('completed');
    expect(done.ingestedLines).toBe(12);

    // What gpt-4 answered, as the provider returned it: every line a success (a json_schema format would have
    // been refused line by line), some answers fenced.
    const lines = [];
    for await (const line of env.worker.provider.streamResults(done.outputFileId!)) lines.push(line);
    expect(lines).toHaveLength(12);
    const contents = lines.map((l) => (l.kind === 'succeeded' ? l.content : `${l.kind}`));
    expect(contents.filter((c) => c?.startsWith('```json\n')).length).toBeGreaterThan(0);
    expect(contents.every((c) => c?.startsWith('```json\n') || c?.startsWith('{'))).toBe(true);

    const assessments = await listCourseAssessments(db, t.courseId);
    expect(assessments).toHaveLength(12);
    for (const a of assessments) {
      expect(a.result).not.toBeNull();
      expect(a.flags.map((f) => f.code)).not.toContain('malformed_json');
      expect(a.score).toBeGreaterThanOrEqual(0);
      expect(a.score).toBeLessThanOrEqual(10);
      expect(a.actualCostMicros).toBeGreaterThan(0);
    }
    const states = await db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(items)}::bigint[])`);
    expect(states.rows.every((r) => r.status === 'completed')).toBe(true);
  }, 60_000);
});
