import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { NotFound } from '../../errors.js';
import type { ChatMessage } from '../../grading/messages.js';
import { gradingRequestFor } from '../../grading/request.js';
import { languageOfFile } from '../../grading/code-language.js';
import { anonymize, personalizeResult } from '../../grading/anonymize-text.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { findVersionById, type PromptVersionRow } from '../prompts/prompts.repository.js';
import { peopleToProtect } from '../submissions/submissions.service.js';
import { findAssessmentInScope, reviewContext, type AssessmentRow, type AssessmentScope, type ReviewContext } from './review.repository.js';
import { readableTexts } from './assessment-texts.js';

export interface ReviewData {
  /** The assessment, its result's placeholders ([student], [classmate 1]…) replaced by what they stood for, its texts decrypted. */
  assessment: AssessmentRow;
  context: ReviewContext;
  /** The prompt version it was graded with; for a manual assessment the rubric it is graded on, or null (none). */
  version: PromptVersionRow | null;
  /** The submission as the student wrote it, or null with the reason it cannot be shown. */
  text: string | null;
  textUnavailable: string | null;
  /** The messages of the request, rebuilt from the exact prompt version (anonymized as the course asks now). */
  messages: ChatMessage[];
  anonymized: boolean;
}

/** Everything the review page shows about one assessment of the course. */
export async function loadReview(db: Db, config: Pick<Config, 'encryptionKey'>, scope: AssessmentScope, id: number): Promise<ReviewData> {
  const stored = await findAssessmentInScope(db, scope, id);
  if (!stored) throw NotFound('The assessment');
  const assessment = readableTexts(config.encryptionKey, stored);
  const [context, version] = await Promise.all([reviewContext(db, assessment), assessment.promptVersionId == null ? null : findVersionById(db, assessment.promptVersionId).then((v) => v ?? null)]);
  if (!version && assessment.kind === 'llm') throw NotFound('The prompt version of this assessment');
  let text: string | null = null;
  let textUnavailable: string | null = null;
  if (context.purgedAt || !context.content) {
    textUnavailable = 'The text of this submission was removed under the course\'s retention policy.';
  } else {
    try {
      text = decryptContent(config.encryptionKey, context.content, { taskId: assessment.taskId, studentId: context.studentId, attempt: context.attempt });
    } catch (err) {
      if (!(err instanceof ContentDecryptionError)) throw err;
      textUnavailable = 'The text of this submission cannot be decrypted (the encryption key changed, or the stored value was altered).';
    }
  }
  const privacy = await getCoursePrivacy(db, assessment.courseId);
  // Graded by hand: nothing was sent to a model, so there is no request to show.
  if (assessment.kind === 'manual' || !version || assessment.customId == null) return { assessment, context, version, text, textUnavailable, messages: [], anonymized: false };
  const task = { title: context.taskTitle, description: context.taskDescription };
  // Anonymization is deterministic, so the text as sent and its mapping are made again here rather than stored: the
  // request shows what left, and the model's feedback shows the names and values it stood for.
  // The mapping is made whatever the setting says now: the text may have been sent anonymized before it changed.
  const people = text == null ? null : await peopleToProtect(db, assessment.courseId, context.studentId);
  const anonymized = text == null || !people ? null : anonymize(text, people.author, people.roster);
  const sent = text == null ? '[submission text unavailable]' : privacy.anonymize ? anonymized!.text : text;
  const request = gradingRequestFor({ version, task }, sent, assessment.customId, languageOfFile(context.originalFilename));
  const shown = anonymized && assessment.result ? { ...assessment, result: personalizeResult(assessment.result, anonymized.mapping) } : assessment;
  return { assessment: shown, context, version, text, textUnavailable, messages: request.messages, anonymized: privacy.anonymize };
}
