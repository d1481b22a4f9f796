import { html, SafeHtml } from '../http/html.js';

// Colours picked for WCAG AA contrast on white (text #1b1b1b ≈ 17:1, links/buttons #0b4f8a ≈ 8.6:1).
const STYLE = `
  :root { color-scheme: light; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; background: #fff; }
  header.lms { background: #1f2a37; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
  header.lms a { color: #fff; }
  header.lms .brand { font-weight: 700; margin-right: auto; }
  main { padding: 1rem 1.2rem 2rem; max-width: 72rem; }
  main.wide { max-width: none; }
  h1 { font-size: 1.6rem; margin: .4rem 0 1rem; }
  h2 { font-size: 1.25rem; margin: 1.6rem 0 .6rem; }
  a { color: #0b4f8a; }
  table { border-collapse: collapse; margin: .5rem 0 1rem; }
  caption { text-align: left; font-weight: 600; padding: .3rem 0; }
  th, td { border: 1px solid #8a8f98; padding: .4rem .6rem; text-align: left; vertical-align: top; }
  thead th { background: #eef1f5; }
  .button, button { display: inline-block; background: #0b4f8a; color: #fff; border: 0; border-radius: 4px; padding: .35rem .75rem;
    font: inherit; text-decoration: none; cursor: pointer; margin: .1rem 0; }
  .button.secondary, button.secondary { background: #fff; color: #0b4f8a; border: 1px solid #0b4f8a; }
  form.inline { display: inline; margin-left: .5rem; }
  .button:focus-visible, button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
  label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
  input[type=url], input[type=text] { font: inherit; padding: .35rem; width: min(40rem, 100%); border: 1px solid #5f6670; border-radius: 4px; }
  .hint { color: #4a5058; font-size: .9rem; margin: .2rem 0; }
  .notice { border-left: 4px solid #0b4f8a; background: #eef4fa; padding: .6rem .9rem; margin: 1rem 0; }
  .error { border-left: 4px solid #b00020; background: #fdecee; padding: .6rem .9rem; margin: 1rem 0; }
  iframe.tool { width: 100%; height: calc(100vh - 9rem); min-height: 32rem; border: 1px solid #8a8f98; }
  iframe.tool.modal { display: block; max-width: 50rem; height: 600px; min-height: 0; margin: 0 auto; }
  .muted { color: #4a5058; }
  code { background: #f3f4f6; padding: 0 .2rem; }
`;

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** The launch page gives the tool's iframe the whole width. */
  wide?: boolean;
  /** Only the launch page needs the chrome links; auth and error pages render inside the tool iframe. */
  chrome?: boolean;
}

export function layout({ title, body, wide = false, chrome = true }: LayoutOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Dev LMS</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
${chrome ? html`<header class="lms"><span class="brand">Dev LMS</span><nav aria-label="Dev LMS"><a href="/">Course</a> · <a href="/gradebook">Gradebook</a> · <a href="/mail">Mail</a></nav></header>` : ''}
<main class="${wide ? 'wide' : ''}">
${body}
</main>
</body>
</html>`.value;
}
