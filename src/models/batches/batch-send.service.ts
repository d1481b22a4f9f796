import { decryptContent } from '../../crypto/content.js';
import { notifyBatchEnded, notifyProcessingStarted } from '../notifications/notices.service.js';
import type { Db } from '../../db/db.js';
import { scanSubmission, type SubmissionScan } from '../../grading/injection.js';
import { LOCAL_BATCH_ID_KEY, ProviderError, type BatchSnapshot } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { recordInjectionScans, sendRows, versionsForRequests, type SendRow, type VersionForRequest } from './batch-work.repository.js';
import { keepLease, pollDelayMs, later, providerOf, type BatchWorker, type NextStep } from './batch-worker.js';
import { batchCourses, claimLease, renewLease, type BatchRow } from './batches.repository.js';
import { frozenBudgetOf } from '../budgets/budgets.service.js';
import { coursesRefusingBatch, type BatchRefusal } from '../privacy/privacy.repository.js';
import { returnUnsentItems } from './batches.service.js';
import { holdForRetry, markFailedUnsent, markSubmitted, releaseLease } from './batch-steps.repository.js';
import { needsSql } from './batch-state.js';
import { gradingRequestFor } from '../../grading/request.js';
import { languageOfFile } from '../../grading/code-language.js';
import { compileRoster, sendableText, type Person, type Roster } from '../../grading/anonymize-text.js';
import { courseMembers, coursesOfTasks } from '../tenancy/roster.repository.js';

const PAGE = 500;
/** Metadata pairs that identify our batch at the provider (the id alone could repeat across installations). */
function batchMetadata(batch: BatchRow): Record<string, string> {
  return { [LOCAL_BATCH_ID_KEY]: String(batch.id), llm_assess_created: batch.createdAt.toISOString() };
}

/**
 * The request lines of a batch, made as they stream out: decrypted, anonymized when the course asks, and built
 * exactly as they were estimated at submit time. Pages of 500 requests: memory stays flat for 50,000. Each text is
 * scanned for prompt injection here, where it is plaintext anyway, and a page's findings are recorded before its
 * lines go out, so no line reaches the provider without its scan stored for ingestion.
 */
interface CoursePeople {
  roster: Roster;
  byUser: Map<number, Person>;
}

/**
 * The people of the courses of these rows, compiled once per course for the whole batch (a roster of hundreds is
 * matched against 50,000 texts; compiling it per text would cost more than the matching).
 */
async function loadPeople(w: BatchWorker, rows: SendRow[], courseOfTask: Map<number, number>, people: Map<number, CoursePeople>): Promise<void> {
  const tasks = [...new Set(rows.filter((r) => r.anonymize !== false && !courseOfTask.has(r.task_id)).map((r) => r.task_id))];
  for (const [task, course] of await coursesOfTasks(w.db, tasks)) courseOfTask.set(task, course);
  const courses = [...new Set(tasks.map((t) => courseOfTask.get(t)!))].filter((c) => c !== undefined && !people.has(c));
  const members = await courseMembers(w.db, courses);
  for (const course of courses) {
    const own = members.filter((m) => m.courseId === course);
    people.set(course, { roster: compileRoster(own), byUser: new Map(own.map((m) => [m.userId, m])) });
  }
}

/** Passes the lines on, counting them and their UTF-8 bytes (with the newline each gets in the file). */
async function* counted(lines: AsyncIterable<string>, tally: { bytes: number; lines: number }): AsyncGenerator<string> {
  for await (const line of lines) {
    tally.lines += 1;
    tally.bytes += Buffer.byteLength(line, 'utf8') + 1;
    yield line;
  }
}

