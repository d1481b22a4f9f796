import { expect } from '@jest/globals';

/**
 * Asserts that every one of `parts` is in `text`, one `toContain` each, so a failure names the missing part
 * (as the same assertions written out one per line would). For the pages a test reads for several snippets.
 */
export function expectToContainAll(text: string, parts: readonly string[]): void {
  for (const part of parts) expect(text).toContain(part);
}
