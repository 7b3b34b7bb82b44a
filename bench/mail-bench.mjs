#!/usr/bin/env node
// Portcullis mail policy service benchmark: decisions per second and latency over one reused
// connection and over 50 concurrent connections, the way Postfix's smtpd processes talk to it.
//
//   cd /work/main && npm run build && node bench/mail-bench.mjs
//
// The real server is started in process (startServer, SQLite in a temporary folder, policy
// service on 127.0.0.1, port 0). 10,000 addresses are registered through the CSV import of the
// API and a group mail policy is set with PUT, so the service decides from a realistic registry;
// refusals go to the real hash-chained event log. The load runs in a worker thread (the server's
// event loop, the main thread, does only server work): each connection sends one request, waits
// for the answer, sends the next (Postfix asks one question at a time per connection).
// Request mix: 70% allowed internal RCPT, 10% allowed external RCPT, 8% END-OF-MESSAGE,
// 6% forged sender, 4% deny-listed domain, 2% login mismatch (so ~12% become events).
//
// Baseline, same process and same load generator: a bare TCP server that frames requests the
// same way (PolicyRequestParser) and answers DUNNO without deciding: the protocol's floor here.
//
// Knobs: BENCH_MAIL_REQUESTS=60000 (per scenario), BENCH_MAIL_CONNECTIONS=50, BENCH_MAIL_REPS=3.
import https from 'node:https';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { connect } from 'node:net';
import { markdownTable, percentile } from './support-stats.mjs';

const SERVER_DIST = new URL('../server/dist/src/', import.meta.url);
const env = process.env;
const num = (name, dflt) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]));
const REQUESTS = num('BENCH_MAIL_REQUESTS', 60_000);
const CONNECTIONS = num('BENCH_MAIL_CONNECTIONS', 50);
const REPS = num('BENCH_MAIL_REPS', 3);
const ADDRESSES = 10_000;
const ADMIN_PASSWORD = 'bench-admin-password-1';

// ---------------------------------------------------------------------------------------------
// Load generator (worker thread)

function requestBlock(i) {
  const n = i % ADDRESSES;
  const from = `user${n}@mincom.gov.az`;
  const base = `request=smtpd_access_policy\nprotocol_name=ESMTP\nclient_address=10.0.${n % 250}.${(n >> 8) % 250}\nsasl_username=user${n}\ninstance=${i.toString(16)}.1\n`;
  const pick = i % 50;
  if (pick < 35) return `${base}protocol_state=RCPT\nsender=${from}\nrecipient=colleague${i % 97}@mincom.gov.az\nsize=${i % 40000}\n\n`;
  if (pick < 40) return `${base}protocol_state=RCPT\nsender=${from}\nrecipient=partner${i % 31}@partner.az\nsize=0\n\n`;
  if (pick < 44) return `${base}protocol_state=END-OF-MESSAGE\nsender=${from}\nrecipient=colleague@mincom.gov.az\nsize=${i % 40000}\n\n`;
  if (pick < 47) return `${base}protocol_state=RCPT\nsender=ceo${i % 13}@mincom.gov.az\nrecipient=x@mincom.gov.az\n\n`;
  if (pick < 49) return `${base}protocol_state=RCPT\nsender=${from}\nrecipient=someone@gmail.com\n\n`;
  return base.replace(`sasl_username=user${n}`, 'sasl_username=intruder') + `protocol_state=RCPT\nsender=${from}\nrecipient=x@mincom.gov.az\n\n`;
}

async function loadWorker({ port, connections, requests }) {
  const latencies = new Float64Array(requests);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, () =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, noDelay: true });
        let buffered = '';
        let sentAt = 0;
        let mine = -1;
        const send = () => {
          if (next >= requests) return socket.end(), resolve();
          mine = next++;
          sentAt = performance.now();
          socket.write(requestBlock(mine));
        };
        socket.on('connect', send);
        socket.on('error', reject);
        socket.on('data', (d) => {
          buffered += d.toString('latin1');
          const end = buffered.indexOf('\n\n');
          if (end < 0) return;
          if (!buffered.startsWith('action=')) return reject(new Error(`bad answer ${JSON.stringify(buffered)}`));
          buffered = buffered.slice(end + 2);
          latencies[mine] = performance.now() - sentAt;
          send();
        });
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, latencies: Array.from(latencies) };
}

