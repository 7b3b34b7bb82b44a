import {
  CompiledPolicy,
  activeExceptions,
  classifyDevice,
  parseRule,
  prepareDevice,
  RuleSyntaxError,
  type Device,
  type Rule,
  type Target,
  type TemporaryException,
} from '@portcullis/shared';
import type { UsbDeviceState } from '../platform/device-source.js';
import { PER_INTERFACE, type DeviceDecision, type InterfaceDecision, type PlanAction, type PlanInput, type PlanResult } from './plan-types.js';

export type * from './plan-types.js';
export { PER_INTERFACE } from './plan-types.js';

/** What a device is decided as, before the label and ordering are added. */
type Verdict = Omit<DeviceDecision, 'name' | 'device' | 'label'>;

/** The outcome of the exceptions and the rules for a device (or one interface type of it). */
type Evaluation = Omit<Verdict, 'interfaces' | 'source'> & { readonly source: InterfaceDecision['source'] };

/**
 * Decides what to do with every USB device and returns the steps, without touching anything:
 * the executors run the steps and read the state back (STYLE §1). Pure: the clock is `input.now`.
 *
 * Per device, first match wins:
 * 1. a device with a `problem` (facts unreadable) is never matched against partial facts: it is
 *    rejected when it arrives, and left as found at startup, as USBGuard does;
 * 2. at `startup`, `presentDevices` other than `apply-policy` decides every present device
 *    wholesale (USBGuard's PresentDevicePolicy: exceptions and rules are not consulted);
 * 3. at `rescan`, a device the agent already decided keeps that target (it is re-enforced if its
 *    state drifted); re-applying a new policy is a rescan with an empty `previous`;
 * 4. the temporary exceptions active for this agent, in document order;
 * 5. the policy's rules, then its implicit target.
 *
 * Decisions are for the whole device, with one exception: under `compositeDevices:
 * per-interface`, a device with two or more interfaces that steps 4–5 `block` has each distinct
 * interface type evaluated alone (steps 4–5 for the device with `interfaces: [type]`), and if any
 * type comes out `allow` the device is authorized with only those interfaces on
 * (`authorize-interfaces`); otherwise the block stands. A whole-device `reject`, `allow` or
 * `readonly` is never split, so a combination is kept out as a whole by rejecting it before the
 * rules that allow its parts:
 *
 *     reject with-interface all-of { 03:*:* 08:*:* }
 *     allow with-interface equals { 03:*:* }
 *     block with-interface one-of { 08:*:* }
 *
 * A device remembered as PER_INTERFACE keeps that decision at `rescan` and is never deauthorized
 * by it; its interface lists are evaluated again rather than trusted from memory.
 *
 * Root hubs are never decided nor deauthorized; at startup the plan begins with `fail-closed` on
 * all of them so that devices arriving while the agent is down stay unauthorized.
 */
export function plan(input: PlanInput): PlanResult {
  const ordered = [...input.devices].sort(compareByTreePosition);
  const actions: PlanAction[] = [];
  if (input.phase === 'startup') {
    actions.push({ kind: 'fail-closed', rootHubs: ordered.filter((d) => d.rootHub).map((d) => d.name) });
  }
  const exceptions = compileExceptions(activeExceptions(input.policy, input.now, input.agentId));
  const decisions: DeviceDecision[] = [];
  for (const state of ordered) {
    if (state.rootHub) continue;
    const verdict = decide(state, input, exceptions);
    decisions.push({
      name: state.name,
      device: state.device,
      label: classifyDevice({ ...state.device, deviceClass: state.deviceClass }).label,
      ...verdict,
    });
    actions.push(...actionsFor(state, verdict, input.previous.get(state.name)));
  }
  return { actions, decisions };
}

/**
 * What the caller keeps in `previous` for a device once the plan's steps ran: PER_INTERFACE for
 * a device decided per interface, else its target. Recording a per-interface device's target
 * (`block`) instead would have the next rescan deauthorize it.
 */
export function rememberedTarget(decision: DeviceDecision): string {
  return decision.interfaces !== null ? PER_INTERFACE : decision.target;
}

