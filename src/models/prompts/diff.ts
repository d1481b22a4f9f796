import type { PromptContent } from './prompt-draft.js';
import type { RubricCriterion } from '../../grading/rubric.js';

/**
 * Differences between two prompt versions: a line diff of each text (Myers' O(ND) algorithm, "An O(ND) Difference
 * Algorithm and Its Variations", 1986 — the one behind `diff` and git), the settings that changed, and the rubric
 * criteria added, removed or changed (matched by their stable ids).
 */

export type LineKind = 'same' | 'added' | 'removed';

export interface DiffLine {
  kind: LineKind;
  text: string;
  /** 1-based line numbers in the old and the new text (absent for an added or a removed line respectively). */
  oldLine?: number;
  newLine?: number;
}

export interface Hunk {
  /** Unchanged lines left out before this hunk. */
  skipped: number;
  lines: DiffLine[];
}

/** More edits than this between two texts and the diff shows "everything replaced" rather than search further. */
const MAX_EDITS = 2_000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r\n?/g, '\n').split('\n');
}

/** The shortest edit script from a to b, as indices: [kind, index in a (same/removed) or b (added)]. */
function myers(a: string[], b: string[]): Array<[LineKind, number, number]> | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v for diagonals -d-1..d+1 as it was before step d, all the backtrack needs.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return null;
  const script: Array<[LineKind, number, number]> = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const w = trace[d]!;
    const at = (k: number) => w[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      script.push(['same', x, y]);
    }
    if (x === prevX) script.push(['added', x, y - 1]);
    else script.push(['removed', x - 1, y]);
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    script.push(['same', x, y]);
  }
  return script.reverse();
}

/** Every line of both texts, in order, marked same, added or removed. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common head and tail first: most edits touch a few lines in the middle.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ kind: 'same', text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const script = myers(midA, midB) ?? [...midA.map((_, i) => ['removed', i, 0] as [LineKind, number, number]), ...midB.map((_, j) => ['added', 0, j] as [LineKind, number, number])];
  for (const [kind, i, j] of script) {
    if (kind === 'same') out.push({ kind, text: midA[i]!, oldLine: start + i + 1, newLine: start + j + 1 });
    else if (kind === 'removed') out.push({ kind, text: midA[i]!, oldLine: start + i + 1 });
    else out.push({ kind, text: midB[j]!, newLine: start + j + 1 });
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) out.push({ kind: 'same', text: a[i]!, oldLine: i + 1, newLine: j + 1 });
  return out;
}

/** Changed lines with `context` unchanged lines around them; long unchanged stretches are left out. */
export function toHunks(lines: DiffLine[], context = 3): Hunk[] {
  const keep = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.kind === 'same') return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) keep[j] = true;
  });
  const hunks: Hunk[] = [];
  let skipped = 0;
  let current: Hunk | null = null;
  lines.forEach((l, i) => {
    if (!keep[i]) {
      skipped++;
      current = null;
      return;
    }
    if (!current) {
      current = { skipped, lines: [] };
      hunks.push(current);
      skipped = 0;
    }
    current.lines.push(l);
  });
  return hunks;
}

export interface VersionLike extends PromptContent {
  version: number;
}

export interface TextDiff {
  label: string;
  changed: boolean;
  added: number;
  removed: number;
  hunks: Hunk[];
  /** Unchanged lines after the last hunk. */
  trailing: number;
}

export interface FieldChange {
  label: string;
  before: string;
  after: string;
}

export interface CriterionChange {
  kind: 'added' | 'removed' | 'changed';
  id: string;
  name: string;
  /** For a changed criterion: what changed, in words. */
  changes: string[];
}

export interface VersionDiff {
  from: number;
  to: number;
  identical: boolean;
  fields: FieldChange[];
  texts: TextDiff[];
  rubric: CriterionChange[];
}

function textDiff(label: string, before: string, after: string): TextDiff {
  const lines = diffLines(before, after);
  const hunks = toHunks(lines);
  const shown = hunks.reduce((acc, h) => acc + h.skipped + h.lines.length, 0);
  return {
    label,
    changed: lines.some((l) => l.kind !== 'same'),
    added: lines.filter((l) => l.kind === 'added').length,
    removed: lines.filter((l) => l.kind === 'removed').length,
    hunks,
    trailing: lines.length - shown,
  };
}

const num = (n: number) => String(Number(n));

function rubricChanges(a: RubricCriterion[], b: RubricCriterion[]): CriterionChange[] {
  const out: CriterionChange[] = [];
  const before = new Map(a.map((c) => [c.id, c]));
  const after = new Map(b.map((c) => [c.id, c]));
  for (const c of a) if (!after.has(c.id)) out.push({ kind: 'removed', id: c.id, name: c.name, changes: [] });
  for (const c of b) {
    const old = before.get(c.id);
    if (!old) {
      out.push({ kind: 'added', id: c.id, name: c.name, changes: [`${num(c.maxPoints)} points: ${c.description || '(no description)'}`] });
      continue;
    }
    const changes: string[] = [];
    if (old.name !== c.name) changes.push(`renamed from "${old.name}"`);
    if (Number(old.maxPoints) !== Number(c.maxPoints)) changes.push(`points ${num(old.maxPoints)} → ${num(c.maxPoints)}`);
    if (old.description !== c.description) changes.push(`description: "${old.description}" → "${c.description}"`);
    if (changes.length) out.push({ kind: 'changed', id: c.id, name: c.name, changes });
  }
  const orderA = a.map((c) => c.id).filter((id) => after.has(id));
  const orderB = b.map((c) => c.id).filter((id) => before.has(id));
  if (orderA.join() !== orderB.join()) out.push({ kind: 'changed', id: '', name: 'Order of criteria', changes: [`${orderA.join(', ')} → ${orderB.join(', ')}`] });
  return out;
}

export function diffVersions(a: VersionLike, b: VersionLike): VersionDiff {
  const fields: FieldChange[] = [];
  const field = (label: string, before: string, after: string) => {
    if (before !== after) fields.push({ label, before, after });
  };
  field('Model', a.model, b.model);
  field('Temperature', num(a.temperature), num(b.temperature));
  field('Max output tokens', num(a.maxOutputTokens), num(b.maxOutputTokens));
  field('Maximum score', num(a.maxScore), num(b.maxScore));
  const texts = [
    textDiff('Prompt template', a.template, b.template),
    textDiff('System instructions', a.systemInstructions, b.systemInstructions),
    textDiff('Grader-only instructions', a.graderInstructions, b.graderInstructions),
  ];
  const rubric = rubricChanges(a.rubric, b.rubric);
  return { from: a.version, to: b.version, identical: !fields.length && !rubric.length && texts.every((t) => !t.changed), fields, texts, rubric };
}
