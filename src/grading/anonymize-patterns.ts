/**
 * Personal data recognised by its shape rather than by whose it is: e-mail addresses, phone numbers, student and
 * other id numbers, URLs that carry a person, postal addresses. Each finder returns spans of the text; anonymize.ts
 * merges them with the names it finds and numbers the placeholders.
 *
 * Every pattern is compiled once, here: a batch anonymizes 50,000 texts, and a pattern with Unicode property classes
 * costs more to compile than to run over a page. Texts without a digit, an "@" or a "://" skip the finders that need
 * one (most student texts have no contact details at all).
 */

import { SENTENCE_STARTS } from './anonymize-words.js';

export type PatternKind = 'email' | 'phone' | 'id' | 'url' | 'address';

export interface PatternSpan {
  start: number;
  end: number;
  kind: PatternKind;
  /** What makes two spans the same value (one placeholder): e.g. an e-mail in lower case, a phone's digits. */
  key: string;
  /** URLs only: whether the URL itself names a person (a profile path, a user id in the query). */
  personal?: boolean;
}

const L = '\\p{L}\\p{M}';
const WORD = `${L}\\p{N}`;

const EMAIL = new RegExp(`[${WORD}._%+'-]+@[${WORD}-]+(?:\\.[${WORD}-]+)*\\.\\p{L}{2,}`, 'gu');

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`)\]}]+/giu;
/** A URL that points at a person: a profile or user path, a user id in its query, a long number as a path segment. */
const PERSONAL_URL =
  /(?:\/(?:users?|u|profiles?|people|persons?|members?|students?|staff|employees?|accounts?|in|pub|author|authors|personal|~[^/?#]*)(?:[/?#=]|$)|\/~|[?&;](?:id|uid|user(?:_?id|name)?|student(?:_?id|nr)?|sid|pid|email|mail|name|login|account|profile|matr[a-z]*|nr)=|\/\d{5,}(?:[/?#.]|$)|\/@)/i;
/** Sites whose first path segment is a person (their handle). */
const SOCIAL_HOST = /^(?:https?:\/\/)?(?:www\.|[a-z]{2}\.)?(?:linkedin|facebook|instagram|twitter|x|github|gitlab|tiktok|researchgate|orcid|academia|xing|youtube|medium|threads|bsky|mastodon)\.[a-z.]+\/[^/?#\s]{2,}/i;

/**
 * Phone candidates: an optional "+" or "00", then digits with spaces, dots, dashes, slashes or brackets between
 * them, at least 7 digits in all; checked one by one below (dates, ranges of years, prices are not phones).
 */
const PHONE_CANDIDATE = /(?<![\p{L}\p{N}+/.,-])(?:\+|00)?\(?\d[\d \u00a0()./-]{5,22}\d(?![\p{L}\p{N}]|[.,]\d)/gu;
const PHONE_KEYWORD =
  /(?:tel|tél|teléfono|telefono|telefon|telefoon|phone|fon|mobile?|mobil|móvil|movil|mobiel|cell|handy|portable|gsm|whatsapp|sms|call|ring|bel|llama|appelle[rz]?|anrufen|erreichbar|reach me)\b[^\d\n]{0,12}$/iu;
const DATE_LIKE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;
const NANP = /^(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}$/;
const ES_MOBILE = /^(?:[6789]\d{2}(?: \d{3} \d{3}| \d{2} \d{2} \d{2})|[89]\d \d{3} \d{2} \d{2})$/;

/** Id numbers: letters then digits (s1234567, AB123456), optionally a check letter (DNI 12345678Z, X1234567L). */
const LETTER_ID = /(?<![\p{L}\p{N}])[A-Za-z]{1,3}-?\d{5,10}[A-Za-z]?(?![\p{L}\p{N}])/gu;
const DIGIT_ID = /(?<![\p{L}\p{N}.,]|\d[-/])\d{6,12}[A-Z]?(?![\p{L}\p{N}]|[.,]\d|[-/]\d)/gu;
/** Standards and references shaped like ids that are not personal (ISO 27001, RFC 9110, DOI prefixes). */
const NOT_PERSONAL_PREFIX = /^(?:iso|rfc|din|en|iec|nen|une|nf|bs|isbn|issn|cve|doi|pmid|arxiv|sku|ean|upc|gtin|ieee|ecma|astm|ansi)/i;
/** "Student number: 2023-4567", "Matrikelnummer 12 345 67", "username: aokafor": whatever follows the label. */
const LABELLED_ID = new RegExp(
  `(?<![${L}])(?:student(?:en)?[ -]?(?:number|no\\.?|nr\\.?|id|nummer)|studentnummer|matriculation(?: number| no\\.?)?|matric(?:ulation)? no\\.?|matrikel(?:nummer|nr\\.?)?|matr\\.-?nr\\.?|` +
    "num[ée]ro (?:d['’]\\s?)?[ée]tudiant|n[°º] ?(?:d['’]\\s?)?[ée]tudiant|(?:n[uú]mero|n[°º]) de (?:estudiante|matr[ií]cula|alumno|expediente)|matr[ií]cula|dni|nie|nif|ine|bsn|" +
    'employee (?:number|id)|personalnummer|personeelsnummer|ausweisnummer|(user ?name|username|login|benutzername|nutzername|identifiant|usuario|gebruikersnaam)|' +
    `user ?id|lms ?id|id)(\\s*[:#=]\\s*|\\s+(?:is|ist|est|es|es el|is het)\\s+|\\s+)([${WORD}][${WORD}._-]{1,30}(?:[ ][0-9]{2,})*)`,
  'giu',
);

/** Postal addresses: "12 Baker Street", "Hauptstraße 5a", "Prinsengracht 263", "12, rue de la Paix", "Calle Mayor 12". */
const CAP = `\\p{Lu}[${L}'’-]*`;
/** A town: one word, two joined by a particle or hyphen (Frankfurt am Main), or a known two-word start (Den Haag). */
const TOWN = `(?:(?:Den|San|Santa|Santo|New|Bad|Le|La|Las|Los|El|Sankt|St\\.|Saint|Sainte|Bergen|Alphen) ${CAP}|${CAP}(?: (?:am|an|im|de|sur|en|del|la|le|aan|op) ${CAP})?)`;
const ADDRESS_PATTERNS: RegExp[] = [
  new RegExp(
    `\\b\\d{1,5}[A-Za-z]?,? (?:${CAP} ){1,3}(?:Street|St\\.|Road|Rd\\.?|Avenue|Ave\\.?|Lane|Ln\\.?|Drive|Boulevard|Blvd\\.?|Way|Court|Ct\\.|Place|Terrace|Close|Crescent|Square|Gardens|Grove|Row|Parkway|Highway|Hwy\\.?)(?![${L}])`,
    'gu',
  ),
  new RegExp(
    `(?:${CAP}(?:straße|strasse|str\\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|straat|laan|plein|gracht|kade|singel|dreef|dijk|markt|steeg)|(?:${CAP} )(?:Straße|Strasse|Str\\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer))(?:,)? \\d{1,4}(?: ?[a-zA-Z](?![${L}]))?(?:[-/]\\d{1,4})?(?![\\p{N}])`,
    'gu',
  ),
  new RegExp(
    `\\b\\d{1,4}[a-z]?(?: ?(?:bis|ter))?,? (?:[Rr]ue|[Aa]venue|[Aa]v\\.|[Bb]oulevard|[Bb]d|[Pp]lace|[Ii]mpasse|[Aa]llée|[Cc]hemin|[Qq]uai|[Rr]oute|[Cc]ours|[Pp]assage|[Ss]quare|[Rr]ésidence)(?: (?:de|du|des|la|le|l['’]|d['’]))*(?: ?${CAP}){1,4}`,
    'gu',
  ),
  new RegExp(
    `(?:[Cc]alle|C/|[Aa]venida|[Aa]vda\\.|[Pp]laza|[Pp]aseo|[Cc]arrer|[Cc]amino|[Rr]onda|[Tt]ravesía|[Vv]ia|[Vv]iale|[Pp]iazza)(?: (?:de|del|la|las|los|el|dels|della|di))*(?: ${CAP}){1,4},? (?:n[º°o]\\.? ?)?\\d{1,4}(?: ?[a-zA-Z](?![${L}]))?(?:,? \\d{1,2}[º°ª]? ?[A-Za-z]?(?![${L}\\p{N}]))?`,
    'gu',
  ),
  new RegExp(`\\b(?:Am|An der|An den|Auf dem|Auf der) ${CAP} \\d{1,3}(?: ?[a-z](?![${L}]))?(?![\\p{N}])`, 'gu'),
  // Postcode and town: 10115 Berlin, 75001 Paris, 28013 Madrid, 1012 AB Amsterdam, SW1A 1AA, Springfield, IL 62704.
  new RegExp(`(?<![\\p{N}.,-])(?:[A-Z]{1,2}-)?\\d{5}(?<!00) ${TOWN}`, 'gu'),
  new RegExp(`(?<![\\p{N}.,-])\\d{4} ?[A-Z]{2} ${TOWN}`, 'gu'),
  /\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b/gu,
  new RegExp(`${CAP}, [A-Z]{2} \\d{5}(?:-\\d{4})?(?![\\p{N}])`, 'gu'),
];
/** Words after a five-digit number that make it a quantity, not a postcode ("12345 Euro", "15750 Students"). */
const NOT_A_TOWN = /^(?:Euro|EUR|USD|GBP|CHF|Dollar|Dollars|Pfund|Punkte|Points|Students|Studenten|Studierende|Étudiants|Estudiantes|Words|Wörter|Mots|Palabras|Woorden|Menschen|People|Personnes|Personas|Mensen|Jahre|Years|Ans|Años|Jaar|Meter|Km|Kilometer|Kilometres|Kilometers|BC|AD|Mio|Mrd|Tonnen|Tons)\b/u;

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

function isPhone(text: string, start: number, candidate: string): boolean {
  const digits = digitsOf(candidate);
  if (digits.length < 7 || digits.length > 15) return false;
  if (DATE_LIKE.test(candidate)) return false;
  const keyword = PHONE_KEYWORD.test(text.slice(Math.max(0, start - 24), start));
  if (candidate.startsWith('+') || candidate.startsWith('00')) return digits.length >= 8;
  // Separators other than single spaces and dashes between groups of at least two digits make a list or a sum.
  if (/[ ./-]\d[ ./-]/.test(candidate) && !candidate.startsWith('0')) return false;
  if (candidate.startsWith('0') || candidate.startsWith('(0')) return digits.length >= 9 && digits.length <= 12 && !/^0[.,]/.test(candidate);
  if (NANP.test(candidate) || ES_MOBILE.test(candidate)) return true;
  return keyword && digits.length >= 7 && digits.length <= 13;
}

/** A digit run is an id unless it is a round quantity (1000000, 2500000). */
const ROUND = /^\d{1,2}0{4,}$/;

function trimUrl(url: string): string {
  return url.replace(/[.,;:!?]+$/u, '');
}


const LOGIN_LABEL = /user ?name|login|benutzername|nutzername|identifiant|usuario|gebruikersnaam/i;
const DIGIT_RUN = /\d+/g;
/** Characters around a digit that the digit patterns may need: a labelled id's label, a street before its number. */
const REACH = 90;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9 || code === 0xa0;
}

