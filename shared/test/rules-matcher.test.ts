import { expect } from 'chai';
import fc from 'fast-check';
import {
  CompiledPolicy,
  MemoryRuleHistory,
  compileAttributes,
  parseRuleFile,
  prepareDevice,
  type Device,
  type EvaluationContext,
  type Target,
} from '../src/index.js';

// A Wednesday at 10:00:00 UTC; tests that read local time give the offset explicitly.
const TEN_UTC: EvaluationContext = { now: new Date('2026-11-25T10:00:00Z'), utcOffsetMinutes: 0 };

const flashDrive: Device = { id: '0781:5567', name: 'Cruzer Blade', serial: '4C5300', interfaces: ['08:06:50'], viaPort: '1-2', connectType: 'hotplug', hash: 'H1', parentHash: 'P1' };
const keyboard: Device = { id: '046d:c31c', name: 'USB Keyboard', interfaces: ['03:01:01', '03:00:00'] };
const badUsb: Device = { id: '0781:5567', name: 'Cruzer', interfaces: ['08:06:50', '03:01:01'] };
const rootHub: Device = { id: '1d6b:0002', name: 'xHCI Host Controller', interfaces: ['09:00:00'], viaPort: 'usb1' };
const bare: Device = { id: 'abcd:ef01' };

function decide(rules: string, device: Device, ctx: EvaluationContext = TEN_UTC, implicit?: Target) {
  const policy = new CompiledPolicy(parseRuleFile(rules), implicit);
  const d = policy.decide(prepareDevice(device), ctx);
  return { target: d.target, line: d.line };
}

