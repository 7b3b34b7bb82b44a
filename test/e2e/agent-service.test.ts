/**
 * The agent service end to end on loopback (issue 4's "done when"): a real server (startServer,
 * real TLS, SQLite), an agent enrolled with the real `portcullis-agent enroll` command pinning the
 * server's CA by fingerprint, the real `portcullis-agent run` process on a fake sysfs tree whose
 * "kernel" (FakeSysfs.startKernel) runs in this process. Devices are plugged into the tree and the
 * results are read back from the tree (`authorized`) and from the server's REST API (events with
 * their decision traces).
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSysfs } from '@portcullis/agent/dist/test/support/fake-sysfs.js';
import { loadConfig } from '@portcullis/server/dist/src/config.js';
import { startServer, type RunningServer } from '@portcullis/server/dist/src/main.js';
import { AgentProcess, agentCli, readStatusFile } from './support/agent-process.js';
import { agentEvents, call, until } from './support/server-api.js';
import { freePort } from './support/free-port.js';

const ADMIN_PASSWORD = 'e2e-admin-password-456';

/** Line numbers matter: the events must point at them. */
const RULES = [
  '# hubs, keyboards and mice; never storage',
  'allow with-interface equals { 09:00:* }',
  'allow with-interface one-of { 03:01:01 03:01:02 }',
  'block with-interface one-of { 08:*:* }',
].join('\n');

const KEYBOARD = { vendor: '046d', product: 'c31c', productName: 'USB Keyboard', manufacturer: 'Logitech', interfaces: ['03:01:01'] };
const FLASH = { vendor: '0781', product: '5567', productName: 'Cruzer Blade', manufacturer: 'SanDisk', serial: '4C530001230925117334', interfaces: ['08:06:50'] };


