import { classifyDevice, parseDevice, PortcullisError } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import type { AgentRecord, EventRecord, Store, UsbSeenRecord } from '../../store/store.js';
import type { ServerDeps } from '../deps.js';
import { presenceOf, type Presence } from './agent-routes.js';

const DAY_MS = 86_400_000;
/** The overview's chart covers this many UTC days, today included. */
export const OVERVIEW_DAYS = 30;
export const OVERVIEW_TOP = 10;
export const DRIFT_LIST_MAX = 20;
export const SILENT_LIST_MAX = 20;
/** An online agent that has reported no event of its own for this long is listed as silent. */
export const QUIET_AFTER_MS = 24 * 3_600_000;

/**
 * What the overview counts as a violation: a device or port the policy kept out, or a mail the
 * server refused. By type rather than by severity, so a high-severity `agent.silent` or
 * `policy.refused` (operations, not violations) does not inflate the count, and a blocked device
 * counts whatever severity its event carries.
 */
export const VIOLATION_TYPES = ['device.blocked', 'device.rejected', 'port.blocked', 'mail.rejected', 'mail.account.unapproved', 'mail.egress.blocked'] as const;

/** The device events whose decision the computer page shows as a device's "last decision". */
const DECISION_TYPES: ReadonlySet<string> = new Set(['device.allowed', 'device.blocked', 'device.rejected', 'device.readonly']);
/** How many of an agent's newest events are read to find each device's last decision. */
const DECISION_SCAN = 500;

const usbQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 200, description: 'Substring of vendor:product, name, serial, label or hostname' },
    agent: { type: 'string', maxLength: 64, description: 'Only devices seen on this agent, each with its last decision there' },
  },
} as const;

/** The key the hub files a sighting under (agent-hub.ts), rebuilt from a device event's data. */
export function sightingKey(device: Record<string, unknown>): string {
  const s = (k: string) => (typeof device[k] === 'string' ? (device[k] as string) : '');
  return s('hash') ? `hash:${s('hash')}` : `id:${s('id')}|${s('serial')}|${s('name')}`;
}

export function fleetExtraRoutes(deps: ServerDeps) {
  // The overview aggregates 30 days of events and every agent: seconds on a large fleet. One
  // computation serves every console for `overviewCacheMs`, and concurrent requests share the one
  // in flight, so many open consoles cannot pile the work up.
  const cacheMs = deps.options.overviewCacheMs ?? 0;
  let cached: { at: number; value: Promise<Awaited<ReturnType<typeof overview>>> } | undefined;
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/overview', { config: { access: 'viewer', summary: 'Fleet overview: presence, drift, violations over 30 days, top devices and PCs, silent agents' } }, async () => {
      const now = Date.now();
      if (cached === undefined || now - cached.at >= cacheMs) {
        const value = overview(deps.store, deps.clock());
        cached = { at: now, value };
        value.catch(() => {
          if (cached?.value === value) cached = undefined;
        });
      }
      return cached.value;
    });

    app.get<{ Querystring: { q?: string; agent?: string } }>(
      '/usb-devices',
      { config: { access: 'viewer', summary: 'USB devices seen in the fleet, grouped by device, with where and when' }, schema: { querystring: usbQuery } },
      async (request) => usbDevices(deps.store, request.query),
    );
  };
}

interface AgentBrief {
  readonly id: string;
  readonly hostname: string;
  readonly group: string;
  readonly status: Presence;
}

function brief(a: AgentRecord, now: Date): AgentBrief {
  return { id: a.id, hostname: a.hostname, group: a.group, status: presenceOf(a, now) };
}

