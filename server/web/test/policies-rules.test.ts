import { expect } from 'chai';
import { checkRules, offsetOf } from '../src/pages/policies/rule-check.js';
import { tokenizeRuleLine, type Token } from '../src/pages/policies/rule-highlight.js';

const kinds = (tokens: readonly Token[]) => tokens.filter((t) => t.kind !== 'text').map((t) => `${t.kind}:${t.text}`);

describe('policies: rule highlighting', () => {
  const rows: Array<{ name: string; line: string; expected: string[] }> = [
    // a pasted USBGuard rule with every kind of token
    {
      name: 'full rule',
      line: 'allow id 1d6b:0002 serial "0000:00:14.0" name "xHCI Host Controller" with-interface one-of { 09:00:* } # root hub',
      expected: [
        'target:allow', 'attribute:id', 'attribute:serial', 'string:"0000:00:14.0"', 'attribute:name', 'string:"xHCI Host Controller"',
        'attribute:with-interface', 'operator:one-of', 'operator:{', 'operator:}', 'comment:# root hub',
      ],
    },
    // a # inside a string is not a comment; an escaped quote does not end the string
    { name: 'hash in string', line: 'block name "a \\" # b" # real', expected: ['target:block', 'attribute:name', 'string:"a \\" # b"', 'comment:# real'] },
    // conditions and negation
    { name: 'condition', line: 'reject if !localtime(08:00-18:00)', expected: ['target:reject', 'attribute:if', 'operator:!', 'condition:localtime'] },
    // a keyword glued to a value is a value (no highlight)
    { name: 'glued', line: 'allow id allow:0001', expected: ['target:allow', 'attribute:id'] },
    // an unterminated string still highlights to the end of the line
    { name: 'open string', line: 'readonly name "usb', expected: ['target:readonly', 'attribute:name', 'string:"usb'] },
    { name: 'comment only', line: '   # keyboards', expected: ['comment:# keyboards'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const tokens = tokenizeRuleLine(row.line);
      expect(kinds(tokens)).to.deep.equal(row.expected);
      // The layer must line up with the textarea: the tokens give the line back exactly.
      expect(tokens.map((t) => t.text).join('')).to.equal(row.line);
    });
  }

  it('marks each target so each gets its colour', () => {
    expect(tokenizeRuleLine('block').map((t) => t.target)).to.deep.equal(['block']);
  });
});

describe('policies: rule checking as you type', () => {
  it('accepts good USBGuard rules, comments and blank lines', () => {
    const text = '# starter\nallow id 1d6b:*\n\nallow with-interface equals { 03:*:* }\r\nblock with-interface one-of { 08:*:* }\n';
    expect(checkRules(text)).to.deep.equal([]);
  });

  it('reports every bad line at its line and column', () => {
    const problems = checkRules('allow id 1d6b:*\nallow with-interfaze equals { 03:*:* }\nallow\nblok');
    expect(problems.map((p) => [p.line, p.column])).to.deep.equal([
      [2, 7],
      [4, 1],
    ]);
    for (const p of problems) expect(p.message).to.be.a('string').and.not.equal('');
  });

  it('stops at 20 problems', () => {
    expect(checkRules(Array.from({ length: 50 }, () => 'nope').join('\n'))).to.have.length(20);
  });

  it('turns a line and column into a textarea offset, clamped to the line', () => {
    const text = 'ab\ncdef\ng';
    expect(offsetOf(text, 1, 1)).to.equal(0);
    expect(offsetOf(text, 2, 3)).to.equal(5);
    expect(offsetOf(text, 2, 99)).to.equal(7);
    expect(offsetOf(text, 9, 1)).to.equal(text.length);
  });
});
