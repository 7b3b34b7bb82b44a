import type { Target } from '@portcullis/shared';

/** The device facts a simulation row carries (shared Device: what the agent reported). */
export interface SimulatedDeviceFacts {
  /** `vvvv:pppp` */
  readonly id: string;
  readonly name?: string;
  readonly serial?: string;
  readonly hash?: string;
}

/** One row of POST …/policy/simulate: a device, the outcome the policy gives it, and where. */
export interface SimulatedDevice {
  /** The sighting's key: the USBGuard hash when known, else id + serial + name. */
  readonly key: string;
  readonly device?: SimulatedDeviceFacts;
  readonly label: string;
  readonly target: Target;
  readonly line: number | null;
  readonly rule: string | null;
  readonly exception: string | null;
  readonly computers: readonly string[];
}

export interface Simulation {
  readonly group: string;
  readonly evaluatedAt: string;
  readonly totals: Readonly<Record<Target, number>>;
  readonly unreadable: number;
  readonly devices: readonly SimulatedDevice[];
}

export interface Outcome {
  readonly target: Target;
  readonly line: number | null;
  readonly rule: string | null;
  readonly exception: string | null;
}

/** A device whose decision the edit changes, on the PCs where it changes the same way. */
export interface DecisionChange {
  readonly key: string;
  readonly label: string;
  readonly device: DeviceIdentity;
  readonly before: Outcome | null;
  readonly after: Outcome;
  readonly computers: readonly string[];
}

/**
 * Which devices the edited policy decides differently from the saved one, PC by PC: the server
 * simulates each policy against the devices seen in the group, and this joins the two answers
 * on (device, PC). A change of only the matching line (the same target by another rule) is not
 * a change of decision and is left out.
 */
export function decisionChanges(saved: Simulation | null, edited: Simulation): DecisionChange[] {
  const before = new Map<string, Outcome>();
  for (const d of saved?.devices ?? []) for (const pc of d.computers) before.set(`${d.key}\u0000${pc}`, outcomeOf(d));
  const grouped = new Map<string, { key: string; label: string; device: DeviceIdentity; before: Outcome | null; after: Outcome; computers: string[] }>();
  for (const d of edited.devices) {
    const after = outcomeOf(d);
    for (const pc of d.computers) {
      const was = before.get(`${d.key}\u0000${pc}`) ?? null;
      if (was !== null && was.target === after.target) continue;
      const id = JSON.stringify([d.key, was, after]);
      const entry = grouped.get(id) ?? { key: d.key, label: d.label, device: identityOf(d), before: was, after, computers: [] };
      entry.computers.push(pc);
      grouped.set(id, entry);
    }
  }
  return [...grouped.values()]
    .map((g) => ({ ...g, computers: [...g.computers].sort() }))
    .sort((x, y) => x.label.localeCompare(y.label) || x.key.localeCompare(y.key));
}

/** How a person tells the device apart: vendor:product, name and serial, and the hash when there is one. */
export interface DeviceIdentity {
  readonly id: string | null;
  readonly name: string | null;
  readonly serial: string | null;
  readonly hash: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** A row's device facts; an answer without them (an older server) keeps only the key, as the hash when it looks like one. */
export function identityOf(d: Pick<SimulatedDevice, 'key' | 'device'>): DeviceIdentity {
  const f = d.device;
  return {
    id: text(f?.id),
    name: text(f?.name),
    serial: text(f?.serial),
    hash: text(f?.hash) ?? (f === undefined ? d.key : null),
  };
}

function outcomeOf(d: SimulatedDevice): Outcome {
  return { target: d.target, line: d.line, rule: d.rule, exception: d.exception };
}
