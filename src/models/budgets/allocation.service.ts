import type { Db } from '../../db/db.js';
import { Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from './budget-alerts.service.js';
import type { BudgetActor } from './budget-admin.service.js';
import { dollars } from './budgets.service.js';
import { resetBudgetAlerts } from './budgets.repository.js';
import type { AllocationInput } from './budgets.schema.js';
import { lockBudgetsById, setBudgetLimit, type LockedBudget } from './allocation.repository.js';

/**
 * Moving allocation between course budgets of one month (issue 16, item 5): one course's limit goes down by the
 * amount, another's up, so what the platform's budget covers does not change. Only what the giving course has not
 * committed can move. Both limits start their alerts afresh; the move is in both budgets' history.
 */
export async function moveAllocation(db: Db, actor: BudgetActor, input: AllocationInput): Promise<{ from: LockedBudget; to: LockedBudget }> {
  if (input.from === input.to) throw Invalid({ to: 'Choose another budget than the one you take from.' });
  const locked = await lockBudgetsById(db, actor.platformId, [input.from, input.to]);
  const from = locked.find((b) => b.id === input.from);
  const to = locked.find((b) => b.id === input.to);
  if (!from || !to) throw NotFound('The budget');
  if (from.courseId == null || to.courseId == null) throw Invalid({ from: 'Allocation moves between course budgets; change the platform budget with its own form.' });
  if (from.month !== to.month) throw Invalid({ to: 'Both budgets must be of the same month.' });
  const free = from.limitMicros - from.committedMicros;
  if (input.amount > free) {
    throw Invalid({ amount: `"${from.courseTitle ?? from.courseId}" has ${dollars(Math.max(0, free))} not committed; at most that can move.` });
  }
  await setBudgetLimit(db, from.id, from.limitMicros - input.amount);
  await setBudgetLimit(db, to.id, to.limitMicros + input.amount);
  for (const b of [from, to]) await resetBudgetAlerts(db, b.id);
  await raiseBudgetAlerts(db, actor.platformId);
  for (const [b, other, delta] of [[from, to, -input.amount], [to, from, input.amount]] as const) {
    await recordAudit(db, {
      platformId: actor.platformId,
      courseId: b.courseId,
      actorId: actor.userId,
      actorKind: 'user',
      action: 'budget.allocation_moved',
      entityType: 'budget',
      entityId: b.id,
      details: { scope: 'course', month: b.month, beforeLimitMicros: b.limitMicros, limitMicros: b.limitMicros + delta, otherBudgetId: other.id, amountMicros: input.amount },
    });
  }
  return { from: { ...from, limitMicros: from.limitMicros - input.amount }, to: { ...to, limitMicros: to.limitMicros + input.amount } };
}
