import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';

/**
 * The dev LMS's mail catcher: a real SMTP server that keeps every message it receives (in memory, newest first, the
 * last 500) instead of delivering it, so the demo shows the tool's e-mail on a page (/mail) and tests read it as
 * JSON (/api/mail). No TLS and no login: it listens on loopback for the tool only.
 *
 * A refusal can be injected (`refuseNext`): the next N recipients are answered with an SMTP error (e.g. 550, a
 * mailbox that does not exist: a bounce; 451, try later), so the tool's retry and bounce paths run against a real
 * conversation.
 */
export interface CaughtMail {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
}

export interface Refusal {
  refuseNext: number;
  code: number;
  message?: string;
}

export interface MailCatcher {
  port: number;
  url: string;
  messages(): CaughtMail[];
  clear(): void;
  refuse(r: Refusal | null): void;
  close(): Promise<void>;
}

const LIMIT = 500;

const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address ?? '')).filter(Boolean);

/** The parsed form of a received message, as the page and the JSON show it. */
async function caughtOf(stream: NodeJS.ReadableStream, id: number): Promise<CaughtMail> {
  const mail = await simpleParser(stream as Parameters<typeof simpleParser>[0]);
  const headers: Record<string, string> = {};
  // The raw lines: mailparser turns some headers (List-*) into objects; tests and the page want them as sent.
  for (const h of mail.headerLines) headers[h.key] = h.line.slice(h.line.indexOf(':') + 1).trim();
  return {
    id,
    receivedAt: new Date().toISOString(),
    from: addresses(mail.from)[0] ?? '',
    to: addresses(mail.to),
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : null,
    headers,
  };
}

export async function startMailCatcher(options: { port?: number; host?: string } = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const caught: CaughtMail[] = [];
  let nextId = 1;
  let refusal: Refusal | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    banner: 'llm-assess Dev LMS mail catcher',
    // On close, connections still open (a client's idle pool) are cut after a second rather than the default 30.
    closeTimeout: 1000,
    size: 5 * 1024 * 1024,
    logger: false,
    onRcptTo(address, _session: SMTPServerSession, callback) {
      if (!refusal || refusal.refuseNext <= 0) return callback();
      refusal.refuseNext -= 1;
      callback(Object.assign(new Error(refusal.message ?? `Refused by the dev LMS mail catcher: ${address.address}`), { responseCode: refusal.code }));
    },
    onData(stream, _session, callback) {
      caughtOf(stream, nextId++)
        .then((mail) => {
          caught.unshift(mail);
          caught.length = Math.min(caught.length, LIMIT);
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://${host}:${port}`,
    messages: () => caught.map((m) => ({ ...m, to: [...m.to], headers: { ...m.headers } })),
    clear: () => {
      caught.length = 0;
    },
    refuse: (r) => {
      refusal = r ? { ...r } : null;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
