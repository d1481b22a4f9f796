/**
 * What grade sync needs of an LMS gradebook (LTI AGS), so the service does not depend on how it is reached:
 * src/lti/ags.client.ts implements it over HTTP.
 */
/** A failed call to the LMS. Retryable ones (timeouts, 5xx, 429) are worth another attempt later. */
export class AgsError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From Retry-After, when the LMS said when to come back. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AgsError';
  }
}

export interface ScorePost {
  /** The LMS user id (the LTI `sub`). */
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  comment?: string;
  /** When the grade was decided: an LMS ignores a score older than the one it has, so a late retry of an old decision cannot undo a newer one. */
  timestamp: Date;
}

export interface AgsPlatform {
  issuer: string;
  clientId: string;
}

export interface GradebookTask {
  lineItemUrl: string | null;
  lineItemsUrl: string | null;
  resourceLinkId: string | null;
  resourceId: string;
  label: string;
  scoreMaximum: number;
}

export interface Gradebook {
  /** The task's gradebook column, found or made (never a second one). */
  ensureLineItem(platform: AgsPlatform, task: GradebookTask): Promise<string>;
  /** One gradebook column as the LMS has it now (its maximum is what the gradebook shows scores out of). */
  readLineItem(platform: AgsPlatform, lineItemUrl: string): Promise<{ scoreMaximum: number; label: string }>;
  submitScore(platform: AgsPlatform, lineItemUrl: string, score: ScorePost): Promise<void>;
}
