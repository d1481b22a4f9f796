import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { formatSize } from '../models/submissions/submission-input.js';
import { BadRequest } from '../errors.js';
import { cleanInput } from '../http/input.js';

/** A submission post, `/student/tasks/:taskId/submissions`, or its file preview, `…/submissions/preview`. */
const SUBMISSION_PATH = /^\/student\/tasks\/[^/]+\/submissions(?:\/preview)?\/?$/;

/** What the upload step left for the route: a refusal to show beside the file field (the form is shown again). */
export interface UploadProblem {
  status: number;
  message: string;
}

export function uploadProblemOf(res: Response): UploadProblem | undefined {
  return res.locals.uploadProblem as UploadProblem | undefined;
}

/**
 * Reads a student's multipart submission (typed text and at most one file, kept in memory) before the
 * CSRF check, so the form's hidden `_csrf` field counts for a plain form post as it does for urlencoded forms.
 * Mounted behind the session (only launched people get here). A file over the limit is not an error page: the
 * route shows the form again with the message beside the file field, and nothing is stored. The limit here is the
 * larger of the two (text files, documents); the reader applies each to its kind (submission-input.ts).
 */
export function submissionUpload(options: { maxFileBytes: number; maxDocumentBytes: number }) {
  const maxBytes = Math.max(options.maxFileBytes, options.maxDocumentBytes);
  const upload = multer({
    storage: multer.memoryStorage(),
    // One byte over the limit is enough to know it is too large; the rest of the stream is discarded.
    limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 2 * 1024 * 1024, parts: 25 },
  }).single('file');
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' || !SUBMISSION_PATH.test(req.path) || !req.is('multipart/form-data')) return next();
    upload(req, res, (err: unknown) => {
      if (!err) return cleanInput(req, res, next);
      const e = err as { code?: string; field?: string };
      req.body = (req.body as Record<string, unknown> | undefined) ?? {};
      if (e.code === 'LIMIT_FILE_SIZE') {
        res.locals.uploadProblem = { status: 413, message: `The file is larger than ${formatSize(maxBytes)}, the most a submission file may be. Upload a smaller file, or paste your text into the box.` } satisfies UploadProblem;
        return next();
      }
      if (e.code === 'LIMIT_UNEXPECTED_FILE' || e.code === 'LIMIT_FILE_COUNT') {
        res.locals.uploadProblem = { status: 400, message: 'Upload one file only, in the file field.' } satisfies UploadProblem;
        return next();
      }
      if (e.code?.startsWith('LIMIT_')) return next(BadRequest('The submission form has too many or too large fields.'));
      // busboy's own errors (a body cut off mid-part, a broken part header) are the client's: the upload is
      // refused as unreadable, nothing is stored.
      next(BadRequest('The upload was cut off or could not be read. Please submit again.'));
    });
  };
}
