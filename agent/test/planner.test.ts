import { expect } from 'chai';
import {
  CompiledPolicy,
  DEFAULT_MAIL_EGRESS,
  DEFAULT_PORT_POLICY,
  parseRuleFile,
  type PolicyDocument,
  type PresentDevicePolicy,
  type TemporaryException,
} from '@portcullis/shared';
import { plan, type DeviceDecision, type PlanAction, type PlanPhase } from '../src/core/planner.js';
import type { UsbDeviceState } from '../src/platform/device-source.js';

const RULES = [
  'allow id 046d:c31c with-interface equals { 03:01:01 }',
  'reject with-interface all-of { 08:*:* 03:*:* }',
  'readonly id 0951:1666',
  'allow id 1050:0407 if localtime(08:00-18:00)',
  'block with-interface one-of { 08:*:* }',
].join('\n');

const AGENT = 'agent-a';
/** Local wall-clock times, so `localtime` reads the same hour in any time zone. */
const MORNING = new Date(2026, 5, 1, 10, 0, 0);
const EVENING = new Date(2026, 5, 1, 20, 0, 0);

const X17: TemporaryException = { id: 'x-17', rule: 'allow id 0781:5567', reason: 'audit', until: '2026-12-01T00:00:00Z', agentId: AGENT };
const OTHER_AGENT: TemporaryException = { ...X17, id: 'x-18', agentId: 'agent-b' };
const EXPIRED: TemporaryException = { ...X17, id: 'x-19', until: '2026-01-01T00:00:00Z' };
const UNPARSABLE: TemporaryException = { ...X17, id: 'x-20', rule: 'allow id 0781:5567 bogus' };

function policy(presentDevices: PresentDevicePolicy = 'apply-policy', exceptions: TemporaryException[] = []): PolicyDocument {
  return {
    schema: 1,
    group: 'ministry',
    version: 7,
    rules: RULES,
    implicitTarget: 'block',
    presentDevices,
    compositeDevices: 'whole-device',
    ports: DEFAULT_PORT_POLICY,
    mailEgress: DEFAULT_MAIL_EGRESS,
    exceptions,
    createdAt: '2026-05-01T00:00:00Z',
    createdBy: 'admin',
  };
}

const COMPILED = new CompiledPolicy(parseRuleFile(RULES), 'block');

interface DeviceOptions {
  readonly authorized?: boolean;
  readonly problem?: string;
}

function usb(name: string, id: string, interfaces: string[], options: DeviceOptions = {}): UsbDeviceState {
  const [bus, devnum] = name.split('-');
  return {
    name,
    device: { id, interfaces, viaPort: name, connectType: 'hotplug' },
    authorized: options.authorized ?? false,
    rootHub: false,
    busnum: Number(bus),
    devnum: devnum === undefined ? 1 : Number(devnum.replace(/\./g, '')),
    interfaceNames: [],
    devpath: `/devices/pci0000:00/0000:00:14.0/usb${String(bus)}/${name}`,
    deviceClass: '00',
    manufacturer: 'Test',
    ...(options.problem !== undefined ? { problem: options.problem } : {}),
  };
}

function rootHub(n: number): UsbDeviceState {
  return { ...usb(`${n}-0`, '1d6b:0002', ['09:00:00'], { authorized: true }), name: `usb${n}`, rootHub: true, deviceClass: '09' };
}

const keyboard = (name: string, o?: DeviceOptions) => usb(name, '046d:c31c', ['03:01:01'], o);
const flash = (name: string, o?: DeviceOptions) => usb(name, '0781:5567', ['08:06:50'], o);
const badUsb = (name: string, o?: DeviceOptions) => usb(name, '1d6b:0104', ['03:01:01', '08:06:50'], o);
const kingston = (name: string, o?: DeviceOptions) => usb(name, '0951:1666', ['08:06:50'], o);
const yubikey = (name: string, o?: DeviceOptions) => usb(name, '1050:0407', ['03:01:01'], o);
const hub = (name: string, o?: DeviceOptions) => usb(name, '05e3:0610', ['09:00:00'], o);

interface Row {
  readonly name: string;
  readonly phase: PlanPhase;
  readonly devices: UsbDeviceState[];
  readonly policy?: PolicyDocument;
  readonly previous?: [string, string][];
  readonly now?: Date;
  /** `kind name`, or `fail-closed hub,hub`. */
  readonly actions: string[];
  /** Fields of the decision for the first non-root device. */
  readonly decision?: Partial<DeviceDecision>;
  /** Decision order, when the row is about order. */
  readonly order?: string[];
}

