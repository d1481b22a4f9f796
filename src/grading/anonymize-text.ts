import type { Identity } from './anonymize.js';
import { findPatternSpans, type PatternKind, type PatternSpan } from './anonymize-patterns.js';
import { AUTHOR, authorIndex, COMMON, EMPTY_ROSTER, fold, nameHits, personSpans, type PersonInfo, type Roster } from './anonymize-names.js';

/**
 * Anonymization of a text before it leaves for a provider: the author's names, e-mail and LMS ids, the names of
 * everyone on the course roster (in any order: "Given Family", "Family, Given", "G. Family", one name alone), and
 * personal data found by its shape (anonymize-patterns.ts) become placeholders: `[student]` for the author,
 * `[classmate 1]`, `[classmate 2]`… for other course members, `[email 1]`, `[phone 1]`, `[id 1]`, `[url 1]`,
 * `[address 1]`. The same person or value is the same placeholder throughout a text; numbers follow the order of
 * first appearance.
 *
 * Deterministic (same text, author and roster → same output), which carries two things: the token count made at
 * submit time is the count of what is sent, and the mapping from placeholders back to the originals can be made
 * again at display time from the stored submission (personalize), so it is never stored.
 */

export type Person = Identity;
export { compileRoster, type Roster } from './anonymize-names.js';

export const STUDENT_PLACEHOLDER = '[student]';

/** A placeholder → the original it stands for (a person's name as the roster has it; other values as written). */
export type Mapping = Record<string, string>;

