/**
 * What every field of a prompt draft is held to: the limits, and how a number typed into a form (or sent as JSON)
 * is read. Shared by the draft's own fields (prompt-draft.ts) and its rubric rows (prompt-draft-rubric.ts).
 */

export const LIMITS = {
  instructionsChars: 20_000,
  noteChars: 500,
  criteria: 30,
  criterionNameChars: 120,
  criterionDescriptionChars: 2_000,
  criterionPoints: 10_000,
  /** numeric(8, 2) */
  maxScore: 999_999.99,
  temperature: 2,
  maxOutputTokens: 16_000,
} as const;

export const fmt = (n: number) => n.toLocaleString('en');

/** A number typed into a form (or sent as JSON): one message for "missing", one for "out of range". */
export function parseNumber(
  value: string | number | null | undefined,
  rule: { min: number; max: number; minExclusive?: boolean; integer?: boolean; decimals?: number },
  messages: { missing: string; invalid: string; decimals?: string },
): { ok: true; value: number } | { ok: false; message: string } {
  const text = typeof value === 'number' ? String(value) : (value ?? '').trim();
  if (text === '') return { ok: false, message: messages.missing };
  const n = typeof value === 'number' ? value : Number(text.replace(',', '.'));
  if (!Number.isFinite(n)) return { ok: false, message: messages.invalid };
  if (rule.integer && !Number.isInteger(n)) return { ok: false, message: messages.invalid };
  if (rule.minExclusive ? n <= rule.min : n < rule.min) return { ok: false, message: messages.invalid };
  if (n > rule.max) return { ok: false, message: messages.invalid };
  if (rule.decimals !== undefined && Math.abs(n * 10 ** rule.decimals - Math.round(n * 10 ** rule.decimals)) > 1e-9) {
    return { ok: false, message: messages.decimals ?? messages.invalid };
  }
  return { ok: true, value: n };
}
