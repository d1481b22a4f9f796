import type { Db } from '../../db/db.js';
import { estimateCostMicros, estimateOutputTokens, UnknownModelError } from '../../providers/index.js';
import { meanOutputTokensOfVersions } from '../assessments/assessments.repository.js';
import { updateQueuedEstimates } from '../queue/queue.repository.js';
import type { SelectedItem } from './batches.repository.js';

/**
 * Estimates that learn (issue 16, item 7). An item's estimate is made when it is queued, often before its prompt
 * version has any result, from the answer's shape alone; by the time a batch is made the version may have
 * dozens. So when a batch is made, each selected item's output tokens are estimated again from its version's
 * results so far (the mean of the last 200) and the item's cost with them, before anything is reserved: budgets
 * then hold what the work will likely cost, not a first guess. Input tokens were counted exactly and stay.
 */
export async function calibrateEstimates(db: Db, items: SelectedItem[]): Promise<SelectedItem[]> {
  const means = await meanOutputTokensOfVersions(db, [...new Set(items.map((i) => i.prompt_version_id))]);
  if (!means.size) return items;
  const changed: Array<{ id: number; outputTokens: number; costMicros: number }> = [];
  const calibrated = items.map((item) => {
    const mean = means.get(item.prompt_version_id);
    if (mean === undefined) return item;
    const outputTokens = estimateOutputTokens(item.max_output_tokens, mean);
    let costMicros: number;
    try {
      costMicros = estimateCostMicros({ inputTokens: item.est_input_tokens, outputTokens }, item.model, 'batch');
    } catch (err) {
      // A model no longer in the price list keeps the estimate it was queued with.
      if (err instanceof UnknownModelError) return item;
      throw err;
    }
    if (outputTokens === item.est_output_tokens && costMicros === item.est_cost_micros) return item;
    changed.push({ id: item.id, outputTokens, costMicros });
    return { ...item, est_output_tokens: outputTokens, est_cost_micros: costMicros };
  });
  await updateQueuedEstimates(db, changed);
  return calibrated;
}
