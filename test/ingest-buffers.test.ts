import { describe, expect, it } from '@jest/globals';
import { AssessmentsDoc } from '../src/models/assessments/assessments.repository.js';
import { newChunkBuffers, ResultChunk } from '../src/models/batches/result-chunk.js';
import type { BatchResultLine } from '../src/providers/index.js';
import { TextBuffer } from '../src/text-buffer.js';

/**
 * The off-heap buffers ingestion keeps a chunk's answers and rows in: what goes in comes out byte for byte,
 * whatever the characters and however far the buffer has to grow, and a buffer used again holds nothing of before.
 */

const awkward = 'Accents é à ü, CJK 漢字, emoji 😀👩🏽‍🎓, a lone quote " and backslash \\, tab\tand\nnewline';

const answer = (customId: string, content: string | null, refusal: string | null = null): BatchResultLine => ({
  kind: 'succeeded',
  customId,
  requestId: 'req_1',
  lineNumber: 1,
  content,
  refusal,
  finishReason: 'stop',
  model: 'gpt-4o-mini-2024-07-18',
  usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
});

describe('TextBuffer', () => {
  it('gives back each text exactly, across growth far past its first size', () => {
    const b = new TextBuffer(16);
    const texts = [awkward, 'x'.repeat(100_000), '', '😀'.repeat(5000), awkward];
    const spans = texts.map((t) => [b.append(t), b.length] as const);
    expect(spans.map(([s, e]) => b.read(s, e))).toEqual(texts);
    expect(b.length).toBe(texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
  });

  it('starts empty again after clear(), and its view is exactly the bytes written', () => {
    const b = new TextBuffer(8);
    b.append('first text, longer than the buffer');
    b.clear();
    expect(b.length).toBe(0);
    b.appendByte(1);
    b.append('é');
    expect([...b.view()]).toEqual([1, 0xc3, 0xa9]);
  });
});

describe('ResultChunk', () => {
  it('keeps answers and refusals exactly, and other lines as they are', () => {
    const chunk = new ResultChunk(newChunkBuffers());
    const errored: BatchResultLine = { kind: 'errored', customId: 'qi-3-a1', requestId: null, lineNumber: 3, statusCode: 500, code: 'server_error', message: 'boom', retryable: true };
    chunk.add(answer('qi-1-a1', awkward));
    chunk.add(answer('qi-2-a1', null, `I cannot grade this ${awkward}`));
    chunk.add(errored);
    chunk.add(answer('qi-4-a1', 'y'.repeat(200_000)));
    expect(chunk.length).toBe(4);
    const [a, r, e, big] = chunk.lines;
    if (a?.kind !== 'succeeded' || r?.kind !== 'succeeded' || big?.kind !== 'succeeded') throw new Error('expected answers');
    expect(chunk.answer(a)).toEqual({ content: awkward, refusal: null, finishReason: 'stop' });
    expect(chunk.answer(r)).toEqual({ content: null, refusal: `I cannot grade this ${awkward}`, finishReason: 'stop' });
    expect(chunk.answer(big).content).toBe('y'.repeat(200_000));
    expect(e).toEqual(errored);
    expect(a).toMatchObject({ customId: 'qi-1-a1', model: 'gpt-4o-mini-2024-07-18', usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5 } });
  });

  it('a chunk given the buffers of one before starts from nothing', () => {
    const first = new ResultChunk(newChunkBuffers());
    first.add(answer('qi-1-a1', 'old answer'));
    const second = new ResultChunk(first.buffers);
    second.add(answer('qi-2-a1', 'new'));
    const [line] = second.lines;
    if (line?.kind !== 'succeeded') throw new Error('expected an answer');
    expect(second.length).toBe(1);
    expect(second.answer(line).content).toBe('new');
    expect(second.buffers.text.length).toBe(3);
  });
});

describe('AssessmentsDoc', () => {
  const row = (customId: string, comments: string) => ({
    queueItemId: 1,
    customId,
    model: 'm',
    result: { comments },
    rawOutput: null,
    score: 1,
    maxScore: 10,
    flags: [],
    needsReview: false,
    releasedAt: new Date('2026-11-27T10:00:00Z'),
  });

  it('is jsonb in binary format: a version byte, then the rows as a JSON array', () => {
    const doc = new AssessmentsDoc(new TextBuffer(4));
    doc.add(row('qi-1-a1', awkward));
    doc.add(row('qi-2-a1', 'z'.repeat(70_000)));
    const bytes = doc.param();
    expect(bytes[0]).toBe(1);
    const rows = JSON.parse(bytes.subarray(1).toString('utf8')) as Array<Record<string, unknown>>;
    expect(doc.size).toBe(2);
    expect(rows.map((r) => (r.result as { comments: string }).comments)).toEqual([awkward, 'z'.repeat(70_000)]);
    expect(rows[0]).toMatchObject({ queue_item_id: 1, custom_id: 'qi-1-a1', released_at: '2026-11-27T10:00:00.000Z', actual_cost_micros: 0 });
  });

  it('an empty document is an empty array; once sent it takes no more rows', () => {
    const doc = new AssessmentsDoc(new TextBuffer());
    expect(doc.param().subarray(1).toString()).toBe('[]');
    expect(doc.param().subarray(1).toString()).toBe('[]');
    expect(() => doc.add(row('qi-1-a1', 'late'))).toThrow(/already sent/);
  });

  it('a document on a used buffer holds only its own rows', () => {
    const buffer = new TextBuffer();
    const first = new AssessmentsDoc(buffer);
    first.add(row('qi-1-a1', 'first'));
    first.param();
    const second = new AssessmentsDoc(buffer);
    second.add(row('qi-2-a1', 'second'));
    const rows = JSON.parse(second.param().subarray(1).toString('utf8')) as Array<{ custom_id: string }>;
    expect(rows.map((r) => r.custom_id)).toEqual(['qi-2-a1']);
  });
});
