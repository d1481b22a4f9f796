import { studentFeedback } from '../src/models/assessments/feedback.service.js';
import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { anonymize } from '../src/grading/anonymize-text.js';
import { loadReview } from '../src/models/assessments/review-page.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import { presentReview } from '../src/routes/review.present.js';
import { drive, useEmulatedBatches } from './helpers/batch-driver.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { addStudents, seedTenant } from './helpers/batch-fixtures.js';

/** The fast path (no pattern when the text cannot contain a name) must replace exactly what the pattern would. */
describe('the anonymizer\'s fast path', () => {
  it('skips texts that do not mention the student, and still replaces every mention', () => {
    expect(anonymize('Uniforms save money.', { name: 'Amara Okafor', email: 'amara@example.edu' }).text).toBe('Uniforms save money.');
    expect(anonymize('AMARA okafor wrote this', { name: 'Amara Okafor' }).text).toBe('[student] wrote this');
  });

  it('keeps case-insensitive Unicode matching for the characters that fold to ASCII letters (ſ, Kelvin sign)', () => {
    expect(anonymize('by ſam', { name: 'Sam Lee' }).text).toBe('by [student]');
    expect(anonymize('by \u212Aim', { name: 'Kim Park' }).text).toBe('by [student]');
  });

  it('matches non-ASCII names case-insensitively', () => {
    expect(anonymize('ÉLODIE a écrit', { givenName: 'Élodie' }).text).toBe('[student] a écrit');
  });
});

describe('a submission sent in a batch to the emulator', () => {
  const env = useEmulatedBatches();

  it('carries none of the author\'s, a classmate\'s or the generic personal data, and the review page shows the feedback with the names back', async () => {
    const db = env.db.db;
    const t = await seedTenant(db);
    const [author, classmate] = await addStudents(db, t, 2);
    await db.execute(sql`update users set name = 'Amara Okafor', given_name = 'Amara', family_name = 'Okafor', email = 'amara.okafor@uni-example.edu' where id = ${author!}`);
    await db.execute(sql`update users set name = 'Lukas Brandstätter', given_name = 'Lukas', family_name = 'Brandstätter', email = 'lukas.b@uni-example.edu' where id = ${classmate!}`);
    const pii = ['Amara', 'Okafor', 'Brandstätter', 'Lukas', 'okafor.private@gmail.com', '+49 170 1234567', 's7654321'];
    const text =
      'School uniforms should be required, argues Okafor, Amara. My classmate Lukas Brandstätter disagrees: he says they cost money. ' +
      'Write to okafor.private@gmail.com or call +49 170 1234567 if you want my notes (student number s7654321).';
    const { queueItem } = await db.transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId: author! }, t.taskId, { body: { text, format: 'text' } }));
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: [queueItem!.id] }, {}));
    await requestSubmit(db, t.admin, batch!.id);
    const next = await sendBatch(env.worker, batch!.id);

    // What the emulator received: the request file as uploaded (read before the batch ends and its files are deleted).
    const sent = env.emulator.emulator.context.store.files.get((await findBatchById(db, batch!.id))!.inputFileId!)!.content.toString('utf8');
    await drive(env.worker, next);
    const user = (JSON.parse(sent.trim()) as { body: { messages: Array<{ role: string; content: string }> } }).body.messages.find((m) => m.role === 'user')!.content;
    for (const value of pii) expect(sent).not.toContain(value);
    expect(user).toContain('argues [student].');
    expect(user).toContain('My classmate [classmate 1] disagrees');
    expect(user).toContain('Write to [email 1] or call [phone 1]');
    expect(user).toContain('(student number [id 1])');

    // The model's feedback names the placeholders; the instructor reads the names and values they stood for.
    const [assessment] = (await db.execute<{ id: number }>(sql`select id from assessments where queue_item_id = ${queueItem!.id}`)).rows;
    await db.execute(sql`update assessments set result = jsonb_set(jsonb_set(result, '{comments}', to_jsonb('[student] answers [classmate 1] well; do not publish [phone 1].'::text)), '{strengths}', '["[Student] quotes [classmate 1]."]'::jsonb) where id = ${assessment!.id}`);
    const page = presentReview(await loadReview(db, env.config, { courseId: t.courseId }, Number(assessment!.id)));
    expect(page.result?.commentsHtml).toContain('Amara Okafor answers Lukas Brandstätter well; do not publish +49 170 1234567.');
    expect(page.result?.strengths).toEqual(['Amara Okafor quotes Lukas Brandstätter.']);

    // And so does the student, once the feedback is released.
    await db.execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), released_at = now() where id = ${assessment!.id}`);
    const submissionId = Number((await db.execute<{ id: number }>(sql`select submission_id as id from assessments where id = ${assessment!.id}`)).rows[0]!.id);
    const own = await studentFeedback(db, { courseId: t.courseId, studentId: author! }, submissionId, env.config);
    expect(own.comments).toBe('Amara Okafor answers Lukas Brandstätter well; do not publish +49 170 1234567.');
    expect(own.strengths).toEqual(['Amara Okafor quotes Lukas Brandstätter.']);
  });
});
