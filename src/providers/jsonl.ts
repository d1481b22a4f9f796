/**
 * Splits a byte stream into text lines as it arrives, so a 200 MB result file is read with a few kilobytes of
 * memory. Handles lines split across chunks, multi-byte characters split across chunks, CRLF, a byte-order mark, and
 * a last line without a newline. Empty lines are skipped (JSONL has none; a trailing newline would otherwise yield
 * one). Lines are found in the bytes (a newline byte is never part of a multi-byte UTF-8 character) and each is
 * decoded alone: decoding whole chunks into one growing string made V8 flatten a string of the chunk's size for
 * every chunk, large enough to be allocated straight into the old generation, where it waited for a full collection
 * (resident memory grew with the file).
 */
export async function* readLines(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // Undecodable bytes become U+FFFD, as before; the BOM is removed by hand, from the first line only.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const chunks: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array>) : iterateStream(source as ReadableStream<Uint8Array>);
  let first = true;
  /** The start of a line that has not ended yet, from the chunks it came in. */
  let carried: Uint8Array[] = [];
  const text = (bytes: Uint8Array): string => {
    let line = decoder.decode(bytes);
    if (first) {
      first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      let bytes = chunk.subarray(start, nl);
      if (carried.length) {
        bytes = Buffer.concat([...carried, bytes]);
        carried = [];
      }
      start = nl + 1;
      const line = text(bytes);
      if (line !== '') yield line;
    }
    if (start < chunk.length) carried.push(chunk.slice(start));
  }
  if (carried.length) {
    const last = text(Buffer.concat(carried));
    if (last !== '') yield last;
  }
}

const NEWLINE = 0x0a;

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