async function overview(store: Store, now: Date) {
  const agents = await store.listAgents({ includeRevoked: true });
  const byId = new Map(agents.map((a) => [a.id, a]));
  const presence: Record<Presence, number> = { online: 0, stale: 0, offline: 0, revoked: 0 };
  for (const a of agents) presence[presenceOf(a, now)]++;

  const latest = new Map<string, number | null>();
  for (const group of new Set(agents.map((a) => a.group))) latest.set(group, (await store.latestPolicy(group))?.version ?? null);
  const drifting = agents
    .filter((a) => !a.revokedAt && latest.get(a.group) !== null && a.appliedVersion !== latest.get(a.group))
    .sort((x, y) => x.hostname.localeCompare(y.hostname) || x.id.localeCompare(y.id));

  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (OVERVIEW_DAYS - 1) * DAY_MS).toISOString();
  const until = new Date(today + DAY_MS).toISOString();
  const summary = await store.summarizeEvents({ since, until, types: VIOLATION_TYPES, top: OVERVIEW_TOP });
  const counted = new Map(summary.byDay.map((d) => [d.day, d.count]));
  const perDay = Array.from({ length: OVERVIEW_DAYS }, (_, i) => {
    const day = new Date(today - (OVERVIEW_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10);
    return { day, count: counted.get(day) ?? 0 };
  });

  return {
    generatedAt: now.toISOString(),
    agents: { total: agents.length, ...presence },
    drift: {
      count: drifting.length,
      agents: drifting.slice(0, DRIFT_LIST_MAX).map((a) => ({ ...brief(a, now), appliedVersion: a.appliedVersion, latestVersion: latest.get(a.group) ?? null })),
    },
    violations: {
      types: VIOLATION_TYPES,
      today: perDay.at(-1)?.count ?? 0,
      total: perDay.reduce((n, d) => n + d.count, 0),
      perDay,
    },
    topDevices: summary.topDevices,
    topComputers: summary.topAgents.map((t) => {
      const a = byId.get(t.agentId);
      return { id: t.agentId, hostname: a?.hostname ?? t.agentId, group: a?.group ?? null, count: t.count };
    }),
    silent: await silentAgents(store, agents, now),
  };
}

/**
 * Two kinds of silence: the hub raised `agent.silent` (no contact past its threshold) and the
 * agent has not been seen since, or the agent is online but has reported no event of its own for
 * QUIET_AFTER_MS (connected, yet its event pipeline may be stuck). One indexed read per agent.
 */
async function silentAgents(store: Store, agents: readonly AgentRecord[], now: Date) {
  const reported = await store.queryEvents({ type: 'agent.silent', since: new Date(now.getTime() - OVERVIEW_DAYS * DAY_MS).toISOString(), limit: 500, orderBy: 'occurredAt' });
  const stillSilent = new Map<string, EventRecord>();
  for (const e of reported) {
    const a = agents.find((x) => x.id === e.data.agentId);
    if (a && !a.revokedAt && a.lastSeenAt === e.data.lastSeenAt && !stillSilent.has(a.id)) stillSilent.set(a.id, e);
  }
  const list: Array<AgentBrief & { reason: 'no-contact' | 'no-events'; lastSeenAt: string | null; lastEventAt: string | null }> = [];
  for (const a of agents) {
    if (a.revokedAt) continue;
    const status = presenceOf(a, now);
    const [last] = await store.queryEvents({ agentId: a.id, limit: 1 });
    const lastEventAt = last?.occurredAt ?? null;
    if (stillSilent.has(a.id)) list.push({ ...brief(a, now), reason: 'no-contact', lastSeenAt: a.lastSeenAt, lastEventAt });
    else if (status === 'online' && (lastEventAt === null || now.getTime() - Date.parse(lastEventAt) > QUIET_AFTER_MS)) {
      list.push({ ...brief(a, now), reason: 'no-events', lastSeenAt: a.lastSeenAt, lastEventAt });
    }
  }
  list.sort((x, y) => (x.lastEventAt ?? '').localeCompare(y.lastEventAt ?? '') || x.hostname.localeCompare(y.hostname));
  return { count: list.length, agents: list.slice(0, SILENT_LIST_MAX) };
}

interface Decision {
  readonly target: string;
  readonly at: string;
  readonly eventId: number;
  readonly line: number | null;
  readonly rule: string | null;
}