/** The stretches of text within REACH of a digit, merged, widened to whitespace. */
function digitWindows(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    let start = Math.max(0, m.index - REACH);
    let end = Math.min(text.length, m.index + m[0].length + REACH);
    const last = out.at(-1);
    if (last && start <= last[1]) {
      if (end > last[1]) {
        while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
        last[1] = end;
      }
      continue;
    }
    while (start > 0 && !isSpace(text.charCodeAt(start - 1))) start--;
    while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
    out.push([start, end]);
  }
  return out;
}

function labelledIds(text: string, at: number, part: string, spans: PatternSpan[]): void {
  for (const m of part.matchAll(LABELLED_ID)) {
    const value = m[3]!.replace(/[._-]+$/, '');
    // A login needs no digit, but then only after "username:" or "login is", not in "login with Google".
    if (!/\d/.test(value) && !(m[1] && /[:#=]|\p{L}/u.test(m[2]!))) continue;
    const start = at + m.index + m[0].length - m[3]!.length;
    spans.push({ start, end: start + value.length, kind: 'id', key: value.toLowerCase() });
  }
}

function digitPatterns(text: string, at: number, part: string, spans: PatternSpan[], labels: boolean): void {
  for (const re of ADDRESS_PATTERNS) {
    for (const m of part.matchAll(re)) {
      // A street name's capitalised words end before a sentence's first word ("rue de la Paix Nous avons…").
      let value = m[0].replace(/[,.]$/u, '');
      for (let cut = /\s(\p{L}+)$/u.exec(value); cut && SENTENCE_STARTS.has(cut[1]!.toLowerCase()); cut = /\s(\p{L}+)$/u.exec(value)) value = value.slice(0, cut.index);
      const first = value.indexOf(' ');
      if (first > 0 && /^(?:[A-Z]{1,2}-)?\d{5}$/.test(value.slice(0, first)) && NOT_A_TOWN.test(value.slice(first + 1))) continue;
      spans.push({ start: at + m.index, end: at + m.index + value.length, kind: 'address', key: value.toLowerCase().replace(/\s+/g, ' ') });
    }
  }
  if (labels) labelledIds(text, at, part, spans);
  for (const m of part.matchAll(PHONE_CANDIDATE)) {
    let candidate = m[0];
    // A closing bracket belongs to the number only with its opening one ("(030) 123456", not "(see 0301234567)").
    if (candidate.endsWith(')') && !candidate.includes('(')) candidate = candidate.slice(0, -1);
    candidate = candidate.replace(/[ \u00a0./-]+$/u, '');
    if (isPhone(text, at + m.index, candidate)) spans.push({ start: at + m.index, end: at + m.index + candidate.length, kind: 'phone', key: digitsOf(candidate) });
  }
  for (const m of part.matchAll(LETTER_ID)) {
    if (NOT_PERSONAL_PREFIX.test(m[0])) continue;
    spans.push({ start: at + m.index, end: at + m.index + m[0].length, kind: 'id', key: m[0].toUpperCase() });
  }
  for (const m of part.matchAll(DIGIT_ID)) {
    if (ROUND.test(m[0])) continue;
    spans.push({ start: at + m.index, end: at + m.index + m[0].length, kind: 'id', key: m[0].toUpperCase() });
  }
}

export function findPatternSpans(text: string): PatternSpan[] {
  const spans: PatternSpan[] = [];
  const hasDigit = /\d/.test(text);
  // A login has no digit to find it by: the labels are looked for in the whole text when one is there.
  const labels = !LOGIN_LABEL.test(text);
  if (!labels) labelledIds(text, 0, text, spans);
  if (text.includes('@')) {
    for (const m of text.matchAll(EMAIL)) {
      const value = m[0].replace(/^[.'-]+/, '');
      const start = m.index + (m[0].length - value.length);
      spans.push({ start, end: m.index + m[0].length, kind: 'email', key: value.toLowerCase() });
    }
  }
  if (text.includes('://') || text.includes('www.')) {
    for (const m of text.matchAll(URL_RE)) {
      const url = trimUrl(m[0]);
      spans.push({ start: m.index, end: m.index + url.length, kind: 'url', key: url, personal: PERSONAL_URL.test(url.replace(/^[a-z]+:\/\/[^/]*/i, '')) || SOCIAL_HOST.test(url) });
    }
  }
  if (!hasDigit) return spans;
  // Everything below needs a digit: it runs on the text around the digits only (most of a student's text is
  // words), each window widened to whole words so no pattern sees half of one.
  const windows = digitWindows(text);
  // Windows covering most of the text cost more (a pattern started per window) than one pass over all of it.
  if (windows.reduce((n, [start, end]) => n + end - start, 0) > text.length / 2) digitPatterns(text, 0, text, spans, labels);
  else for (const [start, end] of windows) digitPatterns(text, start, text.slice(start, end), spans, labels);
  return spans;
}
