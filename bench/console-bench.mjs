#!/usr/bin/env node
// Portcullis console benchmark (issue 5: "first load of the log page under 1 s on localhost with
// 100,000 events stored"): the time from navigation start to the first event row on screen, in
// Debian's Chromium driven by playwright-core, against the real server started in this process.
//
//   cd /work/main && npm run build && node bench/console-bench.mjs
//
// 1. Server   startServer (real TLS on 127.0.0.1, a free port, a temporary data folder), SQLite by
//             default; BENCH_PG=1 uses a throwaway PostgreSQL database (dropped afterwards).
// 2. Seed     groups and policies through the REST API; agents, their enrollment events and the
//             event log through a second Store on the same database (Store.ingestEvents, at most
//             500 events per call). Events have the agent's shape (agent/src/service/
//             device-events.ts) with decision traces computed by the shared rule engine on each
//             group's policy; they span the last 30 days.
// 3. Measure  sign in once through the form and keep the session cookie; then, BENCH_REPS times,
//             open a new tab on #/events and on #/overview: cold (a new browser context with the
//             cookie copied in: empty cache, new connections) and warm (one context kept open:
//             cached assets). The time is read in the page: from navigation start
//             (performance.timeOrigin) to the first animation frame after the first `events-row`
//             (`overview-chart`) entered the DOM; Resource Timing splits it into phases.
//             Baselines in the same process, interleaved with the loads, over keep-alive HTTPS with
//             the same cookie: GET /api/v1/events?limit=100 alone, the page's own calls in the
//             page's order, GET /api/v1/agents and GET /api/v1/overview alone.
//             The goal is judged on the cold loads' p95 and on the first load after the start.
//
// Chromium is headless with the test harness's flags plus --ignore-certificate-errors-spki-list
// for the server's keys: with ignoreHTTPSErrors alone Chromium caches nothing, and "warm" would
// download the assets again (BENCH_TRUST_CA=0 measures that case).
//
// Knobs (environment):
//   BENCH_EVENTS=100000  BENCH_AGENTS=300  BENCH_REPS=10  BENCH_SEED (default 0x5eed2027)
//   BENCH_SEED_WINDOW=10000 (older history is ingested in windows of this many events, one call
//     per agent per window)  BENCH_SEED_LIVE=2000 (the newest events arrive as the hub gets them
//     live: one call per plug, so the first page's ids follow time)
//   BENCH_PG=1 (or a base URL; default postgres://postgres@127.0.0.1:5432)  BENCH_TMP=/tmp
//   BENCH_SERVER_LOG_LEVEL=warn  BENCH_KEEP=1 (keep the data folder)  BENCH_VERBOSE=1
//   BENCH_TRUST_CA=0  BENCH_APPEND=1 (append a Markdown section with the figures to bench/RESULTS.md)
//
// Exit code 1 if a check fails (stored events ≠ seeded, an API answer or a page load without
// its 100 rows).

import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Rng } from './support-rng.mjs';
import { markdownTable, percentile, pgAdmin as pgAdminAt } from './support-stats.mjs';
import { classifyDevice, CompiledPolicy, parseRuleFile, prepareDevice, STARTER_POLICY_INPUT, STARTER_POLICY_RULES } from '../shared/dist/src/index.js';

const SERVER_DIST = new URL('../server/dist/src/', import.meta.url);
const { startServer } = await import(new URL('main.js', SERVER_DIST));
const { loadConfig } = await import(new URL('config.js', SERVER_DIST));
const { openSqliteStore } = await import(new URL('store/sqlite-store.js', SERVER_DIST));
const { openPostgresStore } = await import(new URL('store/postgres-store.js', SERVER_DIST));
const { hashSecret, newId, newSecret } = await import(new URL('auth/secrets.js', SERVER_DIST));
// playwright-core is a dependency of the test workspace, not of the repository root.
const { chromium } = createRequire(new URL('../test/package.json', import.meta.url))('playwright-core');

const env = process.env;
const num = (name, dflt) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]));
const EVENTS = num('BENCH_EVENTS', 100_000);
const AGENTS = num('BENCH_AGENTS', 300);
const REPS = num('BENCH_REPS', 10);
const SEED = num('BENCH_SEED', 0x5eed2027) >>> 0;
const SEED_WINDOW = num('BENCH_SEED_WINDOW', 10_000);
const SEED_LIVE = num('BENCH_SEED_LIVE', 2_000);
const PG_BASE = env.BENCH_PG && env.BENCH_PG !== '0' ? (env.BENCH_PG === '1' ? 'postgres://postgres@127.0.0.1:5432' : env.BENCH_PG.replace(/\/+$/, '')) : null;
const TMP = env.BENCH_TMP ?? os.tmpdir();
const RESULTS_MD = fileURLToPath(new URL('RESULTS.md', import.meta.url));
const ADMIN_PASSWORD = 'bench-admin-password-1234';
const GOAL_MS = 1000;
const PAGE_SIZE = 100; // what the log page asks for (server/web/src/pages/events/events-page.tsx)
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BAKU_OFFSET_MIN = 240;

const log = (...args) => env.BENCH_VERBOSE === '1' && console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
const r1 = (x) => Math.round(x * 10) / 10;
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// The fleet: devices, groups, policies

