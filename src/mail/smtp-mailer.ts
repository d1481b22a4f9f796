import nodemailer from 'nodemailer';
import { MailRefused, type Mailer } from '../models/notifications/email.service.js';
import { composeEmail } from './compose.js';
import { unsubscribePath } from './unsubscribe.js';

export interface SmtpSettings {
  smtpUrl: string;
  from: string;
  toolUrl: string;
  /** Keys the unsubscribe links (the LTI key). */
  secret: string;
  timeoutMs?: number;
}

/**
 * The e-mail channel: nodemailer over SMTP (one pooled transport per worker). A 5xx answer is a permanent refusal
 * (a bounce: the address or message is refused); anything else — 4xx, a lost connection, a timeout — is temporary.
 * Every e-mail carries List-Unsubscribe with one-click POST (RFC 8058), so mail clients offer it too.
 */
export function createSmtpMailer(s: SmtpSettings): Mailer & { close(): void } {
  const timeout = s.timeoutMs ?? 20_000;
  const url = new URL(s.smtpUrl);
  const secure = url.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    maxConnections: 2,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(email) {
      const unsubscribeUrl = new URL(unsubscribePath(s.secret, email.userId), s.toolUrl).toString();
      const composed = composeEmail(email, unsubscribeUrl);
      try {
        const info = await transport.sendMail({
          from: s.from,
          to: email.toAddress,
          subject: composed.subject,
          text: composed.text,
          html: composed.html,
          headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-LLM-Assess-Kind': email.kind },
        });
        return { messageId: info.messageId };
      } catch (err) {
        const e = err as { responseCode?: number; message?: string };
        const code = typeof e.responseCode === 'number' ? e.responseCode : null;
        throw new MailRefused(`${code ? `${code} ` : ''}${(e.message ?? String(err)).slice(0, 400)}`, code !== null && code >= 500 && code < 600);
      }
    },
    close() {
      transport.close();
    },
  };
}
