import { PORT_CLASSES, type PortAction, type PortClass, type PortPolicy } from '@portcullis/shared';
import type { PortCondition, PortState, PortStep } from '../platform/port-control.js';

/**
 * The port classes that have a real read-only form by default. An optical drive opened without
 * write permission reads discs but cannot burn them; a serial, parallel or Bluetooth link has no
 * such half-way state (any open channel carries data both ways), so `readonly` for those is
 * enforced as `block`: failing closed, as the policy model says.
 */
export const READONLY_PORT_CLASSES: ReadonlySet<PortClass> = new Set<PortClass>(['optical']);

export interface PortPlanOptions {
  /** Classes whose `readonly` is a real read-only mode on this platform; default READONLY_PORT_CLASSES. */
  readonly readOnlyClasses?: ReadonlySet<PortClass>;
}

/** What was decided for one port, with everything its event needs. */
export interface PortDecision {
  readonly portClass: PortClass;
  readonly id: string;
  readonly path: string;
  readonly label: string;
  /** The state found by the scan. */
  readonly current: PortCondition;
  readonly wanted: PortCondition;
  /** What the policy says for the class (`ports.<class>`). */
  readonly setting: PortAction;
  /** True when a step was planned: the port was not yet as wanted. */
  readonly changed: boolean;
  /** One line for people: `ports.serial = block`, `ports.bluetooth = readonly: no read-only form, blocked`. */
  readonly reason: string;
}

export interface PortPlan {
  readonly steps: readonly PortStep[];
  /** One per port, in the same order as the steps. */
  readonly decisions: readonly PortDecision[];
}

/**
 * Decides, without touching anything, what each port should be under `policy.ports` and which
 * ports must change to get there. A step is planned only for a port whose current state differs
 * from the wanted one, so running the planner again on the applied result plans nothing; the
 * periodic rescan relies on that to re-apply only what drifted (udev re-creating a node with its
 * default mode, a user unblocking a radio with `rfkill unblock`).
 *
 * Order is deterministic: by class as listed in PORT_CLASSES, then by name with numbers compared
 * as numbers (`ttyS2` before `ttyS10`).
 */
export function planPorts(ports: readonly PortState[], policy: PortPolicy, options: PortPlanOptions = {}): PortPlan {
  const readOnlyClasses = options.readOnlyClasses ?? READONLY_PORT_CLASSES;
  const steps: PortStep[] = [];
  const decisions: PortDecision[] = [];
  for (const port of [...ports].sort(comparePorts)) {
    const setting = policy[port.portClass];
    const { wanted, reason } = want(port.portClass, setting, readOnlyClasses);
    const changed = port.state !== wanted;
    decisions.push({
      portClass: port.portClass,
      id: port.id,
      path: port.path,
      label: port.label,
      current: port.state,
      wanted,
      setting,
      changed,
      reason,
    });
    if (changed) steps.push({ portClass: port.portClass, id: port.id, path: port.path, from: port.state, to: wanted });
  }
  return { steps, decisions };
}

function want(portClass: PortClass, setting: PortAction, readOnlyClasses: ReadonlySet<PortClass>): { wanted: PortCondition; reason: string } {
  const reason = `ports.${portClass} = ${setting}`;
  switch (setting) {
    case 'allow':
      return { wanted: 'allowed', reason };
    case 'block':
      return { wanted: 'blocked', reason };
    case 'readonly':
      return readOnlyClasses.has(portClass)
        ? { wanted: 'readonly', reason }
        : { wanted: 'blocked', reason: `${reason}: no read-only form, blocked` };
    default:
      // A validated policy never gets here; a damaged one must not open a port.
      return { wanted: 'blocked', reason: `ports.${portClass} = ${JSON.stringify(setting satisfies never)}: unknown setting, blocked` };
  }
}

function comparePorts(a: PortState, b: PortState): number {
  const byClass = PORT_CLASSES.indexOf(a.portClass) - PORT_CLASSES.indexOf(b.portClass);
  if (byClass !== 0) return byClass;
  return a.id.localeCompare(b.id, 'en', { numeric: true }) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
