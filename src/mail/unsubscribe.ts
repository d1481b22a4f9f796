import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The one-click unsubscribe link of every e-mail: `/email/unsubscribe/<user id>.<signature>`. The tool opens only
 * through an LMS launch, so this link is the one page reachable without one; the HMAC (keyed from the LTI key, a
 * purpose label apart) is what lets it act for exactly that person, and nothing else.
 */
const PURPOSE = 'llm-assess email unsubscribe v1';

const signatureOf = (secret: string, userId: number) => createHmac('sha256', secret).update(`${PURPOSE}:${userId}`).digest('base64url').slice(0, 32);

export function unsubscribeToken(secret: string, userId: number): string {
  return `${userId}.${signatureOf(secret, userId)}`;
}

/** The person a token stands for, or null when it is malformed or not ours. */
export function verifyUnsubscribeToken(secret: string, token: string): number | null {
  const m = /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const userId = Number(m[1]);
  const expected = Buffer.from(signatureOf(secret, userId));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? userId : null;
}

export const unsubscribePath = (secret: string, userId: number) => `/email/unsubscribe/${unsubscribeToken(secret, userId)}`;
