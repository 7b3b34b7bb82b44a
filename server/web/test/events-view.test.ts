import { expect } from 'chai';
import { decisionOf, deviceLabel, deviceOf, policyOf } from '../src/pages/events/event-view.js';

/** A device.blocked event's data as agent/src/service/device-events.ts writes it. */
const BLOCKED = {
  name: '1-2',
  label: 'USB flash drive',
  category: 'storage',
  suspicious: false,
  device: { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', manufacturer: 'SanDisk', hash: 'abc=', viaPort: '1-2', interfaces: ['08:06:50'] },
  decision: { target: 'block', source: 'rule', line: 3, rule: 'block with-interface 08:*:*', exceptionId: null, conditionsNotMet: [2], reason: 'rule at line 3' },
  policy: { group: 'finance', version: 4 },
  phase: 'hotplug',
  enforced: true,
};

describe('events page: reading event data', () => {
  it('reads the device attributes', () => {
    expect(deviceOf(BLOCKED)).to.deep.equal({
      id: '0781:5567',
      serial: '4C530001',
      name: 'Cruzer Blade',
      manufacturer: 'SanDisk',
      interfaces: ['08:06:50'],
      viaPort: '1-2',
      hash: 'abc=',
    });
  });

  it('reads the decision trace (null exception reads as absent)', () => {
    const d = decisionOf(BLOCKED);
    expect(d).to.deep.include({ target: 'block', source: 'rule', line: 3, rule: 'block with-interface 08:*:*', exceptionId: undefined, reason: 'rule at line 3' });
    expect(d?.conditionsNotMet).to.deep.equal([2]);
    expect(d?.interfaces).to.deep.equal([]);
  });

  it('reads a per-interface decision table, skipping malformed entries', () => {
    const d = decisionOf({ decision: { target: 'block', conditionsNotMet: 'x', interfaces: [{ type: '03:01:01', target: 'allow', source: 'rule', line: 1, rule: 'allow with-interface 03:*:*' }, { target: 'block' }, 'junk'] } });
    expect(d?.interfaces).to.deep.equal([{ type: '03:01:01', target: 'allow', source: 'rule', line: 1, rule: 'allow with-interface 03:*:*', exceptionId: undefined, reason: undefined }]);
    expect(d?.conditionsNotMet).to.deep.equal([]);
  });

  it('reads the policy version, or nothing when it is incomplete', () => {
    expect(policyOf(BLOCKED)).to.deep.equal({ group: 'finance', version: 4 });
    expect(policyOf({ policy: { group: 'finance' } })).to.equal(undefined);
  });

  // One row per shape of data: the device column's text.
  const labels: Array<[string, Record<string, unknown>, string]> = [
    ['label and id', BLOCKED, 'USB flash drive (0781:5567)'],
    ['name when there is no label', { device: { id: '046d:c52b', name: 'Receiver' } }, 'Receiver (046d:c52b)'],
    ['id alone', { device: { id: '046d:c52b' } }, '046d:c52b'],
    ['nothing for a non-device event', { version: '0.1.0', pid: 12 }, ''],
    ['nothing for a device that is not an object', { device: 'x' }, ''],
  ];
  for (const [name, data, expected] of labels) {
    it(`labels the device: ${name}`, () => {
      expect(deviceLabel(data)).to.equal(expected);
    });
  }
});
