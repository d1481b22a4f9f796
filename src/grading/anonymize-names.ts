import type { Identity } from './anonymize.js';
import { COMMON_WORDS, NAME_PARTICLES, SENTENCE_STARTS } from './anonymize-words.js';

/**
 * Finding people's names in a text (anonymize-text.ts uses it): the author's and every roster member's name parts
 * in any order ("Given Family", "Family, Given", "G. Family", particles such as "van der"), folded (no case, no
 * accents), with the rules that keep ordinary words (a name that is also a common word counts only capitalised, and
 * at a sentence's start only when the person is named in full elsewhere).
 */

type Person = Identity;

/** Index of a roster person, or AUTHOR. */
export const AUTHOR = -1;

export interface PersonInfo {
  display: string;
  sub: string | null;
  /** First letters of the given names, folded: "J." before the family name is part of the name. */
  initials: Set<string>;
  particles: Set<string>;
}

export interface NameIndex {
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
export function fold(lower: string): string {
  for (let i = 0; i < lower.length; i++) {
    if (lower.charCodeAt(i) > 0x7f) return lower.normalize('NFD').replace(MARKS, '').replace(/ſ/g, 's').replace(/ß/g, 'ss');
  }
  return lower;
}

export const COMMON = new Set([...COMMON_WORDS].map(fold));
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

export const EMPTY_ROSTER: Roster = compileRoster([]);

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
export function nameHits(text: string, author: Map<string, number[]>, roster: NameIndex, authorSub: string | null): Hit[] {
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
export function personSpans(text: string, hits: Hit[], authorInfo: PersonInfo, roster: NameIndex): Array<{ start: number; end: number; person: number }> {
  const runs = runsOf(text, hits);
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
    spans.push({ start: withParticles(text, r.start, initialsOf(r.person, authorInfo, roster).particles), end: r.end, person: r.person });
  }
  return spans;
}

/** Adjacent hits that can be one person become one run; initials right before a name join it ("J. Smith"). */
function runsOf(text: string, hits: Hit[]): Run[] {
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
  return runs;
}

/** Where a name starts once the person's particles right before it are included: "van der" in "van der Berg". */
function withParticles(text: string, start: number, particles: Set<string>): number {
  if (!particles.size) return start;
  const before = /((?:[\p{L}]+[ \t]+){1,3})$/u.exec(text.slice(Math.max(0, start - 16), start));
  if (!before) return start;
  const words = before[1]!.trim().split(/[ \t]+/);
  let take = 0;
  for (let i = words.length - 1; i >= 0 && particles.has(fold(words[i]!.toLowerCase())); i--) take = words.length - i;
  return take ? text.lastIndexOf(words.slice(words.length - take).join(' '), start) : start;
}

/** The author as a one-person index: their name parts all point at AUTHOR. */
export function authorIndex(author: Person): { map: Map<string, number[]>; info: PersonInfo } {
  const { info, keys } = personInfo(author);
  return { map: new Map(keys.map((k) => [k, [AUTHOR]])), info };
}
