import { expect } from 'chai';
import { EMPTY_FORM, fieldChanges, policyBody, saveBlocker, sameForm } from '../src/pages/policies/policy-form.js';
import { decisionChanges, type SimulatedDevice, type Simulation } from '../src/pages/policies/simulation.js';

const sim = (devices: SimulatedDevice[]): Simulation => ({
  group: 'g',
  evaluatedAt: '2026-01-01T00:00:00.000Z',
  totals: { allow: 0, block: 0, reject: 0, readonly: 0 },
  unreadable: 0,
  devices,
});
const dev = (key: string, target: SimulatedDevice['target'], line: number | null, computers: string[]): SimulatedDevice => ({
  key,
  label: `label ${key}`,
  target,
  line,
  rule: line === null ? null : `rule at ${line}`,
  exception: null,
  computers,
});

describe('policies: which decisions a change makes different', () => {
  it('lists a device whose target changes, with before and after, on the PCs where it changes', () => {
    const before = sim([dev('stick', 'block', 3, ['pc1', 'pc2']), dev('kbd', 'allow', 1, ['pc1'])]);
    const after = sim([dev('stick', 'allow', 2, ['pc2', 'pc1']), dev('kbd', 'allow', 1, ['pc1'])]);
    const changes = decisionChanges(before, after);
    expect(changes).to.have.length(1);
    expect(changes[0]).to.deep.include({ key: 'stick', computers: ['pc1', 'pc2'] });
    expect(changes[0]?.before).to.deep.include({ target: 'block', line: 3 });
    expect(changes[0]?.after).to.deep.include({ target: 'allow', line: 2 });
  });

  it('ignores a device matched by another line with the same target', () => {
    expect(decisionChanges(sim([dev('a', 'block', 3, ['pc1'])]), sim([dev('a', 'block', 7, ['pc1'])]))).to.deep.equal([]);
  });

  it('splits a device by PC when it changes on one PC only (an exception on the other)', () => {
    const before = sim([dev('a', 'block', null, ['pc1', 'pc2'])]);
    const after = sim([dev('a', 'allow', 4, ['pc1']), dev('a', 'block', null, ['pc2'])]);
    const changes = decisionChanges(before, after);
    expect(changes.map((c) => [c.key, c.computers])).to.deep.equal([['a', ['pc1']]]);
  });

  it('shows every device as new when the group had no policy', () => {
    const changes = decisionChanges(null, sim([dev('a', 'block', null, ['pc1'])]));
    expect(changes.map((c) => [c.key, c.before])).to.deep.equal([['a', null]]);
  });
});

describe('policies: the form', () => {
  it('says why saving is off, in order: rules, unchanged, comment, length', () => {
    expect(saveBlocker({ problems: 1, comment: 'x', changed: true })).to.equal('rules');
    expect(saveBlocker({ problems: 0, comment: 'x', changed: false })).to.equal('unchanged');
    expect(saveBlocker({ problems: 0, comment: '  \n', changed: true })).to.equal('comment');
    expect(saveBlocker({ problems: 0, comment: 'x'.repeat(501), changed: true })).to.equal('commentTooLong');
    expect(saveBlocker({ problems: 0, comment: ' why ', changed: true })).to.equal(null);
  });

  it('sends the trimmed comment with a save and none with a simulation', () => {
    expect(policyBody(EMPTY_FORM, '  because  ')).to.deep.include({ comment: 'because', rules: '' });
    expect(policyBody(EMPTY_FORM)).to.not.have.property('comment');
  });

  it('lists the other fields that differ', () => {
    const after = { ...EMPTY_FORM, implicitTarget: 'allow' as const, ports: { ...EMPTY_FORM.ports, optical: 'readonly' as const } };
    expect(fieldChanges(EMPTY_FORM, after)).to.deep.equal([
      { field: 'implicitTarget', before: 'block', after: 'allow' },
      { field: 'ports.optical', before: 'block', after: 'readonly' },
    ]);
    expect(sameForm(EMPTY_FORM, { ...EMPTY_FORM })).to.equal(true);
    expect(sameForm(EMPTY_FORM, { ...EMPTY_FORM, rules: 'allow' })).to.equal(false);
  });
});
