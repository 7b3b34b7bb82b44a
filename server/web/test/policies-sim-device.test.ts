import { expect } from 'chai';
import { translate, translateMsg } from '../src/i18n/i18n.js';
import { fieldLabel, fieldValue } from '../src/pages/policies/field-text.js';
import { EMPTY_FORM, mailEgressProblems, mailServerList, policyBody, type PolicyForm } from '../src/pages/policies/policy-form.js';
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
    expect(translateMsg('en', fieldLabel('mailEgress.mode'))).to.equal(translate('en', 'policies.mail.mode'));
    expect(translateMsg('az', fieldLabel('mailEgress.servers'))).to.equal(translate('az', 'policies.mail.servers'));
  });

  it('words the values and keeps exception lists as they are', () => {
    expect(translateMsg('az', fieldValue('implicitTarget', 'block'))).to.equal(translate('az', 'policies.target.block'));
    expect(translateMsg('az', fieldValue('presentDevices', 'keep'))).to.equal(translate('az', 'policies.present.keep'));
    expect(translateMsg('az', fieldValue('compositeDevices', 'per-interface'))).to.equal(translate('az', 'policies.composite.per-interface'));
    expect(translateMsg('en', fieldValue('ports.serial', 'readonly'))).to.equal(translate('en', 'policies.portAction.readonly'));
    expect(fieldValue('exceptions', 'x-1 (allow id 0781:5567)')).to.equal('x-1 (allow id 0781:5567)');
    expect(translateMsg('en', fieldValue('exceptions', ''))).to.equal('none');
    expect(translateMsg('en', fieldValue('mailEgress.mode', 'enforce'))).to.equal(translate('en', 'policies.mail.mode.enforce'));
    expect(fieldValue('mailEgress.servers', '10.0.0.25, 10.1.0.0/16')).to.equal('10.0.0.25, 10.1.0.0/16');
  });
});

describe('policies: the mail egress settings', () => {
  const form = (mode: 'off' | 'enforce', servers: string): PolicyForm => ({ ...EMPTY_FORM, mailEgress: { mode, servers } });

  it('reads the servers textarea one entry per line, blank lines and spaces dropped', () => {
    expect(mailServerList(' 10.0.0.25 \n\n10.1.0.0/16\n  \n2001:db8::25')).to.deep.equal(['10.0.0.25', '10.1.0.0/16', '2001:db8::25']);
  });

  const rows: Array<{ name: string; mode: 'off' | 'enforce'; servers: string; problems: RegExp[] }> = [
    // Addresses and prefixes are what the guard takes.
    { name: 'addresses and networks', mode: 'enforce', servers: '10.0.0.25\n10.1.0.0/16\n2001:db8::25', problems: [] },
    // A host name would be resolved through DNS, which an attacker can point elsewhere.
    { name: 'a host name', mode: 'enforce', servers: 'mail.mincom.gov.az', problems: [/^mail\.mincom\.gov\.az: /] },
    // Host bits set below the prefix: the admin meant something else.
    { name: 'host bits under a prefix', mode: 'enforce', servers: '10.1.2.3/16', problems: [/^10\.1\.2\.3\/16: /] },
    { name: 'a prefix past 32 bits', mode: 'enforce', servers: '10.0.0.0/33', problems: [/^10\.0\.0\.0\/33: /] },
  ];
  for (const row of rows) {
    it(`finds the problems the server would: ${row.name}`, () => {
      const problems = mailEgressProblems(form(row.mode, row.servers));
      expect(problems).to.have.length(row.problems.length, problems.join('; '));
      row.problems.forEach((re, i) => expect(problems[i]).to.match(re));
    });
  }

  it('sends the mode and the list in the policy body', () => {
    expect(policyBody(form('enforce', '10.0.0.25\n')).mailEgress).to.deep.equal({ mode: 'enforce', servers: ['10.0.0.25'] });
  });
});
