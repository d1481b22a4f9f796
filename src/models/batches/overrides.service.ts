import type { Db } from '../../db/db.js';
import { Conflict } from '../../errors.js';
import { dollars } from '../budgets/budgets.service.js';
import { lockOverrides, overrideSpendThisMonth } from './overrides.repository.js';

/**
 * Emergency overrides (issue 16, item 4): an administrator may send named items of a critical assessment past a
 * freeze or a spent budget, with a reason. Nothing else stops them, so a monthly cap per platform does
 * (BUDGET_OVERRIDE_MONTHLY_CAP_MICROS, by estimate); every override is audited and listed on the Costs page.
 */

export interface Override {
  reason: string;
  capMicros: number;
}

/** Takes the platform's override lock and refuses (409) an override the month's cap cannot take, with the amounts. */
export async function checkOverrideCap(db: Db, platformId: number, estimateMicros: number, override: Override): Promise<void> {
  if (override.capMicros <= 0) throw Conflict('Emergency overrides are turned off on this deployment (its monthly cap is $0).');
  await lockOverrides(db, platformId);
  const used = await overrideSpendThisMonth(db, platformId);
  if (used + estimateMicros > override.capMicros) {
    throw Conflict(
      `This override is estimated at ${dollars(estimateMicros)}, more than is left of this month's override cap: ${dollars(used)} of ${dollars(override.capMicros)} used. Send fewer items, or raise the budget instead.`,
    );
  }
}
