/** Just enough HTML reading for tests: attribute values of the first matching tag, unescaped. */
export function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#34;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function attr(html: string, tagPattern: RegExp, attribute: string): string | undefined {
  const tag = html.match(tagPattern)?.[0];
  if (!tag) return undefined;
  const m = tag.match(new RegExp(`\\s${attribute}\\s*=\\s*"([^"]*)"`, 'i')) ?? tag.match(new RegExp(`\\s${attribute}\\s*=\\s*'([^']*)'`, 'i'));
  return m ? unescapeHtml(m[1]!) : undefined;
}

export function metaContent(html: string, name: string): string | undefined {
  return attr(html, new RegExp(`<meta[^>]*name="${name}"[^>]*>`, 'i'), 'content');
}

/** Every `<input name=… value=…>` of the first form in the page. */
export function formFields(html: string): { action: string | undefined; method: string; fields: Record<string, string> } {
  const form = html.match(/<form[\s\S]*?<\/form>/i)?.[0] ?? '';
  const fields: Record<string, string> = {};
  for (const input of form.match(/<input[^>]*>/gi) ?? []) {
    const name = attr(input, /<input[^>]*>/i, 'name');
    if (name) fields[name] = attr(input, /<input[^>]*>/i, 'value') ?? '';
  }
  return { action: attr(form, /<form[^>]*>/i, 'action'), method: (attr(form, /<form[^>]*>/i, 'method') ?? 'get').toLowerCase(), fields };
}

/** The visible text of a page, tags stripped and whitespace collapsed: what a person reads. */
export function textOf(html: string): string {
  return unescapeHtml(html.replace(/<script[\s\S]*?<\/script>/gi, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}