export interface Anonymized {
  text: string;
  mapping: Mapping;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The author's LMS ids and login, and the name part of their e-mail address, wherever they stand alone. */
function identifierSpans(text: string, author: Person): PatternSpan[] {
  const ids = new Set<string>();
  for (const v of [author.sub, author.login, author.email?.split('@')[0]]) {
    const s = v?.trim().toLowerCase();
    // Short or everyday values ("admin", "student") would change ordinary words.
    if (s && s.length >= 4 && !COMMON.has(fold(s)) && !/^(?:student|admin|user|test|info|mail|contact)$/.test(s)) ids.add(s);
  }
  if (!ids.size) return [];
  const lower = text.toLowerCase();
  const spans: PatternSpan[] = [];
  for (const id of ids) {
    if (lower.length !== text.length) {
      for (const m of text.matchAll(new RegExp(escapeRegExp(id), 'giu'))) spans.push({ start: m.index, end: m.index + m[0].length, kind: 'id', key: id });
      continue;
    }
    for (let at = lower.indexOf(id); at >= 0; at = lower.indexOf(id, at + 1)) spans.push({ start: at, end: at + id.length, kind: 'id', key: id });
  }
  const word = /[\p{L}\p{N}]/u;
  return spans.filter((s) => !(s.start > 0 && word.test(text[s.start - 1]!)) && !(s.end < text.length && word.test(text[s.end]!)));
}

type Span = { start: number; end: number; kind: PatternKind | 'person'; key: string; person?: number; personal?: boolean };

/** When two findings overlap, the one that says more about what the text is wins. */
const PRIORITY: Record<Span['kind'], number> = { email: 6, url: 5, address: 4, phone: 3, id: 2, person: 1 };

/** Between two parts of one address: a comma, a line break, perhaps the town ("12 Baker Street, London NW1 6XE"). */
const ADDRESS_GAP = /^[\s,]{0,3}(?:\p{Lu}[\p{L}-]+[\s,]{1,3})?$/u;

function resolve(text: string, spans: Span[]): Span[] {
  // URLs that do not point at a person stay, and with them what is inside them (a page number, a repository name),
  // unless a name of the roster is in them: then the whole URL goes.
  const urls = spans.filter((s) => s.kind === 'url');
  const inside = (u: Span, s: Span) => s !== u && s.start >= u.start && s.end <= u.end;
  const kept = spans.filter((s) => {
    if (s.kind === 'url') return s.personal || spans.some((o) => o.kind === 'person' && inside(s, o));
    return !urls.some((u) => !u.personal && inside(u, s) && !spans.some((o) => o.kind === 'person' && inside(u, o)));
  });
  kept.sort((a, b) => a.start - b.start || PRIORITY[b.kind] - PRIORITY[a.kind] || b.end - a.end);
  const out: Span[] = [];
  for (const s of kept) {
    let last = out.at(-1);
    if (!last || s.start >= last.end) {
      out.push(s);
      continue;
    }
    if (PRIORITY[s.kind] > PRIORITY[last.kind] || (PRIORITY[s.kind] === PRIORITY[last.kind] && s.end - s.start > last.end - last.start)) {
      // The winner may overlap several earlier spans.
      while (last && s.start < last.end) {
        out.pop();
        last = out.at(-1);
      }
      out.push(s);
    } else if (s.end > last.end && s.kind === last.kind && s.kind !== 'person') {
      last.end = s.end;
    }
  }
  // Adjacent addresses are one address: "Hauptstraße 5, 10115 Berlin".
  const merged: Span[] = [];
  for (const s of out) {
    const last = merged.at(-1);
    if (last && last.kind === 'address' && s.kind === 'address' && ADDRESS_GAP.test(text.slice(last.end, s.start))) {
      last.end = s.end;
      last.key += ` ${s.key}`;
    } else merged.push(s);
  }
  return merged;
}


/** What anonymize replaces, in order, without overlaps (the corpus test measures with these). */
export function anonymizedSpans(text: string, author: Person, roster: Roster = EMPTY_ROSTER): Array<{ start: number; end: number; kind: Span['kind'] }> {
  return spansOf(text, author, roster).spans.map((s) => ({ start: s.start, end: s.end, kind: s.kind }));
}

function spansOf(text: string, author: Person, roster: Roster): { info: PersonInfo; spans: Span[] } {
  const { map, info } = authorIndex(author);
  const spans: Span[] = findPatternSpans(text);
  for (const s of identifierSpans(text, author)) spans.push(s);
  const hits = nameHits(text, map, roster.names, info.sub);
  for (const p of personSpans(text, hits, info, roster.names)) spans.push({ ...p, kind: 'person', key: String(p.person) });
  return { info, spans: spans.length ? resolve(text, spans) : spans };
}

/**
 * The text without the author's and the roster's identities and without the personal data found by shape, and the
 * mapping back. `roster` comes from compileRoster (once per course); it may include the author (matched by `sub`).
 */
export function anonymize(text: string, author: Person, roster: Roster = EMPTY_ROSTER): Anonymized {
  const { info, spans: resolved } = spansOf(text, author, roster);
  if (!resolved.length) return { text, mapping: {} };
  const numbers = new Map<string, string>();
  const counts = new Map<string, number>();
  const mapping: Mapping = {};
  let out = '';
  let last = 0;
  for (const s of resolved) {
    const original = text.slice(s.start, s.end);
    let placeholder: string;
    if (s.kind === 'person' && s.person === AUTHOR) {
      placeholder = STUDENT_PLACEHOLDER;
      mapping[placeholder] ??= info.display || original;
    } else {
      const label = s.kind === 'person' ? 'classmate' : s.kind;
      const id = `${label} ${s.key}`;
      let known = numbers.get(id);
      if (!known) {
        const n = (counts.get(label) ?? 0) + 1;
        counts.set(label, n);
        known = `[${label} ${n}]`;
        numbers.set(id, known);
        mapping[known] = s.kind === 'person' ? roster.names.people[s.person!]!.display || original : original;
      }
      placeholder = known;
    }
    out += text.slice(last, s.start) + placeholder;
    last = s.end;
  }
  return { text: out + text.slice(last), mapping };
}

/** The text to send for a submission: anonymized when the course asks, as is otherwise. */
export function sendableText(text: string, people: { author: Person; roster?: Roster }, anonymizeIt: boolean): Anonymized {
  return anonymizeIt ? anonymize(text, people.author, people.roster) : { text, mapping: {} };
}

const PLACEHOLDER = /\[(student|(?:classmate|email|phone|id|url|address) \d{1,4})\]/giu;
const MARKDOWN_SPECIAL = /[\\`*_[\]()<>#|~!]/g;

/**
 * The model's words with the originals back in place of the placeholders, for the instructor and the student who
 * wrote the text. `markdown`: the result is rendered as markdown (renderMarkdown sanitizes it), so the originals'
 * markdown characters are escaped and a name cannot turn into a link or emphasis. A placeholder the model made up
 * (not in the mapping) stays as written.
 */
export function personalize(text: string, mapping: Mapping, options: { markdown?: boolean } = {}): string {
  if (!text.includes('[')) return text;
  return text.replace(PLACEHOLDER, (whole: string, inner: string) => {
    const original = mapping[`[${inner.toLowerCase().replace(/\s+/g, ' ')}]`];
    if (original === undefined) return whole;
    return options.markdown ? original.replace(MARKDOWN_SPECIAL, '\\$&') : original;
  });
}

/**
 * A grading result (the model's JSON answer) personalized for display: every string in it, the `comments` as
 * markdown. Returns the same object when the mapping is empty.
 */
export function personalizeResult<T>(result: T, mapping: Mapping): T {
  if (!Object.keys(mapping).length || result == null) return result;
  const walk = (v: unknown, key: string | null): unknown => {
    if (typeof v === 'string') return personalize(v, mapping, { markdown: key === 'comments' });
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(result, null) as T;
}
