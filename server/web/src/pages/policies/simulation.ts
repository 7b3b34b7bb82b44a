import type { Target } from '@portcullis/shared';

/** One row of POST …/policy/simulate: a device, the outcome the policy gives it, and where. */
export interface SimulatedDevice {
  readonly key: string;
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
  const grouped = new Map<string, { key: string; label: string; before: Outcome | null; after: Outcome; computers: string[] }>();
  for (const d of edited.devices) {
    const after = outcomeOf(d);
    for (const pc of d.computers) {
      const was = before.get(`${d.key}\u0000${pc}`) ?? null;
      if (was !== null && was.target === after.target) continue;
      const id = JSON.stringify([d.key, was, after]);
      const entry = grouped.get(id) ?? { key: d.key, label: d.label, before: was, after, computers: [] };
      entry.computers.push(pc);
      grouped.set(id, entry);
    }
  }
  return [...grouped.values()]
    .map((g) => ({ ...g, computers: [...g.computers].sort() }))
    .sort((x, y) => x.label.localeCompare(y.label) || x.key.localeCompare(y.key));
}

function outcomeOf(d: SimulatedDevice): Outcome {
  return { target: d.target, line: d.line, rule: d.rule, exception: d.exception };
}