function show(a: PlanAction): string {
  return a.kind === 'fail-closed' ? `fail-closed ${a.rootHubs.join(',')}` : `${a.kind} ${a.name}`;
}

const ROWS: Row[] = [
  // A keyboard matching its allow rule is authorized on arrival.
  { name: 'keyboard allowed', phase: 'hotplug', devices: [keyboard('1-1')], actions: ['authorize 1-1'], decision: { target: 'allow', source: 'rule', line: 1, rule: 'allow id 046d:c31c with-interface 03:01:01', label: 'keyboard', interfaces: null } },
  // A flash drive arrives unauthorized (authorized_default=0) and a block needs no write.
  { name: 'flash drive blocked, nothing to write', phase: 'hotplug', devices: [flash('1-2')], actions: [], decision: { target: 'block', source: 'rule', line: 5 } },
  // An authorized flash drive that the rules block is deauthorized.
  { name: 'authorized flash drive deauthorized', phase: 'hotplug', devices: [flash('1-2', { authorized: true })], actions: ['deauthorize 1-2'], decision: { target: 'block', line: 5 } },
  // Storage that also types (BadUSB) is rejected by the reject rule, before the storage block rule.
  { name: 'BadUSB rejected', phase: 'hotplug', devices: [badUsb('1-3')], actions: ['remove 1-3'], decision: { target: 'reject', source: 'rule', line: 2 } },
  // readonly authorizes, then forces the block devices read-only.
  { name: 'readonly', phase: 'hotplug', devices: [kingston('1-4')], actions: ['authorize 1-4', 'set-readonly 1-4'], decision: { target: 'readonly', line: 3 } },
  // An exception for this agent wins over the rule that blocks storage.
  { name: 'exception for this agent overrides a block', phase: 'hotplug', policy: policy('apply-policy', [X17]), devices: [flash('1-2')], actions: ['authorize 1-2'], decision: { target: 'allow', source: 'exception', exceptionId: 'x-17', line: null, rule: 'allow id 0781:5567', reason: 'exception x-17' } },
  // An exception for another computer does not apply here.
  { name: 'exception for another agent ignored', phase: 'hotplug', policy: policy('apply-policy', [OTHER_AGENT]), devices: [flash('1-2')], actions: [], decision: { target: 'block', source: 'rule', exceptionId: null, line: 5 } },
  // An exception past its `until` is ignored.
  { name: 'expired exception ignored', phase: 'hotplug', policy: policy('apply-policy', [EXPIRED]), devices: [flash('1-2')], actions: [], decision: { target: 'block', source: 'rule', line: 5 } },
  // An exception whose rule does not parse is dropped: the device falls through to the rules (fail closed).
  { name: 'unparsable exception dropped', phase: 'hotplug', policy: policy('apply-policy', [UNPARSABLE]), devices: [flash('1-2')], actions: [], decision: { target: 'block', source: 'rule' } },

  // presentDevices at startup: apply-policy evaluates the rules, so a present flash drive is blocked.
  { name: 'startup apply-policy', phase: 'startup', devices: [flash('1-2', { authorized: true })], actions: ['fail-closed ', 'deauthorize 1-2'], decision: { target: 'block', source: 'rule', line: 5 } },
  // presentDevices allow: every present device is authorized, the rules not consulted.
  { name: 'startup allow', phase: 'startup', policy: policy('allow'), devices: [flash('1-2')], actions: ['fail-closed ', 'authorize 1-2'], decision: { target: 'allow', source: 'present-devices', reason: 'present devices: allow' } },
  // presentDevices block: even the allowed keyboard is deauthorized.
  { name: 'startup block', phase: 'startup', policy: policy('block'), devices: [keyboard('1-1', { authorized: true })], actions: ['fail-closed ', 'deauthorize 1-1'], decision: { target: 'block', source: 'present-devices' } },
  // presentDevices keep: an authorized flash drive stays authorized, no write.
  { name: 'startup keep (authorized)', phase: 'startup', policy: policy('keep'), devices: [flash('1-2', { authorized: true })], actions: ['fail-closed '], decision: { target: 'allow', source: 'present-devices', reason: 'present devices: keep' } },
  // presentDevices keep: an unauthorized keyboard stays unauthorized, no write.
  { name: 'startup keep (unauthorized)', phase: 'startup', policy: policy('keep'), devices: [keyboard('1-1')], actions: ['fail-closed '], decision: { target: 'block', source: 'present-devices' } },
  // presentDevices keep outranks an exception at startup (USBGuard: the setting decides present devices wholesale).
  { name: 'startup keep over exception', phase: 'startup', policy: policy('keep', [X17]), devices: [flash('1-2')], actions: ['fail-closed '], decision: { target: 'block', source: 'present-devices' } },
  // presentDevices allow does not apply to a device plugged in later: the rules block it.
  { name: 'hotplug ignores presentDevices allow', phase: 'hotplug', policy: policy('allow'), devices: [flash('1-2', { authorized: true })], actions: ['deauthorize 1-2'], decision: { source: 'rule', target: 'block' } },
  // presentDevices block does not apply later: the rules allow the keyboard.
  { name: 'hotplug ignores presentDevices block', phase: 'hotplug', policy: policy('block'), devices: [keyboard('1-1')], actions: ['authorize 1-1'], decision: { source: 'rule', target: 'allow' } },
  // presentDevices keep does not apply later: the rules block the authorized flash drive.
  { name: 'hotplug ignores presentDevices keep', phase: 'hotplug', policy: policy('keep'), devices: [flash('1-2', { authorized: true })], actions: ['deauthorize 1-2'], decision: { source: 'rule', target: 'block' } },
  // presentDevices apply-policy at hotplug: the same rules.
  { name: 'hotplug with presentDevices apply-policy', phase: 'hotplug', devices: [keyboard('1-1')], actions: ['authorize 1-1'], decision: { source: 'rule', target: 'allow' } },

  // A device whose descriptors are unreadable is left as found at startup, with the reason in the trace.
  { name: 'problem device at startup left alone', phase: 'startup', devices: [badUsb('1-3', { authorized: true, problem: 'descriptors truncated' })], actions: ['fail-closed '], decision: { target: 'allow', source: 'problem', reason: 'device facts unreadable (descriptors truncated); a device present at startup is left as found' } },
  // The same device arriving later is rejected, never matched on partial facts (the keyboard rule would allow its id).
  { name: 'problem device at hotplug rejected', phase: 'hotplug', devices: [keyboard('1-3', { problem: 'descriptors truncated' })], actions: ['remove 1-3'], decision: { target: 'reject', source: 'problem' } },
  // A rescan finding an undecided problem device treats it as a missed hotplug.
  { name: 'problem device new at rescan rejected', phase: 'rescan', devices: [keyboard('1-3', { problem: 'descriptors truncated' })], actions: ['remove 1-3'], decision: { target: 'reject', source: 'problem' } },
  // A rescan finding a problem device already left alone at startup keeps leaving it alone.
  { name: 'problem device known at rescan left alone', phase: 'rescan', previous: [['1-3', 'allow']], devices: [keyboard('1-3', { authorized: true, problem: 'descriptors truncated' })], actions: [], decision: { target: 'allow', source: 'problem' } },

  // Every root hub gets authorized_default=0 first; root hubs are neither decided nor deauthorized.
  { name: 'root hubs: fail-closed at startup', phase: 'startup', devices: [rootHub(2), keyboard('1-1'), rootHub(1)], actions: ['fail-closed usb1,usb2', 'authorize 1-1'], order: ['1-1'] },
  // Even presentDevices block leaves the root hubs authorized.
  { name: 'root hubs: untouched by presentDevices block', phase: 'startup', policy: policy('block'), devices: [rootHub(1)], actions: ['fail-closed usb1'], order: [] },
  // fail-closed belongs to startup only.
  { name: 'root hubs: no fail-closed at hotplug', phase: 'hotplug', devices: [rootHub(1), keyboard('1-1')], actions: ['authorize 1-1'], order: ['1-1'] },
  // fail-closed belongs to startup only, rescan included.
  { name: 'root hubs: no fail-closed at rescan', phase: 'rescan', devices: [rootHub(1)], actions: [], order: [] },

  // Unchanged allow: target as before and already authorized, nothing to write.
  { name: 'unchanged allow', phase: 'hotplug', previous: [['1-1', 'allow']], devices: [keyboard('1-1', { authorized: true })], actions: [] },
  // Unchanged readonly: authorized and remembered read-only, nothing to write.
  { name: 'unchanged readonly', phase: 'hotplug', previous: [['1-4', 'readonly']], devices: [kingston('1-4', { authorized: true })], actions: [] },
  // readonly newly decided for an authorized device: only the read-only switch.
  { name: 'changed to readonly', phase: 'hotplug', previous: [['1-4', 'allow']], devices: [kingston('1-4', { authorized: true })], actions: ['set-readonly 1-4'] },
  // Unchanged reject of a device still listed but unauthorized: not removed again.
  { name: 'unchanged reject', phase: 'hotplug', previous: [['1-3', 'reject']], devices: [badUsb('1-3')], actions: [] },
  // Rescan: a known device keeps its remembered target (here from presentDevices keep) and needs nothing.
  { name: 'rescan keeps remembered target', phase: 'rescan', previous: [['1-2', 'allow']], devices: [flash('1-2', { authorized: true })], actions: [], decision: { target: 'allow', source: 'previous' } },
  // Rescan: a blocked device someone authorized by hand is deauthorized again.
  { name: 'rescan re-enforces drifted state', phase: 'rescan', previous: [['1-2', 'block']], devices: [flash('1-2', { authorized: true })], actions: ['deauthorize 1-2'], decision: { target: 'block', source: 'previous' } },
  // Rescan: a device missed by hotplug is decided by the rules.
  { name: 'rescan decides a missed device', phase: 'rescan', devices: [keyboard('1-1')], actions: ['authorize 1-1'], decision: { target: 'allow', source: 'rule' } },

  // Parents before children, then bus and port numbers: 1-10 after 1-2, children of 1-2 after every depth-1 device.
  { name: 'parent before child', phase: 'startup', policy: policy('allow'), devices: [keyboard('1-2.3'), hub('1-10'), rootHub(1), hub('1-2'), keyboard('2-1'), flash('1-2.3.1')], actions: ['fail-closed usb1', 'authorize 1-2', 'authorize 1-10', 'authorize 2-1', 'authorize 1-2.3', 'authorize 1-2.3.1'], order: ['1-2', '1-10', '2-1', '1-2.3', '1-2.3.1'] },

  // localtime(08:00-18:00) holds at 10:00 local: the key is allowed.
  { name: 'localtime in range', phase: 'hotplug', now: MORNING, devices: [yubikey('1-5')], actions: ['authorize 1-5'], decision: { target: 'allow', source: 'rule', line: 4, conditionsNotMet: [] } },
  // At 20:00 the condition fails: implicit block, and the trace names the rule whose condition did not hold.
  { name: 'localtime out of range', phase: 'hotplug', now: EVENING, devices: [yubikey('1-5')], actions: [], decision: { target: 'block', source: 'implicit', line: null, rule: null, conditionsNotMet: [4], reason: 'no rule matched: implicit block' } },
];

