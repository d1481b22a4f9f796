/**
 * Reading a regular expression's source for the literal text its matches start with. The injection detector has
 * about a hundred phrase patterns; scanning a text once per pattern costs a hundred passes. Instead one pass finds
 * where any pattern's literal start occurs, and each pattern runs, anchored, only there (src/grading/injection.ts).
 */

/** Index of the parenthesis closing the group opened at `open`, skipping escapes and character classes. */
function groupEnd(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i += 1) {
    const c = src[i];
    if (c === '\\') i += 1;
    else if (c === '[') while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
    else if (c === '(') depth += 1;
    else if (c === ')' && --depth === 0) return i;
  }
  return src.length;
}

/** The alternatives of a pattern at its top level (its own `|`, not those inside groups or classes). */
export function alternatives(src: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i];
    if (c === '\\') i += 1;
    else if (c === '[') while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
    else if (c === '(') i = groupEnd(src, i);
    else if (c === '|') {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(src.slice(start));
  return parts;
}

/** A word-edge check (a negative lookbehind on one character class) at the start of an alternative. */
const LEADING_EDGE = /^\(\?<!\[[^\]]*\]\)/;
const isQuantifier = (c: string | undefined) => c !== undefined && '?*{'.includes(c);

/**
 * The literal text every match of a pattern starts with, per alternative ("ignore", "disregard", …), read from its
 * source; null when some alternative starts with something else (a class, an anchor, an optional group): that rule
 * is run over the whole text. Scanning runs one pass for all hints, then each rule only where its hints start,
 * which is what keeps a scan of ~100 patterns cheap (bench/injection-corpus.ts).
 */
export function literalHints(src: string): string[] | null {
  const hints: string[] = [];
  for (const branch of alternatives(src)) {
    const alt = branch.replace(LEADING_EDGE, '');
    if (alt.startsWith('(?:') || (alt.startsWith('(') && alt[1] !== '?')) {
      const end = groupEnd(alt, 0);
      const inner = literalHints(alt.slice(alt.startsWith('(?:') ? 3 : 1, end));
      if (!inner) return null;
      hints.push(...inner);
      // An optional group ("(?:the\\s+)?rubric"): a match may also start with what follows it.
      if (alt[end + 1] === '?' || alt[end + 1] === '*') {
        const rest = literalHints(alt.slice(end + 2).replace(/^\\s[*+]?/, ''));
        if (!rest) return null;
        hints.push(...rest);
      } else if (alt[end + 1] === '{') return null;
      continue;
    }
    let prefix = /^[\p{L}\p{N}'’ ]*/u.exec(alt)![0];
    // A quantifier makes the letter before it optional ("hints?"): it is not part of every match.
    if (isQuantifier(alt[prefix.length])) prefix = prefix.slice(0, -1);
    // Two letters at least; one will do where a letter is a word (CJK) or rare enough (à, с).
    if (prefix.trim().length < 2 && !/^[^\p{ASCII}]$/u.test(prefix.trim())) return null;
    hints.push(prefix.toLowerCase());
  }
  return hints;
}
