import type { CompiledPolicy, Device, PolicyDocument, Target } from '@portcullis/shared';
import type { UsbDeviceState } from '../platform/device-source.js';

/**
 * Why the planner is running. `startup`: every device is already present, so the policy's
 * `presentDevices` setting applies. `hotplug`: the devices just arrived. `rescan`: a periodic
 * reconcile; devices the agent has not decided yet are treated as missed hotplugs.
 */
export type PlanPhase = 'startup' | 'hotplug' | 'rescan';

export interface PlanInput {
  readonly devices: readonly UsbDeviceState[];
  /**
   * Device name → what the agent last decided and enforced for it: a target, or PER_INTERFACE
   * for a device authorized with only some interfaces on. The caller records
   * rememberedTarget(decision) and forgets a name when its device is unplugged, so a replug is
   * decided afresh.
   */
  readonly previous: ReadonlyMap<string, string>;
  readonly policy: PolicyDocument;
  /** Built from `policy.rules` and `policy.implicitTarget`. */
  readonly compiled: CompiledPolicy;
  readonly agentId: string;
  readonly now: Date;
  readonly phase: PlanPhase;
}

/** What `previous` holds for a device decided per interface (`compositeDevices: per-interface`). */
export const PER_INTERFACE = 'per-interface';

/**
 * One step for the executors, in the order they must run. `set-readonly` always follows the
 * `authorize` of the same device (when one is needed) in the same plan.
 *
 * `authorize-interfaces`: make new interfaces on the device's bus start off, authorize the
 * device, turn on exactly its interfaces whose type (`cc:ss:pp`) is in `allow`, and restore the
 * bus default. `allow` and `deny` are the device's distinct interface types, sorted; `deny` is
 * what stays off, for the logs (an interface whose type is in neither list stays off too).
 */
export type PlanAction =
  | { readonly kind: 'fail-closed'; readonly rootHubs: readonly string[] }
  | { readonly kind: 'authorize'; readonly name: string }
  | { readonly kind: 'deauthorize'; readonly name: string }
  | { readonly kind: 'remove'; readonly name: string }
  | { readonly kind: 'set-readonly'; readonly name: string }
  | { readonly kind: 'authorize-interfaces'; readonly name: string; readonly allow: readonly string[]; readonly deny: readonly string[] };

export type PlanActionKind = PlanAction['kind'];

/**
 * Where a decision came from. `previous`: a rescan found a device already decided, so its
 * remembered target stands (and is re-enforced if its state drifted).
 */
export type DecisionSource = 'rule' | 'implicit' | 'exception' | 'present-devices' | 'problem' | 'previous';

/**
 * One interface type of a composite device, evaluated alone (the device with `interfaces: [type]`)
 * through the exceptions and the rules. Only `allow` turns it on; any other target keeps it off.
 */
export interface InterfaceDecision {
  /** `cc:ss:pp`, as in the device's `interfaces`. */
  readonly type: string;
  readonly target: Target;
  readonly source: Extract<DecisionSource, 'rule' | 'implicit' | 'exception'>;
  readonly line: number | null;
  readonly rule: string | null;
  readonly exceptionId: string | null;
  /** `rule at line 2`, `exception x-17`, `no rule matched: implicit block`. */
  readonly reason: string;
}

/** The trace a device's events carry: what was decided, by which line, rule or exception, and why. */
export interface DeviceDecision {
  readonly name: string;
  readonly device: Device;
  /** classifyDevice(device).label: "USB flash drive", "Keyboard", … */
  readonly label: string;
  readonly target: Target;
  readonly source: DecisionSource;
  /** 1-based line in `policy.rules` of the deciding rule; null for anything but `source: 'rule'`. */
  readonly line: number | null;
  /** The deciding rule as USBGuard prints it (a policy rule or an exception's rule). */
  readonly rule: string | null;
  readonly exceptionId: string | null;
  /** Lines of policy rules whose attributes matched but whose conditions did not hold. */
  readonly conditionsNotMet: readonly number[];
  /** One sentence for people: `rule at line 3`, `exception x-17`, `present devices: keep`, … */
  readonly reason: string;
  /**
   * Null for a decision about the whole device. For a composite device the rules blocked under
   * `compositeDevices: per-interface`, one entry per distinct interface type (sorted); `target`
   * stays `block` (what the rules said of the whole device) and the device is authorized with
   * the `allow` types on. Record such a decision as PER_INTERFACE (see rememberedTarget).
   */
  readonly interfaces: readonly InterfaceDecision[] | null;
}

export interface PlanResult {
  readonly actions: readonly PlanAction[];
  /** One per non-root device, in the same parent-before-child order as the actions. */
  readonly decisions: readonly DeviceDecision[];
}
