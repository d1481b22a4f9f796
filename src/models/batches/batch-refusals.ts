import type { Db } from '../../db/db.js';
import { Conflict, Invalid } from '../../errors.js';
import { coursesRefusingBatch, type BatchRefusal } from '../privacy/privacy.repository.js';
import type { Selection } from '../queue/queue.schema.js';
import type { SelectedItem } from './batches.repository.js';

/** Why a selection cannot become batches: createBatches' refusals, each with what to do about it. */

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

/** Refuses the whole selection when any item cannot go into a batch now, saying which and why. */
export function refuseUnsendable(items: SelectedItem[], selection: Selection): void {
  if (!items.length) {
    throw Invalid({ ids: selection.scope === 'all' ? 'No queued item that is due matches this filter.' : 'Select at least one queued item.' }, 'There is nothing to put in a batch.');
  }
  if (selection.scope === 'selected' && items.length < selection.ids.length) {
    const missing = selection.ids.length - items.length;
    throw Invalid({ ids: `${plural(missing, 'selected item')} ${missing === 1 ? 'was' : 'were'} not found.` }, 'Some selected items do not exist.');
  }
  const taken = items.filter((i) => i.status !== 'queued');
  if (taken.length) {
    throw Conflict(`${plural(taken.length, 'selected item')} ${taken.length === 1 ? 'is' : 'are'} no longer queued (already in a batch, skipped or finished): ${taken.slice(0, 10).map((i) => `#${i.id} (${i.status})`).join(', ')}. Reload the queue and select again.`);
  }
  const notDue = items.filter((i) => !i.due);
  if (notDue.length) throw Conflict(`${plural(notDue.length, 'selected item')} ${notDue.length === 1 ? 'is' : 'are'} rescheduled for later: ${notDue.slice(0, 10).map((i) => `#${i.id}`).join(', ')}. Clear their "not before" time first.`);
}

const PROVIDER_LABELS: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/**
 * Refuses the selection when a course's privacy settings keep its work out of a batch (the send step asks again):
 * each item goes to its prompt's provider, which the course and the institution must approve.
 */
export async function refuseByPrivacy(db: Db, items: SelectedItem[]): Promise<void> {
  for (const provider of new Set(items.map((i) => i.provider))) {
    const mine = items.filter((i) => i.provider === provider);
    const refusing = await coursesRefusingBatch(db, [...new Set(mine.map((i) => i.course_id))], provider);
    const courses = (...reasons: BatchRefusal[]) => refusing.filter((c) => reasons.includes(c.reason)).map((c) => c.title).join(', ');
    if (courses('llm_off')) throw Conflict(`These courses no longer allow LLM assessment, so their items cannot be sent: ${courses('llm_off')}. Skip those items, or ask the instructors.`);
    if (courses('realtime_only')) throw Conflict(`These courses are set to real time only, so their work never goes into a batch: ${courses('realtime_only')}. Skip those items, or ask the instructors.`);
    if (refusing.length) {
      throw Conflict(
        `Their prompts send these items to ${PROVIDER_LABELS[provider] ?? provider}, which these courses (or your institution's settings) do not approve: ${courses('not_approved', 'not_allowed')}. Skip those items, or change the approved providers.`,
      );
    }
  }
}
