import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ROOT } from '../paths.js';

/**
 * The price file, data/prices/openai.yml: its schema, the checks on a model's dated prices, and the parsed table
 * (every model priced once per period). Lookups on a day and the cost arithmetic are in pricing.ts, which
 * re-exports what callers need from here.
 *
 * Dates: a model's earlier prices stay in the file (`previous`, each with the days it applied), so a price change
 * is a data change with its date and never re-prices past work.
 */

export const PRICES_FILE = path.join(ROOT, 'data', 'prices', 'openai.yml');

const usdPerMTok = z
  .number()
  .min(0)
  .max(10_000)
  // Held as integer micro-USD per MTok: more than 6 decimals would be silently rounded, so refuse it.
  .refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, 'at most 6 decimal places');
const checkedDate = z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be a date: YYYY-MM-DD (or YYYY-MM)');
/** A whole day, as the file writes it: YAML reads an unquoted 2025-06-10 as this string. */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date: YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a calendar date');

const ratesSchema = z.strictObject({
  input: usdPerMTok,
  cached_input: usdPerMTok.nullable(),
  output: usdPerMTok,
  checked: checkedDate,
});

/** An earlier price: it applied from `since` up to the day before `until`. */
const earlierPriceSchema = z.strictObject({
  since: day,
  until: day,
  standard: ratesSchema,
  batch: ratesSchema,
});

/**
 * Earlier prices, oldest first, each starting the day the one before it ended: every day from the first `since`
 * on has exactly one price, and the model's current prices apply from the last `until`.
 */
const previousSchema = z.array(earlierPriceSchema).superRefine((entries, ctx) => {
  entries.forEach((e, i) => {
    if (e.until <= e.since) {
      ctx.addIssue({ code: 'custom', path: [i, 'until'], message: `must be after since (${e.since}): an earlier price applies from since up to the day before until` });
    }
    const before = entries[i - 1];
    if (!before) return;
    if (e.since < before.since) {
      ctx.addIssue({ code: 'custom', path: [i, 'since'], message: `is out of order: ${e.since} is before the entry above it (since ${before.since}); list earlier prices oldest first` });
    } else if (e.since < before.until) {
      ctx.addIssue({ code: 'custom', path: [i, 'since'], message: `overlaps the entry above it: ${e.since} is before its until (${before.until}), so two prices would apply on the same day` });
    } else if (e.since > before.until) {
      ctx.addIssue({ code: 'custom', path: [i, 'since'], message: `leaves a gap after the entry above it: it ends the day before ${before.until}, so since must be ${before.until}` });
    }
  });
});

const modelSchema = z.strictObject({
  aliases: z.array(z.string().min(1)).default([]),
  reasoning: z.boolean(),
  structured_outputs: z.boolean().default(true),
  context_window: z.number().int().positive().optional(),
  standard: ratesSchema,
  batch: ratesSchema,
  previous: previousSchema.default([]),
});

const priceFileSchema = z.strictObject({
  currency: z.literal('USD'),
  unit: z.literal('per_million_tokens'),
  models: z.record(z.string().min(1), modelSchema),
});

export interface PriceRates {
  inputUsdPerMTok: number;
  /** Equal to the input price when the source publishes no cached price for this mode. */
  cachedInputUsdPerMTok: number;
  outputUsdPerMTok: number;
  /** Whether the source publishes a separate cached-input price for this mode. */
  cachedInputPublished: boolean;
  checked: string;
}

/** The prices of one period: from `since` (null: as far back as the file knows) up to the day before `until`. */
export interface PricePeriod {
  since: string | null;
  /** null: the current prices, in force until the file says otherwise. */
  until: string | null;
  standard: PriceRates;
  batch: PriceRates;
}

export interface ModelPrice {
  /** The canonical model id (the key in the price file). */
  model: string;
  aliases: string[];
  reasoning: boolean;
  /** Whether the API accepts a strict `json_schema` response format (Structured Outputs), which grading sends. */
  structuredOutputs: boolean;
  contextWindow: number | null;
  /** The prices in force on the day asked for (today, unless a day was given). */
  standard: PriceRates;
  batch: PriceRates;
  /** Every price the file records for the model, oldest first; the last is the current one. */
  periods: readonly PricePeriod[];
}

/** One model of the file, priced once per period (oldest first), so a lookup picks an object and builds none. */
export interface ModelEntry {
  model: string;
  byPeriod: ModelPrice[];
}

export interface PriceTable {
  models: ModelEntry[];
  byId: Map<string, ModelEntry>;
}

function rates(r: z.infer<typeof ratesSchema>): PriceRates {
  return {
    inputUsdPerMTok: r.input,
    cachedInputUsdPerMTok: r.cached_input ?? r.input,
    outputUsdPerMTok: r.output,
    cachedInputPublished: r.cached_input !== null,
    checked: r.checked,
  };
}

function periodsOf(m: z.infer<typeof modelSchema>): PricePeriod[] {
  const earlier = m.previous.map((p) => ({ since: p.since, until: p.until, standard: rates(p.standard), batch: rates(p.batch) }));
  const current = { since: m.previous.at(-1)?.until ?? null, until: null, standard: rates(m.standard), batch: rates(m.batch) };
  return [...earlier, current];
}

/** Parses the text of a price file, or throws an Error naming each bad field. */
export function parsePriceTable(yamlText: string, source = 'price file'): PriceTable {
  const parsed = priceFileSchema.safeParse(YAML.parse(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const models: ModelEntry[] = [];
  const byId = new Map<string, ModelEntry>();
  for (const [id, m] of Object.entries(parsed.data.models)) {
    const periods = periodsOf(m);
    const entry: ModelEntry = {
      model: id,
      byPeriod: periods.map((p) => ({
        model: id,
        aliases: m.aliases,
        reasoning: m.reasoning,
        structuredOutputs: m.structured_outputs,
        contextWindow: m.context_window ?? null,
        standard: p.standard,
        batch: p.batch,
        periods,
      })),
    };
    models.push(entry);
    for (const name of [id, ...m.aliases]) {
      if (byId.has(name)) throw new Error(`Invalid ${source}: model id or alias "${name}" appears twice`);
      byId.set(name, entry);
    }
  }
  return { models, byId };
}

/** Reads and parses a price file (default: the shipped one), or throws an Error naming the file and each bad field. */
export function readPriceTable(file: string = PRICES_FILE): PriceTable {
  return parsePriceTable(readFileSync(file, 'utf8'), file);
}
