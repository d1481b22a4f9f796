/**
 * Text appended as UTF-8 into a byte buffer that is cleared and used again, rather than strings on the JavaScript
 * heap. Why: ingestion holds each chunk's answers, and the document of its rows, while a database statement runs
 * (tens of milliseconds); strings held that long outlive young-generation collections, are promoted, and pile up
 * until a full collection, so resident memory grew with the lines ingested. Bytes written here are freed by
 * nothing and allocated once: the buffer grows to the largest chunk and stays.
 */
export class TextBuffer {
  private bytes: Buffer;
  private used = 0;

  constructor(initialBytes = 64 * 1024) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.used;
  }

  /** Appends the text; returns where it starts (its end is `length` after the call). */
  append(text: string): number {
    const start = this.used;
    // Three bytes per UTF-16 unit is the most UTF-8 needs (a surrogate pair: 4 bytes for 2 units); write() would
    // silently cut a text that does not fit.
    this.reserve(text.length * 3);
    this.used += this.bytes.write(text, start, 'utf8');
    return start;
  }

  appendByte(byte: number): void {
    this.reserve(1);
    this.bytes[this.used] = byte;
    this.used += 1;
  }

  read(start: number, end: number): string {
    return this.bytes.toString('utf8', start, end);
  }

  /** The bytes written so far: a view, valid until the next clear(). */
  view(): Buffer {
    return this.bytes.subarray(0, this.used);
  }

  clear(): void {
    this.used = 0;
  }

  private reserve(extra: number): void {
    const needed = this.used + extra;
    if (needed <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }
}
