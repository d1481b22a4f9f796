import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isKnownModel } from '../../providers/pricing.js';
import { unitHash } from '../hash.js';

/**
 * Batch-level validation of an input file, as the API does it while a batch is "validating": every line must be
 * JSON with custom_id, method, url and body; custom ids unique; url equal to the batch endpoint; one model, and a
 * known one; not too many requests. Any error fails the whole batch, with errors.data[] naming code and line.
 * (A body the endpoint rejects is not a batch error: that line fails on its own, in the error file.)
 */

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface InputLine {
  customId: string;
  /** 1-based line number in the input file. */
  lineNumber: number;
  body: unknown;
}

export type InputValidation = { ok: true; lines: InputLine[]; model: string } | { ok: false; errors: BatchError[]; model: string | null };

/** The API lists every bad line; we stop at this many so a garbage file cannot produce a huge batch object. */
export const MAX_REPORTED_ERRORS = 100;

export interface InputLimits {
  maxRequests: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function validateBatchInput(content: Buffer, endpoint: string, limits: InputLimits): Promise<InputValidation> {
  const text = content.toString('utf8');
  const errors: BatchError[] = [];
  const lines: InputLine[] = [];
  const seen = new Set<string>();
  let model: string | null = null;
  const add = (e: BatchError) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(e);
  };

  let lineNumber = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    lineNumber += 1;
    // Parsing 50,000 lines takes a while: let other requests in now and then.
    if (lineNumber % 2000 === 0) await yieldToEventLoop();
    if (raw.trim() === '') continue;

    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      add({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: lineNumber });
      continue;
    }
    if (!isRecord(json)) {
      add({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: lineNumber });
      continue;
    }
    const missing = ['custom_id', 'method', 'url', 'body'].find((k) => json[k] === undefined || json[k] === null);
    if (missing) {
      add({ code: 'missing_required_parameter', message: `Missing required parameter: '${missing}'.`, param: missing, line: lineNumber });
      continue;
    }
    const { custom_id: customId, method, url, body } = json;
    if (typeof customId !== 'string' || customId === '') {
      add({ code: 'invalid_value', message: "Invalid 'custom_id': expected a non-empty string.", param: 'custom_id', line: lineNumber });
      continue;
    }
    if (seen.has(customId)) {
      add({
        code: 'duplicate_custom_id',
        message: `The custom_id '${customId}' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
        param: 'custom_id',
        line: lineNumber,
      });
      continue;
    }
    seen.add(customId);
    if (method !== 'POST') {
      add({ code: 'invalid_value', message: `Invalid 'method': only POST is supported in a batch (got '${String(method)}').`, param: 'method', line: lineNumber });
      continue;
    }
    if (url !== endpoint) {
      add({
        code: 'invalid_url',
        message: `The url '${String(url)}' for this request does not match the batch endpoint '${endpoint}'. Each request in a batch must use the batch's endpoint.`,
        param: 'url',
        line: lineNumber,
      });
      continue;
    }
    if (!isRecord(body) || typeof body.model !== 'string') {
      add({ code: 'missing_required_parameter', message: "Missing required parameter: 'body.model'.", param: 'body.model', line: lineNumber });
      continue;
    }
    if (model === null) {
      model = body.model;
      if (!isKnownModel(model)) {
        add({ code: 'model_not_found', message: `The model '${model}' does not exist or you do not have access to it.`, param: 'body.model', line: lineNumber });
      }
    } else if (body.model !== model) {
      add({
        code: 'mismatched_model',
        message: `The model '${body.model}' for this request does not match the rest of the batch. Each batch must contain requests for a single model.`,
        param: 'body.model',
        line: lineNumber,
      });
      continue;
    }
    lines.push({ customId, lineNumber, body });
  }

  if (errors.length) return { ok: false, errors, model };
  if (lines.length === 0) return { ok: false, errors: [{ code: 'empty_file', message: 'The batch input file is empty.', param: null, line: null }], model };
  if (lines.length > limits.maxRequests) {
    return {
      ok: false,
      errors: [
        {
          code: 'too_many_tasks',
          message: `The batch input file contains ${lines.length.toLocaleString('en')} requests; a batch may contain at most ${limits.maxRequests.toLocaleString('en')}.`,
          param: null,
          line: null,
        },
      ],
      model,
    };
  }
  return { ok: true, lines, model: model ?? '' };
}

/** Output order: a fixed shuffle of the input by custom_id and seed (the API makes no order promise either). */
export function outputOrder(lines: InputLine[], seed: string): InputLine[] {
  return lines
    .map((line) => ({ line, rank: unitHash(seed, 'order', line.customId) }))
    .sort((a, b) => a.rank - b.rank || a.line.lineNumber - b.line.lineNumber)
    .map((x) => x.line);
}