describe('rule matcher', () => {
  // Each row: a policy, a device, and the decision USBGuard's semantics give.
  const rows: Array<{ name: string; rules: string; device: Device; expected: { target: Target; line: number | null } }> = [
    // targets, first match, implicit
    { name: 'no rules: implicit block', rules: '', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'empty rule matches everything', rules: 'allow', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'first matching rule wins', rules: 'block id 0781:*\nallow id 0781:5567', device: flashDrive, expected: { target: 'block', line: 1 } },
    { name: 'line numbers count comments and blanks', rules: '# c\n\nreject id 0781:5567', device: flashDrive, expected: { target: 'reject', line: 3 } },
    { name: 'readonly target', rules: 'readonly with-interface 08:*:*', device: flashDrive, expected: { target: 'readonly', line: 1 } },
    // id
    { name: 'exact id', rules: 'allow id 0781:5567', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'exact id, other product', rules: 'allow id 0781:5568', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'vendor wildcard', rules: 'allow id 0781:*', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'any id', rules: 'allow id *:*', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'id compares case-insensitively', rules: 'allow id 0781:5567', device: { ...flashDrive, id: '0781:5567' }, expected: { target: 'allow', line: 1 } },
    { name: 'upper-case rule id still matches', rules: 'allow id 1D6B:*', device: rootHub, expected: { target: 'allow', line: 1 } },
    { name: 'id one-of', rules: 'allow id one-of { 046d:c31c 0781:5567 }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'id none-of', rules: 'allow id none-of { 0781:* }', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'id equals with two values never matches a single id', rules: 'allow id { 0781:5567 0781:* }', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'id all-of: every rule id must match the one device id', rules: 'allow id all-of { 0781:5567 0781:* }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'id all-of fails when one does not match', rules: 'allow id all-of { 0781:5567 046d:* }', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'id match-all: the device id is one of the rule ids', rules: 'allow id match-all { 046d:* 0781:* }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'id equals-ordered with one value', rules: 'allow id equals-ordered { 0781:5567 }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    // string attributes
    { name: 'name', rules: 'allow name "Cruzer Blade"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'name is case-sensitive', rules: 'allow name "cruzer blade"', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'serial', rules: 'allow serial "4C5300"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'missing serial equals ""', rules: 'allow serial ""', device: keyboard, expected: { target: 'allow', line: 1 } },
    { name: 'hash', rules: 'allow hash "H1"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'parent-hash', rules: 'allow parent-hash "P1"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'via-port', rules: 'allow via-port "1-2"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'via-port one-of', rules: 'reject via-port one-of { "1-1" "1-2" }', device: flashDrive, expected: { target: 'reject', line: 1 } },
    { name: 'with-connect-type', rules: 'allow with-connect-type "hotplug"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'with-connect-type mismatch', rules: 'allow with-connect-type "hardwired"', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'string none-of', rules: 'allow name none-of { "Evil" }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'string all-of with two different values never matches', rules: 'allow name all-of { "Cruzer Blade" "x" }', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'label does not take part in matching', rules: 'allow label "x" id 0781:5567', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'non-ASCII names compare as UTF-8 bytes', rules: 'allow name "Cl\\xc3\\xa9"', device: { id: '1234:5678', name: 'Clé' }, expected: { target: 'allow', line: 1 } },
    { name: 'all attributes together', rules: 'allow id 0781:5567 serial "4C5300" name "Cruzer Blade" hash "H1" parent-hash "P1" via-port "1-2" with-interface 08:06:50 with-connect-type "hotplug"', device: flashDrive, expected: { target: 'allow', line: 1 } },
    // with-interface
    { name: 'single interface equals', rules: 'allow with-interface 08:06:50', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'equals: class wildcard', rules: 'allow with-interface equals { 08:*:* }', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'equals: subclass given, protocol wildcard', rules: 'allow with-interface 08:06:*', device: flashDrive, expected: { target: 'allow', line: 1 } },
    { name: 'equals: other subclass', rules: 'allow with-interface 08:05:*', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'equals needs the same number of interfaces', rules: 'allow with-interface equals { 03:*:* }', device: keyboard, expected: { target: 'block', line: null } },
    { name: 'equals is not a bijection: both rule items may hit one device item', rules: 'allow with-interface equals { 08:*:* 08:06:50 }', device: badUsb, expected: { target: 'allow', line: 1 } },
    { name: 'equals with two wildcards covering both interfaces', rules: 'allow with-interface equals { 03:*:* 03:*:* }', device: keyboard, expected: { target: 'allow', line: 1 } },
    { name: 'equals-ordered in order', rules: 'allow with-interface equals-ordered { 03:01:01 03:00:00 }', device: keyboard, expected: { target: 'allow', line: 1 } },
    { name: 'equals-ordered out of order', rules: 'allow with-interface equals-ordered { 03:00:00 03:01:01 }', device: keyboard, expected: { target: 'block', line: null } },
    { name: 'all-of: BadUSB storage plus keyboard', rules: 'reject with-interface all-of { 08:*:* 03:01:* }', device: badUsb, expected: { target: 'reject', line: 1 } },
    { name: 'all-of: plain drive lacks the keyboard', rules: 'reject with-interface all-of { 08:*:* 03:01:* }', device: flashDrive, expected: { target: 'block', line: null } },
    { name: 'one-of', rules: 'block with-interface one-of { 08:*:* 06:*:* }', device: badUsb, expected: { target: 'block', line: 1 } },
    { name: 'one-of with no interfaces never matches', rules: 'allow with-interface one-of { 08:*:* }', device: bare, expected: { target: 'block', line: null } },
    { name: 'none-of', rules: 'allow with-interface none-of { 08:*:* }', device: keyboard, expected: { target: 'allow', line: 1 } },
    { name: 'none-of hit', rules: 'allow with-interface none-of { 08:*:* }', device: badUsb, expected: { target: 'block', line: null } },
    { name: 'match-all: every device interface is allowed', rules: 'allow with-interface match-all { 03:*:* 08:*:* e0:*:* }', device: badUsb, expected: { target: 'allow', line: 1 } },
    { name: 'match-all: one interface not covered', rules: 'allow with-interface match-all { 03:*:* }', device: badUsb, expected: { target: 'block', line: null } },
    { name: 'match-all with no interfaces is true', rules: 'allow with-interface match-all { 03:*:* }', device: bare, expected: { target: 'allow', line: 1 } },
    // conditions (clock at 10:00 UTC)
    { name: 'if true', rules: 'allow if true', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'if false falls through', rules: 'allow if false\nreject', device: bare, expected: { target: 'reject', line: 2 } },
    { name: 'if !false', rules: 'allow if !false', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'localtime inside the range', rules: 'allow if localtime(08:00-18:00)', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'localtime outside the range', rules: 'allow if localtime(11:00-18:00)', device: bare, expected: { target: 'block', line: null } },
    { name: 'localtime end is inclusive', rules: 'allow if localtime(08:00-10:00)', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'localtime begin is inclusive', rules: 'allow if localtime(10:00-10:00)', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'negated localtime after hours', rules: 'reject if !localtime(11:00-18:00)', device: bare, expected: { target: 'reject', line: 1 } },
    { name: 'condition set all-of', rules: 'allow if all-of { true localtime(09:00-11:00) }', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'condition set equals means all-of', rules: 'allow if { true false }', device: bare, expected: { target: 'block', line: null } },
    { name: 'condition set one-of', rules: 'allow if one-of { false true }', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'condition set none-of', rules: 'allow if none-of { false !true }', device: bare, expected: { target: 'allow', line: 1 } },
    { name: 'condition set none-of hit', rules: 'allow if none-of { false true }', device: bare, expected: { target: 'block', line: null } },
    { name: 'conditions checked only after attributes match', rules: 'allow id 0781:* if false\nblock id 0781:*', device: flashDrive, expected: { target: 'block', line: 2 } },
    { name: 'rule-applied without history is false', rules: 'allow if rule-applied', device: bare, expected: { target: 'block', line: null } },
    { name: 'allowed-matches without an answer is false', rules: 'allow if allowed-matches(id *:*)', device: bare, expected: { target: 'block', line: null } },
  ];

  for (const row of rows) {
    it(row.name, () => {
      expect(decide(row.rules, row.device)).to.deep.equal(row.expected);
    });
  }

  it('uses the configured implicit target', () => {
    expect(decide('block id 046d:*', flashDrive, TEN_UTC, 'allow')).to.deep.equal({ target: 'allow', line: null });
  });

  it('reports rules whose conditions failed in the trace', () => {
    const policy = new CompiledPolicy(parseRuleFile('allow id 0781:* if false\nallow if localtime(23:00)\nreject'));
    const d = policy.decide(prepareDevice(flashDrive), TEN_UTC);
    expect(d).to.deep.include({ target: 'reject', line: 3, ruleIndex: 2, implicit: false });
    expect(d.conditionsNotMet).to.deep.equal([1, 2]);
    expect(policy.ruleText(d)).to.equal('reject');
  });

  describe('clock', () => {
    it('reads local time in the given UTC offset', () => {
      // 10:00 UTC is 11:00 at +01:00.
      const ctx = { now: new Date('2026-11-25T10:00:00Z'), utcOffsetMinutes: 60 };
      expect(decide('allow if localtime(11:00-11:00)', bare, ctx)).to.deep.equal({ target: 'allow', line: 1 });
      expect(decide('allow if localtime(10:00-10:00)', bare, ctx)).to.deep.equal({ target: 'block', line: null });
    });

    it('wraps negative offsets across midnight', () => {
      const ctx = { now: new Date('2026-11-25T02:00:00Z'), utcOffsetMinutes: -180 };
      expect(decide('allow if localtime(23:00-23:00)', bare, ctx)).to.deep.equal({ target: 'allow', line: 1 });
    });

    it('reads the runtime time zone without an offset', () => {
      const now = new Date(2026, 10, 25, 7, 30, 0);
      expect(decide('allow if localtime(07:30-07:30)', bare, { now })).to.deep.equal({ target: 'allow', line: 1 });
    });
  });

  describe('random, history and allowed-matches', () => {
    it('random(p) is true when the injected source is below p', () => {
      expect(decide('allow if random(0.3)', bare, { ...TEN_UTC, random: () => 0.29 })).to.deep.equal({ target: 'allow', line: 1 });
      expect(decide('allow if random(0.3)', bare, { ...TEN_UTC, random: () => 0.3 })).to.deep.equal({ target: 'block', line: null });
      expect(decide('allow if random', bare, { ...TEN_UTC, random: () => 0.49 })).to.deep.equal({ target: 'allow', line: 1 });
    });

    it('rule-applied sees earlier decisions within its window', () => {
      const policy = new CompiledPolicy(parseRuleFile('reject id 0781:* if rule-applied(60)\nallow id 0781:*'));
      const history = new MemoryRuleHistory();
      const at = (iso: string) => ({ now: new Date(iso), utcOffsetMinutes: 0, history });
      const dev = prepareDevice(flashDrive);
      // Rule 1 was never applied: rule 2 allows. Rule 1 was evaluated though, not applied.
      expect(policy.decide(dev, at('2026-11-25T10:00:00Z')).line).to.equal(2);
      expect(history.lastEvaluated(0)).to.equal(Date.parse('2026-11-25T10:00:00Z'));
      expect(history.lastApplied(0)).to.equal(undefined);
      expect(history.lastApplied(1)).to.equal(Date.parse('2026-11-25T10:00:00Z'));
    });

    it('rule-evaluated is true once the rule was evaluated, within the window', () => {
      const policy = new CompiledPolicy(parseRuleFile('reject id 0781:* if rule-evaluated(60)\nallow'));
      const history = new MemoryRuleHistory();
      const dev = prepareDevice(flashDrive);
      const at = (iso: string) => ({ now: new Date(iso), utcOffsetMinutes: 0, history });
      expect(policy.decide(dev, at('2026-11-25T10:00:00Z')).target).to.equal('allow');
      expect(policy.decide(dev, at('2026-11-25T10:00:30Z')).target).to.equal('reject');
      expect(policy.decide(dev, at('2026-11-25T10:05:00Z')).target).to.equal('allow');
    });

    it('allowed-matches asks the context with a predicate built from the query', () => {
      const allowed = [prepareDevice(keyboard)];
      const ctx: EvaluationContext = { ...TEN_UTC, allowedMatches: (q) => allowed.some(q) };
      const rules = 'allow with-interface one-of { 03:01:01 } if !allowed-matches(with-interface one-of { 03:01:01 })';
      // A second keyboard is refused while one is already allowed (man page example 4).
      expect(decide(rules, keyboard, ctx)).to.deep.equal({ target: 'block', line: null });
      expect(decide(rules, keyboard, { ...TEN_UTC, allowedMatches: () => false })).to.deep.equal({ target: 'allow', line: 1 });
    });
  });

  describe('index', () => {
    // The index must never change which rule matches: compare with a plain first-match scan.
    const ids = ['0781:5567', '0781:5568', '046d:c31c', '1d6b:0002', '05ac:12a8'];
    const ifs = ['08:06:50', '03:01:01', '03:00:00', '09:00:00', '06:01:01', 'e0:01:01'];
    const idPattern = fc.oneof(fc.constantFrom(...ids), fc.constantFrom('0781:*', '046d:*', '1d6b:*', '*:*', '1D6B:0002'));
    const op = fc.constantFrom('', 'one-of ', 'none-of ', 'all-of ', 'equals ', 'equals-ordered ', 'match-all ');
    const ruleArb = fc
      .record({
        target: fc.constantFrom('allow', 'block', 'reject', 'readonly'),
        id: fc.option(fc.tuple(op, fc.array(idPattern, { minLength: 1, maxLength: 3 })), { nil: undefined }),
        hash: fc.option(fc.tuple(op, fc.array(fc.constantFrom('H1', 'H2', ''), { minLength: 1, maxLength: 2 })), { nil: undefined }),
        serial: fc.option(fc.tuple(op, fc.array(fc.constantFrom('S1', 'S2', ''), { minLength: 1, maxLength: 2 })), { nil: undefined }),
        iface: fc.option(fc.tuple(op, fc.array(fc.constantFrom('08:*:*', '03:01:*', '09:00:00', 'e0:*:*'), { minLength: 1, maxLength: 2 })), { nil: undefined }),
      })
      .map(({ target, id, hash, serial, iface }) => {
        const set = (name: string, v: [string, string[]] | undefined) => (v ? ` ${name} ${v[0]}{ ${v[1].join(' ')} }` : '');
        const quoted = (v: [string, string[]] | undefined): [string, string[]] | undefined => (v ? [v[0], v[1].map((x) => `"${x}"`)] : undefined);
        return target + set('id', id) + set('hash', quoted(hash)) + set('serial', quoted(serial)) + set('with-interface', iface);
      });
    const deviceArb = fc.record({
      id: fc.constantFrom(...ids, 'ffff:0001'),
      hash: fc.constantFrom('H1', 'H2', undefined),
      serial: fc.constantFrom('S1', 'S2', undefined),
      interfaces: fc.array(fc.constantFrom(...ifs), { maxLength: 3 }),
    });

    it('gives the same first match as a linear scan (property, 2000 runs)', () => {
      fc.assert(
        fc.property(fc.array(ruleArb, { maxLength: 30 }), fc.array(deviceArb, { minLength: 1, maxLength: 10 }), (ruleLines, devices) => {
          const rules = parseRuleFile(ruleLines.join('\n'));
          const policy = new CompiledPolicy(rules);
          const preds = rules.map(compileAttributes);
          for (const dev of devices) {
            const p = prepareDevice(dev);
            const linear = preds.findIndex((pred) => pred(p));
            const got = policy.decide(p, TEN_UTC);
            expect(got.ruleIndex).to.equal(linear === -1 ? null : linear);
          }
        }),
        { numRuns: 2000, seed: 20261125 },
      );
    });
  });
});
