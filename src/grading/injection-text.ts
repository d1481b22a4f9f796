/**
 * The text the injection detector reads, undone from the tricks that hide words from a human but not from a model:
 * full-width letters, zero-width and bidi characters, Unicode tag characters, look-alike letters from other
 * scripts, leetspeak, spaced-out letters, base64 and rot13, and markup a page would not show (comments, white or
 * tiny text, display:none). Pure string work, no I/O.
 */

// Zero-width and formatting characters a reader does not see. Soft hyphens and joiners between emoji are
// harmless, so only those inside a word count as a trick (see invisibleInWords), but all are removed.
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]/gu;
const INVISIBLE_IN_WORD = /(?<=[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}])[\u180e\u200b-\u200d\u2060-\u2064\ufeff]+(?=[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{N}])/gu;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/gu;
// Tag characters spell invisible ASCII. The flags of England, Scotland and Wales are the one honest use: a black
// flag followed by tag letters.
const TAG_RUN = /(\u{1f3f4})?([\u{e0000}-\u{e007f}]+)/gu;
// A Latin letter next to a Cyrillic or Greek one: only then is there a mixed word to map (cheap to test first).
const SCRIPTS_TOUCH = /\p{Script=Latin}[\p{Script=Cyrillic}\p{Script=Greek}]|[\p{Script=Cyrillic}\p{Script=Greek}]\p{Script=Latin}/u;
const WORD = /[\p{L}\p{M}]+/gu;
const LATIN = /\p{Script=Latin}/u;
const MIXED_OTHER = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;

/** Cyrillic and Greek letters drawn like Latin ones: "іgnore" with a Cyrillic і reads as "ignore" to a model. */
const CONFUSABLE: Record<string, string> = Object.fromEntries(
  [...'аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅ'].map((c, i) => [c, 'aeopcyxijsdhlqwABEKMHOPCTXIJS'[i]!]).concat(
    [...'\u03bf\u03b1\u03b5\u03b9\u03ba\u03bd\u03c1\u03c4\u03c5\u03c7\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7'].map((c, i) => [c, 'oaeikvptuxABEZHIKMNOPTYX'[i]!]),
  ),
);

/** Brackets that look like < and > (NFKC already maps the full-width ones). */
const BRACKET_LOOKALIKES: Record<string, string> = { '‹': '<', '›': '>', '〈': '<', '〉': '>', '⟨': '<', '⟩': '>', '˂': '<', '˃': '>', 'ᐸ': '<', 'ᐳ': '>', '﹤': '<', '﹥': '>' };
const BRACKETS = /[‹›〈〉⟨⟩˂˃ᐸᐳ﹤﹥]/gu;

export interface NormalisedText {
  /** What a model effectively reads: NFKC, invisible characters removed, look-alike letters in mixed words mapped. */
  clean: string;
  /** Zero-width characters inside words (splitting "ig\u200bnore" so a filter misses it). */
  invisibleInWords: number;
  /** Bidi embedding, override and isolate controls. */
  bidiControls: number;
  /** Text spelled in Unicode tag characters, decoded. */
  tagText: string;
  /** Words mixing Latin with Cyrillic or Greek letters. */
  mixedScriptWords: number;
  /** Runs after a right-to-left override, reversed back to how they display. */
  reversedRuns: string[];
}

function decodeTags(text: string): { text: string; decoded: string } {
  let decoded = '';
  const stripped = text.replace(TAG_RUN, (run, flag: string | undefined, tags: string) => {
    if (flag) return flag;
    for (const ch of tags) {
      const cp = ch.codePointAt(0)! - 0xe0000;
      if (cp >= 0x20 && cp < 0x7f) decoded += String.fromCharCode(cp);
    }
    return '';
  });
  return { text: stripped, decoded };
}

/** Text after a right-to-left override (U+202E) or isolate (U+2067) displays reversed: a filter reads it backwards. */
function reversedRuns(text: string): string[] {
  const runs: string[] = [];
  for (const m of text.matchAll(/[\u202e\u2067]([^\u202c\u2069\n]{1,2000})/gu)) runs.push([...m[1]!].reverse().join(''));
  return runs;
}

