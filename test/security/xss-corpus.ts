/**
 * The XSS corpus of the security suite: each payload is a template where `{m}` stands for a marker naming the
 * payload and the field it was put in (`xss12fct`: payload 12 in the course title). A payload that ran sets
 * `window.__xss` (or opens a dialog, or loads `/xss-htmx`); one that was not escaped leaves an element or
 * attribute carrying `data-xss`, an `on…` handler, an `hx-…` attribute pointing at `xss`, or a `javascript:` URL.
 * Each is at most 110 characters with its marker, to fit the tightest field (criterion names: 120).
 */
export const PAYLOADS: readonly string[] = [
  // Classic tags.
  '<script data-xss="{m}">window.__xss="{m}"</script>',
  '<img src=x onerror="window.__xss=\'{m}\'" data-xss="{m}">',
  '<svg onload="window.__xss=\'{m}\'" data-xss="{m}"></svg>',
  '<details open ontoggle="window.__xss=\'{m}\'" data-xss="{m}">',
  // Attribute and element breakouts.
  '"><svg onload=window.__xss=\'{m}\' data-xss="{m}">',
  "'><img src=x onerror=window.__xss='{m}' data-xss='{m}'>",
  '" autofocus onfocus="window.__xss=\'{m}\'" data-xss="{m}',
  '</textarea><img src=x onerror=window.__xss=\'{m}\' data-xss="{m}">',
  '</title></option></select><img src=x onerror=alert(1) data-xss="{m}">',
  '--><img src=x onerror=window.__xss=\'{m}\' data-xss="{m}"><!--',
  '<img src=x onerror=window.__xss=\'{m}\' data-xss="{m}"',
  // Links: javascript: and data: in markdown and HTML.
  '[{m} click](javascript:window.__xss=\'{m}\')',
  '![{m}](javascript:window.__xss=\'{m}\')',
  '[{m}](JaVaScRiPt:alert(1)) [{m}b](&#106;avascript:alert(1))',
  '<a href="javascript:window.__xss=\'{m}\'" data-xss="{m}">{m}</a>',
  '[{m} data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<a href="data:text/html,<script>alert(1)</script>" data-xss="{m}">{m}</a>',
  '<javascript:alert(1)> <{m}@example.org> [ok](https://example.org "t\\" onmouseover=\\"alert(1)")',
  // Markdown and HTML mixed.
  '**{m}** <b onmouseover=window.__xss=\'{m}\' data-xss="{m}">bold</b> _x_',
  '<noscript><p title="</noscript><img src=x onerror=alert(1) data-xss=\'{m}\'>">',
  // Frames, SVG, MathML, objects.
  '<iframe srcdoc="<script>parent.__xss=\'{m}\'</script>" data-xss="{m}"></iframe>',
  '<iframe src="javascript:parent.__xss=\'{m}\'" data-xss="{m}"></iframe>',
  '<svg data-xss="{m}"><script>window.__xss="{m}"</script><a xlink:href="javascript:alert(1)">x</a></svg>',
  '<math data-xss="{m}"><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<object data="javascript:alert(1)" data-xss="{m}"></object><embed src="javascript:alert(1)">',
  '<base href="https://evil.example/" data-xss="{m}"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<form action="https://evil.example/" data-xss="{m}"><button formaction="javascript:alert(1)">{m}</button>',
  // htmx: attributes htmx would act on even under the CSP.
  '<div hx-get="/xss-htmx?{m}" hx-trigger="load" data-xss="{m}">{m}</div>',
  '<div data-hx-post="/xss-htmx?{m}" data-hx-trigger="load" data-xss="{m}">{m}</div>',
  '<p hx-on:htmx:load="window.__xss=\'{m}\'" hx-on::load="alert(1)" data-xss="{m}">{m}</p>',
  '<div hx-vals=\'js:{a:window.__xss="{m}"}\' hx-post="/xss-htmx" hx-trigger="load" data-xss="{m}">',
  // Template syntaxes: evaluated, they would print …-EVAL.
  "<%= 'EJS' + '-EVAL' %> <%- '<b data-xss=\"{m}\">' %> {m}",
  "${'TPL' + '-EVAL'} {{'NG' + '-EVAL'}} #{'PUG' + '-EVAL'} {m}",
  // CSS.
  '<style data-xss="{m}">*{background:url("javascript:alert(1)")}</style>',
  '<div style="background:url(javascript:alert(1));color:red" data-xss="{m}">{m}</div>',
  // Encoded and unicode variants.
  '%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E {m}',
  '&lt;img src=x onerror=alert(1) data-xss="{m}"&gt; &#60;script&#62;alert(1)&#60;/script&#62;',
  '\uff1cscript\uff1ewindow.__xss=1\uff1c/script\uff1e \u202e<img src=x onerror=alert(1) data-xss="{m}">',
  '<scr\u200bipt>alert(1)</scr\u200bipt><img src=x o\u200dnerror=alert(1) data-xss="{m}">',
];