/** On every desk; all HID or hubs, so the starter policy allows them. */
const DESK_MODELS = [
  { id: '413c:2113', name: 'Dell KB216 Wired Keyboard', manufacturer: 'Dell', ifs: ['03:01:01', '03:00:00'] },
  { id: '046d:c077', name: 'USB Optical Mouse', manufacturer: 'Logitech', ifs: ['03:01:02'] },
  { id: '046d:c52b', name: 'USB Receiver', manufacturer: 'Logitech', ifs: ['03:01:01', '03:01:02', '03:00:00'] },
  { id: '03f0:134a', name: 'HP USB Optical Mouse', manufacturer: 'HP', ifs: ['03:01:02'] },
  { id: '0424:2514', name: 'USB2514B Hub', manufacturer: 'Microchip', ifs: ['09:00:00'], deviceClass: '09' },
];
/** What people bring and plug in: weight, model. */
const REMOVABLE_MODELS = [
  [14, { id: '0951:1666', name: 'DataTraveler 3.0', manufacturer: 'Kingston', ifs: ['08:06:50'] }],
  [12, { id: '0781:5567', name: 'Cruzer Blade', manufacturer: 'SanDisk', ifs: ['08:06:50'] }],
  [8, { id: '0781:5581', name: 'Ultra', manufacturer: 'SanDisk', ifs: ['08:06:50'] }],
  [5, { id: '8564:1000', name: 'JetFlash', manufacturer: 'Transcend', ifs: ['08:06:50'] }],
  [5, { id: '1058:25a2', name: 'Elements 25A2', manufacturer: 'Western Digital', ifs: ['08:06:50'] }],
  [3, { id: '0bc2:2322', name: 'Expansion Desk', manufacturer: 'Seagate', ifs: ['08:06:62'] }],
  [8, { id: '04e8:6860', name: 'SAMSUNG_Android', manufacturer: 'SAMSUNG', ifs: ['06:01:01', 'ff:42:01'] }],
  [6, { id: '05ac:12a8', name: 'iPhone', manufacturer: 'Apple Inc.', ifs: ['06:01:01', 'ff:fe:02'] }],
  [3, { id: '0bda:8153', name: 'USB 10/100/1000 LAN', manufacturer: 'Realtek', ifs: ['ff:ff:00', '02:06:00', '0a:00:00'] }],
  [4, { id: '076b:3021', name: 'CardMan 3021', manufacturer: 'OMNIKEY', ifs: ['0b:00:00'] }],
  [3, { id: '046d:0825', name: 'Webcam C270', manufacturer: 'Logitech', ifs: ['0e:01:00', '0e:02:00', '01:01:00', '01:02:00'], deviceClass: 'ef' }],
  [2, { id: '03f0:0c17', name: 'HP LaserJet 1010', manufacturer: 'Hewlett-Packard', ifs: ['07:01:02'] }],
  [0.5, { id: '1a86:7523', name: 'USB DISK', manufacturer: 'Generic', ifs: ['08:06:50', '03:01:01'] }], // storage that types: BadUSB
];
const GROUPS = [
  { name: 'default', prefix: 'NEW', description: '' },
  { name: 'finance', prefix: 'FIN', description: 'Budget and treasury departments' },
  { name: 'hr', prefix: 'HR', description: 'Human resources' },
  { name: 'legal', prefix: 'LEG', description: 'Legal department' },
  { name: 'registry', prefix: 'REG', description: 'Document registry and archive' },
];

function physicalDevice(rng, model) {
  const serial = model.ifs[0].startsWith('03') || model.ifs[0].startsWith('09') || model.ifs[0].startsWith('0e') ? '' : rng.hex(model.id.startsWith('05ac') ? 24 : 20, true);
  return { model, serial, hash: rng.hash(), parentHash: rng.hash() };
}

/** Version 2 of a group's policy: its registered flash drives and e-signature readers on top of the starter rules. */
function policyV2Rules(registered) {
  return [
    '# Registered devices (security office list)',
    ...registered.map((d) => `allow id ${d.model.id} serial "${d.serial}" with-interface equals { ${d.model.ifs.join(' ')} }`),
    '# E-signature card readers',
    'allow with-interface equals { 0b:*:* }',
    '',
    STARTER_POLICY_RULES,
  ].join('\n');
}

function buildFleet(rng) {
  const agents = [];
  const globalPool = Array.from({ length: 400 }, () => physicalDevice(rng, rng.weighted(REMOVABLE_MODELS)));
  for (let i = 0; i < AGENTS; i++) {
    const group = GROUPS[i < AGENTS * 0.04 ? 0 : 1 + (i % (GROUPS.length - 1))];
    const desk = [physicalDevice(rng, DESK_MODELS[0]), physicalDevice(rng, rng.pick(DESK_MODELS.slice(1, 4)))];
    if (rng.chance(0.2)) desk.push(physicalDevice(rng, DESK_MODELS[4]));
    const own = Array.from({ length: 1 + rng.int(4) }, () => physicalDevice(rng, rng.weighted(REMOVABLE_MODELS)));
    agents.push({
      i,
      id: newId('agt'),
      group: group.name,
      hostname: `${group.prefix}-PC-${String(i).padStart(4, '0')}`,
      desk,
      own,
      activity: 1 / (0.08 + rng.next()), // a few PCs plug far more than most
      drift: rng.chance(0.05), // never applies version 2
      v2At: 0,
      seq: 0,
      devnum: 2,
    });
  }
  // About one own flash drive in eight is registered in its group's version 2.
  const registered = new Map(GROUPS.map((g) => [g.name, []]));
  for (const a of agents) {
    for (const d of a.own) if (d.model.ifs[0] === '08:06:50' && d.model.ifs.length === 1 && rng.chance(0.125)) registered.get(a.group).push(d);
  }
  return { agents, globalPool, registered };
}

