import type { BatchResultLine, TokenUsage } from '../../providers/index.js';
import type { AnswerInput } from '../../grading/evaluate.js';
import { TextBuffer } from '../../text-buffer.js';

/**
 * An answer as a chunk holds it: what ingestion reads of it, its texts (most of a line) in the chunk's buffer as
 * byte ranges [start, end), -1 for none. Plain numbers, so holding one is one small object.
 */
export interface HeldAnswer {
  kind: 'succeeded';
  customId: string;
  model: string;
  finishReason: string;
  usage: TokenUsage;
  contentStart: number;
  contentEnd: number;
  refusalStart: number;
  refusalEnd: number;
}

export type HeldLine = Exclude<BatchResultLine, { kind: 'succeeded' }> | HeldAnswer;

/** The two buffers a chunk writes into: its answers' text and the document of its rows. Used again, chunk after chunk. */
export interface ChunkBuffers {
  text: TextBuffer;
  doc: TextBuffer;
}

export function newChunkBuffers(): ChunkBuffers {
  return { text: new TextBuffer(), doc: new TextBuffer() };
}

/**
 * A chunk of result lines from when they are read until they are applied. A chunk waits for the ones before it
 * and for its own lookups, so what it holds lives long enough to be promoted out of V8's young generation; its
 * answers (the bulk of each line) are therefore kept as bytes in a reused buffer, and only a few small fields per
 * line stay on the heap. Measured (bench/ingest.bench.ts): the lines as read were half of what piled up in the
 * old generation between full collections.
 */
export class ResultChunk {
  readonly lines: HeldLine[] = [];

  constructor(readonly buffers: ChunkBuffers) {
    buffers.text.clear();
  }

  get length(): number {
    return this.lines.length;
  }

  add(line: BatchResultLine): void {
    if (line.kind !== 'succeeded') {
      this.lines.push(line);
      return;
    }
    const text = this.buffers.text;
    const contentStart = line.content === null ? -1 : text.append(line.content);
    const contentEnd = line.content === null ? -1 : text.length;
    const refusalStart = line.refusal === null ? -1 : text.append(line.refusal);
    const refusalEnd = line.refusal === null ? -1 : text.length;
    this.lines.push({ kind: 'succeeded', customId: line.customId, model: line.model, finishReason: line.finishReason, usage: line.usage, contentStart, contentEnd, refusalStart, refusalEnd });
  }

  /** A held answer's texts, back as strings (for the evaluation, which reads them once). */
  answer(line: HeldAnswer): AnswerInput {
    const text = this.buffers.text;
    return {
      content: line.contentStart < 0 ? null : text.read(line.contentStart, line.contentEnd),
      refusal: line.refusalStart < 0 ? null : text.read(line.refusalStart, line.refusalEnd),
      finishReason: line.finishReason,
    };
  }
}
