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
  const errors: BatchError[] = [];
  const lines: InputLine[] = [];
  const seen = new Set<string>();
  let model: string | null = null;
  const add = (e: BatchError) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(e);
  };

  for (const { raw, lineNumber } of rawLines(content.toString('utf8'))) {
    // Parsing 50,000 lines takes a while: let other requests in now and then.
    if (lineNumber % 2000 === 0) await yieldToEventLoop();
    if (raw.trim() === '') continue;
    const request = checkRequestLine(raw, lineNumber, endpoint, seen);
    if ('code' in request) {
      add(request);
      continue;
    }
    // The first line's model is the batch's: an unknown one is an error, and every later line must name it too.
    if (model === null) {
      model = request.model;
      if (!isKnownModel(model, 'openai')) {
        add(lineError(lineNumber, 'model_not_found', 'body.model', `The model '${model}' does not exist or you do not have access to it.`));
      }
    } else if (request.model !== model) {
      add(
        lineError(
          lineNumber,
          'mismatched_model',
          'body.model',
          `The model '${request.model}' for this request does not match the rest of the batch. Each batch must contain requests for a single model.`,
        ),
      );
      continue;
    }
    lines.push(request.line);
  }
  return verdict(errors, lines, model, limits);
}

/** The file's lines (LF or CRLF), numbered from 1. */
function* rawLines(text: string): Generator<{ raw: string; lineNumber: number }> {
  let lineNumber = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    lineNumber += 1;
    yield { raw, lineNumber };
  }
}

function lineError(line: number, code: string, param: string | null, message: string): BatchError {
  return { code, message, param, line };
}

/**
 * One line's own checks, in the API's order: JSON object, required keys, a new custom_id (recorded in `seen` once
 * it is a valid string, whatever fails after), POST, the batch's url, a body naming a model.
 */
function checkRequestLine(raw: string, lineNumber: number, endpoint: string, seen: Set<string>): BatchError | { line: InputLine; model: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return lineError(lineNumber, 'invalid_json_line', null, 'This line is not parseable as valid JSON.');
  }
  if (!isRecord(json)) return lineError(lineNumber, 'invalid_json_line', null, 'This line is not parseable as valid JSON.');
  const missing = ['custom_id', 'method', 'url', 'body'].find((k) => json[k] === undefined || json[k] === null);
  if (missing) return lineError(lineNumber, 'missing_required_parameter', missing, `Missing required parameter: '${missing}'.`);
  const { custom_id: customId, method, url, body } = json;
  if (typeof customId !== 'string' || customId === '') {
    return lineError(lineNumber, 'invalid_value', 'custom_id', "Invalid 'custom_id': expected a non-empty string.");
  }
  if (seen.has(customId)) {
    return lineError(
      lineNumber,
      'duplicate_custom_id',
      'custom_id',
      `The custom_id '${customId}' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
    );
  }
  seen.add(customId);
  if (method !== 'POST') {
    return lineError(lineNumber, 'invalid_value', 'method', `Invalid 'method': only POST is supported in a batch (got '${String(method)}').`);
  }
  if (url !== endpoint) {
    return lineError(
      lineNumber,
      'invalid_url',
      'url',
      `The url '${String(url)}' for this request does not match the batch endpoint '${endpoint}'. Each request in a batch must use the batch's endpoint.`,
    );
  }
  if (!isRecord(body) || typeof body.model !== 'string') {
    return lineError(lineNumber, 'missing_required_parameter', 'body.model', "Missing required parameter: 'body.model'.");
  }
  return { line: { customId, lineNumber, body }, model: body.model };
}

/** The file's verdict once every line is read: the line errors, else an empty file, else too many requests. */
function verdict(errors: BatchError[], lines: InputLine[], model: string | null, limits: InputLimits): InputValidation {
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
