import { describe, expect, it } from '@jest/globals';
import { customIdFor } from '../../src/providers/custom-id.js';
import { OpenAIBatchProvider } from '../../src/providers/openai/openai-provider.js';
import { openAIBatchSchema } from '../../src/providers/openai/batch-snapshot.js';
import { countChatTokens } from '../../src/providers/tokens.js';
import { gradingRequest } from './helpers/requests.js';

/**
 * The same contract against the real OpenAI API. It runs only when OPENAI_API_KEY is set (it costs a fraction of
 * a cent: one tiny real-time call and one two-line batch, cancelled at once) and is reported as skipped otherwise.
 */

const apiKey = process.env.OPENAI_API_KEY;
const live = apiKey ? describe : describe.skip;
const title = apiKey ? 'real OpenAI API (OPENAI_API_KEY is set)' : 'real OpenAI API — skipped: OPENAI_API_KEY is not set';
// Jest does not list the names of a wholly skipped file; say why it did not run.
if (!apiKey) console.warn('Skipped the contract test against the real OpenAI API: OPENAI_API_KEY is not set.');

live(title, () => {
  // Built lazily: a skipped describe still runs its body to collect tests, and there is no key then.
  let cached: OpenAIBatchProvider | undefined;
  const liveProvider = () =>
    (cached ??= new OpenAIBatchProvider({
      apiKey: apiKey ?? '',
      baseURL: process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      retry: { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2000 },
      inputFileTtlSeconds: 3600,
    }));

  it('answers a real-time grading request with the usage our token count predicts', async () => {
    const req = gradingRequest(1, { submission: 'The war began in 1914 because of alliances.', maxOutputTokens: 600 });
    const answer = await liveProvider().realtimeGrade(req);
    expect(answer.model).toMatch(/^gpt-4o-mini/);
    expect(answer.usage.inputTokens).toBe(countChatTokens('gpt-4o-mini', req.messages));
  }, 60_000);

  it('accepts our batch file, returns a Batch our schema reads, and cancels it', async () => {
    const provider = liveProvider();
    const lines = [1, 2].map((i) => provider.buildRequestLine({ ...gradingRequest(i, { maxOutputTokens: 300 }), customId: customIdFor(900_000 + i, 1) }));
    const created = await provider.createBatch({ lines, metadata: { localBatchId: 'contract-test' } });
    try {
      expect(['submitted', 'processing']).toContain(created.snapshot.status);
      expect(created.snapshot.metadata.llm_assess_batch_id).toBe('contract-test');
      const snapshot = await provider.getBatch(created.providerBatchId);
      expect(openAIBatchSchema.shape.status.safeParse(snapshot.providerStatus).success).toBe(true);
    } finally {
      await provider.cancelBatch(created.providerBatchId).catch(() => undefined);
      await provider.deleteFile(created.inputFileId).catch(() => undefined);
    }
  }, 120_000);
});