function mapMixedWords(text: string): { text: string; mixed: number } {
  if (!SCRIPTS_TOUCH.test(text)) return { text, mixed: 0 };
  let mixed = 0;
  const mapped = text.replace(WORD, (word) => {
    if (!LATIN.test(word) || !MIXED_OTHER.test(word)) return word;
    mixed += 1;
    return [...word].map((c) => CONFUSABLE[c] ?? c).join('');
  });
  return { text: mapped, mixed };
}

// Quick tests first: most texts have none of these, and the full passes cost more than the rest of a scan.
const HAS_TAGS = /[\u{e0000}-\u{e007f}]/u;
const HAS_INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]/;
const HAS_BIDI = /[\u202a-\u202e\u2066-\u2069]/;

export function normalise(text: string): NormalisedText {
  const nfkc = text.normalize('NFKC');
  const tags = HAS_TAGS.test(nfkc) ? decodeTags(nfkc) : { text: nfkc, decoded: '' };
  let visible = tags.text;
  let invisibleInWords = 0;
  if (HAS_INVISIBLE.test(visible)) {
    invisibleInWords = [...visible.matchAll(INVISIBLE_IN_WORD)].length;
    visible = visible.replace(INVISIBLE, '');
  }
  const bidiControls = HAS_BIDI.test(visible) ? [...visible.matchAll(BIDI)].length : 0;
  const reversed = bidiControls ? reversedRuns(visible) : [];
  if (bidiControls) visible = visible.replace(BIDI, '');
  visible = visible.replace(BRACKETS, (c) => BRACKET_LOOKALIKES[c] ?? c);
  const words = mapMixedWords(visible);
  return { clean: words.text, invisibleInWords, bidiControls, tagText: tags.decoded, mixedScriptWords: words.mixed, reversedRuns: reversed };
}

export interface HiddenSegment {
  /** How suspicious the hiding itself is, before what the hidden text says. */
  weight: number;
  text: string;
}

const HIDING_STYLE =
  'display\\s*:\\s*none|visibility\\s*:\\s*hidden|opacity\\s*:\\s*0(?:\\.0*)?(?![.\\d])|font-size\\s*:\\s*(?:0|[0-3](?:\\.\\d+)?(?:px|pt)|0?\\.[0-3]\\d*(?:em|rem))(?![.\\d])|' +
  '(?<![-\\w])color\\s*:\\s*(?:white|#fff(?:fff)?(?![0-9a-f])|rgba?\\(\\s*255\\s*,\\s*255\\s*,\\s*255)';
