import { expect } from 'chai';
import { diffLines, diffStats, foldUnchanged, splitLines, type DiffLine } from '../src/pages/policies/line-diff.js';

/** The diff in `diff -u` shorthand: ' a', '-b', '+c'. */
const short = (d: readonly DiffLine[]) => d.map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'add' ? '+' : '-'}${l.text}`);

describe('policies: line diff (LCS)', () => {
  const rows: Array<{ name: string; a: string; b: string; expected: string[] }> = [
    // nothing changed
    { name: 'identical', a: 'x\ny\n', b: 'x\ny\n', expected: [' x', ' y'] },
    // from nothing, to nothing
    { name: 'both empty', a: '', b: '', expected: [] },
    { name: 'all added', a: '', b: 'x\ny', expected: ['+x', '+y'] },
    { name: 'all removed', a: 'x\ny', b: '', expected: ['-x', '-y'] },
    // one line replaced in the middle: deletion first, as diff -u shows it
    { name: 'replace one line', a: 'a\nb\nc', b: 'a\nB\nc', expected: [' a', '-b', '+B', ' c'] },
    // a rule inserted before the last one
    { name: 'insert', a: 'a\nc', b: 'a\nb\nc', expected: [' a', '+b', ' c'] },
    // lines moved: LCS keeps the longest common run
    { name: 'move', a: 'a\nb\nc\nd', b: 'b\nc\nd\na', expected: ['-a', ' b', ' c', ' d', '+a'] },
    // a final newline and CRLF endings make no difference
    { name: 'line ends', a: 'a\r\nb\r\n', b: 'a\nb', expected: [' a', ' b'] },
    // interleaved changes inside a common head and tail
    { name: 'interleaved', a: 'h\n1\n2\n3\nt', b: 'h\n1\nx\n3\ny\nt', expected: [' h', ' 1', '-2', '+x', ' 3', '+y', ' t'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(short(diffLines(row.a, row.b))).to.deep.equal(row.expected);
    });
  }

  it('numbers lines in the old and the new text', () => {
    const d = diffLines('a\nb\nc', 'a\nx\nb\nc');
    expect(d.map((l) => [l.oldLine ?? null, l.newLine ?? null])).to.deep.equal([
      [1, 1],
      [null, 2],
      [2, 3],
      [3, 4],
    ]);
  });

  it('counts added and removed lines', () => {
    expect(diffStats(diffLines('a\nb\nc', 'a\nB\nc\nd'))).to.deep.equal({ added: 2, removed: 1 });
  });

  it('stays fast and correct on a long policy with one change', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `allow id 1234:${i.toString(16).padStart(4, '0')}`);
    const changed = [...lines];
    changed[2500] = 'block id dead:beef';
    const d = diffLines(lines.join('\n'), changed.join('\n'));
    expect(diffStats(d)).to.deep.equal({ added: 1, removed: 1 });
    expect(d).to.have.length(5001);
  });

  it('falls back to "all replaced" when the changed middle is too big for the table', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    expect(diffStats(diffLines(a, b))).to.deep.equal({ added: 3000, removed: 3000 });
  });

  it('splits lines without an extra empty one at the end', () => {
    expect(splitLines('a\n\nb\n')).to.deep.equal(['a', '', 'b']);
    expect(splitLines('')).to.deep.equal([]);
  });
});

describe('policies: folding unchanged lines', () => {
  it('keeps 3 lines of context around a change and folds the rest', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const b = [...a];
    b[10] = 'changed';
    const rows = foldUnchanged(diffLines(a.join('\n'), b.join('\n')));
    expect(rows.map((r) => (r.kind === 'skip' ? `skip ${r.count}` : `${r.kind} ${r.text}`))).to.deep.equal([
      'skip 7', 'same l7', 'same l8', 'same l9', 'del l10', 'add changed', 'same l11', 'same l12', 'same l13', 'skip 6',
    ]);
  });

  it('folds nothing when every line is near a change', () => {
    expect(foldUnchanged(diffLines('a\nb', 'a\nc')).every((r) => r.kind !== 'skip')).to.equal(true);
  });
});