/** The newest decision per sighting key among the agent's last DECISION_SCAN events. */
async function lastDecisions(store: Store, agentId: string): Promise<Map<string, Decision>> {
  const out = new Map<string, Decision>();
  for (const e of await store.queryEvents({ agentId, limit: DECISION_SCAN })) {
    const device = e.data.device;
    if (!DECISION_TYPES.has(e.type) || typeof device !== 'object' || device === null) continue;
    const key = sightingKey(device as Record<string, unknown>);
    if (out.has(key)) continue;
    const d = (e.data.decision ?? {}) as { target?: unknown; line?: unknown; rule?: unknown };
    out.set(key, {
      target: typeof d.target === 'string' ? d.target : e.type.slice('device.'.length),
      at: e.occurredAt,
      eventId: e.id,
      line: typeof d.line === 'number' ? d.line : null,
      rule: typeof d.rule === 'string' ? d.rule : null,
    });
  }
  return out;
}

function text(device: Record<string, unknown>, key: string): string {
  const v = device[key];
  return typeof v === 'string' ? v : '';
}

/** What kind of device this is, for people ("USB flash drive"); sightings carry no label of their own. */
function classify(device: Record<string, unknown>): { label: string; category: string } {
  try {
    const c = classifyDevice(parseDevice(device));
    return { label: c.label, category: c.category };
  } catch (err) {
    // Sightings are validated on arrival; one in an older format is listed without a label.
    if (err instanceof PortcullisError) return { label: '', category: 'unknown' };
    throw err;
  }
}

async function usbDevices(store: Store, query: { q?: string; agent?: string }) {
  const agents = new Map((await store.listAgents({ includeRevoked: true })).map((a) => [a.id, a]));
  const sightings: UsbSeenRecord[] = (await store.listUsbSeen()).filter((s) => query.agent === undefined || s.agentId === query.agent);
  const decisions = query.agent === undefined ? undefined : await lastDecisions(store, query.agent);
  const devices = new Map<string, {
    key: string;
    id: string;
    name: string;
    serial: string;
    label: string;
    category: string;
    device: Record<string, unknown>;
    firstSeenAt: string;
    lastSeenAt: string;
    computers: Array<{ agentId: string; hostname: string; group: string | null; firstSeenAt: string; lastSeenAt: string; lastDecision?: Decision | null }>;
  }>();
  // listUsbSeen is newest first, so the first sighting of a key holds its freshest attributes.
  for (const s of sightings) {
    const agent = agents.get(s.agentId);
    const computer = {
      agentId: s.agentId,
      hostname: agent?.hostname ?? s.agentId,
      group: agent?.group ?? null,
      firstSeenAt: s.firstSeenAt,
      lastSeenAt: s.lastSeenAt,
      ...(decisions ? { lastDecision: decisions.get(s.key) ?? null } : {}),
    };
    const entry = devices.get(s.key);
    if (entry) {
      entry.computers.push(computer);
      if (s.firstSeenAt < entry.firstSeenAt) entry.firstSeenAt = s.firstSeenAt;
      continue;
    }
    devices.set(s.key, {
      key: s.key,
      id: text(s.device, 'id').toLowerCase(),
      name: text(s.device, 'name'),
      serial: text(s.device, 'serial'),
      ...classify(s.device),
      device: s.device,
      firstSeenAt: s.firstSeenAt,
      lastSeenAt: s.lastSeenAt,
      computers: [computer],
    });
  }
  const needle = query.q?.trim().toLowerCase() ?? '';
  const list = [...devices.values()].filter(
    (d) => needle === '' || [d.id, d.name, d.serial, d.label, ...d.computers.map((c) => c.hostname)].some((v) => v.toLowerCase().includes(needle)),
  );
  list.sort((x, y) => y.lastSeenAt.localeCompare(x.lastSeenAt) || x.id.localeCompare(y.id) || x.key.localeCompare(y.key));
  return { devices: list.map((d) => ({ ...d, computerCount: d.computers.length })) };
}
