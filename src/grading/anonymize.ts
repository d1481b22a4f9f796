/**
 * What is known about a person whose identity must not leave: the student who wrote a text (the author), or a
 * member of the course's roster. `sub` is their LMS user id; `login` a user name, when the LMS shares one.
 */
export interface Identity {
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  sub?: string | null;
  login?: string | null;
}

export const NAME_PLACEHOLDER = '[student]';
export const EMAIL_PLACEHOLDER = '[email]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The words and phrases to remove, longest first (so "Amara Okafor" goes before "Amara"). */
function namesOf(who: Identity): string[] {
  const parts = new Set<string>();
  for (const raw of [who.name, who.givenName, who.familyName]) {
    const value = raw?.trim();
    if (!value) continue;
    parts.add(value);
    for (const word of value.split(/\s+/)) if (word.length >= 2) parts.add(word);
  }
  return [...parts].filter((p) => p.length >= 2).sort((a, b) => b.length - a.length);
}

// Compiled once: a regular expression with Unicode property classes costs milliseconds to compile, and a batch
// anonymizes 50,000 texts for as many different students.
const WORD_CHAR = /[\p{L}\p{N}]/u;

function wordCharAt(text: string, index: number): boolean {
  if (index >= text.length) return false;
  return WORD_CHAR.test(String.fromCodePoint(text.codePointAt(index)!));
}

function wordCharBefore(text: string, index: number): boolean {
  if (index <= 0) return false;
  const low = text.charCodeAt(index - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && index >= 2 ? index - 2 : index - 1;
  return WORD_CHAR.test(String.fromCodePoint(text.codePointAt(start)!));
}

/**
 * The names that can occur in the text at all. Most texts never mention their author, and skipping the pattern
 * then saves compiling it. Exact for ASCII names: the only other characters that match an ASCII letter
 * case-insensitively are ſ (s) and the Kelvin sign (k), and a text with either keeps every name.
 */
function present(text: string, names: string[]): string[] {
  if (/[\u017f\u212a]/.test(text)) return names;
  const lower = text.toLowerCase();
  // eslint-disable-next-line no-control-regex
  return names.filter((n) => !/^[\x00-\x7f]*$/.test(n) || lower.includes(n.toLowerCase()));
}

/**
 * The first anonymization: the author's own e-mail address, full name, and given and family names as whole words,
 * case-insensitively, and nothing else. `anonymize` (anonymize-text.ts) is what leaves now; this stays for what
 * still calls it (textToSend in request.ts) and its tests. Names shorter than two letters are left alone.
 */
export function anonymizeText(text: string, who: Identity): string {
  let out = text;
  const email = who.email?.trim();
  if (email) out = out.replace(new RegExp(escapeRegExp(email), 'giu'), EMAIL_PLACEHOLDER);
  const names = present(out, namesOf(who));
  if (!names.length) return out;
  // Unicode-aware word boundaries: "Chen" in "Chenoweth" stays, "Chen's" becomes "[student]'s". Candidates are
  // found with a plain alternation; at each, the names are tried longest first and the first one standing as a
  // whole word is replaced (what a lookbehind/lookahead pattern would do, without compiling one per student).
  const any = new RegExp(names.map(escapeRegExp).join('|'), 'giu');
  const each = names.map((n) => new RegExp(escapeRegExp(n), 'iuy'));
  let result = '';
  let last = 0;
  for (let m = any.exec(out); m; m = any.exec(out)) {
    const at = m.index;
    let length = 0;
    if (!wordCharBefore(out, at)) {
      for (const name of each) {
        name.lastIndex = at;
        const hit = name.exec(out);
        if (hit && !wordCharAt(out, at + hit[0].length)) {
          length = hit[0].length;
          break;
        }
      }
    }
    if (length > 0) {
      result += out.slice(last, at) + NAME_PLACEHOLDER;
      last = at + length;
      any.lastIndex = last;
    } else {
      any.lastIndex = at + ((out.codePointAt(at) ?? 0) > 0xffff ? 2 : 1);
    }
  }
  return result + out.slice(last);
}
