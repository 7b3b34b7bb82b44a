/**
 * Reads the parts of an event's free-form `data` the log shows (agent/src/service/device-events.ts
 * writes them): the device, the decision trace and the policy version. Anything missing or of
 * the wrong type reads as absent, never as a crash: old agents and server events differ.
 */

export interface EventRecord {
  readonly id: number;
  readonly agentId: string | null;
  readonly group: string | null;
  readonly seq: number | null;
  readonly type: string;
  readonly severity: string;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly status: string;
  readonly comment: string | null;
  readonly data: Record<string, unknown>;
  readonly hash: string;
}

export interface DeviceView {
  readonly id?: string;
  readonly serial?: string;
  readonly name?: string;
  readonly manufacturer?: string;
  readonly interfaces: readonly string[];
  readonly viaPort?: string;
  readonly hash?: string;
}

export interface InterfaceDecisionView {
  readonly type: string;
  readonly target?: string;
  readonly source?: string;
  readonly line?: number;
  readonly rule?: string;
  readonly exceptionId?: string;
  readonly reason?: string;
}

export interface DecisionView {
  readonly target?: string;
  readonly source?: string;
  readonly line?: number;
  readonly rule?: string;
  readonly exceptionId?: string;
  readonly conditionsNotMet: readonly number[];
  readonly reason?: string;
  readonly interfaces: readonly InterfaceDecisionView[];
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

export function deviceOf(data: Record<string, unknown>): DeviceView | undefined {
  const d = obj(data.device);
  if (d === undefined) return undefined;
  return {
    id: str(d.id),
    serial: str(d.serial),
    name: str(d.name),
    manufacturer: str(d.manufacturer),
    interfaces: Array.isArray(d.interfaces) ? d.interfaces.filter((i): i is string => typeof i === 'string') : [],
    viaPort: str(d.viaPort),
    hash: str(d.hash),
  };
}

export function decisionOf(data: Record<string, unknown>): DecisionView | undefined {
  const d = obj(data.decision);
  if (d === undefined) return undefined;
  const interfaces: InterfaceDecisionView[] = [];
  if (Array.isArray(d.interfaces)) {
    for (const raw of d.interfaces) {
      const i = obj(raw);
      const type = str(i?.type);
      if (i === undefined || type === undefined) continue;
      interfaces.push({ type, target: str(i.target), source: str(i.source), line: int(i.line), rule: str(i.rule), exceptionId: str(i.exceptionId), reason: str(i.reason) });
    }
  }
  return {
    target: str(d.target),
    source: str(d.source),
    line: int(d.line),
    rule: str(d.rule),
    exceptionId: str(d.exceptionId),
    conditionsNotMet: Array.isArray(d.conditionsNotMet) ? d.conditionsNotMet.filter((n): n is number => Number.isInteger(n)) : [],
    reason: str(d.reason),
    interfaces,
  };
}

export function policyOf(data: Record<string, unknown>): { group: string; version: number } | undefined {
  const p = obj(data.policy);
  const group = str(p?.group);
  const version = int(p?.version);
  return group !== undefined && version !== undefined ? { group, version } : undefined;
}

/** What the table's device column says: the label people read, else the name, else the id. */
export function deviceLabel(data: Record<string, unknown>): string {
  const device = deviceOf(data);
  const label = str(data.label) ?? device?.name ?? str(data.name);
  const id = device?.id;
  if (label !== undefined && id !== undefined) return `${label} (${id})`;
  return label ?? id ?? '';
}