const HIDDEN_MARKUP: Array<{ weight: number; re: RegExp }> = [
  { weight: 0.1, re: /<!--([\s\S]{0,4000}?)-->/g },
  { weight: 0.3, re: new RegExp(`<([a-z][a-z0-9]*)\\b[^>]*\\bstyle\\s*=\\s*["'][^"']*(?:${HIDING_STYLE})[^"']*["'][^>]*>([\\s\\S]{0,4000}?)<\\/\\1\\s*>`, 'giu') },
  { weight: 0.3, re: /<([a-z][a-z0-9]*)\b[^>]*\s(?:hidden(?=[\s>=/])|class\s*=\s*["'][^"']*\b(?:hidden|sr-only|visually-hidden|invisible)\b[^"']*["'])[^>]*>([\s\S]{0,4000}?)<\/\1\s*>/giu },
  { weight: 0.3, re: /<(font)\b[^>]*\b(?:color\s*=\s*["']?(?:white|#fff(?:fff)?)\b|size\s*=\s*["']?[01]\b)[^>]*>([\s\S]{0,4000}?)<\/font\s*>/giu },
  { weight: 0.3, re: /(?:^|\n)[ \t]*\[(?:\/\/|comment|#)\]:\s*(?:#|<>)\s*\(([^)\n]{0,2000})\)/giu },
  { weight: 0.3, re: /\\(?:textcolor|color)\{white\}\{([^}]{0,2000})\}|\\phantom\{([^}]{0,2000})\}|\{\\tiny\s([^}]{0,2000})\}/giu },
];

/** Text a rendered page hides (comments, white or tiny text, display:none, markdown comments, LaTeX white text). */
export function hiddenSegments(clean: string): HiddenSegment[] {
  if (!/[<[\\]/.test(clean)) return [];
  const found: HiddenSegment[] = [];
  for (const { weight, re } of HIDDEN_MARKUP) {
    for (const m of clean.matchAll(re)) {
      // The text is the last group that matched (element rules capture the tag name first).
      const text = m.slice(1).filter((g) => g !== undefined).at(-1) ?? '';
      if (text.trim()) found.push({ weight, text });
    }
  }
  return found;
}

// Digits between letters ("1gn0r3"): leetspeak, or a formula (H2O); two or more make a leet view worth reading.
const LEET_INSIDE = /[a-z][013457@$]+[a-z]/gi;
const LEET_LINE = /[a-z][013457@$]+[a-z]/i;
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

/** The lines of a text that have a match of `re` (a view need not re-read the whole text for one odd line). */
function linesWith(text: string, re: RegExp): string[] {
  return text.split('\n').filter((line) => re.test(line));
}

/** Leetspeak read as letters ("1gn0r3 pr3v10u5" → "ignore previous"), in the lines that have some; else null. */
export function leetView(clean: string): string | null {
  const inside = clean.match(LEET_INSIDE);
  if (!inside || inside.length < 2) return null;
  const lines = linesWith(clean, LEET_LINE);
  return lines.join('\n').replace(/[\p{L}\p{N}@$]+/gu, (tok) => (/\p{L}/u.test(tok) && /[013457@$]/.test(tok) ? tok.replace(/[013457@$]/g, (d) => LEET[d]!) : tok));
}

// Single letters each followed by the same kind of separator: "I G N O R E", "I.g.n.o.r.e", "i-g-n-o-r-e".
const SPACED = /(?<![\p{L}\p{N}])(?:\p{L}[ \u00a0]){2,}\p{L}(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])(?:\p{L}[.\-_*|]){2,}\p{L}\.?(?![\p{L}\p{N}])/gu;
const MAYBE_SPACED = /(?:^|[\s(])\S[ \u00a0.\-_*|]\S[ \u00a0.\-_*|]\S(?=[\s.,!?)\-_*|]|$)/;

/** Letters spaced out ("I G N O R E   T H E") joined into words, in the lines that have some; else null. */
export function spacedView(clean: string): string | null {
  if (!MAYBE_SPACED.test(clean)) return null;
  const lines = linesWith(clean, MAYBE_SPACED).join('\n');
  const joined = lines.replace(SPACED, (run) => run.replace(/[ \u00a0.\-_*|]/g, ''));
  return joined === lines ? null : joined;
}

const BASE64_RUN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])/g;
const PRINTABLE = /[\p{L}\p{N}\p{P}\p{Zs}\n]/gu;

function rot13(s: string): string {
  return s.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/**
 * Payloads a model can decode and a keyword filter cannot read: base64 runs that decode to readable text, and the
 * whole text in rot13 when it names rot13. Honest base64 (an image, a key) decodes to bytes, not sentences.
 */
export function decodedPayloads(clean: string): string[] {
  const out: string[] = [];
  for (const m of clean.matchAll(BASE64_RUN)) {
    const decoded = Buffer.from(m[0], 'base64').toString('utf8');
    const printable = decoded.match(PRINTABLE)?.length ?? 0;
    if (decoded.includes(' ') && printable / Math.max(1, [...decoded].length) > 0.9) out.push(decoded);
  }
  if (/rot\s*-?\s*13/i.test(clean)) out.push(rot13(clean));
  return out;
}
