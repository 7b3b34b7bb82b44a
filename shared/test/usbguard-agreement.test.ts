import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRule, parseRuleFile, printRule, RuleSyntaxError, type Rule } from '../src/rules/index.js';
import {
  CORPUS_CONDITIONS,
  CORPUS_OPERATORS,
  CORPUS_TARGETS,
  invalidCorpus,
  validCorpus,
} from './support/rule-corpus.js';

// Differential test: Portcullis must read and print every rule exactly as USBGuard 1.1.2's
// usbguard-rule-parser (Debian's usbguard package) does. The reference is required, never
// skipped: a machine without it fails here and says what to install.

const REFERENCE = 'usbguard-rule-parser';
const INSTALL_HINT =
  `${REFERENCE} was not found on PATH. It is the reference for this test (USBGuard 1.1.2): ` +
  `install Debian's usbguard package (sudo apt-get install usbguard) and run the tests again.`;

const SEED = 20261125;
const VALID = validCorpus(SEED, 600);
const INVALID = invalidCorpus(SEED, 300);

function runReference(args: readonly string[]): SpawnSyncReturns<Buffer> {
  const result = spawnSync(REFERENCE, args, { maxBuffer: 64 * 1024 * 1024, timeout: 15_000 });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(INSTALL_HINT);
    throw result.error;
  }
  return result;
}

function withTempDir<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-usbguard-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let referenceOutputs: string[] | undefined;

/**
 * usbguard-rule-parser's OUTPUT for each valid line, from one run over the whole corpus. It
 * prints, for each non-empty line,
 *
 *     INPUT: allow   id 1234:5678 # c
 *     OUTPUT: allow id 1234:5678
 *
 * (an empty OUTPUT for a comment-only line) and stops at the first bad line.
 */
function reference(): string[] {
  if (referenceOutputs) return referenceOutputs;
  const result = withTempDir((dir) => {
    const file = join(dir, 'valid.rules');
    writeFileSync(file, VALID.join('\n') + '\n', 'utf8');
    return runReference(['-f', file]);
  });
  const out = result.stdout.toString('utf8').split('\n');
  if (result.status !== 0) {
    const inputs = out.filter((l) => l.startsWith('INPUT: '));
    throw new Error(
      `${REFERENCE} rejected the valid corpus at ${JSON.stringify(inputs.at(-1))} ` +
        `(exit ${result.status}): ${result.stderr.toString('utf8')}`,
    );
  }
  const outputs: string[] = [];
  let k = 0;
  for (const line of VALID) {
    const input = out[k];
    const output = out[k + 1];
    if (input !== `INPUT: ${line}` || output === undefined || !output.startsWith('OUTPUT: ')) {
      throw new Error(`unexpected ${REFERENCE} output near ${JSON.stringify(input)} for ${JSON.stringify(line)}`);
    }
    outputs.push(output.slice('OUTPUT: '.length));
    k += 2;
  }
  referenceOutputs = outputs;
  return outputs;
}

/** What Portcullis prints for a corpus line: '' for a comment-only line, as usbguard does. */
function portcullisOutput(line: string): string {
  try {
    if (/^#/.test(line)) {
      const rules = parseRuleFile(line, 'corpus.rules');
      return rules.length === 0 ? '' : rules.map(printRule).join(' / ');
    }
    return printRule(parseRule(line));
  } catch (err) {
    return `threw ${String(err)}`;
  }
}

/** `input | usbguard | portcullis`, the first few, for a failure message people can act on. */
function report(title: string, rows: ReadonlyArray<readonly [string, string, string]>): string {
  const shown = rows.slice(0, 40).map(([i, u, p]) => `  ${JSON.stringify(i)} | ${u} | ${p}`);
  return `${rows.length} ${title} (input | usbguard | portcullis):\n${shown.join('\n')}`;
}

