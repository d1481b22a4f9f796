import { newChunkBuffers, ResultChunk, type ChunkBuffers } from './result-chunk.js';

/** Applies one chunk; `previous` settles when the chunk before it has committed (or failed). */
export type ApplyChunk = (chunk: ResultChunk, position: number, previous: Promise<void>) => Promise<void>;

/**
 * Chunks of results applied a few at a time, each in its own transaction on its own connection, while the next one
 * is downloaded and parsed: most of a chunk's time is the database updating indexes and checking keys, which a
 * second connection runs on another core. They still commit strictly in order (applyChunk waits for `previous`; the
 * position check in recordChunk refuses any other order). Chunks in flight together must name different requests,
 * so none ever waits for a row another has locked: that wait would be a deadlock the database cannot see (the other
 * one waits here for the first to commit). A chunk naming a request of a chunk in flight (a line repeated across
 * chunks) starts only once that one, and every one before it, has finished.
 */
export class ChunkPipeline {
  private readonly inFlight: Array<{ done: Promise<void>; ids: Set<string> }> = []; // oldest first
  /** The buffers of chunks applied, for the next ones (limit + 1 pairs at most: those in flight and the one being read). */
  private readonly spare: ChunkBuffers[] = [];

  constructor(
    private readonly limit: number,
    private readonly applyOne: ApplyChunk,
  ) {}

  newChunk(): ResultChunk {
    return new ResultChunk(this.spare.pop() ?? newChunkBuffers());
  }

  /** Starts applying a chunk once there is room for it; a failure surfaces where it is awaited next (here or in drain). */
  async apply(chunk: ResultChunk, position: number): Promise<void> {
    const inFlight = this.inFlight;
    while (inFlight.length >= this.limit) await inFlight.shift()!.done;
    const ids = new Set<string>();
    for (const line of chunk.lines) if (line.customId) ids.add(line.customId);
    for (let i = inFlight.length - 1; i >= 0; i -= 1) {
      if ([...ids].some((id) => inFlight[i]!.ids.has(id))) {
        for (const earlier of inFlight.splice(0, i + 1)) await earlier.done;
        break;
      }
    }
    const previous = inFlight.at(-1)?.done ?? Promise.resolve();
    const done = this.applyOne(chunk, position, previous);
    // Its transaction is over either way: its buffers are free.
    const giveBack = () => void this.spare.push(chunk.buffers);
    void done.then(giveBack, giveBack);
    // Handled where it is awaited next; marked here so a failure while the next chunk downloads is not "unhandled".
    done.catch(() => undefined);
    inFlight.push({ done, ids });
  }

  /** Waits for every chunk in flight, in order; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inFlight.length) await this.inFlight.shift()!.done;
  }

  /** Waits for every chunk in flight, failed or not (so nothing is still writing when the lease is given up). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight.map((c) => c.done));
  }
}