// ---------------------------------------------------------------------------------------------
// Events, as the agent sends them

function pickTime(rng, startMs, endMs) {
  for (;;) {
    const day = Math.floor((startMs + rng.next() * (endMs - startMs)) / DAY_MS) * DAY_MS;
    const dow = new Date(day + BAKU_OFFSET_MIN * 60_000).getUTCDay();
    if ((dow === 0 || dow === 6) && !rng.chance(0.1)) continue;
    // Office hours in Baku (08:30-18:00, UTC+4) for most plugs.
    const t = day + Math.floor(rng.chance(0.9) ? (4.5 + rng.next() * 9.5) * HOUR_MS : rng.next() * DAY_MS);
    if (t >= startMs && t < endMs) return t;
  }
}

function createEventFactory(policies) {
  const decisions = new Map();
  const decide = (group, version, dev, at) => {
    const key = `${group}|${version}|${dev.model.id}|${dev.serial}`;
    let d = decisions.get(key);
    if (d === undefined) {
      const policy = policies.get(group)[version];
      const device = { id: dev.model.id, name: dev.model.name, serial: dev.serial, hash: dev.hash, parentHash: dev.parentHash, viaPort: '1-1', interfaces: dev.model.ifs, connectType: 'hotplug' };
      const decision = policy.decide(prepareDevice(device), { now: new Date(at), utcOffsetMinutes: BAKU_OFFSET_MIN });
      d = { target: decision.target, line: decision.line, rule: policy.ruleText(decision), implicit: decision.implicit };
      decisions.set(key, d);
    }
    return d;
  };
  const deviceData = (dev, sysName, a) => ({
    id: dev.model.id,
    name: dev.model.name,
    serial: dev.serial,
    manufacturer: dev.model.manufacturer,
    hash: dev.hash,
    parentHash: dev.parentHash,
    viaPort: sysName,
    interfaces: [...dev.model.ifs],
    connectType: 'hotplug',
    deviceClass: dev.model.deviceClass ?? '00',
    busnum: Number(sysName[0]),
    devnum: a.devnum++,
  });
  /** device.connected, then the decision (deviceConnectedEvent + deviceDecisionEvent). */
  const plug = (a, dev, at, phase, rng) => {
    const version = a.v2At > 0 && at >= a.v2At ? 2 : 1;
    const sysName = `${1 + rng.int(3)}-${1 + rng.int(6)}${rng.chance(0.2) ? `.${1 + rng.int(4)}` : ''}`;
    const klass = classifyDevice({ id: dev.model.id, name: dev.model.name, interfaces: dev.model.ifs, deviceClass: dev.model.deviceClass ?? '00' });
    const device = deviceData(dev, sysName, a);
    const d = decide(a.group, version, dev, at);
    let severity = d.target === 'allow' ? 'info' : d.target === 'readonly' ? 'low' : d.target === 'block' ? 'medium' : 'high';
    if (klass.suspicious && d.target !== 'allow') severity = 'high';
    const common = { name: sysName, label: klass.label, category: klass.category, suspicious: klass.suspicious, device };
    const type = { allow: 'device.allowed', block: 'device.blocked', reject: 'device.rejected', readonly: 'device.readonly' }[d.target];
    return [
      { at, type: 'device.connected', severity: 'info', data: common },
      {
        at: at + 3 + rng.int(40),
        type,
        severity,
        data: {
          ...common,
          decision: {
            target: d.target,
            source: d.implicit ? 'implicit' : 'rule',
            line: d.line,
            rule: d.rule,
            exceptionId: null,
            conditionsNotMet: [],
            reason: d.implicit ? `no rule matched: implicit ${d.target}` : `rule at line ${d.line}`,
          },
          policy: { group: a.group, version },
          phase,
          enforced: true,
        },
      },
    ];
  };
  return { plug };
}

/**
 * The event log, oldest first: plugs of people's own and visitors' devices, desk devices plugged
 * again, boots (agent.started and the present devices) with the shutdown before them, and the
 * policy.applied of version 2. Each event carries its agent; seqs are given at ingest.
 */