/** The marker of payload `i` in field `field` (letters and digits only, so it survives every context). */
export const markerOf = (i: number, field: string) => `xss${i}f${field}`;

/** Payload `i` for field `field`. */
export const payload = (i: number, field: string) => PAYLOADS[i]!.replaceAll('{m}', markerOf(i, field));

/** Just the DOM this file reads (the project compiles without the DOM library). */
interface DomElement {
  outerHTML: string;
  attributes: ArrayLike<{ name: string; value: string }>;
}
interface DomDocument {
  querySelectorAll(selectors: string): ArrayLike<DomElement>;
}

/** What a page's document holds that an escaping bug would have put there (run in the page). */
export function domFindings(): string[] {
  const doc = (globalThis as unknown as { document: DomDocument }).document;
  const win = globalThis as unknown as { __xss?: unknown; __csp?: string[] };
  const out: string[] = [];
  const say = (el: DomElement, why: string) => out.push(`${why}: ${el.outerHTML.slice(0, 140)}`);
  const injected = 'script:not([src]), iframe, object, embed, base, meta[http-equiv], body style, math, noscript, [data-xss], [data-hx-get], [data-hx-post], [autofocus]';
  for (const el of Array.from(doc.querySelectorAll(injected))) say(el, 'injected element');
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    for (const a of Array.from(el.attributes)) {
      const name = a.name.toLowerCase();
      // What a browser ignores in a URL's scheme: white space and control characters.
      const value = [...a.value].filter((ch) => ch.charCodeAt(0) > 0x20).join('').toLowerCase();
      if (name.startsWith('on') || name.startsWith('hx-on') || name.startsWith('data-hx-on')) say(el, `event handler attribute ${name}`);
      if (/^(data-)?hx-(get|post|put|patch|delete)$/.test(name) && /^\/xss|evil\.example/.test(value)) say(el, `htmx request attribute ${name}`);
      if (/^(data-)?hx-(vals|headers|vars)$/.test(name) && /^(js|javascript):/.test(value)) say(el, `htmx script attribute ${name}`);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster', 'background', 'srcdoc'].includes(name) && /^(javascript|vbscript|data:text|data:application)/.test(value)) say(el, `${name} URL`);
      if (name === 'srcdoc') say(el, 'srcdoc');
      if (name === 'style' && /url\(|expression|javascript/.test(value)) say(el, 'style attribute');
    }
  }
  if (win.__xss !== undefined) out.push(`a payload ran: window.__xss = ${String(win.__xss)}`);
  for (const v of win.__csp ?? []) out.push(`CSP violation: ${v}`);
  return out;
}

/** A payload's fragment as a pattern: its marker may be any payload's and field's. */
const fragmentPattern = (fragment: string) =>
  new RegExp(
    fragment
      .split('{m}')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('xss\\d+f[a-z]{2}'),
  );

/** Fragments of the payloads that must never be in a served page as they are (they would be markup there). */
export function rawFindings(html: string, payloads: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of payloads) {
    for (const tag of p.match(/<[a-zA-Z][^<>]*>?/g) ?? []) {
      if (/xss|\{m\}|alert|javascript/i.test(tag) && fragmentPattern(tag).test(html)) out.push(`unescaped: ${tag.slice(0, 100)}`);
    }
  }
  // Elements the tool never writes (its only scripts are external files).
  for (const el of html.match(/<(?:iframe|object|embed|base|math|noscript|style|meta\s+http-equiv)\b[^>]*>?|<script(?![^>]*\ssrc=)[^>]*>/gi) ?? []) out.push(`element the tool never writes: ${el.slice(0, 80)}`);
  // An attribute the page did not write: a handler after a quote that was not escaped, inside a tag (in text, as
  // sanitized markdown leaves it, it is harmless).
  for (const m of html.matchAll(/\son[a-z]+\s*=\s*["']window\.__xss[^"']*/gi)) {
    const before = html.slice(0, m.index);
    if (before.lastIndexOf('<') > before.lastIndexOf('>')) out.push(`unescaped handler: ${m[0].trim().slice(0, 80)}`);
  }
  const urls = html.match(/\s(?:href|src|action|formaction|xlink:href)\s*=\s*["']?\s*(?:javascript|vbscript|data:text)[^"'\s>]*/gi);
  for (const u of urls ?? []) out.push(`dangerous URL attribute: ${u.trim().slice(0, 80)}`);
  for (const evaluated of html.match(/\b(?:EJS|TPL|NG|PUG)-EVAL\b/g) ?? []) out.push(`a template was evaluated: ${evaluated}`);
  return out;
}
