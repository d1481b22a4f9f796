import type { WriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProviderError } from './errors.js';

/**
 * Request lines are written to a temporary file before upload: memory stays flat however large the batch, the
 * limits are checked before anything leaves the machine, and a retried upload reads the same bytes again.
 */

export interface SpooledFile {
  path: string;
  requestCount: number;
  bytes: number;
  model: string | null;
  /** Deletes the file and its folder. Safe to call twice. */
  remove(): Promise<void>;
}

export interface SpoolLimits {
  maxRequests: number;
  maxBytes: number;
  providerName: string;
}

// Our own lines begin {"custom_id":…,"method":"POST","url":…,"body":{"model":"…": reading the model this way
// costs nothing, where parsing 50,000 lines would not.
const MODEL_IN_LINE = /"body":\{"model":"((?:[^"\\]|\\.)*)"/;

function tooLarge(message: string): ProviderError {
  return new ProviderError(message, { code: 'too_large', retryable: false });
}

/** Destroys the stream and waits until its file is closed. */
async function closed(out: WriteStream): Promise<void> {
  if (out.closed) return;
  const done = new Promise<void>((resolve) => out.once('close', () => resolve()));
  out.destroy();
  await done;
}

export async function spoolLines(
  lines: AsyncIterable<string> | Iterable<string>,
  limits: SpoolLimits,
  where: { parentDir?: string; fileName?: string } = {},
): Promise<SpooledFile> {
  const { dir, filePath, out, remove } = await openSpoolFile(where);
  // A write that fails (a full disk) while we wait for the next line is kept here and thrown at the next write,
  // instead of becoming an uncaught exception in the worker; one that fails while we wait on the stream rejects
  // that wait.
  let writeFailed: unknown = null;
  out.on('error', (err) => {
    writeFailed ??= err;
  });
  const tally: SpoolTally = { requestCount: 0, bytes: 0, model: null };
  try {
    for await (const line of lines) {
      const chunk = countLine(tally, line, limits);
      if (writeFailed) throw writeFailed;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    if (writeFailed) throw writeFailed;
    out.end();
    // 'close', not 'finish': the file is closed, every byte with it, before anyone reads it.
    await once(out, 'close');
  } catch (err) {
    await closed(out);
    await remove();
    if (err === writeFailed) throw new Error(`Could not write the batch file in ${path.dirname(dir)}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
  if (tally.requestCount === 0) {
    await remove();
    throw new ProviderError('The batch has no requests.', { code: 'invalid_request', retryable: false });
  }
  return { path: filePath, requestCount: tally.requestCount, bytes: tally.bytes, model: tally.model, remove };
}

/** A fresh folder with the file open for writing; the folder is removed again if the file cannot be opened. */
async function openSpoolFile(where: { parentDir?: string; fileName?: string }) {
  // The system's temporary folder by default, which TMPDIR moves (a large disk for 200 MB batch files).
  const dir = await mkdtemp(path.join(where.parentDir ?? tmpdir(), 'llm-assess-batch-'));
  const filePath = path.join(dir, where.fileName ?? 'requests.jsonl');
  const remove = () => rm(dir, { recursive: true, force: true });
  // The file is open before the first line is read, and closed before its folder is removed: a stream still
  // opening when a line failed once opened into a folder already gone and raised an unhandled 'error'.
  const out = await open(filePath, 'w').then(
    (file) => file.createWriteStream(),
    async (err: unknown) => {
      await remove();
      throw err;
    },
  );
  return { dir, filePath, out, remove };
}

interface SpoolTally {
  requestCount: number;
  bytes: number;
  model: string | null;
}

/**
 * Counts one line into the tally and returns the text to write, throwing before anything is written when the
 * line breaks the batch's limits (one line per request, one model, the provider's count and size caps).
 */
function countLine(tally: SpoolTally, line: string, limits: SpoolLimits): string {
  if (line.includes('\n') || line.includes('\r')) throw new Error(`request line ${tally.requestCount + 1} contains a line break: JSONL needs one request per line`);
  tally.requestCount += 1;
  const lineModel = MODEL_IN_LINE.exec(line.slice(0, 400))?.[1] ?? null;
  if (lineModel !== null) {
    if (tally.model === null) tally.model = lineModel;
    else if (lineModel !== tally.model) {
      throw new ProviderError(`Request line ${tally.requestCount} uses model "${lineModel}" but earlier lines use "${tally.model}": ${limits.providerName} accepts one model per batch.`, {
        code: 'invalid_request',
        retryable: false,
      });
    }
  }
  if (tally.requestCount > limits.maxRequests) {
    throw tooLarge(`The batch has more than ${limits.maxRequests.toLocaleString('en')} requests, the most ${limits.providerName} accepts in one batch: split it.`);
  }
  const chunk = `${line}\n`;
  tally.bytes += Buffer.byteLength(chunk);
  if (tally.bytes > limits.maxBytes) {
    throw tooLarge(`The batch file is larger than ${(limits.maxBytes / 1e6).toFixed(0)} MB, the most ${limits.providerName} accepts: split it.`);
  }
  return chunk;
}
