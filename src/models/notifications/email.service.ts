import type { Db, RootDb } from '../../db/db.js';
import {
  claimDueEmail, dueDigestOwners, insertDigest, markEmailBounced, markEmailRetry, markEmailSent, settleHeldEmail, skipDueEmail, takeHeldEmail,
  type OutboxEmail,
} from './email-outbox.repository.js';

/**
 * Sending the e-mail the notices owe (email_outbox). A worker claims due rows, sends each through the `Mailer`
 * (SMTP, src/mail/), and records what happened: sent; refused for good (bounced: the address is wrong, no retry);
 * refused for now or unreachable (tried again with a doubling pause, up to the configured tries, then failed).
 * A row is sent once: claimed before sending, marked sent after, and a retried job finds nothing left to claim.
 * A worker that dies between the SMTP answer and the mark leaves a row whose lease runs out: that one is sent again
 * (at least once, never silently lost).
 */

export interface Mailer {
  /** Sends one e-mail; resolves to the server's message id, or throws a MailRefused. */
  send(email: OutboxEmail): Promise<{ messageId: string }>;
}

/** Why a mail server did not take an e-mail; `permanent` for a 5xx answer (the address or the message is refused). */
export class MailRefused extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
    this.name = 'MailRefused';
  }
}

export interface SendSettings {
  maxAttempts: number;
  /** The first pause after a temporary failure; each next one doubles. */
  retryBaseMs: number;
  leaseMs: number;
  chunk: number;
}

export const DEFAULT_SEND_SETTINGS: Omit<SendSettings, 'maxAttempts'> = { retryBaseMs: 60_000, leaseMs: 5 * 60_000, chunk: 50 };

export interface SendOutcome {
  sent: number;
  retried: number;
  failed: number;
  bounced: number;
  skipped: number;
}

/** Sends what is due, chunk by chunk, until nothing is. Without a mailer (SMTP_URL unset) due e-mail is skipped. */
export async function sendDueEmail(db: RootDb, mailer: Mailer | null, settings: SendSettings): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: 0, retried: 0, failed: 0, bounced: 0, skipped: 0 };
  if (!mailer) {
    outcome.skipped = await skipDueEmail(db, 'E-mail is not configured on this server (SMTP_URL is not set).');
    return outcome;
  }
  for (;;) {
    const due = await claimDueEmail(db, settings.chunk, settings.leaseMs);
    if (!due.length) return outcome;
    for (const email of due) await sendOne(db, mailer, settings, email, outcome);
  }
}

async function sendOne(db: Db, mailer: Mailer, settings: SendSettings, email: OutboxEmail, outcome: SendOutcome): Promise<void> {
  try {
    const { messageId } = await mailer.send(email);
    await markEmailSent(db, email.id, messageId);
    outcome.sent += 1;
  } catch (err) {
    const refused = err instanceof MailRefused ? err : new MailRefused(err instanceof Error ? err.message : String(err), false);
    if (refused.permanent) {
      await markEmailBounced(db, email.id, refused.message);
      outcome.bounced += 1;
      return;
    }
    const more = email.attempts < settings.maxAttempts;
    await markEmailRetry(db, email.id, refused.message, more ? new Date(Date.now() + settings.retryBaseMs * 2 ** (email.attempts - 1)) : null);
    if (more) outcome.retried += 1;
    else outcome.failed += 1;
  }
}

/**
 * Digests: e-mail held for people who asked for a daily or weekly one becomes one e-mail per person when it is
 * due, listing each notice. Held e-mail of someone who switched back to "immediately" is released; of someone who
 * chose "never" (or has no address any more) it is dropped. Each person in a transaction of their own.
 */
export async function collectDigests(db: RootDb, now = new Date()): Promise<{ digests: number; released: number; dropped: number }> {
  const totals = { digests: 0, released: 0, dropped: 0 };
  for (const owner of await dueDigestOwners(db, now)) {
    await db.transaction(async (tx) => {
      if (!owner.toAddress || owner.frequency === 'never') {
        totals.dropped += await settleHeldEmail(tx, owner.userId, 'skipped', owner.toAddress ? 'The person turned e-mail off.' : 'The person has no e-mail address any more.');
        return;
      }
      if (owner.frequency === 'immediately') {
        totals.released += await settleHeldEmail(tx, owner.userId, 'pending', null);
        return;
      }
      const held = await takeHeldEmail(tx, owner.userId);
      if (!held.length) return;
      const body = held.map((h) => `• ${h.subject}\n  ${h.body.replace(/\n/g, '\n  ')}`).join('\n\n');
      const subject = `llm-assess: ${held.length} ${held.length === 1 ? 'notice' : 'notices'} (${owner.frequency === 'weekly' ? 'weekly' : 'daily'} digest)`;
      await insertDigest(tx, owner, { subject, body, lmsUrl: held.find((h) => h.lmsUrl)?.lmsUrl ?? null }, held.map((h) => h.id));
      totals.digests += 1;
    });
  }
  return totals;
}
