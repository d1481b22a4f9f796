import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { NotFound } from '../../errors.js';
import type { ChatMessage } from '../../grading/messages.js';
import { gradingRequestFor, requestForSubmission } from '../../grading/request.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { findVersionById, type PromptVersionRow } from '../prompts/prompts.repository.js';
import { findIdentity } from '../tenancy/people.repository.js';
import { findAssessmentInScope, reviewContext, type AssessmentRow, type AssessmentScope, type ReviewContext } from './review.repository.js';

export interface ReviewData {
  assessment: AssessmentRow;
  context: ReviewContext;
  version: PromptVersionRow;
  /** The submission as the student wrote it, or null with the reason it cannot be shown. */
  text: string | null;
  textUnavailable: string | null;
  /** The messages of the request, rebuilt from the exact prompt version (anonymized as the course asks now). */
  messages: ChatMessage[];
  anonymized: boolean;
}

/** Everything the review page shows about one assessment of the course. */
export async function loadReview(db: Db, config: Pick<Config, 'encryptionKey'>, scope: AssessmentScope, id: number): Promise<ReviewData> {
  const assessment = await findAssessmentInScope(db, scope, id);
  if (!assessment) throw NotFound('The assessment');
  const [context, version] = await Promise.all([reviewContext(db, assessment), findVersionById(db, assessment.promptVersionId)]);
  if (!version) throw NotFound('The prompt version of this assessment');
  let text: string | null = null;
  let textUnavailable: string | null = null;
  if (context.purgedAt || !context.content) {
    textUnavailable = 'The text of this submission was deleted under the course\'s retention setting.';
  } else {
    try {
      text = decryptContent(config.encryptionKey, context.content, { taskId: assessment.taskId, studentId: context.studentId, attempt: context.attempt });
    } catch (err) {
      if (!(err instanceof ContentDecryptionError)) throw err;
      textUnavailable = 'The text of this submission cannot be decrypted (the encryption key changed, or the stored value was altered).';
    }
  }
  const privacy = await getCoursePrivacy(db, assessment.courseId);
  const task = { title: context.taskTitle, description: context.taskDescription };
  const request =
    text == null
      ? gradingRequestFor({ version, task }, '[submission text unavailable]', assessment.customId)
      : requestForSubmission({ version, task }, { text, author: await findIdentity(db, context.studentId), anonymize: privacy.anonymize }, assessment.customId);
  return { assessment, context, version, text, textUnavailable, messages: request.messages, anonymized: privacy.anonymize };
}