async function* requestLines(w: BatchWorker, batch: BatchRow): AsyncGenerator<string> {
  const provider = providerOf(w, batch);
  const versions = new Map<number, VersionForRequest>();
  const courseOfTask = new Map<number, number>();
  const people = new Map<number, CoursePeople>();
  let after = 0;
  for (;;) {
    const rows = await sendRows(w.db, batch.id, after, PAGE);
    if (!rows.length) return;
    const missing = [...new Set(rows.map((r) => r.prompt_version_id))].filter((id) => !versions.has(id));
    for (const v of await versionsForRequests(w.db, missing)) versions.set(v.id, v);
    await loadPeople(w, rows, courseOfTask, people);
    const lines: string[] = [];
    const scans: Array<{ requestId: number; scan: SubmissionScan }> = [];
    for (const r of rows) {
      const v = versions.get(r.prompt_version_id)!;
      if (!r.content) throw new ProviderError(`The submission of queue item ${r.queue_item_id} was erased (retention) before it was sent.`, { code: 'invalid_request', retryable: false });
      let text: string;
      try {
        text = decryptContent(w.encryptionKey, r.content, { taskId: r.task_id, studentId: r.student_id, attempt: r.attempt });
      } catch (err) {
        // A wrong key or a changed value will not get better by retrying: fail the batch with the reason.
        throw new ProviderError(`The submission of queue item ${r.queue_item_id} cannot be read: ${(err as Error).message}`, { code: 'invalid_request', retryable: false });
      }
      // The text as the student wrote it: anonymizing may rewrite a word of an attack (a name inside a fake tag), and
      // the scan keeps no text, only what it found.
      const scan = scanSubmission(text);
      if (scan.risk > 0) scans.push({ requestId: r.request_id, scan });
      // No privacy row means the course's defaults, which anonymize.
      const anonymize = r.anonymize !== false;
      const course = people.get(courseOfTask.get(r.task_id) ?? -1);
      const author: Person = course?.byUser.get(r.student_id) ?? { name: r.name, givenName: r.given_name, familyName: r.family_name, email: r.email };
      const req = gradingRequestFor(
        {
          version: {
            template: v.template,
            systemInstructions: v.system_instructions,
            graderInstructions: v.grader_instructions,
            rubric: v.rubric,
            maxScore: v.max_score,
            // The batch's model: the prompt's own, or the stand-in the cost optimizer chose for it (optimizer.ts).
            model: batch.model,
            temperature: v.temperature,
            maxOutputTokens: v.max_output_tokens,
            outputSchema: v.output_schema,
          },
          task: { title: v.task_title, description: v.task_description },
        },
        sendableText(text, { author, ...(course ? { roster: course.roster } : {}) }, anonymize).text,
        r.custom_id,
        languageOfFile(r.original_filename),
      );
      lines.push(provider.buildRequestLine(req));
    }
    await recordInjectionScans(w.db, scans);
    yield* lines;
    after = rows[rows.length - 1]!.request_id;
  }
}

/** Marks the batch failed without it ever running: its items go back to the queue, reservations are released. */
async function failUnsent(w: BatchWorker, batch: BatchRow, reason: string): Promise<void> {
  await w.db.transaction(async (tx) => {
    if (!(await markFailedUnsent(tx, batch.id, w.name, reason))) return;
    await returnUnsentItems(tx, batch.id, 'cancelled', `Not sent: ${reason}`);
    await recordAudit(tx, { platformId: batch.platformId, actorKind: 'system', action: 'batch.failed', entityType: 'batch', entityId: batch.id, details: { sent: false, reason } });
    await notifyBatchEnded(tx, { ...batch, status: 'failed' }, reason);
  });
}

/** Records that the provider has the batch: created → submitted, items selected → processing. Once. */
async function recordSubmitted(db: Db, w: BatchWorker, batch: BatchRow, snapshot: BatchSnapshot, inputFileId: string | null, adopted: boolean): Promise<boolean> {
  if (!(await markSubmitted(db, batch.id, w.name, snapshot, inputFileId, pollDelayMs(w.settings, 0)))) return false;
  await recordAudit(db, {
    platformId: batch.platformId,
    actorKind: 'system',
    action: 'batch.submitted',
    entityType: 'batch',
    entityId: batch.id,
    details: { provider: batch.provider, providerBatchId: snapshot.providerBatchId, inputFileId, adopted, requests: batch.requestTotal },
  });
  await notifyProcessingStarted(db, batch.id, w.settings.minSize);
  return true;
}

/** How a held batch's reason starts (its page and the Costs page show it). */
export const HELD_BY_FREEZE = 'Held, not sent: ';

/** A confirmed batch the send step holds because a budget of its scope is frozen: it goes out once unfrozen. */
export const isHeldByFreeze = (b: Pick<BatchRow, 'status' | 'submitRequestedAt' | 'cancelRequestedAt' | 'error'>): boolean =>
  b.status === 'created' && b.submitRequestedAt !== null && b.cancelRequestedAt === null && (b.error ?? '').startsWith(HELD_BY_FREEZE);

/** A batch of a frozen scope is held, unsent, with the reason on its page; null when nothing is frozen. */
async function holdWhileFrozen(w: BatchWorker, batch: BatchRow): Promise<NextStep[] | null> {
  // An emergency override was made to pass the freeze (overrides.service.ts).
  if (batch.overrideReason) return null;
  const frozen = await frozenBudgetOf(w.db, batch.platformId, (await batchCourses(w.db, batch.id)).map((c) => c.courseId));
  if (!frozen) return null;
  // It looks again at the polling pace (the sweep finds it too).
  const left = await holdForRetry(w.db, batch.id, w.name, batch.submitAttempts, pollDelayMs(w.settings, 0), `${HELD_BY_FREEZE}${frozen}`);
  w.logger.info('a batch is held by a budget freeze', { batchId: batch.id });
  return left === null ? [] : [{ step: 'submit', batchId: batch.id, at: later(left + 1) }];
}

