/** One line of a diff: kept, removed from the old text, or added in the new one. */
export interface DiffLine {
  readonly kind: 'same' | 'del' | 'add';
  readonly text: string;
  /** 1-based line in the old text (same, del) */
  readonly oldLine?: number;
  /** 1-based line in the new text (same, add) */
  readonly newLine?: number;
}

/** Past this many cells the LCS table costs too much memory; the changed middle is shown as replaced. */
export const MAX_DIFF_CELLS = 4_000_000;

/**
 * A line diff by longest common subsequence, after trimming the common head and tail (most
 * policy edits touch a few lines of a long file). Deletions come before additions in a changed
 * run, as `diff -u` shows them.
 */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', text: a[i] as string, oldLine: i + 1, newLine: i + 1 });
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  out.push(...diffMiddle(midA, midB, head, head));
  for (let k = tail; k > 0; k--) {
    const i = a.length - k;
    const j = b.length - k;
    out.push({ kind: 'same', text: a[i] as string, oldLine: i + 1, newLine: j + 1 });
  }
  return out;
}

function diffMiddle(a: readonly string[], b: readonly string[], offA: number, offB: number): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_DIFF_CELLS) {
    return [
      ...a.map((text, i): DiffLine => ({ kind: 'del', text, oldLine: offA + i + 1 })),
      ...b.map((text, j): DiffLine => ({ kind: 'add', text, newLine: offB + j + 1 })),
    ];
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? (lcs[(i + 1) * width + j + 1] as number) + 1 : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] as string, oldLine: offA + i + 1, newLine: offB + j + 1 });
      i++;
      j++;
    } else if (j >= m || (i < n && (lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number))) {
      out.push({ kind: 'del', text: a[i] as string, oldLine: offA + i + 1 });
      i++;
    } else {
      out.push({ kind: 'add', text: b[j] as string, newLine: offB + j + 1 });
      j++;
    }
  }
  return out;
}

/** Lines without their ends; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** How many lines a diff adds and removes, for the summary above it. */
export function diffStats(diff: readonly DiffLine[]): { added: number; removed: number } {
  return { added: diff.filter((d) => d.kind === 'add').length, removed: diff.filter((d) => d.kind === 'del').length };
}

/** A diff row to show: a line, or a run of unchanged lines folded away. */
export type DiffRow = DiffLine | { readonly kind: 'skip'; readonly count: number };

/** Keeps `context` unchanged lines around each change and folds the longer unchanged runs. */
export function foldUnchanged(diff: readonly DiffLine[], context = 3): DiffRow[] {
  const near = diff.map(() => false);
  diff.forEach((d, i) => {
    if (d.kind === 'same') return;
    for (let k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) near[k] = true;
  });
  const rows: DiffRow[] = [];
  let skipped = 0;
  diff.forEach((d, i) => {
    if (near[i]) {
      if (skipped > 0) rows.push({ kind: 'skip', count: skipped });
      skipped = 0;
      rows.push(d);
    } else {
      skipped++;
    }
  });
  if (skipped > 0) rows.push({ kind: 'skip', count: skipped });
  return rows;
}
