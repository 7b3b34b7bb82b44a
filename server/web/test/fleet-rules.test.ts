import { parseRule } from '@portcullis/shared';
import { expect } from 'chai';
import { allowRuleFor, exceptionsOf, insertRule, policyInputOf, temporaryException } from '../src/pages/devices/rule-builder.js';

describe('fleet: allow rules for a seen device', () => {
  const rows: Array<{ name: string; device: { id: string; serial: string; name: string }; rule: string }> = [
    // the usual case: id, serial and name, in USBGuard's attribute order
    { name: 'plain', device: { id: '0781:5567', serial: '4C530001', name: 'Cruzer Blade' }, rule: 'allow id 0781:5567 serial "4C530001" name "Cruzer Blade"' },
    // no serial, no name: the id alone
    { name: 'id only', device: { id: '046D:C31C', serial: '', name: '' }, rule: 'allow id 046d:c31c' },
    // quotes and backslashes are escaped as USBGuard escapes them
    { name: 'quotes', device: { id: '1234:abcd', serial: 'a"b\\c', name: 'Say "hi"' }, rule: 'allow id 1234:abcd serial "a\\"b\\\\c" name "Say \\"hi\\""' },
    // non-ASCII is UTF-8 bytes as \xHH
    { name: 'utf-8', device: { id: '1234:abcd', serial: '', name: 'Flaş' }, rule: 'allow id 1234:abcd name "Fla\\xc5\\x9f"' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const rule = allowRuleFor(row.device);
      expect(rule).to.equal(row.rule);
      expect(() => parseRule(rule)).to.not.throw();
    });
  }
});

describe('fleet: where the allow rule goes', () => {
  const RULE = 'allow id 0781:5567';
  it('goes before the first block rule, with line numbers in the preview', () => {
    const rules = '# hubs\nallow id 1d6b:*\nallow with-interface equals { 03:*:* }\nblock with-interface one-of { 08:*:* }\nreject id 05ac:*\n';
    const ins = insertRule(rules, RULE, 1);
    expect(ins.line).to.equal(4);
    expect(ins.beforeLine).to.equal(4);
    expect(ins.rules.split('\n')[3]).to.equal(RULE);
    expect(ins.rules.endsWith('\n')).to.equal(true);
    expect(ins.preview).to.deep.equal([
      { n: 3, text: 'allow with-interface equals { 03:*:* }', added: false },
      { n: 4, text: RULE, added: true },
      { n: 5, text: 'block with-interface one-of { 08:*:* }', added: false },
    ]);
  });

  it('goes at the end when no rule blocks, keeping the final newline', () => {
    const ins = insertRule('allow id 1d6b:*\nreject id 05ac:*\n\n', RULE);
    expect(ins.beforeLine).to.equal(null);
    expect(ins.line).to.equal(3);
    expect(ins.rules).to.equal(`allow id 1d6b:*\nreject id 05ac:*\n${RULE}\n\n`);
    expect(ins.preview.at(-1)).to.deep.equal({ n: 3, text: RULE, added: true });
  });

  it('fills an empty policy', () => {
    const ins = insertRule('', RULE);
    expect(ins.rules).to.equal(`${RULE}\n`);
    expect(ins.line).to.equal(1);
  });

  it('a block inside a comment is not a block rule', () => {
    const ins = insertRule('# block everything else\nallow id 1d6b:*', RULE);
    expect(ins.beforeLine).to.equal(null);
    expect(ins.rules).to.equal(`# block everything else\nallow id 1d6b:*\n${RULE}`);
  });
});

describe('fleet: temporary exceptions', () => {
  const now = new Date('2026-11-25T10:00:00.000Z');
  const device = { id: '0781:5567', serial: 'S1', name: 'Stick' };

  it('grants for the chosen hours, to this computer only, with a valid id', () => {
    const x = temporaryException('agt_1', device, 8, 'audit', now);
    expect(x).to.include({ rule: 'allow id 0781:5567 serial "S1" name "Stick"', reason: 'audit', until: '2026-11-25T18:00:00.000Z', agentId: 'agt_1' });
    expect(x.id).to.match(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/).and.have.length.below(65);
  });

  it("lists only this computer's exceptions, newest expiry first, marking the expired", () => {
    const doc = {
      exceptions: [
        { id: 'a', rule: 'allow id 1:1', reason: '', until: '2026-11-25T09:00:00.000Z', agentId: 'agt_1' },
        { id: 'b', rule: 'allow id 1:1', reason: '', until: '2026-11-26T09:00:00.000Z', agentId: 'agt_1' },
        { id: 'c', rule: 'allow id 1:1', reason: '', until: '2026-11-26T09:00:00.000Z', agentId: 'agt_2' },
        { id: 'd', rule: 'allow id 1:1', reason: '', until: '2026-11-26T09:00:00.000Z', agentId: null },
      ],
    };
    expect(exceptionsOf(doc, 'agt_1', now).map((x) => [x.id, x.active])).to.deep.equal([['b', true], ['a', false]]);
  });

  it('builds the PUT body from the document: input fields, the change and the comment, nothing the server sets', () => {
    const doc = {
      schema: 1 as const,
      group: 'g',
      version: 3,
      rules: 'allow id 1d6b:*',
      implicitTarget: 'block' as const,
      presentDevices: 'apply-policy' as const,
      ports: { serial: 'block' as const, parallel: 'block' as const, bluetooth: 'allow' as const, optical: 'readonly' as const },
      exceptions: [],
      createdAt: '2026-11-25T10:00:00.000Z',
      createdBy: 'admin',
    };
    const x = temporaryException('agt_1', device, 1, 'r', now);
    expect(policyInputOf(doc, 'why', { exceptions: [x] })).to.deep.equal({
      rules: 'allow id 1d6b:*',
      implicitTarget: 'block',
      presentDevices: 'apply-policy',
      ports: doc.ports,
      exceptions: [x],
      comment: 'why',
    });
    expect(policyInputOf({ ...doc, compositeDevices: 'per-interface' }, 'c').compositeDevices).to.equal('per-interface');
  });
});