interface CompiledExceptions {
  readonly list: readonly TemporaryException[];
  /** The exceptions' rules in the same order; an exception matches when this decides non-implicit. */
  readonly policy: CompiledPolicy;
}

/**
 * Parses each active exception's rule once per plan. A rule that does not parse (impossible in a
 * validated document) is dropped, so the device falls through to the group's rules: fail closed.
 */
function compileExceptions(active: readonly TemporaryException[]): CompiledExceptions {
  const list: TemporaryException[] = [];
  const rules: Rule[] = [];
  for (const exception of active) {
    let rule: Rule;
    try {
      rule = parseRule(exception.rule, { file: `exception ${exception.id}` });
    } catch (err) {
      if (err instanceof RuleSyntaxError) continue;
      throw err;
    }
    list.push(exception);
    rules.push(rule);
  }
  return { list, policy: new CompiledPolicy(rules) };
}

function decide(state: UsbDeviceState, input: PlanInput, exceptions: CompiledExceptions): Verdict {
  const current: Target = state.authorized ? 'allow' : 'block';
  const remembered = input.previous.get(state.name);

  if (state.problem !== undefined) {
    if (input.phase === 'startup' || (input.phase === 'rescan' && remembered !== undefined)) {
      const left = verdict(current, 'problem', `device facts unreadable (${state.problem}); a device present at startup is left as found`);
      // Left as found, it is still a per-interface device: an empty list keeps it remembered so.
      return input.phase === 'rescan' && remembered === PER_INTERFACE ? { ...left, interfaces: [] } : left;
    }
    return verdict('reject', 'problem', `device facts unreadable (${state.problem}); rejected rather than matched on partial facts`);
  }

  if (input.phase === 'startup' && input.policy.presentDevices !== 'apply-policy') {
    const present = input.policy.presentDevices;
    const target: Target = present === 'keep' ? current : present;
    return verdict(target, 'present-devices', `present devices: ${present}`);
  }

  if (input.phase === 'rescan' && remembered === PER_INTERFACE) {
    return { ...verdict('block', 'previous', `already decided: ${PER_INTERFACE}`), interfaces: evaluateInterfaces(state.device, input, exceptions) };
  }

  if (input.phase === 'rescan' && remembered !== undefined && isTarget(remembered)) {
    return verdict(remembered, 'previous', `already decided: ${remembered}`);
  }

  const whole = evaluate(state.device, input, exceptions);
  if (whole.target === 'block' && input.policy.compositeDevices === 'per-interface' && (state.device.interfaces?.length ?? 0) >= 2) {
    const interfaces = evaluateInterfaces(state.device, input, exceptions);
    if (interfaces.some((i) => i.target === 'allow')) return { ...whole, reason: perInterfaceReason(interfaces), interfaces };
  }
  return { ...whole, interfaces: null };
}

/** The exceptions, then the rules and the implicit target, for one device. */
function evaluate(device: Device, input: PlanInput, exceptions: CompiledExceptions): Evaluation {
  const prepared = prepareDevice(device);
  const ctx = { now: input.now };
  const byException = exceptions.policy.decide(prepared, ctx);
  if (!byException.implicit && byException.ruleIndex !== null) {
    const exception = exceptions.list[byException.ruleIndex];
    if (exception !== undefined) {
      return {
        target: byException.target,
        source: 'exception',
        line: null,
        rule: exceptions.policy.ruleText(byException),
        exceptionId: exception.id,
        conditionsNotMet: [],
        reason: `exception ${exception.id}`,
      };
    }
  }

  const byRule = input.compiled.decide(prepared, ctx);
  return {
    target: byRule.target,
    source: byRule.implicit ? 'implicit' : 'rule',
    line: byRule.line,
    rule: input.compiled.ruleText(byRule),
    exceptionId: null,
    conditionsNotMet: [...byRule.conditionsNotMet],
    reason: byRule.implicit ? `no rule matched: implicit ${byRule.target}` : `rule at line ${String(byRule.line)}`,
  };
}

function verdict(target: Target, source: Verdict['source'], reason: string): Verdict {
  return { target, source, line: null, rule: null, exceptionId: null, conditionsNotMet: [], reason, interfaces: null };
}

