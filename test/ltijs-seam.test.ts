import { describe, expect, it } from '@jest/globals';
import { assertLtijsSeam, LTIJS_VERSION } from '../src/lti/ltijs-seam.js';

/** The one place we reach inside ltijs refuses to start on an ltijs it was not written for. */
describe('the ltijs seam', () => {
  it('accepts the installed, pinned ltijs', () => {
    expect(() => assertLtijsSeam()).not.toThrow();
    expect(LTIJS_VERSION).toBe('5.9.9');
  });

  it('refuses another ltijs version, or one whose validator moved', () => {
    expect(() => assertLtijsSeam('5.9.10')).toThrow(/needs ltijs 5\.9\.9 .* 5\.9\.10 is installed/);
    expect(() => assertLtijsSeam('5.9.9', {})).toThrow(/has no Auth\.validateToken/);
    expect(() => assertLtijsSeam('5.9.9', { validateToken: (token: string) => token })).toThrow(/has no Auth\.validateToken/);
  });
});
