import type { AnthropicBatchRecord } from './anthropic/batch.js';
import type { PromptCache } from './anthropic/message.js';
import type { BatchRecord } from './batches/batch-record.js';
import { newId } from './hash.js';

/**
 * All emulator state, in memory: files (with their bytes), batches, and the Anthropic side's Message Batches and
 * prompt cache. A restart forgets everything, like a
 * fresh OpenAI project; that is fine for demos and tests, and nothing here is worth persisting.
 */

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
export type UploadPurpose = (typeof FILE_PURPOSES)[number];

export interface StoredFile {
  id: string;
  bytes: number;
  createdAtMs: number;
  expiresAtMs: number | null;
  filename: string;
  purpose: UploadPurpose | 'batch_output';
  content: Buffer;
}

export class EmulatorStore {
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, BatchRecord>();
  /** The Anthropic side: Message Batches, and the prompt cache its Messages read and write. */
  readonly anthropicBatches = new Map<string, AnthropicBatchRecord>();
  readonly promptCache: PromptCache = { entries: new Map() };

  addFile(file: Omit<StoredFile, 'id' | 'bytes'>): StoredFile {
    const stored: StoredFile = { ...file, id: newId('file-', 22), bytes: file.content.length };
    this.files.set(stored.id, stored);
    return stored;
  }

  clear(): void {
    this.files.clear();
    this.batches.clear();
    this.anthropicBatches.clear();
    this.promptCache.entries.clear();
  }
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The FileObject of the spec (status is deprecated but still required there). */
export function fileObject(f: StoredFile) {
  return {
    id: f.id,
    object: 'file' as const,
    bytes: f.bytes,
    created_at: seconds(f.createdAtMs),
    ...(f.expiresAtMs !== null ? { expires_at: seconds(f.expiresAtMs) } : {}),
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed' as const,
  };
}
