import { decryptContent, type KeyMaterial } from '../../crypto/content.js';
import { scanSubmission, type SubmissionScan } from '../../grading/injection.js';
import { gradingRequestFor, type GradingRequest } from '../../grading/request.js';
import { languageOfFile } from '../../grading/code-language.js';
import { compileRoster, sendableText, type Person, type Roster } from '../../grading/anonymize-text.js';
import type { Db } from '../../db/db.js';
import { ProviderError } from '../../providers/index.js';
import { courseMembers } from '../tenancy/roster.repository.js';
import type { SendRow, VersionForRequest } from './batch-work.repository.js';

/**
 * One queue item's request as it is sent, by a batch's send step and by a real-time grading alike: the text
 * decrypted, scanned for prompt injection (as the student wrote it), anonymized when the course asks, with the
 * course's people, and built by the one request builder (grading/request.ts) with the prompt version it was queued
 * with. A text that is gone or cannot be read is a permanent ProviderError: retrying will not make it readable.
 */

/** A course's people, compiled once for all its texts (a roster of hundreds matched against many texts). */
export interface CoursePeople {
  roster: Roster;
  byUser: Map<number, Person>;
}

/** What building one item's request needs of its row (a batch's SendRow has all of it). */
export type ItemRow = Pick<SendRow, 'queue_item_id' | 'content' | 'task_id' | 'student_id' | 'attempt' | 'original_filename' | 'anonymize' | 'name' | 'given_name' | 'family_name' | 'email'>;

/** The people of these courses, compiled (each course once). */
export async function peopleOfCourses(db: Db, courseIds: number[]): Promise<Map<number, CoursePeople>> {
  const members = await courseMembers(db, courseIds);
  const out = new Map<number, CoursePeople>();
  for (const course of courseIds) {
    const own = members.filter((m) => m.courseId === course);
    out.set(course, { roster: compileRoster(own), byUser: new Map(own.map((m) => [m.userId, m])) });
  }
  return out;
}

/** `model`: the batch's model when not the version's own: the cost optimizer's choice (optimizer.ts) or another provider's after a failover (failover-models.ts). */
export function requestForItem(keys: KeyMaterial, r: ItemRow, v: VersionForRequest, course: CoursePeople | undefined, customId: string, model: string = v.model): { req: GradingRequest; scan: SubmissionScan } {
  if (!r.content) throw new ProviderError(`The submission of queue item ${r.queue_item_id} was erased (retention) before it was sent.`, { code: 'invalid_request', retryable: false });
  let text: string;
  try {
    text = decryptContent(keys, r.content, { taskId: r.task_id, studentId: r.student_id, attempt: r.attempt });
  } catch (err) {
    // A wrong key or a changed value will not get better by retrying: fail with the reason.
    throw new ProviderError(`The submission of queue item ${r.queue_item_id} cannot be read: ${(err as Error).message}`, { code: 'invalid_request', retryable: false });
  }
  // The text as the student wrote it: anonymizing may rewrite a word of an attack (a name inside a fake tag), and
  // the scan keeps no text, only what it found.
  const scan = scanSubmission(text);
  // No privacy row means the course's defaults, which anonymize.
  const anonymize = r.anonymize !== false;
  const author: Person = course?.byUser.get(r.student_id) ?? { name: r.name, givenName: r.given_name, familyName: r.family_name, email: r.email };
  const req = gradingRequestFor(
    {
      version: {
        template: v.template,
        systemInstructions: v.system_instructions,
        graderInstructions: v.grader_instructions,
        rubric: v.rubric,
        maxScore: v.max_score,
        model,
        temperature: v.temperature,
        maxOutputTokens: v.max_output_tokens,
        outputSchema: v.output_schema,
      },
      task: { title: v.task_title, description: v.task_description },
    },
    sendableText(text, { author, ...(course ? { roster: course.roster } : {}) }, anonymize).text,
    customId,
    languageOfFile(r.original_filename),
  );
  return { req, scan };
}
