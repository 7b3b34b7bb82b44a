import { expect } from 'chai';
import { translate, translateMsg, type Locale } from '../src/i18n/i18n.js';
import { otherFields, reasonText, sourceText, targetText, type DecisionFacts } from '../src/pages/events/event-text.js';

const say = (locale: Locale, d: DecisionFacts) => {
  const text = reasonText(d);
  return text === undefined ? undefined : translateMsg(locale, text);
};

/** A device.blocked event's data as agent/src/service/device-events.ts writes it. */
const BLOCKED = {
  name: '1-2',
  label: 'USB flash drive',
  category: 'storage',
  suspicious: false,
  device: { id: '0781:5567', name: 'Cruzer Blade' },
  decision: { target: 'block', source: 'rule', line: 4, reason: 'rule at line 4' },
  policy: { group: 'finance', version: 4 },
  phase: 'hotplug',
  enforced: true,
};

describe('events page: the decision in the console language', () => {
  it('says which rule line decided, from the line field, not from the agent sentence', () => {
    const d = { target: 'block', source: 'rule', line: 4, reason: 'rule at line 4' };
    expect(say('az', d)).to.equal(translate('az', 'events.reason.rule', { line: 4 }));
    expect(say('az', d)).to.not.contain('rule at');
    expect(say('en', d)).to.equal('rule at line 4');
  });

  it('names the default, the exception and an earlier decision', () => {
    expect(say('en', { target: 'block', source: 'implicit', reason: 'no rule matched: implicit block' })).to.equal('no rule matched; the default: block');
    expect(say('az', { target: 'block', source: 'implicit' })).to.equal(translate('az', 'events.reason.implicit', { target: translate('az', 'target.block') }));
    expect(say('en', { target: 'allow', source: 'exception', exceptionId: 'x-17', reason: 'exception x-17' })).to.equal('temporary exception x-17');
    expect(say('en', { target: 'allow', source: 'previous', reason: 'already decided: allow' })).to.equal('already decided: allow');
    expect(say('en', { target: 'block', source: 'previous', reason: 'already decided: per-interface', interfaces: [{}] })).to.equal(
      translate('en', 'events.reason.previousPerInterface'),
    );
  });

  it('reads the present-devices setting and the unreadable-facts problem from the agent sentence', () => {
    expect(say('en', { target: 'allow', source: 'present-devices', reason: 'present devices: keep' })).to.equal(
      translate('en', 'events.reason.present', { setting: translate('en', 'policies.present.keep') }),
    );
    // An unexpected sentence: the target still says what happened.
    expect(say('en', { target: 'block', source: 'present-devices', reason: 'something else' })).to.equal(
      translate('en', 'events.reason.present', { setting: 'block' }),
    );
    const problem = 'device facts unreadable (EIO reading descriptors); rejected rather than matched on partial facts';
    expect(say('az', { target: 'reject', source: 'problem', reason: problem })).to.equal(translate('az', 'events.reason.problemRejected', { problem: 'EIO reading descriptors' }));
    const kept = 'device facts unreadable (gone); a device present at startup is left as found';
    expect(say('az', { target: 'allow', source: 'problem', reason: kept })).to.equal(translate('az', 'events.reason.problemKept', { problem: 'gone' }));
  });

  it('says a composite device was decided interface by interface (each interface has its own reason)', () => {
    const d = { target: 'block', source: 'rule', line: 5, reason: 'per-interface: 03:01:01 allowed (rule at line 2); 08:06:50 blocked (rule at line 5)', interfaces: [{}, {}] };
    expect(say('en', d)).to.equal(translate('en', 'events.reason.perInterface'));
  });

  it('falls back to the agent text only for an unknown source or a missing field', () => {
    expect(reasonText({ target: 'block', source: 'quantum', reason: 'decided by a newer agent' })).to.equal('decided by a newer agent');
    expect(reasonText({ target: 'block', source: 'rule', reason: 'rule at line ?' })).to.equal('rule at line ?');
    expect(reasonText({ target: 'block' })).to.equal(undefined);
  });

  it('words targets and sources, and leaves unknown ones as sent', () => {
    expect(translateMsg('az', targetText('block'))).to.equal(translate('az', 'target.block'));
    expect(targetText('explode')).to.equal('explode');
    expect(translateMsg('en', sourceText('present-devices'))).to.equal(translate('en', 'events.source.present-devices'));
    expect(sourceText('quantum')).to.equal('quantum');
  });
});

describe('events page: other data in the console language', () => {
  it('labels known fields and words their values (booleans, category, phase)', () => {
    expect(otherFields('en', BLOCKED)).to.deep.equal([
      ['System name', '1-2'],
      ['Kind', 'USB flash drive'],
      ['Category', 'storage'],
      ['Suspicious', 'no'],
      ['Phase', 'device plugged in'],
      ['Enforced', 'yes'],
    ]);
    const az = otherFields('az', BLOCKED);
    expect(az.map(([label]) => label)).to.deep.equal(['name', 'label', 'category', 'suspicious', 'phase', 'enforced'].map((k) => translate('az', `events.data.${k}` as 'events.data.name')));
    expect(az[3]?.[1]).to.equal(translate('az', 'common.no'));
    expect(az[2]?.[1]).to.equal(translate('az', 'events.category.storage'));
  });

  it('words a port event: port class, states and setting', () => {
    const port = { portClass: 'serial', id: 'ttyS0', from: 'allowed', to: 'blocked', setting: 'block', reason: 'ports.serial = block', policy: { group: 'g', version: 2 } };
    expect(otherFields('en', port)).to.deep.equal([
      ['Port type', translate('en', 'policies.port.serial')],
      ['ID', 'ttyS0'],
      ['From', 'allowed'],
      ['To', 'blocked'],
      ['Policy setting', 'block'],
      ['Reason', 'ports.serial = block'],
      // No decision trace to show the policy with: it is listed here.
      ['Policy version', 'g, version 2'],
    ]);
  });

  it('keeps an unknown field name and shows lists, times and nested values readably', () => {
    const rows = otherFields('en', { blockDevices: ['sdb', 'sdb1'], until: '2026-11-25T10:00:00.000Z', futureField: { a: 1 }, from: 'finance' });
    expect(rows[0]).to.deep.equal(['Block devices', 'sdb, sdb1']);
    expect(rows[1]?.[0]).to.equal('Until');
    expect(rows[1]?.[1]).to.match(/25\/11\/2026/);
    expect(rows[2]).to.deep.equal(['futureField', '{"a":1}']);
    // A group name (agent.group-changed) is not a port state: shown as sent.
    expect(rows[3]).to.deep.equal(['From', 'finance']);
  });
});