describe('core: plan', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const result = plan({
        devices: row.devices,
        previous: new Map(row.previous ?? []),
        policy: row.policy ?? policy(),
        compiled: COMPILED,
        agentId: AGENT,
        now: row.now ?? MORNING,
        phase: row.phase,
      });
      expect(result.actions.map(show)).to.deep.equal(row.actions);
      if (row.decision) {
        expect(result.decisions[0]).to.deep.include(row.decision);
      }
      if (row.order) {
        expect(result.decisions.map((d) => d.name)).to.deep.equal(row.order);
      }
    });
  }

  it('is pure: same input, same plan, inputs untouched', () => {
    const devices = [flash('1-2', { authorized: true }), keyboard('1-1'), rootHub(1)];
    const snapshot = JSON.stringify(devices);
    const input = { devices, previous: new Map<string, string>(), policy: policy('apply-policy', [X17]), compiled: COMPILED, agentId: AGENT, now: MORNING, phase: 'startup' as const };
    const first = plan(input);
    expect(plan(input)).to.deep.equal(first);
    expect(JSON.stringify(devices)).to.equal(snapshot);
  });

  it('labels each decision from the device classification', () => {
    const result = plan({ devices: [flash('1-2'), badUsb('1-3')], previous: new Map(), policy: policy(), compiled: COMPILED, agentId: AGENT, now: MORNING, phase: 'hotplug' });
    const labels = result.decisions.map((d) => d.label);
    expect(labels[0]).to.match(/flash|storage/i);
    expect(labels[1]).to.match(/hidden/i);
  });
});
