import { describe, expect, it } from '@jest/globals';
import { charCount } from '../src/chars.js';
import { parseSubmission } from '../src/models/submissions/submission-input.js';

/** Limits count characters as people do (code points), not UTF-16 units. */
describe('character limits', () => {
  it('count an emoji or a supplementary-plane character once, and a lone surrogate once', () => {
    expect(charCount('abc')).toBe(3);
    expect(charCount('😀')).toBe(1);
    expect(charCount('𠀋𠀋x')).toBe(3);
    expect(charCount('\uD83D')).toBe(1);
    expect(charCount('\uDE00\uD83D')).toBe(2);
  });

  it('let a student write as many emoji as the limit says, and refuse one more with the right count', async () => {
    const limits = { maxChars: 5000, maxFileBytes: 100_000, maxDocumentBytes: 100_000, maxPdfPages: 5 };
    expect((await parseSubmission({ text: '😀'.repeat(5000) }, undefined, limits)).ok).toBe(true);
    const over = await parseSubmission({ text: '😀'.repeat(5001) }, undefined, limits);
    expect(over.ok).toBe(false);
    expect(JSON.stringify(over)).toContain('Your work has 5,001 characters; the limit is 5,000.');
  });
});
