import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ROOT } from '../paths.js';

/**
 * A price file (data/prices/openai.yml; data/prices/anthropic.yml has the same shape): its schema, the checks on a model's dated prices, and the parsed table
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
  /**
   * Prompt-cache writes, where the provider bills them apart from input (Anthropic: a 5-minute entry 1.25x input,
   * a 1-hour entry 2x). Absent: a provider without cache writes (OpenAI), whose cache costs nothing to fill.
   */
  cache_write: usdPerMTok.optional(),
  cache_write_1h: usdPerMTok.optional(),
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
  /** Writing a 5-minute / 1-hour prompt-cache entry, where billed apart (Anthropic); absent: billed as input. */
  cacheWriteUsdPerMTok?: number;
  cacheWrite1hUsdPerMTok?: number;
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
    // Only where published, so a provider without cache writes keeps the rates it always had.
    ...(r.cache_write !== undefined ? { cacheWriteUsdPerMTok: r.cache_write } : {}),
    ...(r.cache_write_1h !== undefined ? { cacheWrite1hUsdPerMTok: r.cache_write_1h } : {}),
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

export class UnknownModelError extends Error {
  constructor(readonly model: string, known: string[]) {
    super(`No price is known for model "${model}". Known models: ${known.join(', ')}. Add it to its provider's price file under data/prices/.`);
    this.name = 'UnknownModelError';
  }
}

/** A day to price at: a Date (its UTC day) or a 'YYYY-MM-DD' string (an ISO timestamp is read as its UTC day). */
export type PriceDate = Date | string;

/** The UTC calendar day of a PriceDate, as 'YYYY-MM-DD'. */
export function priceDay(at: PriceDate): string {
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) throw new RangeError('cannot price at an invalid date');
    return at.toISOString().slice(0, 10);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(at)) return at;
  if (/^\d{4}-\d{2}-\d{2}T/.test(at)) return priceDay(new Date(at));
  throw new RangeError(`a price date must be a Date or YYYY-MM-DD (got "${at}")`);
}

/**
 * The entry's prices in force on a day. Before the first recorded `since` there is nothing older to go by, so
 * the earliest recorded price applies.
 */
export function priceOn(entry: ModelEntry, day: string): ModelPrice {
  const i = entry.byPeriod[0]!.periods.findIndex((p) => (p.since === null || p.since <= day) && (p.until === null || day < p.until));
  return entry.byPeriod[Math.max(0, i)]!;
}

/** A model's prices in force on a day (default: today) in a parsed table; throws UnknownModelError. */
export function modelPriceAt(table: PriceTable, model: string, at: PriceDate = new Date()): ModelPrice {
  const entry = table.byId.get(model);
  if (!entry) throw new UnknownModelError(model, table.models.map((m) => m.model));
  return priceOn(entry, priceDay(at));
}
