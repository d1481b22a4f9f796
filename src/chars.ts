/**
 * Characters as people count them: code points, not UTF-16 units. `'😀'.length` is 2, so a limit checked with
 * `.length` let a student write half as many emoji or CJK extension characters as the page promised.
 */
export function charCount(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}
