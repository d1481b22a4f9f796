import { z } from 'zod';
import { isKnownModel } from '../../providers/index.js';
import { PROVIDERS, type ProviderName } from '../privacy/privacy.table.js';
import { FAILOVER_MODES } from './failover.table.js';

/** What the Providers page's failover form sends (strings; an empty model means "the same tier"). */

const model = (provider: ProviderName) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || isKnownModel(v, provider), { message: `Choose one of ${provider === 'openai' ? 'OpenAI' : 'Anthropic'}'s models, or the same tier.` });

export const SLA_MINUTES = { min: 15, max: 1440 } as const;

export const failoverForm = z
  .object({
    mode: z.enum(FAILOVER_MODES, { error: 'Choose off or automatic.' }),
    first: z.enum(PROVIDERS, { error: 'Choose the provider tried first.' }),
    modelOpenai: model('openai'),
    modelAnthropic: model('anthropic'),
    slaMinutes: z.coerce
      .number({ error: 'Enter the SLA in minutes.' })
      .int('Enter the SLA in whole minutes.')
      .min(SLA_MINUTES.min, `Enter an SLA of at least ${SLA_MINUTES.min} minutes.`)
      .max(SLA_MINUTES.max, `Enter an SLA of at most ${SLA_MINUTES.max} minutes (24 hours, the providers' own window).`),
  })
  .transform((v) => ({
    mode: v.mode,
    providerOrder: [v.first, ...PROVIDERS.filter((p) => p !== v.first)],
    failoverModels: Object.fromEntries(Object.entries({ openai: v.modelOpenai, anthropic: v.modelAnthropic }).filter((e): e is [string, string] => e[1] !== undefined)),
    slaMinutes: v.slaMinutes,
  }));

export type FailoverInput = z.output<typeof failoverForm>;
