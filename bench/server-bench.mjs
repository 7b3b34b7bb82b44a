#!/usr/bin/env node
// Portcullis server benchmark: event ingest, policy fan-out and event queries, each measured
// against a baseline in the same process (the figures that matter are the ratios: the machine is
// shared and noisy).
//
//   cd /work/main && npm run build && node bench/server-bench.mjs [ingest|fanout|query|all]
//
// The server is started in process with startServer (real TLS on 127.0.0.1, port 0, a temporary
// data folder; clients trust <data>/pki/ca.crt). Simulated agents run in a worker thread, so the
// server's event loop (the main thread) does only server work; their frames go over loopback WSS.
//
// 1. ingest   N agents (enrolled through POST /api/v1/enroll) send `events` batches of 100-200
//             device.blocked events (~400 B of data each) and wait for the `ack` before the next
//             batch, as the real agent does. Baselines: the same Store.ingestEvents calls with the
//             same batches and concurrency, no server; and plain batched INSERTs (better-sqlite3 /
//             pg) into the same schema. SQLite and PostgreSQL (throwaway database, dropped after).
// 2. fanout   5,000 agents (created in the store) connected to one group; a new policy is saved
//             with PUT /api/v1/groups/g/policy and the time from the save to each agent's `applied`
//             (hub.onApplied) is measured. Baseline: a bare TLS WebSocket server (same certificate,
//             same clients, same frame) broadcasting and collecting the replies.
// 3. query    1,000,000 events (500 agents, 5 groups, mixed types and severities) in SQLite,
//             cached in /tmp; first page (limit 50) of filtered queries through GET /api/v1/events
//             over HTTPS, through app.inject, and through Store.queryEvents directly.
//
// Knobs (environment):
//   BENCH_SEED (default 0x5eed2026)
//   BENCH_AGENTS=20  BENCH_INGEST_SECONDS=8  BENCH_INGEST_REPS=3  BENCH_BATCH_MIN=100  BENCH_BATCH_MAX=200
//   BENCH_INGEST_DBS=sqlite,postgres  BENCH_INGEST_METHODS=server,store,plain
//   BENCH_FANOUT_AGENTS=5000  BENCH_FANOUT_ROUNDS=5  BENCH_FANOUT_DBS=sqlite  BENCH_FANOUT_BASELINE=1
//   BENCH_QUERY_EVENTS=1000000  BENCH_QUERY_AGENTS=500  BENCH_QUERY_RUNS=20
//   BENCH_QUERY_CACHE=/tmp/portcullis-bench-query  BENCH_QUERY_FRESH=1 (rebuild the cached database)
//   BENCH_QUERY_CASE_BUDGET_MS=30000 (a case slower than this gets fewer runs; the count is printed)
//   BENCH_PG=postgres://postgres@127.0.0.1:5432  BENCH_TMP=/tmp (temporary data folders; must be a
//   real disk, not tmpfs, or fsync is free)  BENCH_SERVER_LOG_LEVEL=warn  BENCH_VERBOSE=1
//   BENCH_PROFILE=<dir> (CPU profile of the server thread during each measured phase)
//   BENCH_SERVER_DIST=<dir> (use another build of server/dist/src, to A/B a proposed change)
//
// Exit code 1 if a check fails (acked events not all stored, an agent never applied, API and store
// disagree on a query's result).

import { mkdtemp, readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { WebSocket, WebSocketServer } from 'ws';
import { Rng } from './support-rng.mjs';
import { markdownTable, percentile, pgAdmin as pgAdminAt } from './support-stats.mjs';
import {
  encodeMessage,
  eventsThatFit,
  MAX_EVENTS_PER_BATCH,
  MAX_FRAME_BYTES,
  parseServerMessage,
  STARTER_POLICY_RULES,
} from '../shared/dist/src/index.js';

// BENCH_SERVER_DIST: another build of server/dist/src (to A/B a change against this tree's build).
const SERVER_DIST = process.env.BENCH_SERVER_DIST ? new URL(`file://${process.env.BENCH_SERVER_DIST.replace(/\/?$/, '/')}`) : new URL('../server/dist/src/', import.meta.url);
const { startServer } = await import(new URL('main.js', SERVER_DIST));
const { loadConfig } = await import(new URL('config.js', SERVER_DIST));
const { openSqliteStore } = await import(new URL('store/sqlite-store.js', SERVER_DIST));
const { openPostgresStore } = await import(new URL('store/postgres-store.js', SERVER_DIST));
const { hashSecret, newId, newSecret } = await import(new URL('auth/secrets.js', SERVER_DIST));
const { ensureServerIdentity } = await import(new URL('pki/index.js', SERVER_DIST));

const SELF = fileURLToPath(import.meta.url);
const env = process.env;
const num = (name, dflt) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]));
const list = (name, dflt) => (env[name] ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);

