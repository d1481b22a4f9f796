import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { EmailFrequency } from './notifications.table.js';

export interface Preferences {
  emailOff: string[];
  frequency: EmailFrequency;
  unsubscribedAt: Date | null;
}

export const DEFAULT_PREFERENCES: Preferences = { emailOff: [], frequency: 'immediately', unsubscribedAt: null };

export async function findPreferences(db: Db, userId: number): Promise<Preferences> {
  const rows = await db.execute<{ email_off: string[]; email_frequency: EmailFrequency; unsubscribed_at: Date | null }>(sql`
    select email_off, email_frequency, unsubscribed_at from notification_preferences where user_id = ${userId}`);
  const r = rows.rows[0];
  return r ? { emailOff: r.email_off, frequency: r.email_frequency, unsubscribedAt: r.unsubscribed_at ? new Date(r.unsubscribed_at) : null } : { ...DEFAULT_PREFERENCES };
}

export async function savePreferences(db: Db, userId: number, p: { emailOff: string[]; frequency: EmailFrequency }): Promise<void> {
  await db.execute(sql`
    insert into notification_preferences (user_id, email_off, email_frequency) values (${userId}, ${sql.param(p.emailOff)}::text[], ${p.frequency})
    on conflict (user_id) do update set email_off = excluded.email_off, email_frequency = excluded.email_frequency,
      unsubscribed_at = case when excluded.email_frequency = 'never' then notification_preferences.unsubscribed_at end, updated_at = now()`);
}

/** The one-click unsubscribe: no e-mail at all from now on; whether it changed anything. */
export async function unsubscribe(db: Db, userId: number): Promise<boolean> {
  const rows = await db.execute(sql`
    insert into notification_preferences (user_id, email_frequency, unsubscribed_at) select id, 'never', now() from users where id = ${userId}
    on conflict (user_id) do update set email_frequency = 'never', unsubscribed_at = coalesce(notification_preferences.unsubscribed_at, now()), updated_at = now()
      where notification_preferences.email_frequency <> 'never'
    returning user_id`);
  return rows.rows.length > 0;
}

/** The person behind an unsubscribe link: their address (masked on the page) and platform; null when gone. */
export async function findContact(db: Db, userId: number): Promise<{ platformId: number; email: string | null } | null> {
  const rows = await db.execute<{ platform_id: number; email: string | null }>(sql`select platform_id, email from users where id = ${userId} and erased_at is null`);
  const r = rows.rows[0];
  return r ? { platformId: Number(r.platform_id), email: r.email } : null;
}
