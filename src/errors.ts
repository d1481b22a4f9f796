/**
 * The errors any layer may throw when a request cannot be done: each carries the HTTP status and a message that is
 * safe to show. Services throw them (NotFound, Conflict, Invalid…) without knowing about HTTP; the one error
 * handler (src/http/error-handler.ts) renders them as a page, an htmx fragment or JSON, and never shows anything else.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field name → message, for forms re-rendered with messages beside their fields (422). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const BadRequest = (message: string, fields?: Record<string, string>) => new HttpError(400, 'bad_request', message, fields);
export const Forbidden = (message = 'You do not have access to this page.') => new HttpError(403, 'forbidden', message);
export const NotFound = (what = 'The page') => new HttpError(404, 'not_found', `${what} was not found.`);
export const Conflict = (message: string) => new HttpError(409, 'conflict', message);
export const Invalid = (fields: Record<string, string>, message = 'Please correct the highlighted fields.') =>
  new HttpError(422, 'invalid', message, fields);

/** A rate limit is used up (src/http/rate-limit.ts): the error handler sends Retry-After with these seconds. */
export class TooManyRequestsError extends HttpError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(429, 'too_many_requests', message);
  }
}
export const TooManyRequests = (message: string, retryAfterSeconds: number) => new TooManyRequestsError(message, retryAfterSeconds);

/** A failed LTI launch or session: the person must relaunch from their LMS. */
export const LtiLaunchError = (message: string, code = 'lti_launch_failed', status = 401) => new HttpError(status, code, message);