const SEED = num('BENCH_SEED', 0x5eed2026) >>> 0;
const PG_BASE = (env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const TMP = env.BENCH_TMP ?? os.tmpdir();
const VERBOSE = env.BENCH_VERBOSE === '1';
const ADMIN_PASSWORD = 'bench-admin-password-1234';
const nowMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Deterministic data


// Real models a ministry's PCs see (vendor:product, name, interfaces, what the starter-style policy does).
const MODELS = [
  { id: '0951:1666', name: 'DataTraveler 3.0', vendor: 'Kingston', ifs: ['08:06:50'], label: 'USB flash drive', w: 14 },
  { id: '0781:5567', name: 'Cruzer Blade', vendor: 'SanDisk', ifs: ['08:06:50'], label: 'USB flash drive', w: 12 },
  { id: '0781:5581', name: 'Ultra', vendor: 'SanDisk', ifs: ['08:06:50'], label: 'USB flash drive', w: 8 },
  { id: '1058:25a2', name: 'Elements 25A2', vendor: 'Western Digital', ifs: ['08:06:50'], label: 'external disk', w: 6 },
  { id: '0bc2:2322', name: 'Expansion Desk', vendor: 'Seagate', ifs: ['08:06:62'], label: 'external disk', w: 3 },
  { id: '090c:1000', name: 'Flash Disk', vendor: 'Silicon Motion', ifs: ['08:06:50'], label: 'USB flash drive', w: 5 },
  { id: '13fe:4300', name: 'USB DISK 2.0', vendor: 'Phison', ifs: ['08:06:50'], label: 'USB flash drive', w: 4 },
  { id: '04e8:6860', name: 'Galaxy A52', vendor: 'Samsung', ifs: ['06:01:01', 'ff:42:01'], label: 'phone', w: 7 },
  { id: '05ac:12a8', name: 'iPhone', vendor: 'Apple', ifs: ['06:01:01', 'ff:fe:02'], label: 'phone', w: 6 },
  { id: '18d1:4ee7', name: 'Pixel 7', vendor: 'Google', ifs: ['06:01:01', 'ff:42:01'], label: 'phone', w: 2 },
  { id: '0bda:8153', name: 'USB 10/100/1000 LAN', vendor: 'Realtek', ifs: ['ff:ff:00', '02:06:00', '0a:00:00'], label: 'network adapter', w: 3 },
  { id: '2357:0601', name: 'UE300 Ethernet', vendor: 'TP-Link', ifs: ['02:06:00', '0a:00:00'], label: 'network adapter', w: 2 },
  { id: '0403:6001', name: 'FT232R USB UART', vendor: 'FTDI', ifs: ['ff:ff:ff'], label: 'serial adapter', w: 2 },
  { id: '04f2:b6dd', name: 'Integrated Camera', vendor: 'Chicony', ifs: ['0e:01:00', '0e:02:00'], label: 'webcam', w: 2 },
  { id: '046d:c52b', name: 'Unifying Receiver', vendor: 'Logitech', ifs: ['03:01:01', '03:01:02', '03:00:00'], label: 'keyboard/mouse', w: 6 },
  { id: '413c:2113', name: 'Dell KB216 Wired Keyboard', vendor: 'Dell', ifs: ['03:01:01', '03:00:00'], label: 'keyboard', w: 5 },
  { id: '03f0:0c17', name: 'LaserJet 1010', vendor: 'HP', ifs: ['07:01:02'], label: 'printer', w: 3 },
  { id: '076b:3021', name: 'CardMan 3021', vendor: 'OMNIKEY', ifs: ['0b:00:00'], label: 'smart-card reader', w: 2 },
];
const BLOCK_RULES = {
  '08': [5, 'block with-interface one-of { 08:*:* }'],
  '06': [7, 'block with-interface one-of { 06:*:* ff:42:* ff:fe:02 }'],
  ff: [7, 'block with-interface one-of { 06:*:* ff:42:* ff:fe:02 }'],
  '02': [10, 'block with-interface one-of { 02:06:* 02:0d:* 02:0c:* 02:0e:* 02:02:ff e0:01:03 ef:04:* 0a:*:* }'],
};
const USERS = ['a.martin', 'b.dupont', 'c.bernard', 'd.thomas', 'e.petit', 'f.robert', 'g.richard', 'h.durand', 'i.leroy', 'j.moreau'];

/** One event's `data`: the device as the agent saw it, the decision trace, who and where. */
function deviceData(rng, model, target, policyVersion) {
  const serial = model.label.includes('keyboard') || model.label === 'webcam' ? '' : rng.hex(model.w > 5 ? 20 : 12, true);
  const klass = model.ifs[0].slice(0, 2);
  const [line, rule] = target === 'block' ? (BLOCK_RULES[klass] ?? [0, null]) : target === 'allow' ? [18, 'allow with-interface equals { 03:*:* }'] : [3, `readonly id ${model.id}`];
  const port = `${1 + rng.int(4)}-${1 + rng.int(6)}`;
  return {
    device: {
      id: model.id,
      name: model.name,
      serial,
      hash: rng.hash(),
      parentHash: rng.hash(),
      viaPort: port,
      interfaces: model.ifs,
      connectType: 'hotplug',
    },
    decision: rule === null ? { target, implicit: true, line: null, policyVersion } : { target, implicit: false, line, rule, policyVersion },
    label: `${model.vendor} ${model.label}`,
    user: `MINISTRY\\${rng.pick(USERS)}`,
  };
}

/** A pool of device.blocked `data` objects (storage, phones, network adapters). */
function blockedDataPool(seed, size = 512) {
  const rng = new Rng(seed ^ 0xb10c);
  const blocked = MODELS.filter((m) => ['08', '06', '02'].includes(m.ifs[0].slice(0, 2)) || m.ifs.some((i) => i.startsWith('0a')));
  const weighted = blocked.map((m) => [m.w, m]);
  return Array.from({ length: size }, () => deviceData(rng, rng.weighted(weighted), 'block', 7));
}

/** One batch of device.blocked events with seqs from+1 … from+n (what an agent's spool sends). */
function makeBatch(rng, pool, fromSeq, n) {
  const events = new Array(n);
  const t = Date.now() - 5000;
  for (let i = 0; i < n; i++) {
    events[i] = { seq: fromSeq + i + 1, type: 'device.blocked', severity: 'high', occurredAt: new Date(t + i).toISOString(), data: pool[rng.int(pool.length)] };
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing

const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;
const r3 = (x) => Math.round(x * 1000) / 1000;
const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));

function table(headers, rows, align) {
  console.log(markdownTable(headers, rows, align));
}

function log(...args) {
  if (VERBOSE) console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
}

function machineInfo() {
  const cpus = os.cpus();
  let ulimit = 'unknown';
  try {
    ulimit = execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim();
  } catch {
    /* not a POSIX shell */
  }
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map(r2),
    ulimitN: ulimit,
  };
}

/**
 * BENCH_PROFILE=<dir>: a CPU profile of the main thread (the server) during each measured phase,
 * written as <dir>/<phase>.cpuprofile (open in Chrome DevTools or summarize it).
 */
const PROFILE_DIR = env.BENCH_PROFILE;
let inspectorSession;
async function profileStart() {
  if (!PROFILE_DIR) return;
  const { Session } = await import('node:inspector/promises');
  inspectorSession ??= new Session();
  inspectorSession.connect();
  await inspectorSession.post('Profiler.enable');
  await inspectorSession.post('Profiler.setSamplingInterval', { interval: 200 });
  await inspectorSession.post('Profiler.start');
}
async function profileStop(name) {
  if (!PROFILE_DIR || !inspectorSession) return;
  const { profile } = await inspectorSession.post('Profiler.stop');
  await mkdir(PROFILE_DIR, { recursive: true });
  const file = join(PROFILE_DIR, `${name}.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  inspectorSession.disconnect();
  console.error(`profile written: ${file}`);
}

// ---------------------------------------------------------------------------------------------
// Server, HTTP and PostgreSQL helpers

/** startServer on 127.0.0.1:0 with real TLS; the CA to trust is <data>/pki/ca.crt. */
async function startBenchServer(dataDir, databaseUrl) {
  const argv = ['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', dataDir];
  if (databaseUrl) argv.push('--database', databaseUrl);
  const serverEnv = { PORTCULLIS_LOG_LEVEL: env.BENCH_SERVER_LOG_LEVEL ?? 'warn', PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const config = loadConfig(argv, serverEnv, { cwd: dataDir });
  const printed = [];
  const server = await startServer(config, serverEnv, (line) => printed.push(line));
  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 8 });
  const http = (method, path, body, token) => httpsJson(server.url, agent, method, path, body, token);
  let closing;
  const close = () => (closing ??= (async () => {
    agent.destroy();
    await server.close();
  })());
  return { server, config, ca, url: server.url, wsUrl: `${server.url.replace(/^https:/, 'wss:')}/agent`, http, close };
}

function httpsJson(base, agent, method, path, body, token) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const req = https.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function expectStatus(promise, status, what) {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.json)?.slice(0, 300)}`);
  return res.json;
}

