import { expect } from 'chai';
import { translate, translateMsg } from '../src/i18n/i18n.js';
import { fieldLabel, fieldValue } from '../src/pages/policies/field-text.js';
import { decisionChanges, identityOf, type SimulatedDevice, type Simulation } from '../src/pages/policies/simulation.js';

const sim = (devices: SimulatedDevice[]): Simulation => ({
  group: 'g',
  evaluatedAt: '2026-01-01T00:00:00.000Z',
  totals: { allow: 0, block: 0, reject: 0, readonly: 0 },
  unreadable: 0,
  devices,
});

describe('policies: how a simulation row names its device', () => {
  it('carries vendor:product, name, serial and hash from the simulate answer', () => {
    const stick: SimulatedDevice = {
      key: 'hash-of-stick=',
      device: { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', hash: 'hash-of-stick=' },
      label: 'USB flash drive',
      target: 'allow',
      line: 2,
      rule: 'allow id 0781:5567',
      exception: null,
      computers: ['pc1'],
    };
    const [change] = decisionChanges(sim([{ ...stick, target: 'block', line: 5 }]), sim([stick]));
    expect(change?.device).to.deep.equal({ id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', hash: 'hash-of-stick=' });
  });

  it('reads a missing or blank serial and name as absent', () => {
    expect(identityOf({ key: 'k', device: { id: '046d:c31c', name: '', serial: '  ' } })).to.deep.equal({ id: '046d:c31c', name: null, serial: null, hash: null });
  });

  it('keeps the key as the hash when an older answer has no device facts', () => {
    expect(identityOf({ key: 'abc=' })).to.deep.equal({ id: null, name: null, serial: null, hash: 'abc=' });
  });
});

describe('policies: the version diff fields in words', () => {
  it('names fields as the settings form does', () => {
    expect(translateMsg('az', fieldLabel('implicitTarget'))).to.equal(translate('az', 'policies.settings.implicitTarget'));
    expect(translateMsg('en', fieldLabel('ports.optical'))).to.equal(translate('en', 'policies.port.optical'));
    expect(translateMsg('en', fieldLabel('exceptions'))).to.equal(translate('en', 'policies.diff.exceptions'));
    expect(fieldLabel('somethingNew')).to.equal('somethingNew');
  });

  it('words the values and keeps exception lists as they are', () => {
    expect(translateMsg('az', fieldValue('implicitTarget', 'block'))).to.equal(translate('az', 'policies.target.block'));
    expect(translateMsg('az', fieldValue('presentDevices', 'keep'))).to.equal(translate('az', 'policies.present.keep'));
    expect(translateMsg('az', fieldValue('compositeDevices', 'per-interface'))).to.equal(translate('az', 'policies.composite.per-interface'));
    expect(translateMsg('en', fieldValue('ports.serial', 'readonly'))).to.equal(translate('en', 'policies.portAction.readonly'));
    expect(fieldValue('exceptions', 'x-1 (allow id 0781:5567)')).to.equal('x-1 (allow id 0781:5567)');
    expect(translateMsg('en', fieldValue('exceptions', ''))).to.equal('none');
  });
});
