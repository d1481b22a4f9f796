import type { Db } from '../../db/db.js';
import { Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { EVENT_KINDS, EVENTS, isEventKind, parseWording, variablesOf, WordingError, type Audience, type EventKind } from './events.js';
import type { PreferencesInput, WordingInput } from './notifications.schema.js';
import { findPreferences, savePreferences, type Preferences } from './preferences.repository.js';
import { deleteWording, saveWording, wordingsOf } from './templates.repository.js';

/** What a person may choose, and for which events: those addressed to a role they hold. */
export interface PreferencesView extends Preferences {
  events: Array<{ kind: EventKind; label: string; byEmail: boolean }>;
}

const eventsFor = (roles: readonly Audience[]) => EVENT_KINDS.filter((k) => EVENTS[k].audience.some((a) => roles.includes(a)));

export async function preferencesOf(db: Db, userId: number, roles: readonly Audience[]): Promise<PreferencesView> {
  const p = await findPreferences(db, userId);
  return { ...p, events: eventsFor(roles).map((kind) => ({ kind, label: EVENTS[kind].label, byEmail: !p.emailOff.includes(kind) })) };
}

/**
 * Saves a person's choices. Events they cannot get (another role's) are refused by name; those of their roles left
 * unchecked are off, and the choices about other roles' events (made while holding another role) are kept.
 */
export async function changePreferences(db: Db, who: { platformId: number; userId: number; roles: readonly Audience[] }, input: PreferencesInput): Promise<void> {
  const mine = eventsFor(who.roles);
  const unknown = input.email.filter((k) => !isEventKind(k) || !mine.includes(k));
  if (unknown.length) throw Invalid({ email: `Not an event you can get: ${unknown.slice(0, 3).join(', ')}.` });
  const before = await findPreferences(db, who.userId);
  const emailOff = [...new Set([...before.emailOff.filter((k) => !mine.includes(k as EventKind)), ...mine.filter((k) => !input.email.includes(k))])].sort();
  await savePreferences(db, who.userId, { emailOff, frequency: input.frequency });
  await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'notifications.preferences_changed', entityType: 'user', entityId: who.userId, details: { frequency: input.frequency, emailOff } });
}

export interface WordingView {
  kind: EventKind;
  label: string;
  audience: Audience[];
  subject: string;
  body: string;
  custom: boolean;
  updatedAt: Date | null;
  variables: Array<{ name: string; description: string }>;
}

/** Every event's wording on this platform: its own where an administrator wrote one, else the default. */
export async function wordingsFor(db: Db, platformId: number): Promise<WordingView[]> {
  const own = new Map((await wordingsOf(db, [platformId])).map((w) => [w.kind, w]));
  return EVENT_KINDS.map((kind) => {
    const w = own.get(kind);
    return { kind, label: EVENTS[kind].label, audience: [...EVENTS[kind].audience], subject: w?.subject ?? EVENTS[kind].subject, body: w?.body ?? EVENTS[kind].body, custom: Boolean(w), updatedAt: w?.updatedAt ?? null, variables: variablesOf(kind) };
  });
}

export function eventKindOf(raw: string | undefined): EventKind {
  if (!raw || !isEventKind(raw)) throw NotFound('The notice');
  return raw;
}

/** Saves a platform's wording of an event after checking it as the prompts' templates are checked; audited. */
export async function changeWording(db: Db, who: { platformId: number; userId: number }, kind: EventKind, input: WordingInput): Promise<void> {
  try {
    parseWording(kind, input);
  } catch (err) {
    if (err instanceof WordingError) throw Invalid({ [err.field]: err.message });
    throw err;
  }
  await saveWording(db, who.platformId, kind, input, who.userId);
  await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'notifications.wording_changed', entityType: 'notification_template', entityId: kind, details: { subjectChars: input.subject.length, bodyChars: input.body.length } });
}

/** Back to the default wording; audited when there was one of the platform's own. */
export async function resetWording(db: Db, who: { platformId: number; userId: number }, kind: EventKind): Promise<boolean> {
  const removed = await deleteWording(db, who.platformId, kind);
  if (removed) await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'notifications.wording_reset', entityType: 'notification_template', entityId: kind });
  return removed;
}
