import { expect } from 'chai';
import fc from 'fast-check';
import {
  CompiledPolicy,
  DEFAULT_MAIL_EGRESS,
  DEFAULT_PORT_POLICY,
  parseRuleFile,
  type CompositeDeviceMode,
  type PolicyDocument,
  type PresentDevicePolicy,
  type TemporaryException,
} from '@portcullis/shared';
import {
  PER_INTERFACE,
  plan,
  rememberedTarget,
  type DeviceDecision,
  type InterfaceDecision,
  type PlanAction,
  type PlanPhase,
  type PlanResult,
} from '../src/core/planner.js';
import type { UsbDeviceState } from '../src/platform/device-source.js';

/** Per-interface authorization of composite devices (issue 4): `compositeDevices: per-interface`. */

const AGENT = 'agent-a';
const NOW = new Date(2026, 5, 1, 10, 0, 0);

/** Keyboards on, storage off: the gadget's keyboard half is allowed alone, its storage half blocked. */
const SPLIT = ['allow with-interface equals { 03:*:* }', 'block with-interface one-of { 08:*:* }'];
/** The same, with the keyboard+storage combination rejected first: BadUSB stays out as a whole. */
const REJECT_FIRST = ['reject with-interface all-of { 03:*:* 08:*:* }', ...SPLIT];
/** Storage read-only on its own, keyboards on: readonly is not `allow`, so alone it counts as off. */
const READONLY_STORAGE = ['readonly with-interface equals { 08:*:* }', 'allow with-interface equals { 03:*:* }'];
/** A device with any storage interface is read-only as a whole. */
const READONLY_WHOLE = ['readonly with-interface all-of { 08:*:* }'];

const X30: TemporaryException = { id: 'x-30', rule: 'allow with-interface equals { ff:00:00 }', reason: 'card reader firmware', until: '2026-12-01T00:00:00Z', agentId: AGENT };

function policy(rules: readonly string[], compositeDevices: CompositeDeviceMode, options: { presentDevices?: PresentDevicePolicy; exceptions?: TemporaryException[] } = {}): PolicyDocument {
  return {
    schema: 1,
    group: 'ministry',
    version: 9,
    rules: rules.join('\n'),
    implicitTarget: 'block',
    presentDevices: options.presentDevices ?? 'apply-policy',
    compositeDevices,
    ports: DEFAULT_PORT_POLICY,
    mailEgress: DEFAULT_MAIL_EGRESS,
    exceptions: options.exceptions ?? [],
    createdAt: '2026-05-01T00:00:00Z',
    createdBy: 'admin',
  };
}

function usb(name: string, id: string, interfaces: string[], options: { authorized?: boolean; problem?: string } = {}): UsbDeviceState {
  return {
    name,
    device: { id, interfaces, viaPort: name, connectType: 'hotplug' },
    authorized: options.authorized ?? false,
    rootHub: false,
    busnum: 1,
    devnum: 5,
    interfaceNames: [],
    devpath: `/devices/pci0000:00/0000:00:14.0/usb1/${name}`,
    deviceClass: '00',
    manufacturer: 'Test',
    ...(options.problem !== undefined ? { problem: options.problem } : {}),
  };
}

type Opts = { authorized?: boolean; problem?: string };
const gadget = (o?: Opts) => usb('1-3', '1209:0001', ['03:01:01', '08:06:50'], o);
const keyboardWithMediaKeys = (o?: Opts) => usb('1-3', '046d:c31c', ['03:01:01', '03:00:00'], o);
const keyboardWithAudio = (o?: Opts) => usb('1-3', '1b1c:1b2e', ['03:01:01', '01:01:00'], o);
const storageWithVendor = (o?: Opts) => usb('1-3', '0bda:0129', ['08:06:50', 'ff:00:00'], o);
const webcam = (o?: Opts) => usb('1-3', '046d:085e', ['0e:01:00', '0e:02:00'], o);
const flash = (o?: Opts) => usb('1-3', '0781:5567', ['08:06:50'], o);
const gadgetTwoKeyboards = (o?: Opts) => usb('1-3', '1209:0002', ['03:01:01', '08:06:50', '03:01:01'], o);

