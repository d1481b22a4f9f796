/**
 * Splits a byte stream into text lines as it arrives, so a 200 MB result file is read with a few kilobytes of
 * memory. Handles lines split across chunks, multi-byte characters split across chunks, CRLF, and a last line
 * without a newline. Empty lines are skipped (JSONL has none; a trailing newline would otherwise yield one).
 */
export async function* readLines(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const chunks: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array>) : iterateStream(source as ReadableStream<Uint8Array>);
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl = pending.indexOf('\n', start);
    while (nl !== -1) {
      const line = stripCr(pending.slice(start, nl));
      if (line !== '') yield line;
      start = nl + 1;
      nl = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  const last = stripCr(pending);
  if (last !== '') yield last;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

async function* iterateStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
