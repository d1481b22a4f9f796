import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { expectToContainAll } from './helpers/expect-text.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { allowLlm } from './helpers/queue-fixtures.js';

const LOW = [{ code: 'low_confidence', message: 'The model reports low confidence (0.3).' }];

/** The instructor's review: queue, page, approve / override / reject / bulk approve, and every refusal. */
describe('review', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const row = async (id: number) =>
    (await stack.db.db.execute<{ review_status: string; decision_seq: number; score: number | null; override_score: number | null; override_reason: string | null; result: unknown; released_at: Date | null; grade_sync_status: string; rejected_to: string | null; review_note: string | null }>(sql`
      select review_status, decision_seq, score, override_score, override_reason, result, released_at, grade_sync_status, rejected_to, review_note from assessments where id = ${id}`)).rows[0]!;
  const audits = async (id: number) =>
    (await stack.db.db.execute<{ action: string }>(sql`select action from audit_log where entity_type = 'assessment' and entity_id = ${String(id)} order by id`)).rows.map((r) => r.action);

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lists pending assessments flagged first with the reason, and filters them', async () => {
    const plain = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1, criteria: { thesis: 30, evidence: 30, clarity: 10 } });
    const flagged = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2, confidence: 0.3, flags: LOW, criteria: { thesis: 20, evidence: 20, clarity: 10 } });
    const page = await instructor.get('/instructor/review');
    expect(page.status).toBe(200);
    const first = page.html.indexOf(`data-assessment="${flagged.id}"`);
    const second = page.html.indexOf(`data-assessment="${plain.id}"`);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(second);
    expect(textOf(page.html)).toMatch(/low confidence\s*: The model reports low confidence \(0\.3\)\./);

    const byFlag = await instructor.get('/instructor/review?flag=low_confidence');
    expect(byFlag.html).toContain(`data-assessment="${flagged.id}"`);
    expect(byFlag.html).not.toContain(`data-assessment="${plain.id}"`);
    const byConfidence = await instructor.get('/instructor/review?confidenceBelow=50');
    expect(byConfidence.html).toContain(`data-assessment="${flagged.id}"`);
    expect(byConfidence.html).not.toContain(`data-assessment="${plain.id}"`);
    const byScore = await instructor.get('/instructor/review?scoreMin=60&scoreMax=80');
    expect(byScore.html).toContain(`data-assessment="${plain.id}"`);
    expect(byScore.html).not.toContain(`data-assessment="${flagged.id}"`);
    const byTask = await instructor.get(`/instructor/review?task=${ids.taskId + 999}`);
    expect(byTask.html).toContain('Nothing here');
  });

  it('refuses a bad filter with a message beside the field', async () => {
    const bad = await instructor.get('/instructor/review?confidenceBelow=abc&scoreMin=50&scoreMax=10');
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('Enter a confidence from 0 to 100 (%).');
    expect(bad.html).toContain('The highest score must not be below the lowest.');
    expect(bad.html).toMatch(/id="f-conf"[^>]*aria-invalid="true"/);
  });

  it('shows the decrypted submission, the exact prompt and messages, the structured result and the cost', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3, text: 'Bread prices & <b>taxes</b> caused it.', comments: 'Good **start**. <script>alert(1)</script>', costMicros: 420 });
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(page.status).toBe(200);
    // The work and the model's result come first, the decision after them (issue 18, item 9).
    const at = (marker: string) => page.html.indexOf(marker);
    const work = at('id="submission-title"');
    expect(work).toBeGreaterThan(0);
    expect(work < at('id="result-title"') && at('id="result-title"') < at(`id="review-decision-${a.id}"`)).toBe(true);
    expectToContainAll(page.html, [
      'Bread prices &amp; &lt;b&gt;taxes&lt;/b&gt; caused it.',
      'Prompt version 1',
      '&lt;student_submission&gt;',
      'You are a fair and careful grader.',
      'Good <strong>start</strong>.',
    ]);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expectToContainAll(textOf(page.html), [
      'Thesis 32 / 40',
      'Justification for evidence: cites the second paragraph.',
      'Names three causes',
      'Cite a primary source',
      '$0.00042',
      '90% / 90%',
    ]);
  });

  it('approves in one click, once: a double submit changes nothing', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    const ok = await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(ok.html).toContain(`id="review-decision-${a.id}"`);
    expect(ok.html).not.toContain('<html');
    expect(ok.html).toContain('Approved.');
    const after = await row(a.id);
    expect(after).toMatchObject({ review_status: 'approved', decision_seq: 1, grade_sync_status: 'pending' });
    expect(after.released_at).not.toBeNull();

    const again = await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
    expect(again.status).toBe(409);
    expect(again.headers.get('hx-retarget')).toBe('#flash');
    expect(again.html).toContain('changed since the page was loaded');
    expect((await row(a.id)).decision_seq).toBe(1);
    expect(await audits(a.id)).toEqual(['assessment.approved']);
  });

  it('refuses to approve what has no usable score, or a form without its decision number', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2, unusable: true });
    const res = await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
    expect(res.status).toBe(409);
    expect(res.html).toContain('no usable score');
    const stale = await instructor.post(`/instructor/review/${a.id}/approve`, {}, { htmx: true });
    expect(stale.status).toBe(400);
    expect((await row(a.id)).review_status).toBe('pending_review');
    const missing = await instructor.post('/instructor/review/999999/approve', { decisionSeq: '0' }, { htmx: true });
    expect(missing.status).toBe(404);
  });

  it('overrides with a required reason, keeping the LLM result unchanged beside it', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    const before = await row(a.id);
    const noReason = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '75', category: 'other', reason: '' }, { htmx: true });
    expect(noReason.status).toBe(422);
    expect(noReason.html).toContain('Say why you change the grade');
    expect(noReason.html).toMatch(/id="ov-reason-\d+"[^>]*aria-invalid="true"/);
    expect(noReason.html).toContain('value="75"');
    const outOfRange = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '175', 'criteria[thesis]': '55', category: 'other', reason: 'x' }, { htmx: true });
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.html).toContain('The score must be from 0 to 100.');
    expect(outOfRange.html).toContain('From 0 to 40.');
    const notANumber = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: 'lots', category: 'other', reason: 'x' }, { htmx: true });
    expect(notANumber.status).toBe(422);
    expect(notANumber.html).toContain('Enter a number.');
    expect(await row(a.id)).toEqual(before);

    // What was wrong with the grade is required, from the list: refused beside its field, nothing changed.
    const noCategory = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '70', reason: 'Evidence is weaker.' }, { htmx: true });
    expect(noCategory.status).toBe(422);
    expect(noCategory.html).toMatch(/<p id="ov-category-error-\d+" class="field-error">Choose what was wrong with the model&#39;s grade/);
    expect(noCategory.html).toMatch(/id="ov-category-\d+"[^>]*aria-invalid="true"/);
    const badCategory = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '70', category: 'meh', reason: 'Evidence is weaker.' }, { htmx: true });
    expect(badCategory.status).toBe(422);
    expect(badCategory.html).toContain('Choose what was wrong with the grade from the list.');
    expect(await row(a.id)).toEqual(before);

    const ok = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '70', 'criteria[thesis]': '25', 'criteria[evidence]': '30', 'criteria[clarity]': '15', feedback: 'See **me** in office hours.', category: 'too_lenient', reason: 'Evidence is weaker than the model thought.' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(ok.html).toContain('Overridden.');
    expect(textOf(ok.html)).toContain('Your grade: 70 / 100 (LLM: 80). The sum of your points per criterion. What was wrong: Too lenient.');
    expect((await stack.db.db.execute<{ override_category: string }>(sql`select override_category from assessments where id = ${a.id}`)).rows[0]).toEqual({ override_category: 'too_lenient' });
    const after = await row(a.id);
    expect(after).toMatchObject({ review_status: 'overridden', override_score: 70, score: 80, grade_sync_status: 'pending', decision_seq: 1 });
    // Stored encrypted (test/crypto.keys.test.ts has the rest).
    expect(after.override_reason).toMatch(/^enc:k1:/);
    expect(after.result).toEqual(before.result);

    // A later override replaces the decision (and will be synced again); a stale form does not.
    const stale = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '60', category: 'other', reason: 'again' }, { htmx: true });
    expect(stale.status).toBe(409);
    const later = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '1', score: '65', category: 'other', reason: 'Re-read it.' }, { htmx: true });
    expect(later.status).toBe(200);
    expect(await row(a.id)).toMatchObject({ override_score: 65, decision_seq: 2 });
    expect(await audits(a.id)).toEqual(['assessment.overridden', 'assessment.overridden']);
  });

  it('rejects to manual grading (then graded by an override) or back to the queue with a note', async () => {
    const manual = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    const noChoice = await instructor.post(`/instructor/review/${manual.id}/reject`, { decisionSeq: '0', note: 'x' }, { htmx: true });
    expect(noChoice.status).toBe(422);
    expect(noChoice.html).toContain('Choose where the work goes');
    const ok = await instructor.post(`/instructor/review/${manual.id}/reject`, { decisionSeq: '0', rejectTo: 'manual', note: 'I will grade this one.' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(await row(manual.id)).toMatchObject({ review_status: 'rejected', rejected_to: 'manual', review_note: 'I will grade this one.', released_at: null, grade_sync_status: 'none' });
    const again = await instructor.post(`/instructor/review/${manual.id}/reject`, { decisionSeq: '1', rejectTo: 'manual' }, { htmx: true });
    expect(again.status).toBe(409);
    const graded = await instructor.post(`/instructor/review/${manual.id}/override`, { decisionSeq: '1', score: '55', category: 'misread', reason: 'Graded by hand.' }, { htmx: true });
    expect(graded.status).toBe(200);
    expect(await row(manual.id)).toMatchObject({ review_status: 'overridden', override_score: 55 });

    const queued = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    const noNote = await instructor.post(`/instructor/review/${queued.id}/reject`, { decisionSeq: '0', rejectTo: 'queue' }, { htmx: true });
    expect(noNote.status).toBe(422);
    expect(noNote.html).toContain('Add a note for the queue');
    // LLM assessment off for the course: the work cannot go back to the LLM queue (nothing changes).
    const off = await instructor.post(`/instructor/review/${queued.id}/reject`, { decisionSeq: '0', rejectTo: 'queue', note: 'Weigh the evidence criterion more.' }, { htmx: true });
    expect(off.status).toBe(409);
    expect(textOf(off.html)).toContain('LLM assessment is off for this course, so the work cannot be queued. Grade it by hand instead.');
    expect(await row(queued.id)).toMatchObject({ review_status: 'pending_review', decision_seq: 0 });
    await allowLlm(stack.db.db, ids.courseId, ids.instructorId);
    const back = await instructor.post(`/instructor/review/${queued.id}/reject`, { decisionSeq: '0', rejectTo: 'queue', note: 'Weigh the evidence criterion more.' }, { htmx: true });
    expect(back.status).toBe(200);
    const items = await stack.db.db.execute<{ status: string; admin_notes: string; est_input_tokens: number }>(sql`select status, admin_notes, est_input_tokens from queue_items where submission_id = ${queued.submissionId} order by id`);
    expect(items.rows.map((r) => r.status)).toEqual(['completed', 'queued']);
    expect(items.rows[1]!.admin_notes).toContain('Weigh the evidence criterion more.');
    expect(items.rows[1]!.est_input_tokens).toBeGreaterThan(50);
    const overrideQueued = await instructor.post(`/instructor/review/${queued.id}/override`, { decisionSeq: '1', score: '50', category: 'other', reason: 'x' }, { htmx: true });
    expect(overrideQueued.status).toBe(409);
    expect(overrideQueued.html).toContain('sent back to the LLM queue');
  });

  it('bulk-approves a selection; flagged items need the explicit confirmation; a double submit approves nothing twice', async () => {
    await stack.db.db.execute(sql`update assessments set review_status = 'rejected', rejected_to = 'manual' where review_status = 'pending_review'`);
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    const b = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    const flagged = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3, confidence: 0.3, flags: LOW });
    const form = new URLSearchParams();
    for (const id of [a.id, b.id, flagged.id]) form.append('ids', String(id));
    // Repeated `ids` fields, as a browser sends a checkbox list.
    const send = (body: URLSearchParams) =>
      fetch(new URL('/instructor/review/bulk-approve', stack.toolUrl), {
        method: 'POST',
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true', authorization: `Bearer ${instructor.ltik}`, 'x-csrf-token': instructor.csrf, cookie: instructor.browser.jar.header(stack.toolUrl) },
      });
    const unconfirmed = await send(form);
    expect(unconfirmed.status).toBe(422);
    const unconfirmedHtml = await unconfirmed.text();
    expect(unconfirmedHtml).toContain('1 of the selected assessment is flagged for review');
    expect(unconfirmedHtml).toMatch(/id="confirm-flagged"[^>]*aria-invalid="true"/);
    expect((await row(a.id)).review_status).toBe('pending_review');

    const confirmed = new URLSearchParams(form);
    confirmed.set('confirmFlagged', 'on');
    const ok = await send(confirmed);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Approved 3 assessments.');
    for (const id of [a.id, b.id, flagged.id]) expect(await row(id)).toMatchObject({ review_status: 'approved', decision_seq: 1 });

    const twice = await send(confirmed);
    expect(twice.status).toBe(200);
    expect(await twice.text()).toContain('Approved 0 assessments. Not approved: #');
    for (const id of [a.id, b.id, flagged.id]) expect(await audits(id)).toEqual(['assessment.approved']);

    const none = await send(new URLSearchParams({ confirmFlagged: 'on' }));
    expect(none.status).toBe(422);
    expect(await none.text()).toContain('Select at least one assessment to approve.');
  });

  it('retries a grade sync only when there is one to retry', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    const pendingReview = await instructor.post(`/instructor/review/${a.id}/retry-sync`, {}, { htmx: true });
    expect(pendingReview.status).toBe(409);
    expect(pendingReview.html).toContain('Only an approved or overridden grade');
    await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
    await stack.db.db.execute(sql`update assessments set grade_sync_status = 'failed', grade_sync_error = 'The gradebook service answered HTTP 500' where id = ${a.id}`);
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(textOf(page.html)).toContain('Could not be sent to the LMS gradebook');
    expect(textOf(page.html)).toContain('The gradebook service answered HTTP 500');
    const retry = await instructor.post(`/instructor/review/${a.id}/retry-sync`, {}, { htmx: true });
    expect(retry.status).toBe(200);
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'pending' });
    await stack.db.db.execute(sql`update assessments set grade_sync_status = 'synced' where id = ${a.id}`);
    const synced = await instructor.post(`/instructor/review/${a.id}/retry-sync`, {}, { htmx: true });
    expect(synced.status).toBe(409);
    expect(synced.html).toContain('already in the LMS gradebook');
  });

  describe('what cannot be read or graded again', () => {
    it('shows why a submission text is missing: deleted by retention, or not decryptable', async () => {
      const purged = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
      await stack.db.db.execute(sql`update submissions set content = null, purged_at = now() where id = ${purged.submissionId}`);
      const page = await instructor.get(`/instructor/review/${purged.id}`);
      expect(page.status).toBe(200);
      expect(textOf(page.html)).toMatch(/The text of this submission was removed on .* under the course's retention policy/);
      const tampered = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
      await stack.db.db.execute(sql`update submissions set content = decode('01' || repeat('00', 40), 'hex') where id = ${tampered.submissionId}`);
      expect(textOf((await instructor.get(`/instructor/review/${tampered.id}`)).html)).toContain('cannot be decrypted');
    });

    it('refuses to send work back to the queue when its text is gone, when it is already queued, or when the task has no prompt', async () => {
      const reject = (id: number) => instructor.post(`/instructor/review/${id}/reject`, { decisionSeq: '0', rejectTo: 'queue', note: 'again' }, { htmx: true });
      const purged = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
      await stack.db.db.execute(sql`update submissions set content = null, purged_at = now() where id = ${purged.submissionId}`);
      const gone = await reject(purged.id);
      expect(gone.status).toBe(409);
      expect(gone.html).toContain('was deleted (retention)');
      const tampered = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
      await stack.db.db.execute(sql`update submissions set content = decode('01' || repeat('00', 40), 'hex') where id = ${tampered.submissionId}`);
      expect((await reject(tampered.id)).html).toContain('cannot be read');
      const queued = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
      await stack.db.db.execute(sql`update queue_items set status = 'queued' where id = ${queued.queueItemId}`);
      const twice = await reject(queued.id);
      expect(twice.status).toBe(409);
      expect(twice.html).toContain('already waiting in the queue');
      const noPrompt = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
      await stack.db.db.execute(sql`update prompts set active_version_id = null where task_id = ${ids.taskId}`);
      try {
        const res = await reject(noPrompt.id);
        expect(res.status).toBe(409);
        expect(res.html).toContain('no active grading prompt');
      } finally {
        await stack.db.db.execute(sql`update prompts set active_version_id = (select max(id) from prompt_versions v where v.prompt_id = prompts.id) where task_id = ${ids.taskId}`);
      }
      // Every refusal rolled back: nothing was rejected.
      for (const a of [purged, tampered, queued, noPrompt]) expect((await row(a.id)).review_status).toBe('pending_review');
    });

    it('answers "not found" for decisions on assessments that do not exist', async () => {
      for (const action of ['override', 'reject', 'retry-sync']) {
        const res = await instructor.post(`/instructor/review/424242/${action}`, { decisionSeq: '0', score: '1', reason: 'x', rejectTo: 'manual', note: 'x' }, { htmx: true });
        expect(res.status).toBe(404);
      }
      expect((await instructor.get('/instructor/review/424242')).status).toBe(404);
      expect((await instructor.get('/instructor/review/not-a-number')).status).toBe(404);
    });
  });

  describe('JSON API', () => {
    it('lists pending reviews and shows one assessment, with the decision number', async () => {
      const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
      const list = await instructor.get('/api/llm-assessments/pending-review/');
      expect(list.status).toBe(200);
      const items = list.json<{ items: Array<{ id: number; decisionSeq: number; maxScore: number }> }>().items;
      expect(items.find((i) => i.id === a.id)).toMatchObject({ decisionSeq: 0, maxScore: 100 });
      const one = await instructor.get(`/api/llm-assessments/${a.id}/`);
      expect(one.status).toBe(200);
      expect(one.json()).toMatchObject({ id: a.id, score: 80, review: { status: 'pending_review', decisionSeq: 0 }, gradeSync: { status: 'none' } });
      // The instructor also reads the work and the prompt exactly as sent (issue 18, item 9).
      const detail = one.json<{ submission: { text: string }; promptAsSent: { anonymized: boolean; messages: Array<{ role: string; content: string }> } }>();
      expect(detail.submission.text).toContain('The French Revolution began');
      expect(detail.promptAsSent.messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(detail.promptAsSent.messages[1]!.content).toContain('<student_submission>');
      const bad = await instructor.get('/api/llm-assessments/pending-review/?scoreMin=x');
      expect(bad.status).toBe(422);
      expect(bad.json<{ error: { fields: Record<string, string> } }>().error.fields.scoreMin).toBe('Enter a score from 0 to 1000.');
    });

    it('reviews through POST, refusing malformed and stale decisions', async () => {
      const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
      const malformed = await instructor.request(`/api/llm-assessments/${a.id}/review/`, { method: 'POST', json: { action: 'approve' } });
      expect(malformed.status).toBe(422);
      expect(malformed.json<{ error: { fields: Record<string, string> } }>().error.fields).toHaveProperty('decisionSeq');
      const noReason = await instructor.request(`/api/llm-assessments/${a.id}/review/`, { method: 'POST', json: { action: 'override', decisionSeq: 0, score: 50, category: 'other', reason: '' } });
      expect(noReason.status).toBe(422);
      const noCategory = await instructor.request(`/api/llm-assessments/${a.id}/review/`, { method: 'POST', json: { action: 'override', decisionSeq: 0, score: 50, reason: 'Too generous.' } });
      expect(noCategory.status).toBe(422);
      expect(noCategory.json<{ error: { fields: Record<string, string> } }>().error.fields.category).toContain('Choose what was wrong');
      const ok = await instructor.request(`/api/llm-assessments/${a.id}/review/`, { method: 'POST', json: { action: 'override', decisionSeq: 0, criteria: { thesis: 20, evidence: 20, clarity: 10 }, category: 'other', reason: 'Too generous.' } });
      expect(ok.status).toBe(200);
      expect(ok.json()).toMatchObject({ finalScore: 50, score: 80, review: { status: 'overridden', decisionSeq: 1, override: { score: 50, criteria: { thesis: 20, evidence: 20, clarity: 10 }, category: 'other', reason: 'Too generous.' } } });
      const stale = await instructor.request(`/api/llm-assessments/${a.id}/review/`, { method: 'POST', json: { action: 'approve', decisionSeq: 0 } });
      expect(stale.status).toBe(409);
      expect(stale.json<{ error: { code: string } }>().error.code).toBe('conflict');
      const gone = await instructor.request('/api/llm-assessments/987654/review/', { method: 'POST', json: { action: 'approve', decisionSeq: 0 } });
      expect(gone.status).toBe(404);
    });
  });
});