describe('agreement with usbguard-rule-parser (USBGuard 1.1.2, the reference)', function () {
  this.timeout(20_000);

  it('has the reference usbguard-rule-parser installed', () => {
    const result = runReference(['allow id 1234:5678']);
    expect(result.status, result.stderr.toString('utf8')).to.equal(0);
    expect(result.stdout.toString('utf8')).to.contain('OUTPUT: allow id 1234:5678');
  });

  it('builds the same corpora from the same seed, covering every feature', () => {
    expect(validCorpus(SEED, 600)).to.deep.equal(VALID);
    expect(invalidCorpus(SEED, 300)).to.deep.equal(INVALID);
    expect(validCorpus(SEED + 1, 600)).not.to.deep.equal(VALID);
    expect(VALID.length).to.be.at.least(400);
    expect(INVALID.length).to.be.at.least(200);
    const text = VALID.join('\n');
    const features: Array<[string, RegExp]> = [
      ...CORPUS_TARGETS.map((t): [string, RegExp] => [t, new RegExp(`^${t}\\b`, 'm')]),
      ...CORPUS_OPERATORS.map((op): [string, RegExp] => [op, new RegExp(` ${op}[ \\t]+\\{`)]),
      ...CORPUS_CONDITIONS.map((c): [string, RegExp] => [c, new RegExp(`[ {!]${c}\\b`)]),
      ...['id', 'serial', 'name', 'hash', 'parent-hash', 'via-port', 'with-interface', 'with-connect-type', 'label', 'if'].map(
        (a): [string, RegExp] => [a, new RegExp(`[ \\t]${a}[ \\t]`)],
      ),
      ['bare id', /^(allow|block|reject)[ \t]+[0-9a-fA-F*]{1,4}:/m],
      ['vvvv:*', /[ \t{][0-9a-fA-F]{4}:\*/],
      ['*:*', /[ \t{]\*:\*/],
      ['cc:ss:*', / [0-9a-fA-F]{2}:[0-9a-fA-F]{2}:\*/],
      ['cc:*:*', / [0-9a-fA-F]{2}:\*:\*/],
      ['upper-case hex', /[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}/],
      ['set without operator', /(name|serial|hash|id|with-interface|if)[ \t]+\{/],
      ['set without inner blanks', /\{"[^"]*"\}/],
      ['escaped quote', /\\"/],
      ['escaped backslash', /\\\\/],
      ['\\xHH escape', /\\x[0-9a-fA-F]{2}/],
      ['raw non-ASCII', /"[^"\n]*[\u0080-\uffff][^"\n]*"/],
      ['raw control byte', /"[^"\n]*[\x01-\x08\x0b-\x1f\x7f][^"\n]*"/],
      ['raw tab in a string', /"[^"\n]*\t[^"\n]*"/],
      ['negation', /[ {]!\w/],
      ['condition set', /if[ \t]+(\S+[ \t]+)?\{/],
      ['comment after a rule', /^(allow|block|reject)[^\n]*#/m],
      ['comment-only line', /^#/m],
      ['repeated label', /label[^\n]*label/],
      ['several blanks', /\S {2,}\S/],
      ['tab between tokens', /\S\t+\S/],
    ];
    const missing = features.filter(([, re]) => !re.test(text)).map(([name]) => name);
    expect(missing, 'features missing from the valid corpus').to.deep.equal([]);
  });

  it('usbguard-rule-parser accepts every valid line', () => {
    expect(reference()).to.have.length(VALID.length);
  });

  it('prints every valid line exactly as usbguard-rule-parser does', () => {
    const expected = reference();
    const rows: Array<[string, string, string]> = [];
    VALID.forEach((line, i) => {
      const want = expected[i] ?? '';
      const got = portcullisOutput(line);
      if (got !== want) rows.push([line, want, got]);
    });
    if (rows.length > 0) expect.fail(report('disagreements', rows));
  });

  it('prints its own output unchanged (parse ∘ print is idempotent)', () => {
    const rows: Array<[string, string, string]> = [];
    for (const line of VALID) {
      if (/^#/.test(line)) continue;
      let printed: string;
      try {
        printed = printRule(parseRule(line));
      } catch {
        continue; // reported by the agreement test
      }
      const again = portcullisOutput(printed);
      if (again !== printed) rows.push([line, printed, again]);
    }
    if (rows.length > 0) expect.fail(report('outputs that do not print back to themselves', rows));
  });

  it('reads the corpus as one file: the same rules, each with its line number', () => {
    const expected = reference();
    const got = new Map(parseRuleFile(VALID.join('\n') + '\n', 'corpus.rules').map((r) => [r.line, printRule(r)]));
    const rows: Array<[string, string, string]> = [];
    VALID.forEach((line, i) => {
      const want = expected[i] ?? '';
      const printed = got.get(i + 1) ?? '';
      if (printed !== want) rows.push([`line ${i + 1}: ${line}`, want, printed]);
      got.delete(i + 1);
    });
    for (const [n, printed] of got) rows.push([`line ${n}: (none)`, '', printed]);
    if (rows.length > 0) expect.fail(report('lines read differently as one file', rows));
  });

  it('usbguard-rule-parser rejects every invalid line', () => {
    const accepted = withTempDir((dir) =>
      INVALID.flatMap((line, i) => {
        const file = join(dir, `bad-${i}.rules`);
        writeFileSync(file, line + '\n', 'utf8');
        const result = runReference(['-f', file]);
        const stdout = result.stdout.toString('utf8');
        return result.status === 1 && !stdout.includes('OUTPUT: ') ? [] : [`${JSON.stringify(line)} -> ${stdout.trim()}`];
      }),
    );
    expect(accepted, 'invalid lines usbguard-rule-parser accepted').to.deep.equal([]);
  });

  it('rejects every invalid line with a RuleSyntaxError that points into the line', () => {
    const rows: Array<[string, string, string]> = [];
    INVALID.forEach((line, i) => {
      // Put a few valid lines first so the error's line number is checked too.
      const before = VALID.slice(3, 3 + (i % 5));
      const lineNo = before.length + 1;
      try {
        const rules = parseRuleFile([...before, line].join('\n'), 'bad.rules');
        rows.push([line, 'rejected', `accepted: ${rules.map(printRule).at(-1) ?? ''}`]);
      } catch (err) {
        if (!(err instanceof RuleSyntaxError)) {
          rows.push([line, 'rejected', `threw ${String(err)}`]);
          return;
        }
        const where = `${err.file}:${err.line}:${err.column}: `;
        const ok =
          err.file === 'bad.rules' &&
          err.line === lineNo &&
          Number.isInteger(err.column) &&
          err.column >= 1 &&
          err.column <= line.length + 1 &&
          err.formatted.startsWith(where) &&
          String(err) === err.formatted;
        if (!ok) rows.push([line, `rejected at bad.rules:${lineNo}:<1..${line.length + 1}>`, `${err.formatted}`]);
      }
      try {
        const rule = parseRule(line);
        rows.push([line, 'rejected', `parseRule accepted: ${printRule(rule)}`]);
      } catch (err) {
        if (!(err instanceof RuleSyntaxError)) rows.push([line, 'rejected', `parseRule threw ${String(err)}`]);
      }
    });
    if (rows.length > 0) expect.fail(report('invalid lines not rejected properly', rows));
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: whatever the input, parseRule either returns a rule or throws a RuleSyntaxError,
// and a rule it returns prints to text that parses back to the same print.

function parsesOrRejects(text: string): void {
  let rule: Rule;
  try {
    rule = parseRule(text);
  } catch (err) {
    if (!(err instanceof RuleSyntaxError)) throw err;
    expect(err.line).to.equal(1);
    expect(err.column).to.be.at.least(1);
    return;
  }
  const printed = printRule(rule);
  expect(printRule(parseRule(printed)), `round trip of ${JSON.stringify(text)}`).to.equal(printed);
}

const RULE_TOKENS = [
  ...CORPUS_TARGETS,
  'readonly',
  'id',
  'serial',
  'name',
  'hash',
  'parent-hash',
  'via-port',
  'with-interface',
  'with-connect-type',
  'label',
  'if',
  ...CORPUS_OPERATORS,
  '{',
  '}',
  '"a"',
  '""',
  '"\\x41\\"\\\\"',
  '"é"',
  '1234:5678',
  'AbCd:*',
  '*:*',
  '03:01:02',
  '08:*:*',
  'true',
  '!false',
  'random(0.5)',
  'localtime(08:00-18:00)',
  'rule-applied(30)',
  'rule-evaluated',
  'allowed-matches(id 1234:5678)',
  '# c',
];

const SPLICE = [...RULE_TOKENS, ' ', '  ', '\t', '"', '\\', '\\x', '(', ')', ':', '*', '!', '#', '\n', '\r', '\u00a0', '\u2028', '\0', 'é'];

type Mutation =
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'delete'; readonly at: number; readonly len: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly len: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'replace'; readonly at: number; readonly text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SPLICE), fc.string({ maxLength: 3 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: fc.constantFrom(...SPLICE) }),
);

function mutate(line: string, m: Mutation): string {
  const at = m.at % (line.length + 1);
  switch (m.op) {
    case 'insert':
      return line.slice(0, at) + m.text + line.slice(at);
    case 'delete':
      return line.slice(0, at) + line.slice(at + m.len);
    case 'duplicate':
      return line.slice(0, at + m.len) + line.slice(at);
    case 'truncate':
      return line.slice(0, at);
    case 'replace':
      return line.slice(0, at) + m.text + line.slice(at + 1);
  }
}

describe('parseRule never crashes (fast-check)', function () {
  this.timeout(20_000);
  const rules = VALID.filter((l) => !l.startsWith('#'));

  it('random printable strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), parsesOrRejects), { numRuns: 1000 });
  });

  it('random bytes and random UTF-16 (lone surrogates included)', () => {
    const bytes = fc.uint8Array({ maxLength: 120 }).map((b) => String.fromCharCode(...b));
    fc.assert(fc.property(fc.oneof(bytes, fc.string({ unit: 'binary', maxLength: 120 })), parsesOrRejects), {
      numRuns: 1000,
    });
  });

  it('mutated lines of the valid corpus', () => {
    const arb = fc
      .tuple(fc.constantFrom(...rules), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([line, ms]) => ms.reduce(mutate, line));
    fc.assert(fc.property(arb, parsesOrRejects), { numRuns: 2500 });
  });

  it('rule tokens in random order', () => {
    const arb = fc
      .tuple(fc.array(fc.constantFrom(...RULE_TOKENS), { maxLength: 10 }), fc.constantFrom(' ', '  ', '\t'))
      .map(([tokens, sep]) => tokens.join(sep));
    fc.assert(fc.property(arb, parsesOrRejects), { numRuns: 1000 });
  });
});
