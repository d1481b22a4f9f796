import type { LtiBrowser } from './lti-browser.js';
import { attr, unescapeHtml } from './html.js';

/** One request a person can make from a page without JavaScript: a link followed or a GET form submitted as it stands. */
export interface Visit {
  /** Where it was found, and how: `link` or `form`. */
  from: string;
  kind: 'start' | 'link' | 'form';
  url: string;
  status: number;
}

/** A POST form that, submitted without JavaScript, would carry no launch token. */
export interface TokenlessForm {
  page: string;
  action: string;
}

const tagsOf = (html: string, tag: string) => html.match(new RegExp(`<${tag}\\b[^>]*>`, 'gi')) ?? [];

/** The fields a browser sends for a form left as it is: inputs with a name (checked boxes only), selects, textareas. */
export function defaultFields(form: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const input of tagsOf(form, 'input')) {
    const name = attr(input, /<input[^>]*>/i, 'name');
    const type = (attr(input, /<input[^>]*>/i, 'type') ?? 'text').toLowerCase();
    if (!name || ['submit', 'button', 'reset', 'file', 'image'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(input)) continue;
    fields.append(name, attr(input, /<input[^>]*>/i, 'value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''));
  }
  for (const select of form.match(/<select\b[\s\S]*?<\/select>/gi) ?? []) {
    const name = attr(select, /<select[^>]*>/i, 'name');
    if (!name) continue;
    const options = select.match(/<option\b[^>]*>/gi) ?? [];
    const chosen = options.find((o) => /\sselected\b/i.test(o)) ?? options[0];
    if (chosen) fields.append(name, attr(chosen, /<option[^>]*>/i, 'value') ?? '');
  }
  for (const area of form.match(/<textarea\b[\s\S]*?<\/textarea>/gi) ?? []) {
    const name = attr(area, /<textarea[^>]*>/i, 'name');
    if (name) fields.append(name, unescapeHtml(area.replace(/^<textarea[^>]*>/i, '').replace(/<\/textarea>$/i, '')));
  }
  return fields;
}

/**
 * Walks a tool's pages as a person without JavaScript would: from `start`, every same-origin link (`<a href>`) is
 * followed and every GET form submitted with its values as shown (a GET form replaces its action's query with its
 * fields, the classic way to lose a launch token). Only the browser's cookies go along: no Bearer header, no htmx.
 * POST forms are not sent (they change things) but are checked to carry the token in their action or a field.
 */
export async function crawl(browser: LtiBrowser, start: string, options: { maxPages?: number; skip?: (url: URL) => boolean } = {}): Promise<{ visits: Visit[]; tokenless: TokenlessForm[] }> {
  const origin = new URL(start).origin;
  const seen = new Set<string>();
  const visits: Visit[] = [];
  const tokenless: TokenlessForm[] = [];
  const todo: Array<Omit<Visit, 'status'>> = [{ from: '(launch)', kind: 'start', url: start }];
  // The same page with another token is the same page.
  const keyOf = (u: URL) => {
    const c = new URL(u.href);
    c.searchParams.delete('ltik');
    c.searchParams.sort();
    return `${c.pathname}?${c.searchParams}`;
  };
  while (todo.length && visits.length < (options.maxPages ?? 200)) {
    const next = todo.shift()!;
    const page = await browser.request(next.url);
    visits.push({ ...next, status: page.status });
    if (page.status !== 200 || !/text\/html/.test(page.headers.get('content-type') ?? '')) continue;
    const found = (url: URL, kind: 'link' | 'form') => {
      if (url.origin !== origin || url.pathname.startsWith('/public/') || options.skip?.(url)) return;
      const key = keyOf(url);
      if (seen.has(key)) return;
      seen.add(key);
      todo.push({ from: new URL(page.url).pathname, kind, url: url.href });
    };
    for (const a of tagsOf(page.html, 'a')) {
      const href = attr(a, /<a[^>]*>/i, 'href');
      if (href && !href.startsWith('#') && !/^(mailto|javascript):/i.test(href)) found(new URL(href, page.url), 'link');
    }
    for (const form of page.html.match(/<form\b[\s\S]*?<\/form>/gi) ?? []) {
      const open = form.match(/<form[^>]*>/i)![0];
      const method = (attr(open, /<form[^>]*>/i, 'method') ?? 'get').toLowerCase();
      const action = new URL(attr(open, /<form[^>]*>/i, 'action') ?? page.url, page.url);
      const fields = defaultFields(form);
      if (method === 'get') {
        action.search = fields.toString();
        found(action, 'form');
      } else if (action.origin === origin && !action.searchParams.has('ltik') && !fields.has('ltik')) {
        tokenless.push({ page: new URL(page.url).pathname, action: action.pathname });
      }
    }
  }
  return { visits, tokenless };
}
