import type { OutboxEmail } from '../models/notifications/email-outbox.repository.js';

/**
 * An e-mail's text and HTML from a notice. The tool opens only through an LMS launch, so the button leads to the
 * course (or the activity) in the LMS, and the text says where to look once there. Everything from the database is
 * escaped in the HTML; nothing is taken as markup.
 */
export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function composeEmail(email: Pick<OutboxEmail, 'subject' | 'body' | 'lmsUrl'>, unsubscribeUrl: string): ComposedEmail {
  const open = email.lmsUrl
    ? { text: `Open it in your LMS: ${email.lmsUrl}\n(then open llm-assess there: its Inbox lists every notice)`, html: `<p><a href="${escapeHtml(email.lmsUrl)}">Open it in your LMS</a> — then open llm-assess there: its Inbox lists every notice.</p>` }
    : { text: 'Open llm-assess from your course in your LMS: its Inbox lists every notice.', html: '<p>Open llm-assess from your course in your LMS: its Inbox lists every notice.</p>' };
  const footer = {
    text: `You get this because of your e-mail preferences in llm-assess (Inbox → E-mail preferences).\nStop all e-mail from llm-assess: ${unsubscribeUrl}`,
    html: `<p style="color:#555;font-size:13px">You get this because of your e-mail preferences in llm-assess (Inbox → E-mail preferences). <a href="${escapeHtml(unsubscribeUrl)}">Stop all e-mail from llm-assess</a>.</p>`,
  };
  const paragraphs = email.body.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('');
  return {
    subject: email.subject,
    text: `${email.body}\n\n${open.text}\n\n-- \n${footer.text}\n`,
    html: `<!doctype html><html lang="en"><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a"><h1 style="font-size:18px">${escapeHtml(email.subject)}</h1>${paragraphs}${open.html}<hr>${footer.html}</body></html>`,
  };
}