/** Each distinct interface type of the device (sorted), evaluated as if it were the only one. */
function evaluateInterfaces(device: Device, input: PlanInput, exceptions: CompiledExceptions): InterfaceDecision[] {
  const types = [...new Set((device.interfaces ?? []).map((t) => t.toLowerCase()))].sort();
  return types.map((type) => {
    const { target, source, line, rule, exceptionId, reason } = evaluate({ ...device, interfaces: [type] }, input, exceptions);
    return { type, target, source, line, rule, exceptionId, reason };
  });
}

const INTERFACE_OUTCOME: Readonly<Record<Target, string>> = {
  allow: 'allowed',
  block: 'blocked',
  // Only allow turns an interface on; say so, since alone these words would suggest otherwise.
  reject: 'off: reject',
  readonly: 'off: readonly',
};

/** `per-interface: 03:01:01 allowed (rule at line 2); 08:06:50 blocked (rule at line 5)` */
function perInterfaceReason(interfaces: readonly InterfaceDecision[]): string {
  return `per-interface: ${interfaces.map((i) => `${i.type} ${INTERFACE_OUTCOME[i.target]} (${i.reason})`).join('; ')}`;
}

/**
 * The writes that bring a device to its verdict. Read-only, reject and per-interface leave no
 * trace in `authorized` alone, so for them the remembered target says whether the work was
 * already done.
 */
function actionsFor(state: UsbDeviceState, verdict: Verdict, remembered: string | undefined): PlanAction[] {
  const name = state.name;
  if (verdict.interfaces !== null) {
    if (remembered === PER_INTERFACE && state.authorized) return [];
    const allow = verdict.interfaces.filter((i) => i.target === 'allow').map((i) => i.type);
    // Nothing to turn on (a remembered device whose allowed types no longer hold): leave it off,
    // and never deauthorize a device remembered per interface.
    if (allow.length === 0) return [];
    const deny = verdict.interfaces.filter((i) => i.target !== 'allow').map((i) => i.type);
    return [{ kind: 'authorize-interfaces', name, allow, deny }];
  }
  switch (verdict.target) {
    case 'allow':
      return state.authorized ? [] : [{ kind: 'authorize', name }];
    case 'block':
      return state.authorized ? [{ kind: 'deauthorize', name }] : [];
    case 'reject':
      return remembered === 'reject' && !state.authorized ? [] : [{ kind: 'remove', name }];
    case 'readonly':
      if (remembered === 'readonly' && state.authorized) return [];
      return state.authorized
        ? [{ kind: 'set-readonly', name }]
        : [
            { kind: 'authorize', name },
            { kind: 'set-readonly', name },
          ];
  }
}

const TARGET_NAMES: ReadonlySet<string> = new Set<Target>(['allow', 'block', 'reject', 'readonly']);

function isTarget(s: string): s is Target {
  return TARGET_NAMES.has(s);
}

/**
 * Parents before children, then by bus and port numbers, so plans are deterministic:
 * `usb1` (depth 0), `1-2` (1), `1-10` (1, after `1-2`), `1-2.3` (2).
 */
function compareByTreePosition(a: UsbDeviceState, b: UsbDeviceState): number {
  const ka = treeKey(a.name);
  const kb = treeKey(b.name);
  if (ka !== null && kb !== null) {
    if (ka.length !== kb.length) return ka.length - kb.length;
    for (let i = 0; i < ka.length; i++) {
      const d = (ka[i] ?? 0) - (kb[i] ?? 0);
      if (d !== 0) return d;
    }
  } else if (ka !== null || kb !== null) {
    return ka !== null ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `usb3` → [3]; `1-2.3` → [1, 2, 3]; a name of another shape is null and sorts last, by text. */
function treeKey(name: string): number[] | null {
  const hub = /^usb(\d+)$/.exec(name);
  if (hub) return [Number(hub[1])];
  const dev = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(name);
  if (dev) return [Number(dev[1]), ...(dev[2] ?? '').split('.').map(Number)];
  return null;
}