async function login(srv) {
  const res = await expectStatus(srv.http('POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD }), 200, 'login');
  return res.token;
}

const pgDatabases = new Set();

const pgAdmin = (fn) => pgAdminAt(PG_BASE, fn);

async function createPgDatabase() {
  const name = `portcullis_bench_${randomBytes(5).toString('hex')}`;
  await pgAdmin((c) => c.query(`create database ${name}`));
  pgDatabases.add(name);
  return { name, url: `${PG_BASE}/${name}` };
}

async function dropPgDatabase(name) {
  await pgAdmin((c) => c.query(`drop database if exists ${name} with (force)`));
  pgDatabases.delete(name);
}

async function pgAvailable() {
  try {
    await pgAdmin((c) => c.query('select 1'));
    return true;
  } catch (err) {
    console.log(`PostgreSQL not reachable at ${PG_BASE} (${err.message}); skipping its runs.`);
    return false;
  }
}

const tempDirs = new Set();
async function tempDir(prefix) {
  const dir = await mkdtemp(join(TMP, `portcullis-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}
async function removeTemp(dir) {
  if (env.BENCH_KEEP === '1') return;
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

async function cleanup() {
  for (const dir of [...tempDirs]) await removeTemp(dir).catch(() => {});
  for (const name of [...pgDatabases]) await dropPgDatabase(name).catch((err) => console.error(`could not drop ${name}: ${err.message}`));
}

/** A fresh database of the given kind: { storeUrl (for --database), open(), count(), dispose() }. */
async function freshDatabase(kind, dataDir) {
  if (kind === 'sqlite') {
    const file = join(dataDir, 'portcullis.db');
    return {
      kind,
      file,
      serverArg: undefined, // the server's default: <data>/portcullis.db
      open: () => openSqliteStore(file),
      async count() {
        const db = new BetterSqlite3(file, { readonly: true });
        try {
          return db.prepare('select count(*) as n from events where agent_id is not null').get().n;
        } finally {
          db.close();
        }
      },
      dispose: async () => {},
    };
  }
  const { name, url } = await createPgDatabase();
  return {
    kind,
    name,
    url,
    serverArg: url,
    open: () => openPostgresStore(url),
    async count() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return Number((await c.query('select count(*) as n from events where agent_id is not null')).rows[0].n);
      } finally {
        await c.end();
      }
    },
    dispose: () => dropPgDatabase(name),
  };
}

function spawnWorker(data) {
  const worker = new Worker(SELF, { workerData: data });
  const messages = [];
  const waiters = [];
  let failure;
  worker.on('message', (m) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    else messages.push(m);
  });
  const fail = (err) => {
    failure = err;
    for (const w of waiters.splice(0)) w.reject(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`client worker exited (${code})`)));
  return {
    worker,
    send: (m) => worker.postMessage(m),
    next(type, timeoutMs = 600_000) {
      const i = messages.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(messages.splice(i, 1)[0]);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for worker ${type}`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => (clearTimeout(timer), resolve(m)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. INGEST

const INGEST = {
  agents: num('BENCH_AGENTS', 20),
  seconds: num('BENCH_INGEST_SECONDS', 8),
  reps: num('BENCH_INGEST_REPS', 3),
  batchMin: num('BENCH_BATCH_MIN', 100),
  batchMax: Math.min(MAX_EVENTS_PER_BATCH, num('BENCH_BATCH_MAX', 200)),
};

/** Through the server: enroll over HTTPS, agents in a worker thread, events over WSS. */
async function ingestViaServer(kind, rep) {
  const dataDir = await tempDir('ingest');
  const db = await freshDatabase(kind, dataDir);
  const srv = await startBenchServer(dataDir, db.serverArg);
  try {
    const token = await login(srv);
    const created = await expectStatus(srv.http('POST', '/api/v1/enrollment-tokens', { group: 'default', expiresIn: '1d' }, token), 201, 'token');
    const agents = [];
    for (let i = 0; i < INGEST.agents; i++) {
      const e = await expectStatus(
        srv.http('POST', '/api/v1/enroll', { token: created.token, hostname: `pc-${String(i).padStart(4, '0')}`, machineId: `bench-${rep}-${i}-${randomBytes(6).toString('hex')}`, os: 'Ubuntu 24.04.1 LTS', agentVersion: '0.1.0' }),
        201,
        'enroll',
      );
      agents.push({ id: e.agentId, secret: e.secret });
    }
    await profileStart();
    const w = spawnWorker({ role: 'ingest', wsUrl: srv.wsUrl, ca: srv.ca, agents, seed: SEED + rep * 1000, batchMin: INGEST.batchMin, batchMax: INGEST.batchMax, durationMs: INGEST.seconds * 1000 });
    const res = await w.next('result');
    await profileStop(`ingest-server-${kind}-rep${rep}`);
    await w.worker.terminate();
    await srv.close();
    const stored = await db.count();
    return { ...res, stored, check: stored === res.acked };
  } finally {
    await srv.close().catch(() => {});
    await db.dispose();
    await removeTemp(dataDir);
  }
}

/** The same Store.ingestEvents calls, same batches and concurrency, no server in between. */
async function ingestViaStore(kind, rep) {
  const dataDir = await tempDir('ingest-store');
  const db = await freshDatabase(kind, dataDir);
  const store = await db.open();
  try {
    await store.migrate();
    await store.createGroup({ name: 'default', description: 'bench', createdAt: new Date().toISOString() });
    const agents = [];
    for (let i = 0; i < INGEST.agents; i++) {
      const id = newId('agt');
      await store.createAgent({ id, secretHash: hashSecret(newSecret()), group: 'default', hostname: `pc-${i}`, machineId: `m-${i}`, os: 'Ubuntu', agentVersion: '0.1.0', enrolledAt: new Date().toISOString() });
      agents.push(id);
    }
    const pool = blockedDataPool(SEED + rep * 1000);
    const latencies = [];
    let acked = 0;
    let batches = 0;
    const start = nowMs();
    const deadline = start + INGEST.seconds * 1000;
    let end = start;
    await Promise.all(
      agents.map(async (agentId, idx) => {
        const rng = new Rng(SEED + rep * 1000 + idx);
        let seq = 0;
        while (nowMs() < deadline) {
          const events = makeBatch(rng, pool, seq, INGEST.batchMin + rng.int(INGEST.batchMax - INGEST.batchMin + 1));
          const batch = events.slice(0, eventsThatFit(events));
          const t = nowMs();
          const r = await store.ingestEvents(agentId, 'default', batch, new Date().toISOString());
          const done = nowMs();
          if (r.ackedSeq !== batch.at(-1).seq) throw new Error(`store acked ${r.ackedSeq}, expected ${batch.at(-1).seq}`);
          latencies.push(done - t);
          seq = r.ackedSeq;
          acked += batch.length;
          batches++;
          end = Math.max(end, done);
        }
      }),
    );
    await store.close();
    const stored = await db.count();
    return { acked, batches, elapsedMs: end - start, latencies, stored, check: stored === acked, errors: 0 };
  } finally {
    await store.close().catch(() => {});
    await db.dispose();
    await removeTemp(dataDir);
  }
}

const INSERT_COLUMNS = ['id', 'agent_id', 'group', 'seq', 'type', 'severity', 'occurred_at', 'received_at', 'data', 'status', 'comment', 'prev_hash', 'hash'];
const FAKE_HASH = 'f'.repeat(64);

/** Plain batched INSERTs into the migrated schema (same indexes), one transaction per batch: the database's own limit. */
async function ingestPlain(kind, rep) {
  const dataDir = await tempDir('ingest-plain');
  const db = await freshDatabase(kind, dataDir);
  const store = await db.open();
  const agents = [];
  await store.migrate();
  await store.createGroup({ name: 'default', description: 'bench', createdAt: new Date().toISOString() });
  for (let i = 0; i < INGEST.agents; i++) {
    const id = newId('agt');
    await store.createAgent({ id, secretHash: hashSecret(newSecret()), group: 'default', hostname: `pc-${i}`, machineId: `m-${i}`, os: 'Ubuntu', agentVersion: '0.1.0', enrolledAt: new Date().toISOString() });
    agents.push(id);
  }
  await store.close();
  const pool = blockedDataPool(SEED + rep * 1000);
  const latencies = [];
  let acked = 0;
  let batches = 0;
  let nextId = 1;
  const rowOf = (agentId, e, receivedAt) => [nextId++, agentId, 'default', e.seq, e.type, e.severity, e.occurredAt, receivedAt, JSON.stringify(e.data), 'new', null, FAKE_HASH, FAKE_HASH];
  let start;
  let end;
  try {
    if (kind === 'sqlite') {
      const sqlite = new BetterSqlite3(db.file);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('synchronous = FULL');
      const insert = sqlite.prepare(`insert into events (${INSERT_COLUMNS.map((c) => `"${c}"`).join(',')}) values (${INSERT_COLUMNS.map(() => '?').join(',')})`);
      const insertBatch = sqlite.transaction((rows) => {
        for (const row of rows) insert.run(row);
      });
      const rngs = agents.map((_, idx) => new Rng(SEED + rep * 1000 + idx));
      const seqs = agents.map(() => 0);
      start = nowMs();
      const deadline = start + INGEST.seconds * 1000;
      // better-sqlite3 is synchronous: the agents take turns, as they would on the store's one connection.
      for (let turn = 0; nowMs() < deadline; turn++) {
        const idx = turn % agents.length;
        const rng = rngs[idx];
        const events = makeBatch(rng, pool, seqs[idx], INGEST.batchMin + rng.int(INGEST.batchMax - INGEST.batchMin + 1));
        const batch = events.slice(0, eventsThatFit(events));
        const t = nowMs();
        const receivedAt = new Date().toISOString();
        insertBatch(batch.map((e) => rowOf(agents[idx], e, receivedAt)));
        latencies.push(nowMs() - t);
        seqs[idx] = batch.at(-1).seq;
        acked += batch.length;
        batches++;
        if (turn % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      end = nowMs();
      sqlite.close();
    } else {
      const pool2 = new pg.Pool({ connectionString: db.url, max: 10 });
      start = nowMs();
      const deadline = start + INGEST.seconds * 1000;
      end = start;
      await Promise.all(
        agents.map(async (agentId, idx) => {
          const rng = new Rng(SEED + rep * 1000 + idx);
          let seq = 0;
          while (nowMs() < deadline) {
            const events = makeBatch(rng, pool, seq, INGEST.batchMin + rng.int(INGEST.batchMax - INGEST.batchMin + 1));
            const batch = events.slice(0, eventsThatFit(events));
            const t = nowMs();
            const receivedAt = new Date().toISOString();
            const params = batch.flatMap((e) => rowOf(agentId, e, receivedAt));
            const values = batch.map((_, i) => `(${INSERT_COLUMNS.map((__, j) => `$${i * INSERT_COLUMNS.length + j + 1}`).join(',')})`).join(',');
            const client = await pool2.connect();
            try {
              await client.query('begin');
              await client.query(`insert into events (${INSERT_COLUMNS.map((c) => `"${c}"`).join(',')}) values ${values}`, params);
              await client.query('commit');
            } finally {
              client.release();
            }
            const done = nowMs();
            latencies.push(done - t);
            seq = batch.at(-1).seq;
            acked += batch.length;
            batches++;
            end = Math.max(end, done);
          }
        }),
      );
      await pool2.end();
    }
    const stored = await db.count();
    return { acked, batches, elapsedMs: end - start, latencies, stored, check: stored === acked, errors: 0 };
  } finally {
    await db.dispose();
    await removeTemp(dataDir);
  }
}

async function benchIngest() {
  console.log(`\n## INGEST — ${INGEST.agents} agents, batches of ${INGEST.batchMin}-${INGEST.batchMax} device.blocked events, ${INGEST.seconds} s per run, ${INGEST.reps} reps`);
  const pool = blockedDataPool(SEED);
  const avgData = pool.reduce((s, d) => s + Buffer.byteLength(JSON.stringify(d)), 0) / pool.length;
  const sampleEvent = makeBatch(new Rng(1), pool, 0, 1)[0];
  console.log(`event data: ${Math.round(avgData)} B of JSON on average (${Buffer.byteLength(JSON.stringify(sampleEvent))} B per event in the frame); server: startServer, real TLS, loopback WSS`);
  const kinds = list('BENCH_INGEST_DBS', 'sqlite,postgres');
  const hasPg = kinds.includes('postgres') ? await pgAvailable() : false;
  const methods = { server: ingestViaServer, store: ingestViaStore, plain: ingestPlain };
  const METHODS = list('BENCH_INGEST_METHODS', 'server,store,plain');
  const results = {};
  let ok = true;
  for (const kind of kinds) {
    if (kind === 'postgres' && !hasPg) continue;
    results[kind] = { server: [], store: [], plain: [] };
    for (let rep = 0; rep < INGEST.reps; rep++) {
      // Alternate the order so drift on a noisy machine does not favour one method.
      const order = (rep % 2 === 0 ? ['store', 'server', 'plain'] : ['plain', 'server', 'store']).filter((m) => METHODS.includes(m));
      for (const m of order) {
        log(`ingest ${kind} ${m} rep ${rep}`);
        const r = await methods[m](kind, rep);
        const lat = [...r.latencies].sort((a, b) => a - b);
        const perSec = (r.acked / r.elapsedMs) * 1000;
        results[kind][m].push({ perSec, acked: r.acked, stored: r.stored, batches: r.batches, elapsedMs: r.elapsedMs, p50: percentile(lat, 50), p99: percentile(lat, 99), check: r.check, errors: r.errors });
        if (!r.check) ok = false;
        log(`  ${fmt(perSec)} events/s, stored ${r.stored} / acked ${r.acked}`);
      }
    }
  }
  const rows = [];
  const summary = {};
  for (const [kind, byMethod] of Object.entries(results)) {
    const med = (m, key) => median(byMethod[m].map((x) => x[key]));
    const ratio = (m) => (byMethod.server.length && byMethod[m].length ? median(byMethod.server.map((s, i) => s.perSec / byMethod[m][i].perSec)) : NaN);
    const ratioStore = ratio('store');
    const ratioPlain = ratio('plain');
    const label = { server: 'server (WSS → hub → Store)', store: 'baseline: Store.ingestEvents direct', plain: 'baseline: plain batched INSERT' };
    for (const m of ['server', 'store', 'plain'].filter((x) => byMethod[x].length > 0)) {
      rows.push([
        kind,
        label[m],
        fmt(med(m, 'perSec')),
        byMethod[m].map((x) => fmt(x.perSec)).join(' / '),
        r1(med(m, 'p50')),
        r1(med(m, 'p99')),
        byMethod[m].every((x) => x.check) ? `ok (${fmt(byMethod[m].reduce((s, x) => s + x.stored, 0))})` : 'MISMATCH',
        m === 'server' ? '' : `${r2(m === 'store' ? ratioStore : ratioPlain)}`,
      ]);
    }
    summary[kind] = {
      serverPerSec: Math.round(med('server', 'perSec')),
      storePerSec: Math.round(med('store', 'perSec')),
      plainPerSec: Math.round(med('plain', 'perSec')),
      ratioServerToStore: r3(ratioStore),
      ratioServerToPlain: r3(ratioPlain),
      ackLatencyMs: { p50: r2(med('server', 'p50')), p99: r2(med('server', 'p99')) },
      storeCallMs: { p50: r2(med('store', 'p50')), p99: r2(med('store', 'p99')) },
      reps: byMethod,
    };
  }
  table(['db', 'method', 'events/s (median)', 'per rep', 'batch→ack p50 ms', 'p99 ms', 'stored = acked', 'server / this'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l', 'r']);
  const sq = summary.sqlite;
  const verdict = (x) => (x === null ? 'n/a' : x ? 'MET' : 'NOT MET');
  const goals = sq
    ? { sqlite20k: sq.serverPerSec ? sq.serverPerSec >= 20_000 : null, ratioHalf: Number.isFinite(sq.ratioServerToStore) ? sq.ratioServerToStore >= 0.5 : null }
    : {};
  if (sq) {
    console.log(`goal ≥ 20,000 events/s on SQLite: ${verdict(goals.sqlite20k)} (${fmt(sq.serverPerSec)}); ratio server/raw ≥ 0.5: ${verdict(goals.ratioHalf)} (${sq.ratioServerToStore} vs Store direct, ${sq.ratioServerToPlain} vs plain INSERT)`);
  }
  const out = { bench: 'server-ingest', date: new Date().toISOString(), agents: INGEST.agents, batch: [INGEST.batchMin, INGEST.batchMax], seconds: INGEST.seconds, reps: INGEST.reps, transport: 'startServer TLS, loopback WSS', eventDataBytes: Math.round(avgData), results: summary, goals, ok };
  console.log(JSON.stringify(out));
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. FAN-OUT

const FANOUT = {
  agents: num('BENCH_FANOUT_AGENTS', 5000),
  rounds: num('BENCH_FANOUT_ROUNDS', 5),
  connectConcurrency: num('BENCH_FANOUT_CONNECT_CONCURRENCY', 64),
};

/** A realistic group policy: the starter rules plus registered devices (usbguard generate-policy style). */
function policyInput(version, registered = 60) {
  const rng = new Rng(SEED ^ 0x9011c7);
  const lines = [];
  for (let i = 0; i < registered; i++) {
    const m = rng.pick(MODELS.filter((x) => x.ifs[0].startsWith('08')));
    lines.push(`allow id ${m.id} serial "${rng.hex(20, true)}" name "${m.name}" hash "${rng.hash()}" with-interface equals { ${m.ifs.join(' ')} } with-connect-type "hotplug"`);
  }
  return { rules: `# bench policy, revision ${version}\n${lines.join('\n')}\n${STARTER_POLICY_RULES}`, ports: { bluetooth: 'allow' }, comment: `bench revision ${version}` };
}

function fanoutStats(times, n) {
  const sorted = [...times].sort((a, b) => a - b);
  return { count: sorted.length, missing: n - sorted.length, p50: r1(percentile(sorted, 50)), p90: r1(percentile(sorted, 90)), p99: r1(percentile(sorted, 99)), max: r1(sorted.at(-1) ?? NaN) };
}

async function fanoutOnce(kind) {
  const n = FANOUT.agents;
  const dataDir = await tempDir('fanout');
  const db = await freshDatabase(kind, dataDir);
  let srv;
  let w;
  try {
    // Agents straight into the store (enrolling 5,000 over HTTP is not what is measured).
    let t = nowMs();
    const store = await db.open();
    await store.migrate();
    await store.createGroup({ name: 'g', description: 'fan-out bench', createdAt: new Date().toISOString() });
    const agents = [];
    for (let i = 0; i < n; i++) {
      const id = newId('agt');
      const secret = newSecret();
      await store.createAgent({ id, secretHash: hashSecret(secret), group: 'g', hostname: `pc-${String(i).padStart(5, '0')}`, machineId: `machine-${i}`, os: 'Ubuntu 24.04.1 LTS', agentVersion: '0.1.0', enrolledAt: new Date().toISOString() });
      agents.push({ id, secret });
    }
    await store.close();
    const createMs = nowMs() - t;
    log(`fanout ${kind}: ${n} agents created in ${Math.round(createMs)} ms`);

    srv = await startBenchServer(dataDir, db.serverArg);
    const serverStarted = performance.now(); // the hub's 30 s ping tick (touchAgent for every agent) runs from here
    const token = await login(srv);
    const v1 = await expectStatus(srv.http('PUT', '/api/v1/groups/g/policy', policyInput(1), token), 200, 'policy v1');
    const frameBytes = Buffer.byteLength(encodeMessage({ v: 1, type: 'policy', body: { signed: v1 } }));

    t = nowMs();
    w = spawnWorker({ role: 'fanout', wsUrl: srv.wsUrl, ca: srv.ca, agents, appliedVersion: v1.document.version, concurrency: FANOUT.connectConcurrency });
    const ready = await w.next('ready');
    const connectMs = nowMs() - t;
    if (ready.connected !== n) throw new Error(`only ${ready.connected} of ${n} agents connected (${ready.errors} errors: ${ready.firstError})`);
    // Let the hellos' store writes drain: a request that needs the store queues behind them.
    await expectStatus(srv.http('GET', '/api/v1/me', undefined, token), 200, 'me');
    await new Promise((r) => setTimeout(r, 1000));
    log(`fanout ${kind}: ${srv.server.hub.connectedCount} connected in ${Math.round(connectMs)} ms`);

    const rounds = [];
    const signedPolicies = [];
    await profileStart();
    for (let round = 0; round < FANOUT.rounds; round++) {
      const version = v1.document.version + round + 1;
      const applied = new Map();
      let resolveAll;
      const all = new Promise((r) => (resolveAll = r));
      let t0 = 0;
      srv.server.hub.onApplied = (agentId, v) => {
        if (v !== version || applied.has(agentId)) return;
        applied.set(agentId, performance.now() - t0);
        if (applied.size === n) resolveAll();
      };
      t0 = performance.now();
      const t0abs = performance.timeOrigin + t0;
      const saved = await expectStatus(srv.http('PUT', '/api/v1/groups/g/policy', policyInput(version), token), 200, 'policy save');
      const putMs = performance.now() - t0;
      if (saved.document.version !== version) throw new Error(`saved version ${saved.document.version}, expected ${version}`);
      signedPolicies.push(saved);
      await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
      const wallToLast = Math.max(...applied.values());
      w.send({ cmd: 'report', version });
      const report = await w.next('report');
      const received = report.times.map((x) => x - t0abs);
      const sinceStart = t0 - serverStarted;
      const nextTick = Math.ceil(sinceStart / 30_000) * 30_000;
      const pingTick = nextTick - 500 <= sinceStart + wallToLast; // a ping tick (5,000 touchAgent writes) fell inside this round
      rounds.push({ version, putMs: r1(putMs), applied: fanoutStats([...applied.values()], n), lastMs: r1(wallToLast), received: fanoutStats(received, n), parsedOk: report.parsedOk, pingTick });
      log(`fanout ${kind} round ${round}: p99 ${rounds.at(-1).applied.p99} ms, last ${rounds.at(-1).lastMs} ms`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await profileStop(`fanout-${kind}`);
    srv.server.hub.onApplied = undefined;
    w.send({ cmd: 'close' });
    await w.next('closed');
    await w.worker.terminate();
    w = undefined;
    const identityHostnames = srv.config.hostnames;
    await srv.close();
    srv = undefined;

    // Baseline: a bare TLS WebSocket server, same certificate, same clients, same frames.
    let baseline;
    if (env.BENCH_FANOUT_BASELINE !== '0') baseline = await fanoutBare(dataDir, identityHostnames, agents, signedPolicies, v1.document.version);
    return { kind, agents: n, createMs: Math.round(createMs), connectMs: Math.round(connectMs), frameBytes, rounds, baseline };
  } finally {
    if (w) await w.worker.terminate().catch(() => {});
    if (srv) await srv.close().catch(() => {});
    await db.dispose();
    await removeTemp(dataDir);
  }
}

async function fanoutBare(dataDir, hostnames, agents, signedPolicies, appliedVersion) {
  const identity = await ensureServerIdentity(dataDir, { hostnames, now: new Date() });
  const server = https.createServer({ key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.2' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const sockets = new Set();
  let onApplied = () => {};
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const id = /^Bearer ([^.]+)\./.exec(req.headers.authorization ?? '')?.[1] ?? 'unknown';
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString('utf8'));
        if (msg.type === 'applied') onApplied(id, msg.body.version);
      });
      ws.on('close', () => sockets.delete(ws));
      ws.send(encodeMessage({ v: 1, type: 'welcome', body: { agentId: id, serverTime: new Date().toISOString() } }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const w = spawnWorker({ role: 'fanout', wsUrl: `wss://127.0.0.1:${port}/agent`, ca, agents, appliedVersion, concurrency: FANOUT.connectConcurrency });
  try {
    const ready = await w.next('ready');
    if (ready.connected !== agents.length) throw new Error(`bare baseline: only ${ready.connected} connected`);
    await new Promise((r) => setTimeout(r, 1000));
    const rounds = [];
    for (const signed of signedPolicies) {
      const version = signed.document.version;
      const applied = new Map();
      let resolveAll;
      const all = new Promise((r) => (resolveAll = r));
      onApplied = (id, v) => {
        if (v !== version || applied.has(id)) return;
        applied.set(id, performance.now() - t0);
        if (applied.size === agents.length) resolveAll();
      };
      const t0 = performance.now();
      const t0abs = performance.timeOrigin + t0;
      const frame = encodeMessage({ v: 1, type: 'policy', body: { signed } });
      for (const ws of sockets) ws.send(frame);
      await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
      w.send({ cmd: 'report', version });
      const report = await w.next('report');
      rounds.push({ version, applied: fanoutStats([...applied.values()], agents.length), lastMs: r1(Math.max(...applied.values())), received: fanoutStats(report.times.map((x) => x - t0abs), agents.length) });
      await new Promise((r) => setTimeout(r, 1000));
    }
    w.send({ cmd: 'close' });
    await w.next('closed');
    return { rounds };
  } finally {
    await w.worker.terminate().catch(() => {});
    for (const ws of sockets) ws.terminate();
    await new Promise((r) => wss.close(() => r()));
    await new Promise((r) => server.close(() => r()));
  }
}

async function benchFanout() {
  const ulimit = machineInfo().ulimitN;
  console.log(`\n## FAN-OUT — ${FANOUT.agents} agents in one group, ${FANOUT.rounds} policy saves; ulimit -n = ${ulimit} (needs ≥ ${2 * FANOUT.agents + 100}: client and server sockets share this process)`);
  if (ulimit !== 'unlimited' && Number(ulimit) < 2 * FANOUT.agents + 100) {
    console.log(`ulimit -n ${ulimit} is too low for ${FANOUT.agents} agents in one process; raise it (ulimit -n ${2 * FANOUT.agents + 1000}) or set BENCH_FANOUT_AGENTS.`);
    return { bench: 'server-fanout', skipped: 'ulimit' };
  }
  const kinds = list('BENCH_FANOUT_DBS', 'sqlite');
  const results = [];
  for (const kind of kinds) {
    if (kind === 'postgres' && !(await pgAvailable())) continue;
    results.push(await fanoutOnce(kind));
  }
  const rows = [];
  for (const r of results) {
    r.rounds.forEach((x, i) => {
      const b = r.baseline?.rounds[i];
      rows.push([r.kind, `v${x.version}${i === 0 ? ' (1st save after start)' : ''}${x.pingTick ? ' [ping tick]' : ''}`, x.putMs, x.received.p50, x.received.p99, x.applied.p50, x.applied.p99, x.applied.max, x.applied.missing, b ? `${b.applied.p50} / ${b.applied.p99} / ${b.applied.max}` : '-', b ? r2(x.applied.p99 / b.applied.p99) : '-']);
    });
  }
  console.log('times in ms from the start of the save (PUT sent); "received" = policy frame reached the agent; "applied" = server got its applied report (hub.onApplied)');
  table(['db', 'version', 'PUT answered', 'received p50', 'received p99', 'applied p50', 'applied p99', 'last applied', 'missing', 'bare WS baseline p50 / p99 / last', 'p99 ratio hub/bare'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
  const summary = results.map((r) => ({
    kind: r.kind,
    agents: r.agents,
    createAgentsMs: r.createMs,
    connectMs: r.connectMs,
    policyFrameBytes: r.frameBytes,
    appliedP50Ms: median(r.rounds.map((x) => x.applied.p50)),
    appliedP99Ms: median(r.rounds.map((x) => x.applied.p99)),
    lastAppliedMs: median(r.rounds.map((x) => x.lastMs)),
    baselineP99Ms: r.baseline ? median(r.baseline.rounds.map((x) => x.applied.p99)) : null,
    ratioP99: r.baseline ? r2(median(r.rounds.map((x, i) => x.applied.p99 / r.baseline.rounds[i].applied.p99))) : null,
    rounds: r.rounds,
    baseline: r.baseline,
  }));
  for (const s of summary) {
    console.log(`${s.kind}: connect ${fmt(s.connectMs)} ms for ${s.agents} agents (frame ${fmt(s.policyFrameBytes)} B); median over rounds: applied p50 ${s.appliedP50Ms} ms, p99 ${s.appliedP99Ms} ms, last ${s.lastAppliedMs} ms; bare WS p99 ${s.baselineP99Ms} ms (ratio ${s.ratioP99})`);
  }
  const ok = summary.every((s) => s.rounds.every((x) => x.applied.missing === 0 && x.parsedOk));
  const sq = summary.find((s) => s.kind === 'sqlite') ?? summary[0];
  const under = sq ? sq.rounds.filter((x) => x.applied.p99 < 2000 && x.applied.missing === 0).length : 0;
  const goals = sq ? { p99Under2s: sq.appliedP99Ms < 2000, savesUnder2s: `${under}/${sq.rounds.length}` } : {};
  if (sq) console.log(`goal p99 < 2 s: ${goals.p99Under2s ? 'MET' : 'NOT MET'} on the median over saves (${sq.kind}: ${sq.appliedP99Ms} ms); met in ${under} of ${sq.rounds.length} saves`);
  const out = { bench: 'server-fanout', date: new Date().toISOString(), ulimitN: ulimit, transport: 'startServer TLS, loopback WSS', results: summary, goals, ok };
  console.log(JSON.stringify(out));
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. QUERY

const QUERY = {
  events: num('BENCH_QUERY_EVENTS', 1_000_000),
  agents: num('BENCH_QUERY_AGENTS', 500),
  groups: 5,
  runs: num('BENCH_QUERY_RUNS', 20),
  perCall: num('BENCH_QUERY_BATCH', 1000),
  cacheDir: env.BENCH_QUERY_CACHE ?? '/tmp/portcullis-bench-query',
  caseBudgetMs: num('BENCH_QUERY_CASE_BUDGET_MS', 30_000),
};
const QUERY_END = Date.parse('2026-11-20T00:00:00.000Z');
const QUERY_SPAN_MS = 30 * 86_400_000;
const RARE_SERIAL = 'BENCHRARE7Q4X2';
const QUERY_DB_VERSION = 2;

// type, severity choices, weight
const EVENT_KINDS = [
  ['device.blocked', [['high', 9], ['critical', 1]], 40],
  ['device.allowed', [['info', 1]], 25],
  ['device.readonly', [['low', 1]], 5],
  ['device.rejected', [['high', 3], ['critical', 1]], 3],
  ['port.blocked', [['medium', 1]], 8],
  ['mail.egress-refused', [['medium', 3], ['high', 1]], 5],
  ['policy.applied', [['info', 1]], 10],
  ['inventory.changed', [['low', 1]], 3.5],
  ['agent.tamper', [['critical', 1]], 0.5],
];

function queryEventData(rng, type) {
  if (type.startsWith('device.')) {
    const target = type === 'device.allowed' ? 'allow' : type === 'device.readonly' ? 'readonly' : 'block';
    const models = MODELS.filter((m) => (target === 'allow' ? m.ifs[0].startsWith('03') || m.ifs[0].startsWith('07') || m.ifs[0].startsWith('0b') : true));
    return deviceData(rng, rng.weighted(models.map((m) => [m.w, m])), target, 1 + rng.int(9));
  }
  if (type === 'port.blocked') return { port: rng.pick(['bluetooth', 'serial', 'parallel', 'optical']), action: 'block', device: { name: rng.pick(['Bose QC45', 'JBL Flip 5', 'Galaxy Buds2', 'COM1']), address: `${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}` }, policyVersion: 1 + rng.int(9), user: `MINISTRY\\${rng.pick(USERS)}` };
  if (type === 'mail.egress-refused') return { from: `${rng.pick(USERS)}@ministry.example`, to: [`someone${rng.int(1000)}@gmail.com`], subject: `Dossier ${rng.hex(6)}`, reason: 'recipient domain not allowed', sizeBytes: 10_000 + rng.int(5_000_000), attachments: rng.int(4) };
  if (type === 'policy.applied') return { version: 1 + rng.int(9), previous: rng.int(9), rules: 40 + rng.int(80), took: `${rng.int(900)}ms` };
  if (type === 'inventory.changed') return { added: [{ kind: 'package', name: rng.pick(['firefox', 'libreoffice', 'chromium', 'vlc']), version: `${rng.int(130)}.${rng.int(10)}` }], removed: [] };
  return { what: rng.pick(['usbguard stopped', 'rules file changed', 'agent binary replaced']), by: rng.pick(['root', 'unknown']), detectedBy: 'watchdog' };
}

/** Builds (or reuses) the 1M-event SQLite database; returns its file and facts the cases need. */
async function ensureQueryDatabase() {
  await mkdir(QUERY.cacheDir, { recursive: true, mode: 0o700 });
  const base = `events-${QUERY.events}-${QUERY.agents}-s${SEED}-v${QUERY_DB_VERSION}`;
  const file = join(QUERY.cacheDir, `${base}.db`);
  const marker = join(QUERY.cacheDir, `${base}.json`);
  if (env.BENCH_QUERY_FRESH !== '1' && existsSync(marker) && existsSync(file)) {
    const facts = JSON.parse(await readFile(marker, 'utf8'));
    return { file, facts, cached: true, buildMs: facts.buildMs };
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, marker]) await rm(f, { force: true });
  const t = nowMs();
  const store = await openSqliteStore(file);
  await store.migrate();
  const rng = new Rng(SEED ^ 0x9e41);
  const groups = Array.from({ length: QUERY.groups }, (_, i) => `g${i + 1}`);
  for (const name of groups) await store.createGroup({ name, description: `bench group ${name}`, createdAt: new Date(QUERY_END - QUERY_SPAN_MS).toISOString() });
  const agents = [];
  for (let i = 0; i < QUERY.agents; i++) {
    const a = { id: newId('agt'), group: groups[i % groups.length], seq: 0 };
    await store.createAgent({ id: a.id, secretHash: hashSecret(newSecret()), group: a.group, hostname: `pc-${String(i).padStart(4, '0')}`, machineId: `machine-${i}`, os: 'Ubuntu 24.04.1 LTS', agentVersion: '0.1.0', enrolledAt: new Date(QUERY_END - QUERY_SPAN_MS).toISOString() });
    agents.push(a);
  }
  const kinds = EVENT_KINDS.map(([type, sev, w]) => [w, { type, sev }]);
  // The rare needle: 3 events, early in the log, so a newest-first search for it reads (nearly) everything.
  const rareAt = new Set([Math.floor(QUERY.events * 0.05), Math.floor(QUERY.events * 0.2), Math.floor(QUERY.events * 0.35)]);
  let written = 0;
  let counter = 0;
  const typeCounts = {};
  // Rounds over the agents, `perCall` events per call: ids interleave agents and follow time.
  while (written < QUERY.events) {
    for (const a of agents) {
      if (written >= QUERY.events) break;
      const n = Math.min(QUERY.perCall, Math.max(1, Math.ceil(QUERY.events / QUERY.agents / 2)), QUERY.events - written);
      const events = new Array(n);
      for (let i = 0; i < n; i++) {
        const k = rng.weighted(kinds);
        const at = QUERY_END - QUERY_SPAN_MS + Math.floor(((written + i) / QUERY.events) * QUERY_SPAN_MS) - rng.int(60_000);
        const data = queryEventData(rng, k.type);
        if (rareAt.has(written + i) && data.device) data.device.serial = RARE_SERIAL;
        else if (rareAt.has(written + i)) rareAt.add(written + i + 1);
        events[i] = { seq: a.seq + i + 1, type: k.type, severity: rng.weighted(k.sev.map(([s, w]) => [w, s])), occurredAt: new Date(at).toISOString(), data };
        typeCounts[k.type] = (typeCounts[k.type] ?? 0) + 1;
      }
      const receivedAt = new Date(Date.parse(events.at(-1).occurredAt) + 2000).toISOString();
      await store.ingestEvents(a.id, a.group, events, receivedAt);
      a.seq += n;
      written += n;
      if (++counter % 100 === 0) log(`query db: ${written} events`);
    }
  }
  await store.close();
  // No ANALYZE: the server never runs it, so its planner works without statistics too.
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  const buildMs = nowMs() - t;
  const facts = { events: written, agents: agents.length, groups, typeCounts, agentSample: agents[137 % agents.length].id, rareSerial: RARE_SERIAL, buildMs: Math.round(buildMs), sizeBytes: (await stat(file)).size };
  await writeFile(marker, JSON.stringify(facts, null, 2));
  return { file, facts, cached: false, buildMs };
}

async function benchQuery() {
  console.log(`\n## QUERY — ${fmt(QUERY.events)} events, ${QUERY.agents} agents, ${QUERY.groups} groups (SQLite); first page, limit 50; median of ${QUERY.runs} runs`);
  const db = await ensureQueryDatabase();
  console.log(`database: ${db.file} (${db.cached ? 'cached' : 'built'}; building took ${fmt(db.facts.buildMs / 1000)} s = ${fmt(db.facts.events / (db.facts.buildMs / 1000))} events/s through Store.ingestEvents; ${fmt(db.facts.sizeBytes / 2 ** 20)} MiB)`);
  const dataDir = await tempDir('query');
  const srv = await startBenchServer(dataDir, `sqlite:${db.file}`);
  const direct = await openSqliteStore(db.file);
  const failures = [];
  try {
    const token = await login(srv);
    const day = '2026-11-05T00:00:00.000Z';
    const cases = [
      ['newest (no filter)', {}],
      ['type=device.blocked (41%)', { type: 'device.blocked' }],
      ['type=agent.tamper (0.5%)', { type: 'agent.tamper' }],
      ['severity=critical & group=g3', { severity: 'critical', group: 'g3' }],
      ['agent=<one of 500>', { agent: db.facts.agentSample }],
      ['since/until: the last day', { since: '2026-11-19T00:00:00.000Z', until: '2026-11-20T00:00:00.000Z' }],
      ['since/until: 1 day, 15 days ago', { since: day, until: '2026-11-06T00:00:00.000Z' }],
      ['since: the last 7 days', { since: '2026-11-13T00:00:00.000Z' }],
      ['since/until: 1 hour, 15 days ago', { since: '2026-11-05T10:00:00.000Z', until: '2026-11-05T11:00:00.000Z' }],
      ['type + group + 1 day', { type: 'device.blocked', group: 'g2', since: day, until: '2026-11-06T00:00:00.000Z' }],
      ['q=DataTraveler (common)', { q: 'DataTraveler' }],
      [`q=<a serial in 3 old events> (first page: a 100,000-event span)`, { q: db.facts.rareSerial }],
    ];
    const rows = [];
    const results = [];
    for (const [name, filters] of cases) {
      const qs = new URLSearchParams({ ...filters, limit: '50' }).toString();
      const path = `/api/v1/events?${qs}`;
      const byTime = filters.since !== undefined || filters.until !== undefined;
      const storeQuery = { type: filters.type, severity: filters.severity, agentId: filters.agent, group: filters.group, since: filters.since, until: filters.until, q: filters.q, limit: 50, orderBy: byTime ? "occurredAt" : "id" };
      const viaHttps = async () => {
        const r = await srv.http('GET', path, undefined, token);
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
        return r.json.events;
      };
      const viaInject = async () => {
        const r = await srv.server.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
        if (r.statusCode !== 200) throw new Error(`${path}: inject ${r.statusCode}`);
        return r.json().events;
      };
      // A substring search without a time window reads a bounded span per page (the API's
      // searchScanRows, 100,000 by default): the store layer is asked for the same span.
      if (filters.q !== undefined && !byTime) {
        const [newest] = await direct.queryEvents({ limit: 1 });
        const ceiling = (newest?.id ?? 0) + 1;
        Object.assign(storeQuery, { beforeId: ceiling, afterId: Math.max(0, ceiling - 1 - 100_000) });
      }
      const viaStore = () => direct.queryEvents(storeQuery);
      const layers = { https: viaHttps, inject: viaInject, store: viaStore };
      const times = { https: [], inject: [], store: [] };
      // Warm-up, and the check that every layer returns the same page.
      const pages = {};
      for (const [k, fn] of Object.entries(layers)) pages[k] = (await fn()).map((e) => e.id);
      for (const k of ['inject', 'store']) if (pages[k].join() !== pages.https.join()) failures.push(`${name}: ${k} returned a different page`);
      const t = nowMs();
      await viaHttps();
      const oneMs = nowMs() - t;
      const runs = Math.max(3, Math.min(QUERY.runs, Math.floor(QUERY.caseBudgetMs / (3 * Math.max(oneMs, 0.01)))));
      for (let i = 0; i < runs; i++) {
        for (const [k, fn] of Object.entries(layers)) {
          const s = performance.now();
          await fn();
          times[k].push(performance.now() - s);
        }
      }
      const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
      results.push({ name, filters, rows: pages.https.length, runs, httpsMs: r2(m.https), injectMs: r2(m.inject), storeMs: r2(m.store), ratioHttpsToStore: r2(m.https / m.store), goal: m.https < 50 });
      rows.push([name, pages.https.length, runs, r2(m.https), r2(m.inject), r2(m.store), r2(m.https / m.store), m.https < 50 ? 'yes' : 'NO']);
      log(`query ${name}: ${r2(m.https)} ms`);
    }
    table(['query', 'rows', 'runs', 'GET /api/v1/events ms (HTTPS)', 'app.inject ms', 'Store.queryEvents ms', 'API / store', '< 50 ms'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
    const met = results.every((r) => r.goal);
    console.log(`goal < 50 ms for every query (HTTPS API, median): ${met ? 'MET' : `NOT MET (${results.filter((r) => !r.goal).map((r) => r.name).join('; ')})`}`);
    for (const f of failures) console.log(`CHECK FAILED: ${f}`);
    const out = { bench: 'server-query', date: new Date().toISOString(), backend: 'sqlite', events: db.facts.events, agents: db.facts.agents, groups: QUERY.groups, dbMiB: Math.round(db.facts.sizeBytes / 2 ** 20), cached: db.cached, buildS: r1(db.facts.buildMs / 1000), transport: 'startServer TLS, keep-alive HTTPS', results, goals: { under50ms: met }, ok: failures.length === 0 };
    console.log(JSON.stringify(out));
    return out;
  } finally {
    await direct.close();
    await srv.close();
    await removeTemp(dataDir);
  }
}

// ---------------------------------------------------------------------------------------------
// Worker: simulated agents

function openAgent(wsUrl, ca, agent, onText) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { ca, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 60_000, headers: { Authorization: `Bearer ${agent.id}.${agent.secret}` } });
    let welcomed = false;
    ws.on('message', (data) => {
      const text = data.toString('utf8');
      if (!welcomed) {
        welcomed = true;
        const msg = parseServerMessage(text);
        if (msg.type !== 'welcome') return reject(new Error(`expected welcome, got ${msg.type}`));
        return resolve(ws);
      }
      onText(text, ws);
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    ws.on('close', () => reject(new Error('closed before welcome')));
  });
}

async function closeAll(sockets) {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((r) => {
          if (ws.readyState === ws.CLOSED) return r();
          ws.once('close', r);
          ws.close(1000, 'bench done');
          setTimeout(() => (ws.terminate(), r()), 5000).unref();
        }),
    ),
  );
}

async function ingestWorker(d) {
  const pool = blockedDataPool(d.seed);
  const conns = [];
  for (const agent of d.agents) {
    const conn = { pending: undefined, errors: 0 };
    conn.ws = await openAgent(d.wsUrl, d.ca, agent, (text, ws) => {
      const msg = parseServerMessage(text);
      if (msg.type === 'ack') {
        if (conn.pending && msg.body.seq >= conn.pending.seq) {
          const p = conn.pending;
          conn.pending = undefined;
          p.resolve(msg.body.seq);
        }
      } else if (msg.type === 'policy') {
        ws.send(encodeMessage({ v: 1, type: 'applied', body: { version: msg.body.signed.document.version } }));
      } else if (msg.type === 'error') {
        conn.errors++;
        conn.pending?.reject(new Error(`server error: ${msg.body.code} ${msg.body.message}`));
        conn.pending = undefined;
      }
    });
    conn.ws.on('error', (err) => (conn.errors++, conn.pending?.reject(err)));
    conn.ws.send(encodeMessage({ v: 1, type: 'hello', body: { agentVersion: '0.1.0', hostname: `pc-${conns.length}`, os: 'Ubuntu 24.04.1 LTS', appliedVersion: null, spoolDepth: 1_000_000 } }));
    conns.push(conn);
  }
  await new Promise((r) => setTimeout(r, 300)); // hellos, policies and applied settle
  const latencies = [];
  let acked = 0;
  let batches = 0;
  const start = nowMs();
  const deadline = start + d.durationMs;
  let end = start;
  await Promise.all(
    conns.map(async (conn, idx) => {
      const rng = new Rng(d.seed + idx);
      let seq = 0;
      while (nowMs() < deadline) {
        const events = makeBatch(rng, pool, seq, d.batchMin + rng.int(d.batchMax - d.batchMin + 1));
        const batch = events.slice(0, eventsThatFit(events));
        const last = batch.at(-1).seq;
        const frame = encodeMessage({ v: 1, type: 'events', body: { events: batch } });
        const t = nowMs();
        const ackedSeq = await new Promise((resolve, reject) => {
          conn.pending = { seq: last, resolve, reject };
          conn.ws.send(frame);
        });
        const done = nowMs();
        if (ackedSeq !== last) throw new Error(`ack ${ackedSeq}, expected ${last}`);
        latencies.push(done - t);
        seq = last;
        acked += batch.length;
        batches++;
        end = Math.max(end, done);
      }
    }),
  );
  await closeAll(conns.map((c) => c.ws));
  parentPort.postMessage({ type: 'result', acked, batches, elapsedMs: end - start, latencies, errors: conns.reduce((s, c) => s + c.errors, 0) });
}

async function fanoutWorker(d) {
  const received = new Map(); // version -> absolute receive times
  const appliedFrames = new Map();
  const parsedOk = new Map();
  const onText = (text, ws) => {
    const t = nowMs();
    // Light client: JSON.parse only. The first frame of each version also goes through the full
    // protocol parser (shape and policy document), to check what the hub sends is valid.
    const msg = JSON.parse(text);
    if (msg.type !== 'policy') return;
    const version = msg.body.signed.document.version;
    let times = received.get(version);
    if (!times) {
      received.set(version, (times = []));
      try {
        parseServerMessage(text);
        parsedOk.set(version, true);
      } catch {
        parsedOk.set(version, false);
      }
    }
    times.push(t);
    let frame = appliedFrames.get(version);
    if (!frame) appliedFrames.set(version, (frame = encodeMessage({ v: 1, type: 'applied', body: { version } })));
    ws.send(frame);
  };
  const sockets = [];
  let errors = 0;
  let firstError;
  let next = 0;
  const hello = (i) => encodeMessage({ v: 1, type: 'hello', body: { agentVersion: '0.1.0', hostname: `pc-${i}`, os: 'Ubuntu 24.04.1 LTS', appliedVersion: d.appliedVersion, spoolDepth: 0 } });
  await Promise.all(
    Array.from({ length: Math.min(d.concurrency, d.agents.length) }, async () => {
      while (next < d.agents.length) {
        const i = next++;
        try {
          const ws = await openAgent(d.wsUrl, d.ca, d.agents[i], onText);
          ws.on('error', () => {});
          ws.send(hello(i));
          sockets.push(ws);
        } catch (err) {
          errors++;
          firstError ??= err.message;
        }
      }
    }),
  );
  parentPort.postMessage({ type: 'ready', connected: sockets.length, errors, firstError });
  parentPort.on('message', async (m) => {
    if (m.cmd === 'report') {
      // Wait until no more frames of that version trickle in.
      let last = -1;
      while ((received.get(m.version)?.length ?? 0) !== last) {
        last = received.get(m.version)?.length ?? 0;
        await new Promise((r) => setTimeout(r, 200));
      }
      parentPort.postMessage({ type: 'report', times: received.get(m.version) ?? [], parsedOk: parsedOk.get(m.version) === true });
    } else if (m.cmd === 'close') {
      await closeAll(sockets);
      parentPort.postMessage({ type: 'closed' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const what = process.argv[2] ?? 'all';
  if (!['ingest', 'fanout', 'query', 'all'].includes(what)) {
    console.error('usage: node bench/server-bench.mjs [ingest|fanout|query|all]');
    process.exit(2);
  }
  const started = nowMs();
  const machine = machineInfo();
  console.log(`# Portcullis server benchmark (${what}) — ${new Date().toISOString()}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, ${machine.platform}; load ${machine.loadavg.join(' ')}; ulimit -n ${machine.ulimitN}; temp dirs in ${TMP}`);
  const out = { bench: 'server', date: new Date().toISOString(), machine, seed: SEED };
  let ok = true;
  const stop = async () => {
    await cleanup();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (what === 'ingest' || what === 'all') {
      out.ingest = await benchIngest();
      ok &&= out.ingest.ok;
    }
    if (what === 'fanout' || what === 'all') {
      out.fanout = await benchFanout();
      ok &&= out.fanout.ok !== false;
    }
    if (what === 'query' || what === 'all') {
      out.query = await benchQuery();
      ok &&= out.query.ok;
    }
  } finally {
    await cleanup();
  }
  out.elapsedS = r1((nowMs() - started) / 1000);
  out.ok = ok;
  console.log(`\nwhole run: ${out.elapsedS} s; checks ${ok ? 'passed' : 'FAILED'}`);
  console.log(JSON.stringify(out));
  process.exit(ok ? 0 : 1);
}

if (isMainThread) {
  main().catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
} else if (workerData.role === 'ingest') {
  await ingestWorker(workerData);
} else if (workerData.role === 'fanout') {
  await fanoutWorker(workerData);
}
