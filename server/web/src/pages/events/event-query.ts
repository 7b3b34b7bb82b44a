/**
 * The violation log's filter: read from and written to the page URL (`#/events?severity=high&
 * range=24h`) so a view can be bookmarked, and turned into the API's query. Pure: the time
 * comes in as `nowMs`.
 */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** The server's triage statuses (server/src/store/store.ts TriageStatus). */
export const STATUSES = ['new', 'acknowledged', 'resolved', 'false-positive'] as const;
export type TriageStatus = (typeof STATUSES)[number];
/** Quick time ranges; a bookmarked "last 24 h" stays relative to when it is opened. */
export const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type RangeKey = keyof typeof RANGES;
/** Event types the agents and server send, offered as suggestions (any type may be typed). */
export const KNOWN_TYPES = [
  'device.blocked',
  'device.rejected',
  'device.readonly',
  'device.allowed',
  'device.connected',
  'port.blocked',
  'port.readonly',
  'port.allowed',
  'policy.applied',
  'policy.refused',
  'policy.tampered',
  'agent.started',
  'agent.stopping',
  'agent.silent',
  'agent.break-glass',
  'agent.fail-closed-failed',
  'agent.uninstall',
  'agent.uninstalled',
  'mail.rejected',
  'mail.account.unapproved',
  'mail.egress.blocked',
  'mail.egress.error',
] as const;

export interface EventFilter {
  readonly range?: RangeKey;
  /** ISO instants; only used when no quick range is chosen. */
  readonly from?: string;
  readonly to?: string;
  readonly type?: string;
  readonly severity?: Severity;
  readonly group?: string;
  /** Agent id (the PC). */
  readonly agent?: string;
  /** Device id (`0781:5567`) or serial, as text. */
  readonly device?: string;
  readonly status?: TriageStatus;
  readonly q?: string;
}

const FILTER_KEYS = ['range', 'from', 'to', 'type', 'severity', 'group', 'agent', 'device', 'status', 'q'] as const;

const isOneOf = <T extends string>(list: readonly T[], v: string | null): v is T => v !== null && (list as readonly string[]).includes(v);

/** Reads the filter from the URL; values the server would refuse are dropped rather than sent. */
export function filterFromQuery(query: URLSearchParams): EventFilter {
  const text = (name: string, max: number): string | undefined => {
    const v = query.get(name)?.trim();
    return v ? v.slice(0, max) : undefined;
  };
  const instant = (name: string): string | undefined => {
    const v = query.get(name);
    if (!v) return undefined;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  };
  const range = query.get('range');
  const severity = query.get('severity');
  const status = query.get('status');
  const type = text('type', 64);
  return {
    ...(range !== null && Object.hasOwn(RANGES, range) ? { range: range as RangeKey } : { from: instant('from'), to: instant('to') }),
    type: type !== undefined && /^[a-z0-9.-]{1,64}$/.test(type) ? type : undefined,
    severity: isOneOf(SEVERITIES, severity) ? severity : undefined,
    group: text('group', 64),
    agent: text('agent', 64),
    device: text('device', 200),
    status: isOneOf(STATUSES, status) ? status : undefined,
    q: text('q', 200),
  };
}

/** The filter as page-URL parameters (for routeHref); empty values are left out. */
export function filterToQuery(f: EventFilter): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of FILTER_KEYS) out[k] = f[k];
  if (f.range !== undefined) {
    out.from = undefined;
    out.to = undefined;
  }
  return out;
}

export function isEmptyFilter(f: EventFilter): boolean {
  return FILTER_KEYS.every((k) => f[k] === undefined || f[k] === '');
}

/**
 * The server's query parameters for a filter. The server has one text search (`q`); a device
 * filter is a search for its id or serial, so with both set the device goes to the server (it
 * is the narrower) and the free text is applied to the rows that come back (`localText`).
 */
export function apiParams(f: EventFilter, nowMs: number): { params: URLSearchParams; localText: string | undefined } {
  const p = new URLSearchParams();
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') p.set(k, v);
  };
  if (f.range !== undefined) {
    set('since', new Date(nowMs - RANGES[f.range]).toISOString());
  } else {
    set('since', f.from);
    set('until', f.to);
  }
  set('type', f.type);
  set('severity', f.severity);
  set('group', f.group);
  set('agent', f.agent);
  set('status', f.status);
  const device = f.device?.trim() || undefined;
  const q = f.q?.trim() || undefined;
  set('q', device ?? q);
  return { params: p, localText: device !== undefined && q !== undefined ? q : undefined };
}

/** Whether an event's data holds `text` (any case), as the server's `q` search does. */
export function matchesText(data: unknown, text: string | undefined): boolean {
  if (text === undefined || text === '') return true;
  return JSON.stringify(data).toLowerCase().includes(text.toLowerCase());
}

/** `?a=1&b=2` with a leading `?`, or '' when there is nothing to send. */
export function withQuery(path: string, params: URLSearchParams, extra: Readonly<Record<string, string>> = {}): string {
  const p = new URLSearchParams(params);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** `datetime-local` input value (local wall time, minutes) for an ISO instant, and back. */
export function toLocalInput(iso: string | undefined): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | undefined {
  if (value === '') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * New rows from a tail poll go on top of the shown rows, without repeating one already shown
 * (the first poll after a load may return rows the page already has).
 */
export function mergeNewer<T extends { readonly id: number }>(shown: readonly T[], newer: readonly T[]): T[] {
  const have = new Set(shown.map((e) => e.id));
  const fresh = newer.filter((e) => !have.has(e.id));
  return fresh.length === 0 ? (shown as T[]) : [...fresh, ...shown];
}

/** Appends an older page, skipping rows already shown (a tail row may also come back in a page). */
export function appendOlder<T extends { readonly id: number }>(shown: readonly T[], older: readonly T[]): T[] {
  const have = new Set(shown.map((e) => e.id));
  return [...shown, ...older.filter((e) => !have.has(e.id))];
}
