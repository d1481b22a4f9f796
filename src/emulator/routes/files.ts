import { Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { invalidRequest, notFound } from '../api-error.js';
import type { EmulatorContext } from '../context.js';
import { FILE_PURPOSES, fileObject, type StoredFile } from '../store.js';
import { listPage, rateLimited, serverError, zodProblem } from './shared.js';

/** POST/GET /v1/files, GET/DELETE /v1/files/{id}, GET /v1/files/{id}/content */

const DAY_MS = 86_400_000;
// Batch input files expire after 30 days unless the upload says otherwise (FileExpirationAfter in the spec).
const BATCH_FILE_DEFAULT_TTL_MS = 30 * DAY_MS;

const uploadFields = z.object({
  purpose: z.string({ error: "Missing required parameter: 'purpose'." }),
  expires_after: z
    .object({
      anchor: z.literal('created_at', { error: "expires_after.anchor must be 'created_at'" }),
      seconds: z.coerce.number().int().min(3600).max(2_592_000),
    })
    .optional(),
});

const listQuery = z.object({
  purpose: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().optional(),
});

function findFile(ctx: EmulatorContext, id: string): StoredFile {
  const file = ctx.store.files.get(id);
  if (!file) throw notFound(`No such File object: ${id}`, 'id');
  return file;
}

export function filesRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.limits.maxFileBytes, files: 1 } });
  router.post('/files', upload.single('file'), (req, res) => {
    res.json(fileObject(storeUpload(ctx, req.body, req.file)));
  });
  router.get('/files', (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw zodProblem(query.error);
    const { purpose, limit, order, after } = query.data;
    let files = [...ctx.store.files.values()].filter((f) => purpose === undefined || f.purpose === purpose);
    if (order === 'desc') files = files.reverse();
    res.json(listPage(files, limit, after, fileObject));
  });
  router.get('/files/:id', (req, res) => {
    res.json(fileObject(findFile(ctx, req.params.id)));
  });
  // DeleteFileResponse of the spec; an unknown (or already deleted) id is a 404 in the error envelope, as for GET.
  router.delete('/files/:id', (req, res) => {
    const injected = ctx.faults.takeDeleteFileFailure();
    if (injected === 429) throw rateLimited('Rate limit reached for requests in organization org-emulator. Please try again in 1s.');
    if (injected === 500) throw serverError();
    const file = findFile(ctx, req.params.id);
    ctx.store.files.delete(file.id);
    res.json({ id: file.id, object: 'file', deleted: true });
  });
  router.get('/files/:id/content', (req, res) => {
    const file = findFile(ctx, req.params.id);
    res.type('application/octet-stream').send(file.content);
  });
  return router;
}

/** Checks an upload (its fields, then the file) as the API does, and stores it with its expiry. */
function storeUpload(ctx: EmulatorContext, body: unknown, file: Express.Multer.File | undefined): StoredFile {
  // The body is read first, so a refused upload never leaves the client writing into a closed socket.
  const injected = ctx.faults.takeUploadFailure();
  if (injected === 429) throw rateLimited('Rate limit reached for file uploads in organization org-emulator. Please try again in 1s.');
  if (injected === 500) throw serverError();

  const fields = uploadFields.safeParse(body ?? {});
  if (!fields.success) throw zodProblem(fields.error);
  const { purpose, expires_after: expiresAfter } = fields.data;
  if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    throw invalidRequest(`'${purpose}' is not one of ${JSON.stringify(FILE_PURPOSES)} - 'purpose'`, 'purpose');
  }
  if (!file) throw invalidRequest("Missing required parameter: 'file'.", 'file');
  if (purpose === 'batch') {
    if (!file.originalname.endsWith('.jsonl')) throw invalidRequest('Invalid file format for Batch API. Must be .jsonl', 'file');
    // What OpenAI answers for a batch file over its size limit (seen in bespokelabsai/curator#111).
    if (file.size > ctx.limits.maxBatchFileBytes) throw invalidRequest('File is too large.');
  }
  const now = ctx.clock();
  const ttlMs = expiresAfter ? expiresAfter.seconds * 1000 : purpose === 'batch' ? BATCH_FILE_DEFAULT_TTL_MS : null;
  return ctx.store.addFile({
    createdAtMs: now,
    expiresAtMs: ttlMs === null ? null : now + ttlMs,
    filename: file.originalname,
    purpose: purpose as StoredFile['purpose'],
    content: file.buffer,
  });
}
