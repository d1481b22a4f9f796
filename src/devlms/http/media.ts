import express, { type RequestHandler, type Response } from 'express';
import { jsonError } from './errors.js';

/** Answers JSON under an IMS media type (res.json would say application/json). */
export function sendMedia(res: Response, status: number, mediaType: string, body: unknown): void {
  res.status(status).type(mediaType).send(JSON.stringify(body));
}

/**
 * Parses a JSON body that must be sent with exactly this media type: AGS names one per resource, and a tool
 * that sends application/json is refused (415), which is what catches it before a strict LMS does.
 */
export function jsonBodyOf(mediaType: string): RequestHandler[] {
  const check: RequestHandler = (req, _res, next) => {
    if (!req.is(mediaType)) {
      throw jsonError(415, 'unsupported_media_type', `The body must be sent with Content-Type: ${mediaType} (got ${req.get('content-type') ?? 'none'}).`);
    }
    next();
  };
  return [check, express.json({ type: mediaType, limit: '1mb', strict: true })];
}
