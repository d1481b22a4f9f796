import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { expectToContainAll } from './helpers/expect-text.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { releasedToStudent, releasedToStudentSql } from '../src/models/assessments/release.js';
import type { ReviewStatus } from '../src/models/assessments/assessments.table.js';
import type { ReleasePolicy } from '../src/models/tasks/tasks.table.js';

/** What students see of their assessments, and the agreement statistics instructors see of all of them. */
describe('student feedback and agreement analytics', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let student3: ToolSession;
  let essay: Awaited<ReturnType<typeof homeIds>>;
  let shortAnswer: Awaited<ReturnType<typeof homeIds>>;
  const feedback = (s: ToolSession, submissionId: number) => s.get(`/student/submissions/${submissionId}/feedback`);

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    student3 = await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1' });
    essay = await homeIds(stack);
    shortAnswer = await homeIds(stack, '%Boston Tea Party%');
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  describe('a student', () => {
    it('never sees an unreleased assessment: the same "not found" as for nothing at all', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1 });
      const unreleased = await feedback(student1, a.submissionId);
      const missing = await feedback(student1, 987654);
      expect(unreleased.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(unreleased.html).toBe(missing.html);
      expect(unreleased.html).not.toContain('Names three causes');
    });

    it('sees their released feedback: score, criteria, strengths, improvements, sanitized comments and the AI label', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1, comments: 'Well **argued**. <img src=x onerror=alert(1)><script>alert(2)</script>' });
      expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
      const page = await feedback(student1, a.submissionId);
      expect(page.status).toBe(200);
      const text = textOf(page.html);
      expectToContainAll(text, [
        'Assessed with AI, reviewed by your instructor.',
        '80 / 100',
        'Thesis 32 / 40 Justification for thesis',
        'Names three causes',
        'Explain how the causes interact',
      ]);
      expect(page.html).toContain('Well <strong>argued</strong>.');
      expect(page.html).not.toMatch(/<script>alert|onerror=/);
      expect(text).not.toContain('Grader-only'); // the model's reasoning is for graders
    });

    it('sees the instructor\'s grade and feedback after an override: the score is the sum of the criteria shown', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1 });
      // The model gave 32 / 32 / 16 = 80; the instructor lowers evidence and thesis (score left empty: their sum).
      const res = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '', 'criteria[thesis]': '31', 'criteria[evidence]': '24', 'criteria[clarity]': '16', feedback: 'Come to office hours about *sources*.', category: 'other', reason: 'Evidence is thin.' }, { htmx: true });
      expect(res.status).toBe(200);
      const page = await feedback(student1, a.submissionId);
      const text = textOf(page.html);
      expect(page.html).toMatch(/data-score>71 \/ 100</);
      expect(text).toContain('Evidence 24 / 40 set by your instructor (the AI gave 32)');
      expect(text).toContain('Thesis 31 / 40 set by your instructor (the AI gave 32)');
      expect(text).toMatch(/Clarity 16 \/ 20 (?!set by)/);
      expect(page.html).toContain('Come to office hours about <em>sources</em>.');
      expect(text).not.toContain('Evidence is thin.'); // the reason is for the audit, not the student
      // The model's comments were written for its 80: they are marked as the AI's, not the grade's.
      expect(text).toContain("The AI's comments Written by the AI for its score of 80 / 100, before your instructor's review; your score is 71 / 100.");
      expect(text).toContain('Assessed with AI, reviewed by your instructor.');
    });

    it('is told when only the overall score was changed: the criteria and comments shown are the AI\'s from before', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student3 });
      const res = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '60', category: 'other', reason: 'Too generous overall.' }, { htmx: true });
      expect(res.status).toBe(200);
      expect(textOf(res.html)).toContain('Your grade: 60 / 100 (LLM: 80). The overall score changed');
      const text = textOf((await feedback(student3, a.submissionId)).html);
      expect(text).toContain('Your instructor changed your overall score from 80 to 60 / 100. The points per criterion and the comments below are the AI\'s assessment from before that change.');
      expect(text).toContain('Evidence 32 / 40');
      expect(text).not.toContain('set by your instructor');
    });

    it('sees feedback a task releases before review, labelled as not yet reviewed', async () => {
      await stack.db.db.execute(sql`update tasks set release_policy = 'immediately' where id = ${essay.taskId}`);
      try {
        const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1 });
        const page = await feedback(student1, a.submissionId);
        expect(page.status).toBe(200);
        expect(textOf(page.html)).toContain('Assessed with AI. Your instructor may still review this grade.');
        // A rejection withdraws it again.
        expect((await instructor.post(`/instructor/review/${a.id}/reject`, { decisionSeq: '0', rejectTo: 'manual', note: 'Not like this.' }, { htmx: true })).status).toBe(200);
        expect((await feedback(student1, a.submissionId)).status).toBe(404);
      } finally {
        await stack.db.db.execute(sql`update tasks set release_policy = 'after_approval' where id = ${essay.taskId}`);
      }
      // The task's policy decides, not a stamp left from when it released at once.
      const marked = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1, released: true });
      expect((await feedback(student1, marked.submissionId)).status).toBe(404);
    });

    it('never sees a flagged or low-confidence result before review, even where the task releases at once', async () => {
      await stack.db.db.execute(sql`update tasks set release_policy = 'immediately' where id = ${essay.taskId}`);
      try {
        const flagged = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student2, flags: [{ code: 'possible_prompt_injection', message: 'The submission addresses the grader.' }] });
        const unsure = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student2, confidence: 0.3, flags: [{ code: 'low_confidence', message: 'The model reports low confidence (0.3).' }] });
        for (const a of [flagged, unsure]) expect((await feedback(student2, a.submissionId)).status).toBe(404);
        expect(textOf((await instructor.get(`/instructor/review/${flagged.id}`)).html)).toContain('Student: cannot read this feedback until you approve or override it.');
        const task = await student2.get(`/student/tasks/${essay.taskId}/submissions`);
        expect(textOf(task.html)).not.toContain('Read your feedback');
        expect((await instructor.post(`/instructor/review/${flagged.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
        expect((await feedback(student2, flagged.submissionId)).status).toBe(200);
        expect(textOf((await instructor.get(`/instructor/review/${flagged.id}`)).html)).toContain('Student: can read this feedback now.');
        expect((await feedback(student2, unsure.submissionId)).status).toBe(404);
      } finally {
        await stack.db.db.execute(sql`update tasks set release_policy = 'after_approval' where id = ${essay.taskId}`);
      }
    });

    it('is shown feedback by one rule, the same in SQL as in code, for every combination', async () => {
      type Row = { review_status: ReviewStatus; needs_review: boolean; flag_count: number; release_policy: ReleasePolicy; computed_confidence: number | null; auto_release_min_confidence: number | null; released: boolean };
      const rows = await stack.db.db.execute<Row>(sql`
        select a.review_status, a.needs_review, jsonb_array_length(a.flags) as flag_count, t.release_policy, a.computed_confidence, t.auto_release_min_confidence,
               ${releasedToStudentSql('a', 't')} as released
        from (select s as review_status, n as needs_review, f as flags, c as computed_confidence
              from unnest(array['pending_review', 'approved', 'overridden', 'rejected']) s,
                   unnest(array[true, false]) n, unnest(array['[]'::jsonb, '[{"code":"low_confidence"}]'::jsonb]) f,
                   unnest(array[null, 0.5, 0.9]::real[]) c) a,
             unnest(array['after_approval', 'immediately']) as t1(release_policy), unnest(array[null, 0.8]::real[]) as t2(auto_release_min_confidence),
             lateral (select t1.release_policy, t2.auto_release_min_confidence) t`);
      expect(rows.rows).toHaveLength(192);
      for (const r of rows.rows) {
        const facts = { reviewStatus: r.review_status, needsReview: r.needs_review, flagCount: r.flag_count, releasePolicy: r.release_policy, confidence: r.computed_confidence, minConfidence: r.auto_release_min_confidence };
        expect([r, r.released]).toEqual([r, releasedToStudent(facts)]);
      }
      // Approved and overridden always (2 × 2 × 2 × 3 × 2 × 2 = 96); waiting, unflagged and released immediately:
      // any confidence without a threshold (3), only 0.9 with the threshold 0.8 (1).
      expect(rows.rows.filter((r) => r.released).length).toBe(96 + 3 + 1);
    });

    it('never sees a rejected assessment', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1, released: true });
      expect((await instructor.post(`/instructor/review/${a.id}/reject`, { decisionSeq: '0', rejectTo: 'manual', note: 'I grade this.' }, { htmx: true })).status).toBe(200);
      expect((await feedback(student1, a.submissionId)).status).toBe(404);
    });

    it('never sees another student\'s feedback, nor another course\'s', async () => {
      const a = await createAssessment(stack, { taskId: essay.taskId, studentSub: SUBS.student1 });
      await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
      expect((await feedback(student1, a.submissionId)).status).toBe(200);
      const other = await feedback(student2, a.submissionId);
      expect(other.status).toBe(404);
      expect(other.html).toBe((await feedback(student2, 987654)).html);
      const otherCourse = await launchWith(stack, stack.browser(), 'student1', { task: '1' }, OTHER_COURSE);
      const foreign = await feedback(otherCourse, a.submissionId);
      expect(foreign.status).toBe(404);
      expect(foreign.html).not.toContain('Names three causes');
      expect((await feedback(instructor, a.submissionId)).status).toBe(403);
    });
  });

  describe('agreement analytics', () => {
    // Short answer, max 10: (LLM, final) = (8, 8) approved, (6, 6) approved, (5, 7) overridden with criteria,
    // (10, 8) overridden on the total only. Hand-computed in the comments below.
    let decided: number[];
    beforeAll(async () => {
      // Tasks made by a launch start at 100 points; this one is out of 10 (its prompt version follows the task).
      await stack.db.db.execute(sql`update tasks set max_score = 10 where id = ${shortAnswer.taskId}`);
      const make = (studentSub: string, criteria: Record<string, number>) => createAssessment(stack, { taskId: shortAnswer.taskId, studentSub, criteria });
      const a1 = await make(SUBS.student1, { thesis: 4, evidence: 3, clarity: 1 });
      const a2 = await make(SUBS.student2, { thesis: 3, evidence: 2, clarity: 1 });
      const a3 = await make(SUBS.student3, { thesis: 2, evidence: 2, clarity: 1 });
      const a4 = await make(SUBS.student1, { thesis: 4, evidence: 4, clarity: 2 });
      for (const a of [a1, a2]) expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
      expect((await instructor.post(`/instructor/review/${a3.id}/override`, { decisionSeq: '0', score: '7', 'criteria[thesis]': '3', 'criteria[evidence]': '3', 'criteria[clarity]': '1', category: 'too_harsh', reason: 'Better than that.' }, { htmx: true })).status).toBe(200);
      expect((await instructor.post(`/instructor/review/${a4.id}/override`, { decisionSeq: '0', score: '8', category: 'too_lenient', reason: 'Not perfect.' }, { htmx: true })).status).toBe(200);
      decided = [a1.id, a2.id, a3.id, a4.id];
      await stack.db.db.execute(sql`update assessments set reviewed_at = '2026-11-20T10:00:00Z' where id in (${decided[0]}, ${decided[1]})`);
      await stack.db.db.execute(sql`update assessments set reviewed_at = '2026-11-21T10:00:00Z' where id in (${decided[2]}, ${decided[3]})`);
    });

    it('match hand-computed approval rate, override rate, MAD and quadratic weighted kappa', async () => {
      const page = await instructor.get(`/instructor/analytics?task=${shortAnswer.taskId}`);
      expect(page.status).toBe(200);
      const stat = (name: string) => page.html.match(new RegExp(`data-stat="${name}">([^<]*)<`))?.[1];
      expect(stat('reviewed')).toBe('4');
      expect(stat('approval')).toBe('50.0%');
      expect(stat('override')).toBe('50.0%');
      // MAD = (0 + 0 + 2 + 2) / 4 = 1 point = 10% of 10.
      expect(stat('mad')).toBe('10.0%');
      // QWK on 0..10: observed Σw = (4 + 4) / 100 = 0.08; expected Σw·hA·hB/n = 70 / 100 / 4 = 0.175; κ = 1 − 0.08/0.175.
      expect(stat('kappa')).toBe((1 - 0.08 / 0.175).toFixed(3));
      expect(stat('kappa')).toBe('0.543');
    });

    it('per criterion: approvals agree on every criterion; overrides count where a criterion was given', async () => {
      const page = await instructor.get(`/instructor/analytics?task=${shortAnswer.taskId}`);
      const text = textOf(page.html);
      // Thesis: (4,4) (3,3) (2,3) → approval 2/3, MAD 1/3, MAD% 8.3, κ = 1 − (1/16)/(9/48) = 0.667.
      expect(text).toContain('Short answer: The Boston Tea Party — Thesis 3 66.7% 33.3% 0.33 8.3% 0.667');
      // Evidence: (3,3) (2,2) (2,3) → κ = 1 − (1/16)/(5/48) = 0.400.
      expect(text).toContain('Short answer: The Boston Tea Party — Evidence 3 66.7% 33.3% 0.33 8.3% 0.400');
      // Clarity: (1,1) (1,1) (1,1) → all in one category: κ undefined.
      expect(text).toContain('Short answer: The Boston Tea Party — Clarity 3 100.0% 0.0% 0.00 0.0% —');
      expect(text).toContain('Short answer: The Boston Tea Party — prompt v1 4 50.0% 50.0% 1.00 10.0% 0.543');
    });

    it('counts override categories per prompt version and where the grade was changed', async () => {
      const page = await instructor.get(`/instructor/analytics?task=${shortAnswer.taskId}`);
      const table = page.html.match(/<table class="sticky-key" id="override-categories">[\s\S]*?<\/table>/)![0];
      expect(textOf(table.match(/<thead>[\s\S]*?<\/thead>/)![0])).toBe('Prompt version — criterion Too harsh Too lenient Missed a criterion Misread the work Off-topic feedback Other Overrides Mostly');
      const rows = [...table.matchAll(/<tr><th scope="row">[\s\S]*?<\/tr>/g)].map((m) => textOf(m[0]));
      // a3 set thesis 2→3 and evidence 2→3 (clarity kept): too harsh, under each changed criterion; a4 changed the total alone.
      expect(rows).toEqual([
        'Short answer: The Boston Tea Party — prompt v1 — Thesis 1 0 0 0 0 0 1 Too harsh',
        'Short answer: The Boston Tea Party — prompt v1 — Evidence 1 0 0 0 0 0 1 Too harsh',
        'Short answer: The Boston Tea Party — prompt v1 — Overall score only 0 1 0 0 0 0 1 Too lenient',
      ]);
    });

    it('draws agreement over time as an accessible SVG chart with its data as a table', async () => {
      const page = await instructor.get(`/instructor/analytics?task=${shortAnswer.taskId}`);
      expect(page.html).toMatch(/<svg class="chart"[^>]*role="img" aria-labelledby="chart-svg-title chart-svg-desc"/);
      expect(page.html).toContain('2026-11-20: approved 100.0%, difference 0.0%; 2026-11-21: approved 0.0%, difference 20.0%');
      expect(page.html).toMatch(/<polyline class="series-approval" points="\d+,\d+ \d+,\d+"/);
      expect(textOf(page.html)).toContain('2026-11-21 2 0.0% 100.0% 2.00 20.0%');
    });

    it('filter by prompt version, and ignore nonsense filters', async () => {
      const version = (await stack.db.db.execute<{ id: number }>(sql`select prompt_version_id as id from assessments where id = ${decided[0]}`)).rows[0]!.id;
      const byVersion = await instructor.get(`/instructor/analytics?version=${version}`);
      expect(byVersion.html).toMatch(/data-stat="reviewed">4</);
      const nonsense = await instructor.get('/instructor/analytics?task=abc&version=-1');
      expect(nonsense.status).toBe(200);
      expect(Number(nonsense.html.match(/data-stat="reviewed">(\d+)</)?.[1])).toBeGreaterThanOrEqual(4);
    });
  });
});
