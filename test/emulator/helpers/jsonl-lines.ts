import { z } from 'zod';

/**
 * The batch JSONL line formats as OpenAI documents them (platform docs, api-reference/batch/request-input and
 * request-output; the schemas in test/contracts/openai-openapi.subset.yaml). Written here independently of the
 * emulator and the adapter, so a drift in either shows up as a failing test.
 */

export const inputLineSchema = z.strictObject({
  custom_id: z.string().min(1),
  method: z.literal('POST'),
  url: z.string().startsWith('/v1/'),
  body: z.looseObject({ model: z.string().min(1) }),
});

const errorObject = z.strictObject({
  message: z.string(),
  type: z.string(),
  param: z.string().nullable(),
  code: z.string().nullable(),
});

/** A request that succeeded: in the output file. */
export const outputLineSchema = z.strictObject({
  id: z.string().regex(/^batch_req_/),
  custom_id: z.string().min(1),
  response: z.strictObject({ status_code: z.literal(200), request_id: z.string().min(1), body: z.record(z.string(), z.unknown()) }),
  error: z.null(),
});

/** A request the API answered with an HTTP error: in the error file, error null. */
export const httpErrorLineSchema = z.strictObject({
  id: z.string().regex(/^batch_req_/),
  custom_id: z.string().min(1),
  response: z.strictObject({ status_code: z.number().int().min(400).max(599), request_id: z.string().min(1), body: z.strictObject({ error: errorObject }) }),
  error: z.null(),
});

/** A request that never ran (expired, cancelled, timed out): in the error file, response null. */
export const notRunLineSchema = z.strictObject({
  id: z.string().regex(/^batch_req_/),
  custom_id: z.string().min(1),
  response: z.null(),
  error: z.strictObject({ code: z.enum(['batch_expired', 'batch_cancelled', 'request_timeout']), message: z.string().min(1) }),
});

export const errorFileLineSchema = z.union([httpErrorLineSchema, notRunLineSchema]);
