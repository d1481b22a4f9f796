import { html } from '../http/html.js';
import { layout } from './layout.js';

/**
 * The OIDC form_post response: a form the browser submits at once to the tool, with a visible button for
 * browsers without JavaScript. It renders inside the LMS iframe, so it has no LMS chrome.
 */
export function formPostPage(opts: { action: string; fields: Record<string, string>; heading: string }): string {
  const inputs = Object.entries(opts.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return layout({
    title: opts.heading,
    chrome: false,
    body: html`<h1>${opts.heading}</h1>
<form method="post" action="${opts.action}" id="devlms-form-post">
${inputs}
<p><button type="submit">Continue to the tool</button></p>
</form>
<script>document.getElementById('devlms-form-post').submit();</script>`,
  });
}
