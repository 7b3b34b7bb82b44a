/** The computers list's filters, applied in the browser to GET /agents (one request per view). */

export type Presence = 'online' | 'stale' | 'offline' | 'revoked';

export interface AgentView {
  readonly id: string;
  readonly group: string;
  readonly hostname: string;
  readonly machineId: string;
  readonly os: string;
  readonly agentVersion: string;
  readonly enrolledAt: string;
  readonly lastSeenAt: string | null;
  readonly appliedVersion: number | null;
  readonly latestVersion: number | null;
  readonly revokedAt: string | null;
  readonly status: Presence;
  readonly drift: boolean;
}

/** "Last seen" buckets: within the hour, the day, the week, or not for longer (or never). */
export const SEEN_WINDOWS = ['1h', '24h', '7d', 'older'] as const;
export type SeenWindow = (typeof SEEN_WINDOWS)[number];
const WINDOW_MS: Readonly<Record<Exclude<SeenWindow, 'older'>, number>> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export interface ComputerFilter {
  readonly q?: string;
  readonly group?: string;
  readonly status?: string;
  readonly os?: string;
  readonly seen?: string;
}

/** The OS families offered in the filter: the first word of each reported OS ("Windows", "Debian"). */
export function osFamily(os: string): string {
  return os.trim().split(/\s+/)[0] ?? '';
}

export function osFamilies(agents: readonly AgentView[]): string[] {
  return [...new Set(agents.map((a) => osFamily(a.os)).filter((f) => f !== ''))].sort((a, b) => a.localeCompare(b));
}

function seenMatches(lastSeenAt: string | null, window: string, now: Date): boolean {
  if (!(SEEN_WINDOWS as readonly string[]).includes(window)) return true;
  const age = lastSeenAt === null ? Infinity : now.getTime() - Date.parse(lastSeenAt);
  if (window === 'older') return age > WINDOW_MS['7d'];
  return age <= WINDOW_MS[window as Exclude<SeenWindow, 'older'>];
}

/** Hostname search ignores case; every other filter is exact; hostname order. */
export function filterComputers(agents: readonly AgentView[], f: ComputerFilter, now: Date): AgentView[] {
  const q = f.q?.trim().toLowerCase() ?? '';
  return agents
    .filter((a) => q === '' || a.hostname.toLowerCase().includes(q) || a.id.toLowerCase() === q)
    .filter((a) => !f.group || a.group === f.group)
    .filter((a) => !f.status || a.status === f.status)
    .filter((a) => !f.os || osFamily(a.os) === f.os)
    .filter((a) => !f.seen || seenMatches(a.lastSeenAt, f.seen, now))
    .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
}

/** Hours offered for a temporary grant. */
export const GRANT_HOURS = [1, 4, 8, 24, 72, 168] as const;