function run(p: PolicyDocument, devices: UsbDeviceState[], phase: PlanPhase, previous: [string, string][] = []): PlanResult {
  return plan({ devices, previous: new Map(previous), policy: p, compiled: new CompiledPolicy(parseRuleFile(p.rules), p.implicitTarget), agentId: AGENT, now: NOW, phase });
}

function show(a: PlanAction): string {
  switch (a.kind) {
    case 'fail-closed':
      return `fail-closed ${a.rootHubs.join(',')}`;
    case 'authorize-interfaces':
      return `authorize-interfaces ${a.name} allow [${a.allow.join(' ')}] deny [${a.deny.join(' ')}]`;
    default:
      return `${a.kind} ${a.name}`;
  }
}

interface Row {
  readonly name: string;
  readonly policy: PolicyDocument;
  readonly device: UsbDeviceState;
  readonly phase?: PlanPhase;
  readonly previous?: string;
  readonly actions: string[];
  readonly decision: Partial<DeviceDecision>;
  /** `type target source` for each interface decision, or null when the device was not split. */
  readonly interfaces: string[] | null;
}

const ROWS: Row[] = [
  // The keyboard+storage gadget under USBGuard's behaviour: the whole device is blocked, nothing split.
  { name: 'gadget, whole-device: block', policy: policy(SPLIT, 'whole-device'), device: gadget(), actions: [], decision: { target: 'block', source: 'rule', line: 2, reason: 'rule at line 2' }, interfaces: null },
  // The same gadget per interface: its keyboard on, its storage off.
  {
    name: 'gadget, per-interface: keyboard on, storage off',
    policy: policy(SPLIT, 'per-interface'),
    device: gadget(),
    actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'],
    decision: { target: 'block', source: 'rule', line: 2, rule: 'block with-interface one-of { 08:*:* }', exceptionId: null, reason: 'per-interface: 03:01:01 allowed (rule at line 1); 08:06:50 blocked (rule at line 2)' },
    interfaces: ['03:01:01 allow rule', '08:06:50 block rule'],
  },
  // Rejecting the combination first keeps BadUSB out as a whole: a reject is never split.
  { name: 'gadget, per-interface, reject all-of { 03 08 } first: removed', policy: policy(REJECT_FIRST, 'per-interface'), device: gadget(), actions: ['remove 1-3'], decision: { target: 'reject', source: 'rule', line: 1, reason: 'rule at line 1' }, interfaces: null },
  // Every interface type blocked alone too (implicitly): the whole-device block stands, plain.
  { name: 'webcam, every interface blocked: plain block', policy: policy(SPLIT, 'per-interface'), device: webcam(), actions: [], decision: { target: 'block', source: 'implicit', reason: 'no rule matched: implicit block' }, interfaces: null },
  // Storage with a vendor interface: both off alone (one by rule, one implicitly), so a plain block; an authorized one is deauthorized.
  { name: 'storage + vendor, none allowed: plain block, deauthorized', policy: policy(SPLIT, 'per-interface'), device: storageWithVendor({ authorized: true }), actions: ['deauthorize 1-3'], decision: { target: 'block', source: 'rule', line: 2, reason: 'rule at line 2' }, interfaces: null },
  // A single-interface device is never split, whatever it is.
  { name: 'flash drive (one interface): never split', policy: policy(SPLIT, 'per-interface'), device: flash(), actions: [], decision: { target: 'block', line: 2, reason: 'rule at line 2' }, interfaces: null },
  // An exception allowing one interface type turns that type on; the rules still block the rest.
  {
    name: 'exception allowing one interface type',
    policy: policy(SPLIT, 'per-interface', { exceptions: [X30] }),
    device: storageWithVendor(),
    actions: ['authorize-interfaces 1-3 allow [ff:00:00] deny [08:06:50]'],
    decision: { target: 'block', source: 'rule', line: 2, reason: 'per-interface: 08:06:50 blocked (rule at line 2); ff:00:00 allowed (exception x-30)' },
    interfaces: ['08:06:50 block rule', 'ff:00:00 allow exception'],
  },
  // A whole-device allow is not split: both HID interfaces come on with the device.
  { name: 'whole-device allow not split', policy: policy(['allow id 046d:c31c', ...SPLIT], 'per-interface'), device: keyboardWithMediaKeys(), actions: ['authorize 1-3'], decision: { target: 'allow', source: 'rule', line: 1 }, interfaces: null },
  // USBGuard's `equals { 03:*:* }` wants exactly one interface, so a two-interface keyboard is blocked as a
  // whole; per interface each HID type is allowed alone, and every interface comes on (nothing denied).
  {
    name: 'every type allowed alone: all on, still per interface',
    policy: policy(SPLIT, 'per-interface'),
    device: keyboardWithMediaKeys(),
    actions: ['authorize-interfaces 1-3 allow [03:00:00 03:01:01] deny []'],
    decision: { target: 'block', source: 'implicit', reason: 'per-interface: 03:00:00 allowed (rule at line 1); 03:01:01 allowed (rule at line 1)' },
    interfaces: ['03:00:00 allow rule', '03:01:01 allow rule'],
  },
  // A whole-device readonly is not split either.
  { name: 'whole-device readonly not split', policy: policy(READONLY_WHOLE, 'per-interface'), device: gadget(), actions: ['authorize 1-3', 'set-readonly 1-3'], decision: { target: 'readonly', source: 'rule', line: 1 }, interfaces: null },
  // An implicit whole-device block is split like a rule's: the audio interface no rule allows stays off.
  {
    name: 'implicit block split: keyboard with audio',
    policy: policy(SPLIT, 'per-interface'),
    device: keyboardWithAudio(),
    actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [01:01:00]'],
    decision: { target: 'block', source: 'implicit', line: null, reason: 'per-interface: 01:01:00 blocked (no rule matched: implicit block); 03:01:01 allowed (rule at line 1)' },
    interfaces: ['01:01:00 block implicit', '03:01:01 allow rule'],
  },
  // An interface type that is readonly alone counts as off: only allow turns an interface on.
  {
    name: 'readonly alone counts as off',
    policy: policy(READONLY_STORAGE, 'per-interface'),
    device: gadget(),
    actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'],
    decision: { target: 'block', source: 'implicit', reason: 'per-interface: 03:01:01 allowed (rule at line 2); 08:06:50 off: readonly (rule at line 1)' },
    interfaces: ['03:01:01 allow rule', '08:06:50 readonly rule'],
  },
  // Interface types are distinct: two keyboard interfaces make one entry.
  { name: 'repeated interface types listed once', policy: policy(SPLIT, 'per-interface'), device: gadgetTwoKeyboards(), actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'], decision: { target: 'block' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // An already authorized gadget (e.g. found at startup) gets the per-interface step too: its storage must go off.
  { name: 'startup apply-policy: authorized gadget split', policy: policy(SPLIT, 'per-interface'), device: gadget({ authorized: true }), phase: 'startup', actions: ['fail-closed ', 'authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'], decision: { target: 'block', source: 'rule' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // presentDevices other than apply-policy decides present devices wholesale: no split.
  { name: 'startup keep: not split', policy: policy(SPLIT, 'per-interface', { presentDevices: 'keep' }), device: gadget({ authorized: true }), phase: 'startup', actions: ['fail-closed '], decision: { target: 'allow', source: 'present-devices' }, interfaces: null },
  // Remembered per-interface at startup with apply-policy: decided afresh, like hotplug.
  { name: 'startup with remembered per-interface: as hotplug', policy: policy(SPLIT, 'per-interface'), device: gadget({ authorized: true }), phase: 'startup', previous: PER_INTERFACE, actions: ['fail-closed '], decision: { target: 'block', source: 'rule' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // A hotplug `change` of a device already authorized per interface: the work is done.
  { name: 'hotplug, remembered per-interface, authorized: nothing', policy: policy(SPLIT, 'per-interface'), device: gadget({ authorized: true }), previous: PER_INTERFACE, actions: [], decision: { target: 'block', source: 'rule' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // Rescan, remembered per-interface, device authorized: the decision stands, nothing to write.
  { name: 'rescan, remembered per-interface, authorized: nothing', policy: policy(SPLIT, 'per-interface'), device: gadget({ authorized: true }), phase: 'rescan', previous: PER_INTERFACE, actions: [], decision: { target: 'block', source: 'previous', line: null, reason: 'already decided: per-interface' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // Rescan, remembered per-interface, device found unauthorized: authorized per interface again, lists recomputed.
  { name: 'rescan, remembered per-interface, unauthorized: again', policy: policy(SPLIT, 'per-interface'), device: gadget(), phase: 'rescan', previous: PER_INTERFACE, actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'], decision: { target: 'block', source: 'previous' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // Rescan never deauthorizes a device remembered per-interface, even when no type is allowed alone any more.
  { name: 'rescan, remembered per-interface, nothing allowed now: not deauthorized', policy: policy(['block'], 'per-interface'), device: gadget({ authorized: true }), phase: 'rescan', previous: PER_INTERFACE, actions: [], decision: { target: 'block', source: 'previous' }, interfaces: ['03:01:01 block rule', '08:06:50 block rule'] },
  // …and an unauthorized one with nothing to turn on is left off: no authorize with every interface off.
  { name: 'rescan, remembered per-interface, unauthorized, nothing allowed: left off', policy: policy(['block'], 'per-interface'), device: gadget(), phase: 'rescan', previous: PER_INTERFACE, actions: [], decision: { target: 'block', source: 'previous' }, interfaces: ['03:01:01 block rule', '08:06:50 block rule'] },
  // Rescan of a gadget nobody decided yet (a missed hotplug): split as on arrival.
  { name: 'rescan, undecided gadget: split', policy: policy(SPLIT, 'per-interface'), device: gadget(), phase: 'rescan', actions: ['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]'], decision: { target: 'block', source: 'rule' }, interfaces: ['03:01:01 allow rule', '08:06:50 block rule'] },
  // Rescan of a gadget remembered as a whole-device block: the remembered decision stands, not split.
  { name: 'rescan, remembered block: stands', policy: policy(SPLIT, 'per-interface'), device: gadget(), phase: 'rescan', previous: 'block', actions: [], decision: { target: 'block', source: 'previous' }, interfaces: null },
  // A remembered per-interface device whose facts became unreadable is left as found and stays remembered so.
  { name: 'rescan, remembered per-interface, problem: left as found', policy: policy(SPLIT, 'per-interface'), device: gadget({ authorized: true, problem: 'descriptors truncated' }), phase: 'rescan', previous: PER_INTERFACE, actions: [], decision: { target: 'allow', source: 'problem' }, interfaces: [] },
];

function summary(list: readonly InterfaceDecision[] | null): string[] | null {
  return list === null ? null : list.map((i) => `${i.type} ${i.target} ${i.source}`);
}

describe('core: plan, composite devices per interface', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const result = run(row.policy, [row.device], row.phase ?? 'hotplug', row.previous === undefined ? [] : [[row.device.name, row.previous]]);
      expect(result.actions.map(show)).to.deep.equal(row.actions);
      expect(result.decisions[0]).to.deep.include(row.decision);
      expect(summary(result.decisions[0]?.interfaces ?? null)).to.deep.equal(row.interfaces);
    });
  }

  it('traces each interface with its own line, rule and exception', () => {
    const [decision] = run(policy(SPLIT, 'per-interface', { exceptions: [X30] }), [storageWithVendor()], 'hotplug').decisions;
    expect(decision?.interfaces).to.deep.equal([
      { type: '08:06:50', target: 'block', source: 'rule', line: 2, rule: 'block with-interface one-of { 08:*:* }', exceptionId: null, reason: 'rule at line 2' },
      { type: 'ff:00:00', target: 'allow', source: 'exception', line: null, rule: 'allow with-interface ff:00:00', exceptionId: 'x-30', reason: 'exception x-30' },
    ]);
  });

  describe('rememberedTarget', () => {
    // Each row: a decision → what the caller records in `previous`.
    const rows: Array<{ name: string; decision: () => DeviceDecision; remembered: string }> = [
      // A per-interface decision is recorded as per-interface, not as its target (block).
      { name: 'per-interface decision', decision: () => first(run(policy(SPLIT, 'per-interface'), [gadget()], 'hotplug')), remembered: PER_INTERFACE },
      // A rescan's standing per-interface decision stays per-interface.
      { name: 'standing per-interface at rescan', decision: () => first(run(policy(SPLIT, 'per-interface'), [gadget({ authorized: true })], 'rescan', [['1-3', PER_INTERFACE]])), remembered: PER_INTERFACE },
      // A whole-device block is recorded as block.
      { name: 'whole-device block', decision: () => first(run(policy(SPLIT, 'whole-device'), [gadget()], 'hotplug')), remembered: 'block' },
      // A whole-device readonly is recorded as readonly.
      { name: 'whole-device readonly', decision: () => first(run(policy(READONLY_WHOLE, 'per-interface'), [gadget()], 'hotplug')), remembered: 'readonly' },
      // A reject is recorded as reject.
      { name: 'reject', decision: () => first(run(policy(REJECT_FIRST, 'per-interface'), [gadget()], 'hotplug')), remembered: 'reject' },
    ];
    for (const row of rows) {
      it(`records ${row.name} as ${row.remembered}`, () => expect(rememberedTarget(row.decision())).to.equal(row.remembered));
    }

    it('round trip: hotplug, record, rescan: authorized per interface once, never deauthorized after', () => {
      const p = policy(SPLIT, 'per-interface');
      const arrival = run(p, [gadget()], 'hotplug');
      expect(arrival.actions.map(show)).to.deep.equal(['authorize-interfaces 1-3 allow [03:01:01] deny [08:06:50]']);
      const previous: [string, string][] = [['1-3', rememberedTarget(first(arrival))]];
      // The executor authorized the device (with the storage interface off).
      const rescan = run(p, [gadget({ authorized: true })], 'rescan', previous);
      expect(rescan.actions).to.deep.equal([]);
      expect(rememberedTarget(first(rescan))).to.equal(PER_INTERFACE);
    });
  });

  it('for any interfaces and rules: allow and deny split the distinct types, sorted; a remembered per-interface device is never deauthorized at rescan', () => {
    const iface = fc.constantFrom('03:01:01', '03:00:00', '08:06:50', 'ff:00:00', '0e:01:00', '01:01:00', '09:00:00');
    const rule = fc.constantFrom(
      'allow with-interface equals { 03:*:* }',
      'allow with-interface one-of { ff:*:* 01:*:* }',
      'block with-interface one-of { 08:*:* }',
      'reject with-interface all-of { 03:*:* 08:*:* }',
      'readonly with-interface equals { 08:*:* }',
      'allow with-interface equals { 0e:*:* }',
      'block',
    );
    fc.assert(
      fc.property(fc.array(iface, { minLength: 0, maxLength: 5 }), fc.array(rule, { maxLength: 5 }), fc.boolean(), (interfaces, rules, authorized) => {
        const p = policy(rules, 'per-interface');
        const device = usb('1-3', '1209:0001', interfaces, { authorized });
        const types = [...new Set(interfaces)].sort();
        for (const a of run(p, [device], 'hotplug').actions) {
          if (a.kind !== 'authorize-interfaces') continue;
          expect([...a.allow, ...a.deny].sort()).to.deep.equal(types);
          expect(a.allow).to.deep.equal([...a.allow].sort());
          expect(a.deny).to.deep.equal([...a.deny].sort());
          expect(a.allow.length).to.be.above(0);
        }
        const rescan = run(p, [device], 'rescan', [['1-3', PER_INTERFACE]]);
        // At most the per-interface step again: never deauthorize, remove or a whole-device authorize.
        expect(rescan.actions.map((a) => a.kind).filter((k) => k !== 'authorize-interfaces')).to.deep.equal([]);
        expect(rememberedTarget(first(rescan))).to.equal(PER_INTERFACE);
      }),
      { numRuns: 300 },
    );
  });
});

function first(result: PlanResult): DeviceDecision {
  const decision = result.decisions[0];
  if (decision === undefined) throw new Error('the plan decided no device');
  return decision;
}