if (!isMainThread) {
  parentPort.postMessage(await loadWorker(workerData));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Main thread: the server, the baseline and the report

function runLoad(port, connections, requests) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port, connections, requests } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function baselineServer() {
  const { PolicyRequestParser } = await import(new URL('mail/policy-request-parser.js', SERVER_DIST));
  const server = createServer({ noDelay: true }, (socket) => {
    const parser = new PolicyRequestParser();
    socket.on('data', (chunk) => {
      const { requests } = parser.push(chunk);
      if (requests.length > 0) socket.write('action=DUNNO\n\n'.repeat(requests.length));
    });
    socket.on('error', () => undefined);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

function call(base, agent, method, path, { body, token, type = 'application/json' } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { ...(payload !== undefined ? { 'content-type': type } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const req = https.request(new URL(path, base), { method, agent, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode >= 300 ? reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`)) : resolve(text ? JSON.parse(text) : null)));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function summarize(result) {
  const sorted = result.latencies.sort((a, b) => a - b);
  return {
    perSecond: Math.round(sorted.length / result.seconds),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1),
  };
}

const { startServer } = await import(new URL('main.js', SERVER_DIST));
const { loadConfig } = await import(new URL('config.js', SERVER_DIST));
const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-mail-bench-'));
const serverEnv = { PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD };
const server = await startServer(loadConfig(['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', dataDir], serverEnv, { cwd: dataDir }), serverEnv, () => undefined);
const agent = new https.Agent({ ca: await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8'), keepAlive: true });
const baseline = await baselineServer();
try {
  const { token } = await call(server.url, agent, 'POST', '/api/v1/session', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  await call(server.url, agent, 'POST', '/api/v1/groups', { body: { name: 'staff', description: 'bench' }, token });
  const csv = ['address,owner,group,logins,state'];
  for (let n = 0; n < ADDRESSES; n++) csv.push(`user${n}@mincom.gov.az,User ${n},staff,user${n},active`);
  const importStart = performance.now();
  const imported = await call(server.url, agent, 'POST', '/api/v1/mail/addresses/import', { body: csv.join('\n'), type: 'text/csv', token });
  const importMs = performance.now() - importStart;
  await call(server.url, agent, 'PUT', '/api/v1/groups/staff/mail-policy', {
    token,
    body: { internalDomains: ['mincom.gov.az'], externalMode: 'deny-list', externalDomains: ['gmail.com', 'mail.ru'], maxExternalBytes: 30_000, maxMessagesPerHour: 0, maxExternalRecipientsPerHour: 0 },
  });
  const port = server.mailPolicy.port;
  const basePort = baseline.address().port;
  await runLoad(port, CONNECTIONS, 5_000); // warm-up: JIT, the event sink, SQLite pages
  const rows = [];
  const figures = {};
  for (const [label, connections] of [['1 reused connection', 1], [`${CONNECTIONS} concurrent connections`, CONNECTIONS]]) {
    for (let rep = 1; rep <= REPS; rep++) {
      const base = summarize(await runLoad(basePort, connections, REQUESTS));
      const real = summarize(await runLoad(port, connections, REQUESTS));
      rows.push([label, rep, real.perSecond.toLocaleString('en'), real.p50.toFixed(3), real.p99.toFixed(3), real.max.toFixed(1), base.perSecond.toLocaleString('en'), base.p99.toFixed(3), (real.perSecond / base.perSecond).toFixed(2)]);
      (figures[label] ??= []).push(real);
    }
  }
  const stats = await call(server.url, agent, 'GET', '/api/v1/mail/stats', { token });
  await new Promise((r) => setTimeout(r, 500));
  const events = await call(server.url, agent, 'GET', '/api/v1/events?type=mail.rejected&limit=1', { token });
  console.log(`mail policy service, ${REQUESTS.toLocaleString('en')} requests per run, ${REPS} runs, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  console.log(`registry: ${ADDRESSES.toLocaleString('en')} addresses imported as CSV in ${importMs.toFixed(0)} ms (${JSON.stringify(imported)})`);
  console.log(markdownTable(['connections', 'run', 'decisions/s', 'p50 ms', 'p99 ms', 'max ms', 'baseline/s', 'baseline p99 ms', 'ratio'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  for (const [label, runs] of Object.entries(figures)) {
    const best = runs.reduce((a, b) => (a.perSecond > b.perSecond ? a : b));
    const worstP99 = Math.max(...runs.map((r) => r.p99));
    console.log(`${label}: best ${best.perSecond.toLocaleString('en')} decisions/s; worst p99 ${worstP99.toFixed(3)} ms (goal >= 20,000/s, p99 < 2 ms)`);
  }
  console.log(`service counters: ${stats.decisions.toLocaleString('en')} decisions, rejected ${JSON.stringify(stats.rejected)}; newest mail.rejected event id ${events.events?.[0]?.id ?? '?'}`);
} finally {
  baseline.close();
  agent.destroy();
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
