import { html } from '../http/html.js';
import { layout } from './layout.js';

export interface DeepLinkingResultView {
  added: { title: string; launchHref: string }[];
  msg?: string;
  errormsg?: string;
}

/** What the instructor sees in the tool's iframe after the tool returns from deep linking. */
export function deepLinkingResultPage(v: DeepLinkingResultView): string {
  const heading = v.added.length ? `Added ${v.added.map((a) => a.title).join(', ')}` : 'Nothing was added';
  return layout({
    title: heading,
    chrome: false,
    body: html`<h1>${heading}</h1>
${v.errormsg ? html`<div class="error" role="alert"><p><strong>The tool reported an error:</strong> ${v.errormsg}</p></div>` : ''}
${v.msg ? html`<div class="notice" role="status"><p>${v.msg}</p></div>` : ''}
${v.added.length
  ? html`<ul>${v.added.map((a) => html`<li>${a.title} — <a href="${a.launchHref}" target="_top">open it as the instructor</a></li>`)}</ul>`
  : ''}
<p><a class="button" href="/" target="_top">Back to the course</a></p>`,
  });
}
