/** Text for a LIKE pattern, its wildcards (% and _) and the escape character (\, PostgreSQL's default) taken literally. */
export function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
