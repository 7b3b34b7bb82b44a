import { expect } from 'chai';
import { parseRule, parseRuleFile, printRule, RuleSyntaxError, type Rule } from '../src/index.js';

/** Parse then print: the normalized form usbguard-rule-parser would print. */
function normalize(text: string): string {
  return printRule(parseRule(text));
}

function syntaxError(text: string): RuleSyntaxError {
  try {
    parseRule(text, { file: 'rules.conf', line: 7 });
  } catch (err) {
    expect(err).to.be.instanceOf(RuleSyntaxError);
    return err as RuleSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('rule parser and printer', () => {
  // Each row: input rule → what usbguard-rule-parser 1.1.2 prints for it (checked by hand
  // against the real tool; test/usbguard-agreement.test.ts checks a generated corpus live).
  const good: Array<{ name: string; input: string; output: string }> = [
    // targets
    { name: 'allow alone matches every device', input: 'allow', output: 'allow' },
    { name: 'block', input: 'block', output: 'block' },
    { name: 'reject', input: 'reject', output: 'reject' },
    { name: 'readonly is the one Portcullis extension', input: 'readonly id 0781:5567', output: 'readonly id 0781:5567' },
    // id
    { name: 'exact id', input: 'allow id 1d6b:0002', output: 'allow id 1d6b:0002' },
    { name: 'vendor wildcard', input: 'allow id 1d6b:*', output: 'allow id 1d6b:*' },
    { name: 'any id', input: 'allow id *:*', output: 'allow id *:*' },
    { name: 'bare id after target is the id attribute', input: 'allow 1234:5678', output: 'allow id 1234:5678' },
    { name: 'id keeps the case it was written in', input: 'allow id 1D6B:ABcd', output: 'allow id 1D6B:ABcd' },
    { name: 'id set', input: 'block id one-of { 0781:5567 0781:* }', output: 'block id one-of { 0781:5567 0781:* }' },
    // string attributes
    { name: 'name', input: 'allow name "Cruzer Blade"', output: 'allow name "Cruzer Blade"' },
    { name: 'serial', input: 'allow serial "4C530001230523112463"', output: 'allow serial "4C530001230523112463"' },
    { name: 'hash', input: 'allow hash "kRQ6ns04+jP3uFvRV4p3B4/0tbR34PTYmqJLN0pH+oY="', output: 'allow hash "kRQ6ns04+jP3uFvRV4p3B4/0tbR34PTYmqJLN0pH+oY="' },
    { name: 'parent-hash', input: 'allow parent-hash "abc"', output: 'allow parent-hash "abc"' },
    { name: 'via-port', input: 'allow via-port "1-2.1"', output: 'allow via-port "1-2.1"' },
    { name: 'with-connect-type', input: 'allow with-connect-type "hotplug"', output: 'allow with-connect-type "hotplug"' },
    { name: 'label', input: 'allow label "registered by the helpdesk"', output: 'allow label "registered by the helpdesk"' },
    { name: 'repeated label merges values (as USBGuard does)', input: 'allow label "a" label { "b" "c" }', output: 'allow label { "a" "b" "c" }' },
    { name: 'repeated label keeps the last explicit operator', input: 'reject label "x" label one-of { "y" }', output: 'reject label one-of { "x" "y" }' },
    { name: 'empty string', input: 'allow serial ""', output: 'allow serial ""' },
    // with-interface
    { name: 'interface full', input: 'allow with-interface 08:06:50', output: 'allow with-interface 08:06:50' },
    { name: 'interface protocol wildcard', input: 'allow with-interface 08:06:*', output: 'allow with-interface 08:06:*' },
    { name: 'interface class only', input: 'allow with-interface 08:*:*', output: 'allow with-interface 08:*:*' },
    { name: 'interface hex is printed lower-case', input: 'allow with-interface E0:01:01', output: 'allow with-interface e0:01:01' },
    // set operators
    { name: 'equals is the default and is not printed', input: 'allow with-interface equals { 03:*:* }', output: 'allow with-interface 03:*:*' },
    { name: 'equals with several values prints a bare set', input: 'allow with-interface equals { 03:*:* 08:*:* }', output: 'allow with-interface { 03:*:* 08:*:* }' },
    { name: 'all-of', input: 'reject with-interface all-of { 08:*:* 03:00:* }', output: 'reject with-interface all-of { 08:*:* 03:00:* }' },
    { name: 'one-of with one value keeps its braces', input: 'block with-interface one-of { 08:*:* }', output: 'block with-interface one-of { 08:*:* }' },
    { name: 'none-of', input: 'allow with-interface none-of { 08:*:* }', output: 'allow with-interface none-of { 08:*:* }' },
    { name: 'equals-ordered', input: 'allow name equals-ordered { "a" }', output: 'allow name equals-ordered { "a" }' },
    { name: 'match-all', input: 'allow with-interface match-all { 03:*:* 08:06:50 }', output: 'allow with-interface match-all { 03:*:* 08:06:50 }' },
    { name: 'no blanks inside braces', input: 'allow name {"a"}', output: 'allow name "a"' },
    { name: 'extra blanks and tabs between tokens', input: 'allow\t id  1234:5678 \tname  { "a"   "b"  }', output: 'allow id 1234:5678 name { "a" "b" }' },
    // escapes
    { name: 'escaped quote', input: 'allow name "a\\"b"', output: 'allow name "a\\"b"' },
    { name: 'escaped backslash', input: 'allow name "a\\\\b"', output: 'allow name "a\\\\b"' },
    { name: 'hex escape of a printable byte prints the byte', input: 'allow name "\\x41\\x7e"', output: 'allow name "A~"' },
    { name: 'hex escape upper-case prints lower-case', input: 'allow name "\\xFF"', output: 'allow name "\\xff"' },
    { name: 'NUL byte', input: 'allow name "\\x00"', output: 'allow name "\\x00"' },
    { name: 'non-ASCII is printed as its UTF-8 bytes', input: 'allow name "é"', output: 'allow name "\\xc3\\xa9"' },
    { name: 'raw TAB inside a string prints as \\x09', input: 'allow name "a\tb"', output: 'allow name "a\\x09b"' },
    { name: '4-byte UTF-8', input: 'allow name "😀"', output: 'allow name "\\xf0\\x9f\\x98\\x80"' },
    // conditions
    { name: 'true', input: 'allow if true', output: 'allow if true' },
    { name: 'false', input: 'allow if false', output: 'allow if false' },
    { name: 'negation', input: 'reject if !localtime(08:00-18:00)', output: 'reject if !localtime(08:00-18:00)' },
    { name: 'localtime single time', input: 'allow if localtime(08:00)', output: 'allow if localtime(08:00)' },
    { name: 'localtime with seconds', input: 'allow if localtime(08:00:30-17:59:59)', output: 'allow if localtime(08:00:30-17:59:59)' },
    { name: 'random with and without probability', input: 'allow if { random random(0.25) }', output: 'allow if { random random(0.25) }' },
    { name: 'rule-applied forms', input: 'allow if one-of { rule-applied rule-applied(30) rule-applied(01:00:00) }', output: 'allow if one-of { rule-applied rule-applied(30) rule-applied(01:00:00) }' },
    { name: 'rule-evaluated keeps its name (USBGuard 1.1.2 misprints it)', input: 'allow if !rule-evaluated(10)', output: 'allow if !rule-evaluated(10)' },
    { name: 'allowed-matches', input: 'allow with-interface one-of { 03:00:01 03:01:01 } if !allowed-matches(with-interface one-of { 03:00:01 03:01:01 })', output: 'allow with-interface one-of { 03:00:01 03:01:01 } if !allowed-matches(with-interface one-of { 03:00:01 03:01:01 })' },
    { name: 'true(x) drops the parameter like USBGuard', input: 'allow if true(x)', output: 'allow if true' },
    { name: 'condition set with equals prints bare', input: 'allow if equals { true }', output: 'allow if true' },
    { name: 'condition set with none-of', input: 'allow if none-of { false !true }', output: 'allow if none-of { false !true }' },
    // comments and order
    { name: 'comment after a value', input: 'allow id 1234:5678 # the helpdesk key', output: 'allow id 1234:5678' },
    { name: 'comment glued to the target', input: 'allow#x', output: 'allow' },
    { name: 'comment glued to a set', input: 'allow if { true }#', output: 'allow if true' },
    {
      name: 'attributes print in USBGuard order (conditions before with-connect-type)',
      input: 'allow label "l" if true with-connect-type "x" with-interface 08:*:* via-port "1-1" serial "s" parent-hash "p" hash "h" name "n" id 1234:5678',
      output: 'allow id 1234:5678 serial "s" name "n" hash "h" parent-hash "p" via-port "1-1" with-interface 08:*:* if true with-connect-type "x" label "l"',
    },
    // leniency newer USBGuard shares
    { name: 'leading and trailing blanks', input: '  allow id 1234:5678  ', output: 'allow id 1234:5678' },
    { name: 'CR line ending', input: 'allow id 1234:5678\r', output: 'allow id 1234:5678' },
  ];

  for (const row of good) {
    it(`prints ${row.name}`, () => {
      expect(normalize(row.input)).to.equal(row.output);
      // Normalizing is idempotent.
      expect(normalize(row.output)).to.equal(row.output);
    });
  }

  // Each row: a bad rule → the 1-based column the error points at and words of its message.
  const bad: Array<{ name: string; input: string; column: number; message: string }> = [
    { name: 'empty line', input: '', column: 1, message: 'expected a rule target' },
    { name: 'unknown target', input: 'permit id 1234:5678', column: 1, message: "unknown rule target 'permit'" },
    { name: 'targets are lower-case', input: 'ALLOW', column: 1, message: "unknown rule target 'ALLOW'" },
    { name: 'USBGuard-internal target match', input: 'match id 1234:5678', column: 1, message: "target 'match' is internal" },
    { name: 'unknown attribute', input: 'allow vendor "x"', column: 7, message: "unknown attribute 'vendor'" },
    { name: 'target glued to a word', input: 'allowx', column: 1, message: "unknown rule target 'allowx'" },
    { name: 'no blank between value and next token', input: 'allow name "a"x', column: 15, message: 'expected a blank' },
    { name: 'short vendor id', input: 'allow id 123:5678', column: 10, message: 'expected a device id' },
    { name: 'wildcard vendor with a product', input: 'allow id *:1234', column: 10, message: "a '*' vendor needs a '*' product" },
    { name: 'id too long', input: 'allow id 1234:56789', column: 19, message: 'expected a blank' },
    { name: 'interface with class-only digit', input: 'allow with-interface 8:00:00', column: 22, message: 'expected an interface type' },
    { name: 'interface wildcard subclass with a protocol', input: 'allow with-interface 08:*:05', column: 22, message: "a '*' subclass needs a '*' protocol" },
    { name: 'duplicate id', input: 'allow id 1234:5678 id 1234:*', column: 20, message: 'id attribute already defined' },
    { name: 'bare id then id', input: 'allow 1234:5678 id 1234:5678', column: 17, message: 'id attribute already defined' },
    { name: 'duplicate name', input: 'allow name "a" name "b"', column: 16, message: 'name attribute already defined' },
    { name: 'duplicate with-interface', input: 'allow with-interface { 08:*:* } with-interface 03:00:00', column: 33, message: 'with-interface attribute already defined' },
    { name: 'duplicate conditions', input: 'allow if true if false', column: 15, message: 'conditions already defined' },
    { name: 'missing blank after keyword', input: 'allow name"a"', column: 11, message: "expected a blank after 'name'" },
    { name: 'unquoted string', input: 'allow name abc', column: 12, message: 'expected a quoted string' },
    { name: 'unterminated string', input: 'allow name "abc', column: 12, message: 'unterminated string' },
    { name: 'string ending in a backslash', input: 'allow name "abc\\', column: 12, message: 'unterminated string' },
    { name: 'unknown escape \\t', input: 'allow name "a\\tb"', column: 14, message: "unknown escape sequence '\\t'" },
    { name: 'octal escape is not USBGuard', input: 'allow name "\\101"', column: 13, message: "unknown escape sequence '\\1'" },
    { name: 'short hex escape', input: 'allow name "\\x4"', column: 13, message: '\\x must be followed by two hex digits' },
    { name: 'empty set', input: 'allow name { }', column: 14, message: 'empty set' },
    { name: 'unclosed set', input: 'allow name { "a"', column: 12, message: "missing '}'" },
    { name: 'values glued in a set', input: 'allow name { "a""b" }', column: 17, message: "expected a blank or '}'" },
    { name: 'operator glued to brace', input: 'allow name one-of{ "a" }', column: 18, message: "expected a blank after 'one-of'" },
    { name: 'operator without a set', input: 'allow name one-of "a"', column: 19, message: "expected '{' after set operator" },
    { name: 'unknown condition', input: 'allow if foo', column: 10, message: "unknown condition 'foo'" },
    { name: 'double negation', input: 'allow if !!true', column: 11, message: 'expected a condition' },
    { name: 'empty condition parameter', input: 'allow if localtime()', column: 19, message: 'empty parameter' },
    { name: 'unclosed condition parameter', input: 'allow if localtime(08:00', column: 19, message: "missing ')'" },
    { name: 'localtime needs a parameter', input: 'allow if localtime', column: 10, message: 'localtime needs a time' },
    { name: 'localtime range across midnight', input: 'allow if localtime(18:00-08:00)', column: 10, message: 'begins after it ends' },
    { name: 'localtime hour out of range', input: 'allow if localtime(24:00)', column: 10, message: "bad time '24:00'" },
    { name: 'localtime trailing garbage (USBGuard silently accepts it)', input: 'allow if localtime(08:00-18:00x)', column: 10, message: "bad time '18:00x'" },
    { name: 'random probability above 1', input: 'allow if random(2)', column: 10, message: 'bad probability' },
    { name: 'random probability not a number', input: 'allow if random(abc)', column: 10, message: 'bad probability' },
    { name: 'rule-applied bad duration', input: 'allow if rule-applied(abc)', column: 10, message: 'bad duration' },
    { name: 'allowed-matches needs a query', input: 'allow if allowed-matches', column: 10, message: 'allowed-matches needs a device query' },
    { name: 'allowed-matches bad query', input: 'allow if allowed-matches(garbage)', column: 10, message: "bad query in allowed-matches: unknown attribute 'garbage'" },
    { name: 'empty condition set', input: 'allow if {}', column: 11, message: 'empty set' },
    { name: 'two conditions without a set', input: 'allow if true false', column: 15, message: "unknown attribute 'false'" },
    { name: 'CR inside a string', input: 'allow name "a\rb"', column: 14, message: 'carriage return' },
    { name: 'two lines given as one rule', input: 'allow\nblock', column: 6, message: 'single line' },
  ];

  for (const row of bad) {
    it(`rejects ${row.name} at column ${row.column}`, () => {
      const err = syntaxError(row.input);
      expect(err.reason).to.contain(row.message);
      expect(err.column).to.equal(row.column);
      expect(err.line).to.equal(7);
      expect(err.formatted).to.equal(`rules.conf:7:${row.column}: ${err.reason}`);
      expect(err.code).to.equal('PORTCULLIS_ERR_RULE_SYNTAX');
    });
  }

  describe('files', () => {
    it('skips blank and comment lines and numbers rules by their line in the file', () => {
      const rules = parseRuleFile('# policy\n\nallow id 1d6b:*\n   # indented comment\n\t\nblock\n', 'p.conf');
      expect(rules.map((r: Rule) => [r.line, printRule(r)])).to.deep.equal([
        [3, 'allow id 1d6b:*'],
        [6, 'block'],
      ]);
    });

    it('reports the first bad rule with its real line number', () => {
      expect(() => parseRuleFile('allow\n\nblock id 12:34\nreject foo\n', 'p.conf'))
        .to.throw(RuleSyntaxError)
        .with.property('formatted')
        .that.matches(/^p\.conf:3:10: expected a device id/);
    });

    it('accepts CRLF files', () => {
      expect(parseRuleFile('allow id 1d6b:*\r\nblock\r\n').map(printRule)).to.deep.equal(['allow id 1d6b:*', 'block']);
    });

    it('places errors inside an allowed-matches query at their own column', () => {
      const err = syntaxError('allow if allowed-matches(name "x" name "y")');
      expect(err.column).to.equal(10);
      expect(err.reason).to.contain('name attribute already defined');
    });

    it('refuses absurdly long lines instead of working on them', () => {
      const err = syntaxError(`allow name "${'a'.repeat(70_000)}"`);
      expect(err.reason).to.contain('longer than');
    });
  });

  describe('parsed values', () => {
    it('keeps strings as bytes and decodes escapes', () => {
      const rule = parseRule('allow name "a\\"\\\\\\x41é"');
      expect(rule.name?.values).to.deep.equal(['a"\\A\u00c3\u00a9']);
    });

    it('parses device ids and interfaces into comparable parts', () => {
      const rule = parseRule('allow id one-of { 1D6B:* *:* 0781:5567 } with-interface { 08:06:* 03:*:* e0:01:01 }');
      expect(rule.id?.values.map((v) => [v.vendor, v.product])).to.deep.equal([
        ['1d6b', null],
        [null, null],
        ['0781', '5567'],
      ]);
      expect(rule.withInterface?.values).to.deep.equal([
        { cls: 8, subclass: 6, protocol: null },
        { cls: 3, subclass: null, protocol: null },
        { cls: 0xe0, subclass: 1, protocol: 1 },
      ]);
    });

    it('turns localtime and durations into seconds', () => {
      const rule = parseRule('allow if { localtime(8:05-17:30:15) rule-applied(1:00) rule-evaluated(90) }');
      expect(rule.conditions?.values).to.deep.equal([
        { kind: 'localtime', negated: false, param: '8:05-17:30:15', begin: 8 * 3600 + 5 * 60, end: 17 * 3600 + 30 * 60 + 15 },
        { kind: 'rule-applied', negated: false, param: '1:00', withinSeconds: 3600 },
        { kind: 'rule-evaluated', negated: false, param: '90', withinSeconds: 90 },
      ]);
    });
  });
});
