import type { Identity } from './anonymize.js';
import { findPatternSpans, type PatternKind, type PatternSpan } from './anonymize-patterns.js';
import { COMMON_WORDS, NAME_PARTICLES, SENTENCE_STARTS } from './anonymize-words.js';

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

export const STUDENT_PLACEHOLDER = '[student]';

/** A placeholder → the original it stands for (a person's name as the roster has it; other values as written). */
export type Mapping = Record<string, string>;

export interface Anonymized {
  text: string;
  mapping: Mapping;
}

/** Index of a roster person, or AUTHOR. */
const AUTHOR = -1;

interface PersonInfo {
  display: string;
  sub: string | null;
  /** First letters of the given names, folded: "J." before the family name is part of the name. */
  initials: Set<string>;
  particles: Set<string>;
}

interface NameIndex {
  /** Folded name part → the people it can be (first 16, in roster order: a part shared by thousands decides nothing). */
  byKey: Map<string, number[]>;
  people: PersonInfo[];
}

/** A course's roster compiled for matching: made once per course and used for every text of a batch. */
export interface Roster {
  readonly names: NameIndex;
}

const MAX_CANDIDATES = 16;
const MARKS = /\p{M}/gu;
const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;

/** Lower case without accents (a student may write "Muller" for "Müller"); ASCII, most words, is returned as is. */
function fold(lower: string): string {
  for (let i = 0; i < lower.length; i++) {
    if (lower.charCodeAt(i) > 0x7f) return lower.normalize('NFD').replace(MARKS, '').replace(/ſ/g, 's').replace(/ß/g, 'ss');
  }
  return lower;
}

const COMMON = new Set([...COMMON_WORDS].map(fold));
const PARTICLES = new Set([...NAME_PARTICLES].map(fold));
const STARTS = new Set([...SENTENCE_STARTS].map(fold));

function tokensOf(value: string | null | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(TOKEN)].map((m) => fold(m[0].toLowerCase()));
}

function displayName(p: Person): string {
  const name = p.name?.trim();
  if (name) return name;
  return [p.givenName, p.familyName].map((s) => s?.trim()).filter(Boolean).join(' ');
}

function personInfo(p: Person): { info: PersonInfo; keys: string[] } {
  const given = tokensOf(p.givenName);
  const name = tokensOf(p.name);
  const all = [...name, ...given, ...tokensOf(p.familyName)];
  const keys = [...new Set(all.filter((t) => t.length >= 2 && !PARTICLES.has(t) && !/^\p{N}+$/u.test(t)))];
  // Given names: the given-name field, or every word of the name but the last.
  const givenWords = given.length ? given : name.slice(0, -1);
  return {
    info: {
      display: displayName(p),
      sub: p.sub?.trim() || null,
      // Given names' first letters, and one-letter parts of a name (the O of O'Brien, the d of d'Artagnan).
      initials: new Set([...givenWords.filter((t) => !PARTICLES.has(t)).map((t) => t[0]!), ...all.filter((t) => t.length === 1)]),
      particles: new Set(all.filter((t) => PARTICLES.has(t))),
    },
    keys,
  };
}

function addPerson(index: NameIndex, p: Person): void {
  const { info, keys } = personInfo(p);
  const at = index.people.length;
  index.people.push(info);
  for (const key of keys) {
    const list = index.byKey.get(key);
    if (!list) index.byKey.set(key, [at]);
    else if (list.length < MAX_CANDIDATES) list.push(at);
  }
}

export function compileRoster(members: readonly Person[]): Roster {
  const names: NameIndex = { byKey: new Map(), people: [] };
  for (const m of members) addPerson(names, m);
  return { names };
}

const EMPTY_ROSTER: Roster = compileRoster([]);

interface Hit {
  start: number;
  end: number;
  key: string;
  candidates: number[];
  capital: boolean;
}

interface Run {
  start: number;
  end: number;
  hits: number;
  key: string;
  candidates: number[];
  capital: boolean;
  person: number;
  /** Initials written before the name ("J." of "J. Smith"), folded. */
  initials?: string[];
}