function buildEvents(rng, fleet, policies, startMs, endMs, v2SavedAt) {
  const { plug } = createEventFactory(policies);
  const out = [];
  for (const a of fleet.agents) {
    if (a.drift) continue;
    a.v2At = v2SavedAt + rng.int(20 * HOUR_MS);
    out.push({ a, at: a.v2At, type: 'policy.applied', severity: 'info', data: { policy: { group: a.group, version: 2 }, devices: a.desk.length, changed: 0, failed: 0, previousVersion: 1 } });
  }
  const cumulative = [];
  let sum = 0;
  for (const a of fleet.agents) cumulative.push((sum += a.activity));
  const pickAgent = () => {
    const x = rng.next() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return fleet.agents[lo];
  };
  while (out.length < EVENTS) {
    const a = pickAgent();
    const at = pickTime(rng, startMs, endMs - 60_000);
    const kind = rng.next();
    const events = [];
    if (kind < 0.05) {
      const stoppedAt = at - (2 + rng.int(60)) * HOUR_MS / 4;
      if (stoppedAt > startMs) events.push({ at: stoppedAt, type: 'agent.stopping', severity: 'info', data: { reason: 'SIGTERM' } });
      const version = a.v2At > 0 && at >= a.v2At ? 2 : 1;
      events.push({ at, type: 'agent.started', severity: 'info', data: { version: '0.1.0', pid: 400 + rng.int(3000), policy: { group: a.group, version }, policySource: 'cache', platform: 'linux' } });
      for (const dev of a.desk) events.push(...plug(a, dev, at + 200 + rng.int(800), 'startup', rng));
    } else if (kind < 0.4) {
      events.push(...plug(a, rng.pick(a.desk), at, 'hotplug', rng));
    } else {
      events.push(...plug(a, rng.chance(0.85) ? rng.pick(a.own) : rng.pick(fleet.globalPool), at, 'hotplug', rng));
    }
    for (const e of events) out.push({ a, ...e });
  }
  out.length = EVENTS;
  return out.filter((e) => e.at < endMs).sort((x, y) => x.at - y.at);
}

/** Agents and their enrollment, then the log through Store.ingestEvents (≤ 500 per call). */
async function seed(store, fleet, events, enrolledAt, seenAt) {
  for (const a of fleet.agents) {
    await store.createAgent({ id: a.id, secretHash: hashSecret(newSecret()), group: a.group, hostname: a.hostname, machineId: `machine-${SEED}-${a.i}`, os: 'Ubuntu 24.04.1 LTS', agentVersion: '0.1.0', enrolledAt });
  }
  // What POST /api/v1/enroll writes for each agent (a server event: no agent, no seq).
  for (const g of GROUPS) {
    const enrolled = fleet.agents.filter((a) => a.group === g.name).map((a) => ({ seq: null, type: 'agent.enrolled', severity: 'info', occurredAt: enrolledAt, data: { agentId: a.id, hostname: a.hostname, machineId: `machine-${SEED}-${a.i}`, os: 'Ubuntu 24.04.1 LTS', tokenId: 'tok_bench', replaced: [] } }));
    for (let i = 0; i < enrolled.length; i += 500) await store.ingestEvents(null, g.name, enrolled.slice(i, i + 500), enrolledAt);
  }
  let calls = 0;
  const send = async (a, batch) => {
    const wire = batch.map((e) => ({ seq: ++a.seq, type: e.type, severity: e.severity, occurredAt: new Date(e.at).toISOString(), data: e.data }));
    const r = await store.ingestEvents(a.id, a.group, wire, new Date(batch.at(-1).at + 1500).toISOString());
    if (r.ackedSeq !== a.seq) throw new Error(`store acked ${r.ackedSeq}, expected ${a.seq}`);
    calls++;
  };
  const liveFrom = Math.max(0, events.length - SEED_LIVE);
  // History: one call per agent per window (an agent's spool catching up), ids follow the windows.
  for (let w = 0; w < liveFrom; w += SEED_WINDOW) {
    const byAgent = new Map();
    for (const e of events.slice(w, Math.min(w + SEED_WINDOW, liveFrom))) {
      if (!byAgent.has(e.a)) byAgent.set(e.a, []);
      byAgent.get(e.a).push(e);
    }
    for (const [a, list] of byAgent) for (let i = 0; i < list.length; i += 500) await send(a, list.slice(i, i + 500));
    log(`seeded ${Math.min(w + SEED_WINDOW, liveFrom)} events`);
  }
  // The newest events as they arrive live: one call per run of one agent's events.
  let run = [];
  for (const e of events.slice(liveFrom)) {
    if (run.length > 0 && run[0].a !== e.a) await send(run[0].a, run.splice(0));
    run.push(e);
  }
  if (run.length > 0) await send(run[0].a, run);
  // Presence and applied versions as the hub would have left them.
  const online = fleet.agents.filter((a) => a.i % 10 < 8).map((a) => a.id);
  const lastWeek = fleet.agents.filter((a) => a.i % 10 >= 8).map((a) => a.id);
  await store.touchAgents(online, seenAt);
  await store.touchAgents(lastWeek, new Date(Date.parse(seenAt) - 5 * DAY_MS).toISOString());
  await store.setAgentsApplied(fleet.agents.map((a) => ({ id: a.id, version: a.drift ? 1 : 2 })));
  return { calls };
}

// ---------------------------------------------------------------------------------------------
// Server, HTTP, PostgreSQL

