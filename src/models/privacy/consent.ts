/**
 * The words a student agrees to, versioned: a record says which version they saw. Changing the words means adding
 * a version (never editing one), and consent to an older version no longer counts: students are asked again.
 */
export const CONSENT_WORDINGS = [
  { version: 1, text: 'I agree that my work is assessed by an LLM (a language model) and reviewed by my instructor' },
] as const;

export const CURRENT_CONSENT = CONSENT_WORDINGS[CONSENT_WORDINGS.length - 1]!;

export function consentWording(version: number): string {
  return CONSENT_WORDINGS.find((w) => w.version === version)?.text ?? `(wording version ${version})`;
}
