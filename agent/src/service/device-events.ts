import { classifyDevice, type EventSeverity, type JsonObject, type PolicyDocument, type Target } from '@portcullis/shared';
import type { DeviceDecision, PlanPhase } from '../core/plan-types.js';
import type { UsbDeviceState } from '../platform/device-source.js';
import type { NewSpoolEvent } from '../spool/spool.js';

/**
 * The events the agent sends (issue 4): every device event carries the device's attributes, a
 * label for people and the decision trace, so the violation log answers "what, where, by which
 * line" without a second lookup. Pure: the time comes in as `at`.
 */
export const DEVICE_EVENT_TYPES: Readonly<Record<Target, string>> = {
  allow: 'device.allowed',
  block: 'device.blocked',
  reject: 'device.rejected',
  readonly: 'device.readonly',
};

/** What the executors did for one decision. */
export interface EnforcementOutcome {
  readonly ok: boolean;
  /** The enforcer's message when the OS did not take the change (the device stays as the kernel has it). */
  readonly error?: string;
  /** Block devices set read-only (readonly target). */
  readonly blockDevices?: readonly string[];
}

export interface PolicyRef {
  readonly group: string;
  readonly version: number;
}

export function policyRef(policy: PolicyDocument): PolicyRef {
  return { group: policy.group, version: policy.version };
}

/**
 * A decided device. Severity: an allow is routine; a readonly is worth a glance; a block is
 * what the log is for; a reject, a device with a suspicious mix of interfaces (a flash drive
 * that is also a keyboard) and any enforcement that did not happen are high.
 */
export function deviceDecisionEvent(
  decision: DeviceDecision,
  state: UsbDeviceState,
  outcome: EnforcementOutcome,
  context: { readonly policy: PolicyRef; readonly phase: PlanPhase; readonly at: string },
): NewSpoolEvent {
  const classification = classifyDevice({ ...decision.device, deviceClass: state.deviceClass });
  let severity: EventSeverity =
    decision.target === 'allow' ? 'info' : decision.target === 'readonly' ? 'low' : decision.target === 'block' ? 'medium' : 'high';
  if (classification.suspicious && decision.target !== 'allow') severity = 'high';
  if (!outcome.ok) severity = 'high';
  const interfaces = decision.interfaces;
  return {
    type: DEVICE_EVENT_TYPES[decision.target],
    severity,
    occurredAt: context.at,
    data: {
      name: decision.name,
      label: decision.label,
      category: classification.category,
      suspicious: classification.suspicious,
      device: deviceData(state),
      decision: {
        target: decision.target,
        source: decision.source,
        line: decision.line,
        rule: decision.rule,
        exceptionId: decision.exceptionId,
        conditionsNotMet: [...decision.conditionsNotMet],
        reason: decision.reason,
        ...(interfaces !== null ? { interfaces: interfaces.map((i) => ({ ...i })) } : {}),
      },
      // Per-interface: the device is on, with only the interfaces listed as allowed.
      ...(interfaces !== null ? { partial: true } : {}),
      policy: { ...context.policy },
      phase: context.phase,
      enforced: outcome.ok,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.blockDevices !== undefined && outcome.blockDevices.length > 0 ? { blockDevices: [...outcome.blockDevices] } : {}),
    },
  };
}

/** A device arrived (before it is decided): the inventory of what was plugged in, where. */
export function deviceConnectedEvent(state: UsbDeviceState, at: string): NewSpoolEvent {
  const classification = classifyDevice({ ...state.device, deviceClass: state.deviceClass });
  return {
    type: 'device.connected',
    severity: 'info',
    occurredAt: at,
    data: {
      name: state.name,
      label: classification.label,
      category: classification.category,
      suspicious: classification.suspicious,
      device: deviceData(state),
      ...(state.problem !== undefined ? { problem: state.problem } : {}),
    },
  };
}

export function deviceData(state: UsbDeviceState): JsonObject {
  const d = state.device;
  return {
    id: d.id,
    name: d.name ?? '',
    serial: d.serial ?? '',
    manufacturer: state.manufacturer,
    hash: d.hash ?? '',
    parentHash: d.parentHash ?? '',
    viaPort: d.viaPort ?? state.name,
    interfaces: [...(d.interfaces ?? [])],
    connectType: d.connectType ?? '',
    deviceClass: state.deviceClass,
    busnum: state.busnum,
    devnum: state.devnum,
  };
}

export function agentStartedEvent(
  at: string,
  facts: { readonly version: string; readonly pid: number; readonly policy: PolicyRef; readonly policySource: string; readonly platform: string },
): NewSpoolEvent {
  return { type: 'agent.started', severity: 'info', occurredAt: at, data: { ...facts, policy: { ...facts.policy } } };
}

export function agentStoppingEvent(at: string, reason: string): NewSpoolEvent {
  return { type: 'agent.stopping', severity: 'info', occurredAt: at, data: { reason } };
}

export function policyAppliedEvent(
  at: string,
  policy: PolicyRef,
  summary: { readonly devices: number; readonly changed: number; readonly failed: number; readonly previousVersion: number },
): NewSpoolEvent {
  return {
    type: 'policy.applied',
    severity: summary.failed > 0 ? 'high' : 'info',
    occurredAt: at,
    data: { policy: { ...policy }, ...summary },
  };
}

/** The cached policy was refused at start: someone or something changed the state folder. */
export function policyTamperedEvent(at: string, reason: string, inForce: PolicyRef & { readonly source: string }): NewSpoolEvent {
  return { type: 'policy.tampered', severity: 'critical', occurredAt: at, data: { reason, inForce: { ...inForce } } };
}

/** A policy from the server that did not verify or would go backwards. */
export function policyRefusedEvent(at: string, reason: string, inForce: PolicyRef): NewSpoolEvent {
  return { type: 'policy.refused', severity: 'high', occurredAt: at, data: { reason, inForce: { ...inForce } } };
}