function request(base, agent, method, path, { body, token, cookie } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    if (cookie) headers.cookie = cookie;
    const req = https.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, json: text === '' ? undefined : JSON.parse(text), bytes: Buffer.byteLength(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function expectOk(promise, status, what) {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.json)?.slice(0, 300)}`);
  return res.json;
}

const pgAdmin = (fn) => pgAdminAt(PG_BASE, fn);

async function countEvents(kind, file, url) {
  const sql = 'select count(*) as n from events where agent_id is not null';
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      return db.prepare(sql).get().n;
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0].n);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring in the browser

const TARGETS = {
  events: {
    route: '#/events',
    selector: '[data-testid="events-row"]',
    // The calls the first row waits for, in turn; the page also asks for the filters' lists at once.
    apis: [['/api/v1/me', 'GET /me'], ['/api/v1/events/since', 'GET /events/since'], ['/api/v1/events?', 'GET /events?limit=100']],
    side: [['/api/v1/agents', 'GET /agents'], ['/api/v1/groups', 'GET /groups']],
  },
  overview: { route: '#/overview', selector: '[data-testid="overview-chart"]', apis: [['/api/v1/me', 'GET /me'], ['/api/v1/overview', 'GET /overview']], side: [] },
};

/** Runs in every measured page before its scripts: notes when each target first enters the DOM, and the frame after. */
const MARKER = `(() => {
  const marks = (window.__bench = {});
  const targets = ${JSON.stringify(Object.fromEntries(Object.entries(TARGETS).map(([k, v]) => [k, v.selector])))};
  const check = () => {
    for (const [k, sel] of Object.entries(targets)) {
      if (marks[k] === undefined && document.querySelector(sel)) {
        marks[k] = performance.now();
        requestAnimationFrame(() => { marks[k + 'Frame'] = performance.now(); });
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
})();`;

/** One load of a console page in a fresh tab of `context`: the in-page marks and the network timeline. */
async function loadPage(context, base, key) {
  const target = TARGETS[key];
  const page = await context.newPage();
  try {
    const t0 = performance.now();
    await page.goto(`${base}/${target.route}`, { waitUntil: 'commit' });
    await page.locator(target.selector).first().waitFor({ state: 'visible', timeout: 30_000 });
    const outsideMs = performance.now() - t0;
    await page.waitForFunction((k) => window.__bench[`${k}Frame`] !== undefined, key, { timeout: 10_000 });
    const t = await page.evaluate(
      ({ k, apis, side }) => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const assets = res.filter((r) => r.name.includes('/assets/'));
        const api = Object.fromEntries([...apis, ...side].map(([part, label]) => [label, res.find((r) => r.name.includes(part))]));
        return {
          frame: window.__bench[`${k}Frame`],
          inDom: window.__bench[k],
          htmlEnd: nav.responseEnd,
          assetsEnd: Math.max(nav.responseEnd, ...assets.map((r) => r.responseEnd)),
          assetsTransferred: assets.reduce((s, r) => s + r.transferSize, 0),
          // Per call: when it started and ended, the time to get a connection and send the request
          // (a new TLS connection shows here), and the time the server took to the first byte.
          api: Object.fromEntries(
            Object.entries(api).map(([label, r]) => [label, r ? { start: r.startTime, end: r.responseEnd, toSend: r.requestStart - r.startTime, tls: r.connectEnd - r.connectStart, ttfb: r.responseStart - r.requestStart } : null]),
          ),
          rows: document.querySelectorAll('[data-testid="events-row"]').length,
        };
      },
      { k: key, apis: target.apis, side: target.side },
    );
    return { ...t, outsideMs };
  } finally {
    await page.close();
  }
}

/** Consecutive phases of one load, from navigation start to the target's frame. */
function phases(key, t) {
  const points = [['HTML', t.htmlEnd], ['JS + CSS', t.assetsEnd]];
  let first = true;
  for (const [, label] of TARGETS[key].apis) {
    const r = t.api[label];
    if (!r) continue;
    points.push([first ? 'JS start-up until GET /me' : `until ${label} starts`, r.start], [label, r.end]);
    first = false;
  }
  points.push(['render (answer → frame with it)', t.frame]);
  let prev = 0;
  return points.map(([label, at]) => {
    const ms = Math.max(0, at - prev);
    prev = Math.max(prev, at);
    return [label, ms];
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: r1(percentile(s, 50)), p95: r1(percentile(s, 95)), max: r1(s.at(-1)) };
}

const table = markdownTable;

// ---------------------------------------------------------------------------------------------
// Steps

/** startServer on a free port with real TLS; an HTTPS client that trusts its CA; the admin's token. */
async function startBenchServer(dataDir, dbUrl) {
  const argv = ['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', dataDir, ...(dbUrl ? ['--database', dbUrl] : [])];
  const serverEnv = { PORTCULLIS_LOG_LEVEL: env.BENCH_SERVER_LOG_LEVEL ?? 'warn', PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const server = await startServer(loadConfig(argv, serverEnv, { cwd: dataDir }), serverEnv, () => undefined);
  const agent = new https.Agent({ ca: await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8'), keepAlive: true, maxSockets: 4 });
  const call = (method, path, opts) => request(server.url, agent, method, path, opts);
  const token = (await expectOk(call('POST', '/api/v1/session', { body: { username: 'admin', password: ADMIN_PASSWORD } }), 200, 'login')).token;
  return { server, agent, call, token };
}

/** Groups and policies through the API, then agents and 30 days of events through a second Store. */
async function seedConsole(call, token, openStore) {
  const t0 = performance.now();
  const rng = new Rng(SEED);
  const fleet = buildFleet(rng);
  const endMs = Date.now() - 60_000;
  const startMs = endMs - 30 * DAY_MS;
  const policies = new Map();
  for (const g of GROUPS) {
    if (g.name !== 'default') {
      await expectOk(call('POST', '/api/v1/groups', { body: { name: g.name, description: g.description }, token }), 201, `group ${g.name}`);
      await expectOk(call('PUT', `/api/v1/groups/${g.name}/policy`, { body: { ...STARTER_POLICY_INPUT, comment: 'starter policy' }, token }), 200, `policy v1 of ${g.name}`);
    }
    const rules = policyV2Rules(fleet.registered.get(g.name));
    const saved = await expectOk(call('PUT', `/api/v1/groups/${g.name}/policy`, { body: { ...STARTER_POLICY_INPUT, rules, comment: 'registered flash drives; e-signature readers' }, token }), 200, `policy v2 of ${g.name}`);
    if (saved.document.version !== 2) throw new Error(`${g.name}: saved version ${saved.document.version}, expected 2`);
    policies.set(g.name, { 1: new CompiledPolicy(parseRuleFile(STARTER_POLICY_RULES, 'v1.rules'), 'block'), 2: new CompiledPolicy(parseRuleFile(rules, 'v2.rules'), 'block') });
  }
  const events = buildEvents(rng, fleet, policies, startMs, endMs, startMs + 12 * DAY_MS);
  const generateMs = performance.now() - t0;
  const store = await openStore();
  const t1 = performance.now();
  let calls;
  try {
    ({ calls } = await seed(store, fleet, events, new Date(startMs - 5 * DAY_MS).toISOString(), new Date().toISOString()));
  } finally {
    await store.close();
  }
  const ingestMs = performance.now() - t1;
  const count = (key) => events.reduce((o, e) => ((o[e[key]] = (o[e[key]] ?? 0) + 1), o), {});
  const sample = events.slice(0, 2000);
  return {
    fleet,
    events: events.length,
    agents: fleet.agents.length,
    groups: GROUPS.length,
    calls,
    generateS: r1(generateMs / 1000),
    ingestS: r1(ingestMs / 1000),
    eventsPerSec: Math.round(events.length / (ingestMs / 1000)),
    avgDataBytes: Math.round(sample.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.data)), 0) / sample.length),
    types: count('type'),
    severities: count('severity'),
  };
}

/**
 * Chromium, and the session cookie of one sign-in through the form. Chromium keeps nothing in
 * its HTTP cache from a connection with a certificate error, so with ignoreHTTPSErrors alone a
 * "warm" load would download the assets again: the server's keys are trusted by SPKI hash, as
 * for an admin who installed the CA (BENCH_TRUST_CA=0 leaves that out).
 */
async function openBrowser(dataDir, base) {
  const spki = [];
  for (const f of ['server.crt', 'ca.crt']) {
    const der = new X509Certificate(await readFile(join(dataDir, 'pki', f))).publicKey.export({ type: 'spki', format: 'der' });
    spki.push(createHash('sha256').update(der).digest('base64'));
  }
  const trust = env.BENCH_TRUST_CA === '0' ? [] : [`--ignore-certificate-errors-spki-list=${spki.join(',')}`];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...trust] });
  const contextOptions = { ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } };
  const signIn = await browser.newContext(contextOptions);
  const page = await signIn.newPage();
  await page.goto(`${base}/`);
  await page.locator('input[name="username"]').fill('admin');
  await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
  await page.locator('form button[type="submit"]').click();
  await page.getByTestId('who').waitFor({ state: 'visible', timeout: 10_000 });
  const cookies = await signIn.cookies();
  await signIn.close();
  const session = cookies.find((c) => c.name === 'portcullis_session');
  if (!session) throw new Error('no portcullis_session cookie after sign-in');
  /** A context with the session and the marker script: a new one has an empty cache. */
  const context = async () => {
    const c = await browser.newContext(contextOptions);
    await c.addCookies(cookies);
    await c.addInitScript(MARKER);
    return c;
  };
  return { browser, context, cookie: `${session.name}=${session.value}` };
}

/** The very first log load, then REPS rounds of API baselines and cold/warm page loads. */
async function measure(base, call, { context, cookie }, failures) {
  const timeApi = async (path) => {
    const t = performance.now();
    const r = await call('GET', path, { cookie });
    const ms = performance.now() - t;
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    return { ms, json: r.json, bytes: r.bytes };
  };
  // The first load of the log page since the server started: no request has read the event log yet.
  const firstContext = await context();
  const first = await loadPage(firstContext, base, 'events');
  await firstContext.close();
  if (first.rows !== PAGE_SIZE) failures.push(`the first load showed ${first.rows} rows, expected ${PAGE_SIZE}`);
  const newest = await timeApi(`/api/v1/events?limit=${PAGE_SIZE}`);
  if (newest.json.events.length !== PAGE_SIZE) failures.push(`the API returned ${newest.json.events.length} events, expected ${PAGE_SIZE}`);

  const pages = { events: { cold: [], warm: [] }, overview: { cold: [], warm: [] } };
  const api = { events: [], agents: [], pageCalls: [], overview: [] };
  const warm = await context();
  try {
    await loadPage(warm, base, 'events'); // fills the cache; not counted
    await loadPage(warm, base, 'overview');
    for (let rep = 0; rep < REPS; rep++) {
      for (let k = 0; k < 3; k++) {
        api.events.push((await timeApi(`/api/v1/events?limit=${PAGE_SIZE}`)).ms);
        api.agents.push((await timeApi('/api/v1/agents')).ms);
        api.overview.push((await timeApi('/api/v1/overview')).ms);
        // The log page's calls as it makes them: /me; the filters' lists beside the tail's
        // cursor; the first page once the cursor is in.
        const t = performance.now();
        await timeApi('/api/v1/me');
        const lists = Promise.all([timeApi('/api/v1/agents'), timeApi('/api/v1/groups')]);
        await timeApi('/api/v1/events/since');
        await timeApi(`/api/v1/events?limit=${PAGE_SIZE}`);
        api.pageCalls.push(performance.now() - t);
        await lists;
      }
      // Alternate the order so drift on a noisy machine favours neither.
      for (const key of ['events', 'overview']) {
        for (const mode of rep % 2 === 0 ? ['cold', 'warm'] : ['warm', 'cold']) {
          const c = mode === 'cold' ? await context() : warm;
          const r = await loadPage(c, base, key);
          if (mode === 'cold') await c.close();
          if (key === 'events' && r.rows !== PAGE_SIZE) failures.push(`${mode} load ${rep} showed ${r.rows} rows`);
          pages[key][mode].push(r);
        }
      }
      log(`rep ${rep}: log cold ${r1(pages.events.cold.at(-1).frame)} ms, warm ${r1(pages.events.warm.at(-1).frame)} ms`);
    }
  } finally {
    await warm.close();
  }
  return { first, pages, api, apiBytes: newest.bytes };
}

/** The tables: figures with their ratios, the log load's phases, and its calls. */
function report(m, agents) {
  const { pages, api } = m;
  const s = (rs, f = (r) => r.frame) => stats(rs.map(f));
  const figures = {
    eventsCold: s(pages.events.cold),
    eventsWarm: s(pages.events.warm),
    overviewCold: s(pages.overview.cold),
    overviewWarm: s(pages.overview.warm),
    apiEvents: stats(api.events),
    apiPageCalls: stats(api.pageCalls),
    apiAgents: stats(api.agents),
    apiOverview: stats(api.overview),
    outsideEventsCold: s(pages.events.cold, (r) => r.outsideMs),
    outsideEventsWarm: s(pages.events.warm, (r) => r.outsideMs),
  };
  const ratio = (a, b) => `${r1(a.p50 / b.p50)}×`;
  const rows = [
    ['log page #/events, cold (new context, no cache)', figures.eventsCold, ratio(figures.eventsCold, figures.apiEvents), ratio(figures.eventsCold, figures.apiPageCalls)],
    ['log page #/events, warm (cached assets)', figures.eventsWarm, ratio(figures.eventsWarm, figures.apiEvents), ratio(figures.eventsWarm, figures.apiPageCalls)],
    [`baseline: GET /api/v1/events?limit=${PAGE_SIZE} alone`, figures.apiEvents],
    ["baseline: the page's calls from Node (/me; /agents ‖ /groups ‖ /events/since; /events)", figures.apiPageCalls],
    [`baseline: GET /api/v1/agents alone (${agents} agents)`, figures.apiAgents],
    ['overview #/overview, cold', figures.overviewCold, ratio(figures.overviewCold, figures.apiOverview)],
    ['overview #/overview, warm', figures.overviewWarm, ratio(figures.overviewWarm, figures.apiOverview)],
    ['baseline: GET /api/v1/overview alone', figures.apiOverview],
  ];
  const figureTable = table(
    ['ms: navigation start → first row (chart) in a frame; API: request → answer', 'n', 'p50', 'p95', 'max', 'page / API alone (p50)', 'page / its calls (p50)'],
    rows.map(([what, st, a = '', b = '']) => [what, st.n, st.p50, st.p95, st.max, a, b]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const phaseColumn = (loads) => {
    const perLoad = loads.map((r) => phases('events', r));
    return perLoad[0].map(([label], i) => [label, r1(stats(perLoad.map((p) => p[i][1])).p50)]);
  };
  const [firstPhases, warmPhases] = [phaseColumn([m.first]), phaseColumn(pages.events.warm)];
  const phaseTable = table(
    ['log load, phase (ms; medians for cold and warm)', 'very first', 'cold', 'warm'],
    phaseColumn(pages.events.cold).map(([label, ms], i) => [label, firstPhases[i][1], ms, warmPhases[i][1]]),
    ['l', 'r', 'r', 'r'],
  );
  const callTable = (mode) =>
    table(
      [`log load, ${mode}: call (median ms)`, 'starts at', 'connect + send', 'of which new TLS connection', 'server: sent → first byte', 'answered at'],
      [...TARGETS.events.apis, ...TARGETS.events.side].map(([, label]) => {
        const spans = pages.events[mode].map((r) => r.api[label]).filter(Boolean);
        const p50 = (f) => r1(stats(spans.map(f)).p50);
        return [label, p50((x) => x.start), p50((x) => x.toSend), p50((x) => x.tls), p50((x) => x.ttfb), p50((x) => x.end)];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    );
  const met = figures.eventsCold.p95 < GOAL_MS && m.first.frame < GOAL_MS;
  return { figures, met, figureTable, phaseTable, callTables: `${callTable('cold')}\n\n${callTable('warm')}` };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = performance.now();
  const date = new Date();
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length, ramGiB: r1(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()} ${os.arch()}`, loadavg: os.loadavg().map(r1) };
  const kind = PG_BASE ? 'postgres' : 'sqlite';
  console.log(`# Portcullis console load benchmark — ${date.toISOString()}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, ${machine.platform}; load ${machine.loadavg.join(' ')}`);

  const dataDir = await mkdtemp(join(TMP, 'portcullis-console-bench-'));
  const sqliteFile = join(dataDir, 'portcullis.db');
  let pgName;
  let srv;
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    srv?.agent.destroy();
    await srv?.server.close().catch((err) => console.error(`server close: ${err.message}`));
    if (pgName) await pgAdmin((c) => c.query(`drop database if exists ${pgName} with (force)`)).catch((err) => console.error(`could not drop ${pgName}: ${err.message}`));
    if (env.BENCH_KEEP !== '1') await rm(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  const failures = [];
  try {
    let dbUrl;
    if (kind === 'postgres') {
      pgName = `portcullis_console_bench_${randomBytes(5).toString('hex')}`;
      await pgAdmin((c) => c.query(`create database ${pgName}`));
      dbUrl = `${PG_BASE}/${pgName}`;
    }
    srv = await startBenchServer(dataDir, dbUrl);
    const base = srv.server.url;
    console.log(`server: startServer, real TLS at ${base}, ${kind === 'sqlite' ? `SQLite ${sqliteFile}` : `PostgreSQL database ${pgName}`}`);

    const seeded = await seedConsole(srv.call, srv.token, () => (kind === 'sqlite' ? openSqliteStore(sqliteFile) : openPostgresStore(dbUrl)));
    const { fleet, ...seedFacts } = seeded;
    const stored = await countEvents(kind, sqliteFile, dbUrl);
    if (stored !== seedFacts.events) failures.push(`stored ${stored} agent events, seeded ${seedFacts.events}`);
    const pct = (o) => Object.entries(o).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${r1((100 * v) / seedFacts.events)} %`).join(', ');
    console.log(`seeded ${fmt(seedFacts.events)} events from ${seedFacts.agents} agents in ${seedFacts.groups} groups over 30 days: generated in ${seedFacts.generateS} s, stored in ${seedFacts.ingestS} s (${fmt(seedFacts.eventsPerSec)} events/s, ${fmt(seedFacts.calls)} Store.ingestEvents calls); ${seedFacts.avgDataBytes} B of data JSON per event on average`);
    console.log(`types: ${pct(seedFacts.types)}`);
    console.log(`severities: ${pct(seedFacts.severities)}`);

    const b = await openBrowser(dataDir, base);
    browser = b.browser;
    const chromiumVersion = browser.version();
    const m = await measure(base, srv.call, b, failures);
    const { figures, met, figureTable, phaseTable, callTables } = report(m, fleet.agents.length);
    const goalLine = `Goal (issue 5), first load of the log page < ${GOAL_MS} ms with ${fmt(seedFacts.events)} events: **${met ? 'MET' : 'NOT MET'}** (cold p50 ${figures.eventsCold.p50} ms, p95 ${figures.eventsCold.p95} ms, max ${figures.eventsCold.max} ms; the very first log load since the server started: ${r1(m.first.frame)} ms).`;
    console.log(`\nChromium ${chromiumVersion} headless; ${REPS} reps; API baselines: ${REPS * 3} each over keep-alive HTTPS with the session cookie (GET /events?limit=${PAGE_SIZE} answers ${fmt(m.apiBytes)} B)`);
    console.log(figureTable);
    console.log('\nWhere a log load spends its time (Resource Timing in the page; medians per phase, so they need not add up to the p50):');
    console.log(phaseTable);
    console.log(`\n${callTables}\n`);
    console.log(`assets transferred per load: cold ${fmt(stats(m.pages.events.cold.map((r) => r.assetsTransferred)).p50)} B, warm ${fmt(stats(m.pages.events.warm.map((r) => r.assetsTransferred)).p50)} B`);
    console.log(`outside view (Playwright: goto → row visible, with its CDP round trips): cold p50 ${figures.outsideEventsCold.p50} ms, warm p50 ${figures.outsideEventsWarm.p50} ms`);
    console.log(`\n${goalLine}`);
    for (const f of failures) console.log(`CHECK FAILED: ${f}`);

    const elapsedS = r1((performance.now() - started) / 1000);
    const out = { bench: 'console', date: date.toISOString(), machine, chromium: chromiumVersion, backend: kind, seed: SEED, reps: REPS, seeding: seedFacts, firstLoadMs: r1(m.first.frame), figures, goals: { logFirstLoadUnder1s: met }, ok: failures.length === 0, elapsedS };
    console.log(JSON.stringify(out));
    if (env.BENCH_APPEND === '1') {
      const section = [
        '',
        '# Console load time — results',
        '',
        `Command: \`${kind === 'postgres' ? 'BENCH_PG=1 ' : ''}node bench/console-bench.mjs\` (after \`npm run build\`). Run on **${date.toISOString().slice(0, 16).replace('T', ' ')} UTC**; whole run ${elapsedS} s.`,
        `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.platform}, Node ${machine.node}, Chromium ${chromiumVersion} headless; load average ${machine.loadavg.join(' ')} at the start.`,
        '',
        `Workload: ${fmt(seedFacts.events)} events (${pct(seedFacts.types)}) from ${seedFacts.agents} agents in ${seedFacts.groups} groups over 30 days, ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}; seeded through Store.ingestEvents in ${seedFacts.ingestS} s.`,
        '',
        figureTable,
        '',
        phaseTable,
        '',
        callTables,
        '',
        goalLine,
        '',
        '```json',
        JSON.stringify(out),
        '```',
        '',
      ].join('\n');
      await appendFile(RESULTS_MD, section);
      console.log(`appended the results to ${RESULTS_MD}`);
    }
    return failures.length === 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
