import { html } from '../http/html.js';
import type { CaughtMail } from '../mail/catcher.js';
import { layout } from './layout.js';

/** The mail catcher's inbox: every message the tool sent, newest first, each with its text and links. */
export function mailPage(v: { messages: CaughtMail[]; listening: string | null }): string {
  return layout({
    title: 'Mail',
    body: html`<h1>Mail sent by tools</h1>
<p class="hint">${v.listening ? html`The dev LMS catches e-mail at <code>${v.listening}</code> (set the tool's <code>SMTP_URL</code> to it). Nothing is delivered anywhere; the last 500 messages are kept until the dev LMS stops.` : 'The mail catcher is not running.'}</p>
${v.messages.length
  ? v.messages.map((m) => html`<article class="notice" aria-labelledby="mail-${m.id}">
<h2 id="mail-${m.id}">${m.subject || '(no subject)'}</h2>
<p class="muted">To ${m.to.join(', ')} · from ${m.from} · <time datetime="${m.receivedAt}">${m.receivedAt.replace('T', ' ').slice(0, 19)} UTC</time></p>
<pre style="white-space:pre-wrap;font:inherit">${m.text}</pre>
</article>`)
  : html`<p>No mail yet.</p>`}
<p><a href="/api/mail">Every message as JSON</a> · <a href="/">Back to the course</a></p>`,
  });
}