/** What may stand between two parts of one name: a space, a comma ("Okafor, Amara"), a hyphen, an apostrophe. */
const NAME_GAP = /^[ \t\u00a0]*[,'’-]?[ \t\u00a0]*$/u;
/** After an initial: "J. Smith", "J.P. Smith", "J-P Smith". */
const INITIAL_GAP = /^\.?[ \t\u00a0]*[-'’]?[ \t\u00a0]*$/u;
const PARTICLE_GAP = /^\.?[ \t\u00a0]+(?:\p{L}+[ \t\u00a0]+){1,3}$/u;

/** A gap of one name: punctuation as above, or particles ("Diego de la Cruz", "R. de Jong"). */
function nameGap(gap: string, initial: boolean): boolean {
  if ((initial ? INITIAL_GAP : NAME_GAP).test(gap)) return true;
  if (!PARTICLE_GAP.test(gap)) return false;
  const words = gap.replace(/^\./, '').trim().split(/[ \t\u00a0]+/);
  return words.every((w) => PARTICLES.has(fold(w.toLowerCase())));
}
/** Quotes, brackets and list markers skipped when looking for the start of a sentence. */
const OPENERS = new Set([' ', '\t', '\u00a0', '"', "'", '“', '”', '‘', '’', '«', '»', '„', '(', '[', '*', '_', '-', '#', '>', '¡', '¿']);

function atSentenceStart(text: string, index: number): boolean {
  let i = index - 1;
  while (i >= 0 && OPENERS.has(text[i]!)) i--;
  if (i < 0) return true;
  const c = text[i]!;
  return c === '.' || c === '!' || c === '?' || c === '\n' || c === '\r' || c === ':';
}

const NEXT_WORD = /^[ \t\u00a0]([\p{L}\p{M}]+)/u;

function followedByOtherName(text: string, end: number): boolean {
  const next = NEXT_WORD.exec(text.slice(end, end + 40));
  if (!next) return false;
  const word = next[1]!;
  return word[0] !== word[0]!.toLowerCase() && word.length > 1 && !COMMON.has(fold(word.toLowerCase()));
}

function intersect(a: number[], b: number[]): number[] {
  return a.filter((x) => b.includes(x));
}

/**
 * The name parts of the text, found word by word with one pass of a precompiled tokenizer and two map lookups a
 * word (the author's few parts, then the roster's), so a roster of hundreds costs what a roster of one does.
 */
function nameHits(text: string, author: Map<string, number[]>, roster: NameIndex, authorSub: string | null): Hit[] {
  const hits: Hit[] = [];
  if (!author.size && !roster.byKey.size) return hits;
  for (const m of text.matchAll(TOKEN)) {
    const word = m[0];
    if (word.length < 2 && !/\p{Lu}/u.test(word)) continue;
    const key = fold(word.toLowerCase());
    const mine = author.get(key);
    const theirs = roster.byKey.get(key);
    if (!mine && !theirs) {
      if (word.length === 1) hits.push({ start: m.index, end: m.index + 1, key, candidates: [], capital: true });
      continue;
    }
    let candidates = mine ? [AUTHOR] : [];
    if (theirs) {
      for (const c of theirs) {
        const same = authorSub !== null && roster.people[c]!.sub === authorSub;
        if (same) {
          if (!mine) candidates = [AUTHOR, ...candidates];
        } else candidates.push(c);
      }
    }
    const first = word[0]!;
    hits.push({ start: m.index, end: m.index + word.length, key, candidates, capital: first !== first.toLowerCase() });
  }
  return hits;
}

function initialsOf(person: number, authorInfo: PersonInfo, roster: NameIndex): PersonInfo {
  return person === AUTHOR ? authorInfo : roster.people[person]!;
}

/** Drops initials written before a name that are not this person's ("A. Smith" when this Smith is John). */
function dropForeignInitials(text: string, r: Run, info: PersonInfo): void {
  if (!r.initials || info.initials.has(r.initials[0]!)) return;
  for (const m of text.slice(r.start, r.end).matchAll(TOKEN)) {
    if (m[0].length > 1 || !/\p{Lu}/u.test(m[0])) {
      r.hits -= r.initials.length;
      r.start += m.index;
      r.initials = undefined;
      return;
    }
  }
}

/**
 * Hits → runs (adjacent parts of one person: "Amara Okafor", "Okafor, Amara", "van der Berg", "J. Smith") → who each
 * run is. A run made of one common word ("Will", "Rose", "Koch") is a name only when capitalised, and at the start
 * of a sentence only when the same person is named unmistakably elsewhere in the text.
 */
function personSpans(text: string, hits: Hit[], authorInfo: PersonInfo, roster: NameIndex): Array<{ start: number; end: number; person: number }> {
  const runs: Run[] = [];
  let pendingInitials: Hit[] = [];
  for (const h of hits) {
    if (!h.candidates.length) {
      // A single capital letter: kept aside, it may be the initial of the name that follows.
      pendingInitials = pendingInitials.length && nameGap(text.slice(pendingInitials.at(-1)!.end, h.start), true) ? [...pendingInitials, h] : [h];
      continue;
    }
    const last = runs.at(-1);
    const joined = last && last.end <= h.start && nameGap(text.slice(last.end, h.start), false) ? intersect(last.candidates, h.candidates) : [];
    if (last && joined.length) {
      last.end = h.end;
      last.hits++;
      last.candidates = joined;
      last.capital ||= h.capital;
    } else {
      const run: Run = { start: h.start, end: h.end, hits: 1, key: h.key, candidates: h.candidates, capital: h.capital, person: h.candidates[0]! };
      // "J. Smith", "J.P. Smith": initials right before the name, kept if they are this person's.
      if (pendingInitials.length && nameGap(text.slice(pendingInitials.at(-1)!.end, h.start), true)) {
        run.start = pendingInitials[0]!.start;
        run.hits += pendingInitials.length;
        run.initials = pendingInitials.map((i) => i.key);
      }
      runs.push(run);
    }
    pendingInitials = [];
  }
  const strong = (r: Run) => r.hits > 1 || !COMMON.has(r.key);
  const confirmed = new Set<number>();
  for (const r of runs) {
    r.person = r.candidates.includes(AUTHOR) ? AUTHOR : r.candidates[0]!;
    dropForeignInitials(text, r, initialsOf(r.person, authorInfo, roster));
    if (strong(r)) confirmed.add(r.person);
  }
  const spans: Array<{ start: number; end: number; person: number }> = [];
  for (const r of runs) {
    if (r.candidates.length > 1) {
      r.person = r.candidates.find((c) => c === AUTHOR && confirmed.has(c)) ?? r.candidates.find((c) => confirmed.has(c)) ?? r.person;
    }
    if (!strong(r) && (!r.capital || (!confirmed.has(r.person) && STARTS.has(r.key) && atSentenceStart(text, r.start)))) continue;
    // One name of a classmate not otherwise named, followed by another capitalised name: someone else ("Victor Hugo"
    // is not Hugo Dubois of the course, "King James" not Amy King). Never for the author.
    if (r.hits === 1 && r.person !== AUTHOR && !confirmed.has(r.person) && followedByOtherName(text, r.end)) continue;
    // A person's particles right before the name: "van der" in "van der Berg".
    const particles = initialsOf(r.person, authorInfo, roster).particles;
    if (particles.size) {
      const before = /((?:[\p{L}]+[ \t]+){1,3})$/u.exec(text.slice(Math.max(0, r.start - 16), r.start));
      if (before) {
        const words = before[1]!.trim().split(/[ \t]+/);
        let take = 0;
        for (let i = words.length - 1; i >= 0 && particles.has(fold(words[i]!.toLowerCase())); i--) take = words.length - i;
        if (take) {
          const kept = words.slice(words.length - take).join(' ');
          r.start = text.lastIndexOf(kept, r.start);
        }
      }
    }
    spans.push({ start: r.start, end: r.end, person: r.person });
  }
  return spans;
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

function authorIndex(author: Person): { map: Map<string, number[]>; info: PersonInfo } {
  const { info, keys } = personInfo(author);
  return { map: new Map(keys.map((k) => [k, [AUTHOR]])), info };
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
