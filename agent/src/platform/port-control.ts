import type { PortClass } from '@portcullis/shared';

/**
 * What a port allows now. `readonly`: it can be read but not written (an optical drive that
 * reads discs but cannot burn them).
 */
export type PortCondition = 'allowed' | 'blocked' | 'readonly';

/** One non-USB port as the operating system shows it now. */
export interface PortState {
  readonly portClass: PortClass;
  /** The kernel's name for it: `rfkill0`, `ttyS0`, `ttyUSB1`, `lp0`, `parport0`, `sr0`. */
  readonly id: string;
  /** What is changed to enforce it: the device node, or the rfkill folder for a radio. */
  readonly path: string;
  /** For people and events: "Bluetooth radio hci0", "Serial port ttyS0", "Optical drive sr0". */
  readonly label: string;
  readonly state: PortCondition;
  /** The facts behind `state`, for the log and the event: `mode 0660`, `soft 0, hard 1`. */
  readonly detail: string;
}

/**
 * One change for a PortControl to make. Named so as not to clash with the policy's `PortAction`
 * (`allow | block | readonly`, what the admin asked), which the planner turns into these.
 */
export interface PortStep {
  readonly portClass: PortClass;
  readonly id: string;
  /** Where the port was found; the control rebuilds the path from `id` and uses this only in messages. */
  readonly path: string;
  readonly from: PortCondition;
  readonly to: PortCondition;
}

/**
 * Where non-USB ports are found and how they are switched. `scan` is a collector: it fails soft
 * (logs, leaves out what it cannot read). `apply` is an enforcer: it writes, reads the result back
 * and throws an `EnforcementError` (enforcer.ts) when the operating system did not take it.
 */
export interface PortControl {
  scan(): Promise<PortState[]>;
  apply(step: PortStep): Promise<void>;
}