/**
 * A course's privacy settings can change between the batch's creation and its sending (LLM assessment turned off,
 * real time only, the provider no longer approved): then nothing is sent, the batch fails with the reason and its
 * items go back to the queue, where making a batch refuses them until the settings allow it again.
 */
async function refusedByPrivacy(w: BatchWorker, batch: BatchRow): Promise<boolean> {
  const refusing = await coursesRefusingBatch(w.db, (await batchCourses(w.db, batch.id)).map((c) => c.courseId), batch.provider);
  if (!refusing.length) return false;
  const why: Record<BatchRefusal, string> = {
    llm_off: 'LLM assessment is off',
    realtime_only: 'real time only',
    not_approved: `${batch.provider} is not approved by the course`,
    not_allowed: `${batch.provider} is not allowed by the institution`,
  };
  const reason = `the privacy settings changed after the batch was made (${refusing.map((c) => `${c.title}: ${why[c.reason]}`).join('; ')}).`;
  await failUnsent(w, batch, reason);
  w.logger.warn('a batch was not sent: privacy settings changed', { batchId: batch.id });
  return true;
}

/**
 * The send step: uploads the request file and creates the provider batch, once. It runs under the batch's lease,
 * and first asks the provider for a batch already carrying our metadata — a try that created the batch and then
 * lost the answer (or a worker that died right after) is adopted, never sent a second time. Retryable failures
 * (429, 5xx, network) are retried with backoff up to BATCH_SUBMIT_MAX_TRIES; then, or on a permanent failure, the
 * batch is failed with the reason and its items go back to the queue.
 */
export async function sendBatch(w: BatchWorker, batchId: number): Promise<NextStep[]> {
  const batch = await claimLease(w.db, batchId, w.name, w.settings.leaseMs, needsSql('submit'));
  if (!batch) return [];
  let snapshot: BatchSnapshot | null = null;
  let inputFileId: string | null = null;
  const release = keepLease(w, batchId, renewLease);
  try {
    snapshot = await providerOf(w, batch).findBatchByMetadata(batchMetadata(batch), batch.createdAt);
    const adopted = snapshot !== null;
    if (!snapshot) {
      // Not sent yet: a freeze set after the batch was created or confirmed holds it (one already at the provider
      // is adopted above whatever the freeze says: its money is spent).
      const held = await holdWhileFrozen(w, batch);
      if (held) return held;
      if (await refusedByPrivacy(w, batch)) return [];
      const meta = batchMetadata(batch);
      const upload = { bytes: 0, lines: 0 };
      const created = await providerOf(w, batch).createBatch({ lines: counted(requestLines(w, batch), upload), metadata: { localBatchId: batch.id, llm_assess_created: meta.llm_assess_created! } });
      snapshot = created.snapshot;
      inputFileId = created.inputFileId;
      // The upload and the creation, as the audit log keeps every exchange with a provider (no content).
      await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'provider.file_uploaded', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, fileId: inputFileId, requests: upload.lines, bytes: upload.bytes } });
    }
    const recorded = await w.db.transaction((tx) => recordSubmitted(tx, w, batch, snapshot!, inputFileId, adopted));
    if (!recorded) {
      w.logger.warn('a batch was sent but another worker had taken it over; it will adopt the provider batch', { batchId });
      return [];
    }
    w.logger.info('batch sent', { batchId, providerBatchId: snapshot.providerBatchId, adopted });
    return [{ step: 'poll', batchId, at: later(pollDelayMs(w.settings, 0)) }];
  } catch (err) {
    if (err instanceof ProviderError) {
      const tries = batch.submitAttempts + 1;
      if (err.retryable && tries < w.settings.submitMaxTries) {
        const hold = pollDelayMs(w.settings, 3 * (tries - 1));
        // The retry must not arrive before the hold ends, or its claim is refused and the batch waits for the
        // sweep: it comes a millisecond after what the database says is left.
        const left = await holdForRetry(w.db, batchId, w.name, tries, hold, `Sending failed (try ${tries} of ${w.settings.submitMaxTries}), will retry: ${err.message}`);
        if (left === null) return [];
        w.logger.warn('sending a batch failed; retrying later', { batchId, tries, error: err.message });
        return [{ step: 'submit', batchId, at: later(left + 1) }];
      }
      const reason = err.retryable ? `The provider kept refusing the batch (${tries} tries): ${err.message}` : `The provider refused the batch: ${err.message}`;
      await failUnsent(w, batch, reason);
      w.logger.warn('a batch could not be sent', { batchId, reason });
      return [];
    }
    // Our own failure (database, decryption): give the lease back so the sweep tries again, and say why.
    await releaseLease(w.db, batchId, w.name);
    throw err;
  } finally {
    release();
  }
}