describe('end to end: the agent service enforces on a fake sysfs tree and reports to the server', function () {
  this.timeout(120_000);
  let dir: string;
  let serverData: string;
  let port: number;
  let server: RunningServer | undefined;
  let ca: Buffer;
  let admin: string;
  let fake: FakeSysfs;
  let stateDir: string;
  let agentId: string;
  let agent: AgentProcess | undefined;

  const url = () => `https://127.0.0.1:${port}`;
  const runArgs = () => ['--state', stateDir, '--sysfs-root', fake.root, '--rescan-ms', '500', '--poll-ms', '50', '--log-stderr', '--log-level', 'warn', '--no-mail-egress'];

  async function bootServer(): Promise<RunningServer> {
    const config = loadConfig(['--listen', `127.0.0.1:${port}`, '--mail-policy-listen', '127.0.0.1:0', '--data', serverData], { PORTCULLIS_LOG_LEVEL: 'error' });
    return startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
  }

  async function login(): Promise<void> {
    const reply = await call(url(), ca, 'POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(reply.status).to.equal(200);
    admin = reply.json.token;
  }

  async function connected(): Promise<boolean> {
    const status = await readStatusFile(stateDir);
    return status !== null && status.connected;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-e2e-agent-'));
    serverData = join(dir, 'server');
    stateDir = join(dir, 'agent-state');
    port = await freePort();
    server = await bootServer();
    ca = await readFile(join(serverData, 'pki', 'ca.crt'));
    await login();
    fake = await FakeSysfs.create({ controllers: 2 });
    fake.startKernel(5);

    const saved = await call(url(), ca, 'PUT', '/api/v1/groups/default/policy', { rules: RULES, implicitTarget: 'block', comment: 'e2e: block storage' }, admin);
    expect(saved.status, JSON.stringify(saved.json)).to.be.oneOf([200, 201]);
    const token = await call(url(), ca, 'POST', '/api/v1/enrollment-tokens', { group: 'default' }, admin);
    expect(token.status).to.equal(201);
    const enrolled = await agentCli(['enroll', '--server', url(), '--fingerprint', server.caFingerprint256, '--state', stateDir], {
      PORTCULLIS_ENROLL_TOKEN: token.json.token,
    });
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    expect(enrolled.stdout + enrolled.stderr).not.to.contain(token.json.token);
    const identity = JSON.parse(await readFile(join(stateDir, 'identity.json'), 'utf8'));
    agentId = identity.agentId;
    expect((await stat(join(stateDir, 'identity.json'))).mode & 0o777).to.equal(0o600);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && agent) console.error(`agent stderr:\n${agent.stderr}`);
    await agent?.stop();
    agent = undefined;
  });

  after(async () => {
    await server?.close();
    await fake?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails closed on every root hub, authorizes a keyboard, blocks a flash drive and reports both with their rule lines', async () => {
    agent = new AgentProcess(runArgs());
    await until('the agent to connect', connected, 30_000);
    await until('the pushed policy to be in force', async () => (await readStatusFile(stateDir))?.policy.version === 2, 20_000);
    for (const hub of fake.rootHubs()) expect(await fake.readAttr(hub, 'authorized_default'), hub).to.equal('0');

    await fake.plug({ port: '1-1', ...KEYBOARD });
    await fake.plug({ port: '3-2', ...FLASH });
    await until('the keyboard to be authorized', async () => (await fake.readAttr('1-1', 'authorized')) === '1');
    await until('both decisions at the server', async () => {
      const types = (await agentEvents(url(), ca, admin, agentId)).map((e) => e.type);
      return types.includes('device.allowed') && types.includes('device.blocked');
    });
    expect(await fake.readAttr('3-2', 'authorized')).to.equal('0');
    expect(await fake.exists('3-2:1.0')).to.equal(false);

    const events = await agentEvents(url(), ca, admin, agentId);
    const blocked = events.find((e) => e.type === 'device.blocked');
    expect(blocked.data.name).to.equal('3-2');
    expect(blocked.data.label).to.match(/flash drive|storage/i);
    expect(blocked.data.device).to.include({ id: '0781:5567', serial: FLASH.serial, name: 'Cruzer Blade' });
    expect(blocked.data.decision).to.include({ target: 'block', source: 'rule', line: 4 });
    expect(blocked.data.decision.rule).to.equal('block with-interface one-of { 08:*:* }');
    const allowed = events.find((e) => e.type === 'device.allowed');
    expect(allowed.data.decision).to.include({ target: 'allow', line: 3 });
    // Enrollment stored the group's policy (version 2), so the agent started on it: no push needed.
    expect(events.find((e) => e.type === 'agent.started')?.data).to.deep.include({ policySource: 'cache', policy: { group: 'default', version: 2 } });
    expect(events.filter((e) => e.type === 'device.connected').map((e) => e.data.name).sort()).to.deep.equal(['1-1', '3-2']);

    const detail = await call(url(), ca, 'GET', `/api/v1/agents/${agentId}`, undefined, admin);
    expect(detail.status).to.equal(200);
    await until('the inventory at the server', async () => {
      const reply = await call(url(), ca, 'GET', `/api/v1/agents/${agentId}`, undefined, admin);
      return reply.json.inventory?.inventory?.os !== undefined;
    }, 60_000);
    // A new version pushed while the agent runs: the flash drive present now is allowed, then
    // blocked again by the next version.
    const allowStorage = await call(url(), ca, 'PUT', '/api/v1/groups/default/policy', { rules: `allow with-interface one-of { 08:*:* }\n${RULES}`, implicitTarget: 'block', comment: 'e2e: allow storage' }, admin);
    expect(allowStorage.status).to.equal(200);
    await until('the flash drive allowed by version 3', async () => (await fake.readAttr('3-2', 'authorized')) === '1');
    const back = await call(url(), ca, 'PUT', '/api/v1/groups/default/policy', { rules: RULES, implicitTarget: 'block', comment: 'e2e: block storage' }, admin);
    expect(back.status).to.equal(200);
    await until('the flash drive blocked by version 4', async () => (await fake.readAttr('3-2', 'authorized')) === '0');
    await until('both versions reported applied', async () => {
      const applied = await agentEvents(url(), ca, admin, agentId, 'policy.applied');
      return applied.map((e) => e.data.policy.version).join(',') === '3,4';
    });
    await until('the server to record version 4 as applied', async () => {
      const reply = await call(url(), ca, 'GET', `/api/v1/agents/${agentId}`, undefined, admin);
      return reply.json.agent.appliedVersion === 4;
    });
    await agent.stop();
    const stopping = await agentEvents(url(), ca, admin, agentId, 'agent.stopping');
    expect(stopping.length).to.be.greaterThan(0);
    await fake.unplug('1-1');
    await fake.unplug('3-2');
  });

  it('keeps enforcing with the server down and delivers what happened meanwhile exactly once', async () => {
    agent = new AgentProcess(runArgs());
    await until('the agent to connect', connected, 30_000);
    const before = await agentEvents(url(), ca, admin, agentId);
    await server?.close();
    server = undefined;
    await until('the agent to notice', async () => !(await connected()));

    await fake.plug({ port: '1-3', ...KEYBOARD, serial: 'offline-kbd' });
    await fake.plug({ port: '1-4', ...FLASH, serial: 'offline-flash' });
    await until('the keyboard to be authorized offline', async () => (await fake.readAttr('1-3', 'authorized')) === '1');
    await until('the offline events to be spooled', async () => ((await readStatusFile(stateDir))?.spool.depth ?? 0) >= 4);
    expect(await fake.readAttr('1-4', 'authorized')).to.equal('0');

    server = await bootServer();
    await login();
    await until('the spool to drain after the server is back', async () => {
      const s = await readStatusFile(stateDir);
      return s !== null && s.connected && s.spool.depth === 0;
    }, 90_000);
    const after = await agentEvents(url(), ca, admin, agentId);
    const seqs = after.map((e) => e.seq);
    expect(new Set(seqs).size, 'no duplicates').to.equal(seqs.length);
    expect(seqs, 'no gaps').to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const fresh = after.slice(before.length);
    const offlineBlock = fresh.find((e) => e.type === 'device.blocked' && e.data.device.serial === 'offline-flash');
    expect(offlineBlock, 'the offline block reached the server').to.not.equal(undefined);
    expect(offlineBlock.data.decision.line).to.equal(4);
    await fake.unplug('1-3');
    await fake.unplug('1-4');
  });

  it('loses nothing and decides devices plugged while it was dead when killed with SIGKILL again and again', async () => {
    const plugged: string[] = [];
    let n = 0;
    for (let round = 0; round < 5; round++) {
      agent = new AgentProcess(runArgs());
      // Devices come and go while the agent runs; it is killed at a different moment each round.
      // Long enough for Node to start on a busy machine; the kill lands at a different point each round.
      const lifetime = 800 + round * 300;
      const end = Date.now() + lifetime;
      while (Date.now() < end) {
        const portName = `2-${(n % 4) + 1}`;
        if (await fake.exists(portName)) await fake.unplug(portName);
        else await fake.plug({ port: portName, ...(n % 2 === 0 ? KEYBOARD : FLASH), serial: `chaos-${n}` });
        n++;
        await new Promise((r) => setTimeout(r, 60));
      }
      await agent.kill9();
      agent = undefined;
      // Plugged while no agent runs: authorized_default=0 keeps it off.
      const dead = `4-${(round % 4) + 1}`;
      if (await fake.exists(dead)) await fake.unplug(dead);
      await fake.plug({ port: dead, ...KEYBOARD, serial: `while-dead-${round}` });
      await new Promise((r) => setTimeout(r, 30));
      expect(await fake.readAttr(dead, 'authorized'), `${dead} while the agent is dead`).to.equal('0');
      plugged.push(dead);
    }

    agent = new AgentProcess(runArgs());
    for (const name of plugged) {
      if (await fake.exists(name)) await until(`${name} decided after the restart`, async () => (await fake.readAttr(name, 'authorized')) === '1');
    }
    // Drained: the agent has nothing waiting and the server holds its last seq. Both are read in
    // the same look, since the agent keeps producing events (rescans, the status of devices).
    let events: any[] = [];
    let lastSeq = -1;
    await until('the spool to drain', async () => {
      const s = await readStatusFile(stateDir);
      if (s === null || !s.connected || s.spool.depth !== 0 || s.spool.lastSeq === 0) return false;
      events = await agentEvents(url(), ca, admin, agentId);
      lastSeq = s.spool.lastSeq;
      return events.length > 0 && events[events.length - 1].seq === lastSeq;
    }, 60_000);
    const seqs = events.map((e) => e.seq);
    expect(new Set(seqs).size, 'no duplicates').to.equal(seqs.length);
    expect(seqs, 'every seq from 1 to the last, none lost').to.deep.equal(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'events.dropped')).to.deep.equal([]);
    // A round killed before the agent queued anything leaves no agent.started, and that is fine:
    // what matters is the unbroken seq range above. The final start, at least, is there.
    expect(events.filter((e) => e.type === 'agent.started').length).to.be.greaterThanOrEqual(2);
  });
});
