/**
 * Tamper protection end to end (issue 7): a real server over TLS, an agent enrolled with the real
 * `portcullis-agent enroll`. An admin gets the PC's uninstall code from the REST API, the real
 * `portcullis-agent uninstall --check` accepts it and the server holds the agent.uninstalled event
 * when the command exits — also when the agent service is running and holds the spool. A forced
 * removal's agent.uninstall event is at the server before the command returns 0.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSysfs } from '@portcullis/agent/dist/test/support/fake-sysfs.js';
import { uninstallCommand } from '@portcullis/agent/dist/src/commands/uninstall-command.js';
import { loadConfig } from '@portcullis/server/dist/src/config.js';
import { startServer, type RunningServer } from '@portcullis/server/dist/src/main.js';
import { AgentProcess, agentCli, readStatusFile } from './support/agent-process.js';
import { agentEvents, call, until } from './support/server-api.js';

const ADMIN_PASSWORD = 'e2e-admin-password-789';

describe('end to end: removing the agent needs an uninstall code from the server', function () {
  this.timeout(120_000);
  let dir: string;
  let server: RunningServer | undefined;
  let ca: Buffer;
  let admin: string;
  let stateDir: string;
  let agentId: string;
  let fake: FakeSysfs;
  let agent: AgentProcess | undefined;

  const url = () => (server as RunningServer).url;
  const uninstallCode = async (): Promise<string> => {
    const reply = await call(url(), ca, 'POST', `/api/v1/agents/${agentId}/uninstall-code`, undefined, admin);
    expect(reply.status, JSON.stringify(reply.json)).to.equal(201);
    expect(reply.json).to.include({ agentId });
    return reply.json.code;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-e2e-uninstall-'));
    stateDir = join(dir, 'agent-state');
    const config = loadConfig(['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', join(dir, 'server')], { PORTCULLIS_LOG_LEVEL: 'error' });
    server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
    ca = await readFile(join(dir, 'server', 'pki', 'ca.crt'));
    const login = await call(url(), ca, 'POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(login.status).to.equal(200);
    admin = login.json.token;
    const token = await call(url(), ca, 'POST', '/api/v1/enrollment-tokens', { group: 'default' }, admin);
    expect(token.status).to.equal(201);
    const enrolled = await agentCli(['enroll', '--server', url(), '--fingerprint', server.caFingerprint256, '--state', stateDir], {
      PORTCULLIS_ENROLL_TOKEN: token.json.token,
    });
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    agentId = JSON.parse(await readFile(join(stateDir, 'identity.json'), 'utf8')).agentId;
    fake = await FakeSysfs.create({ controllers: 1 });
    fake.startKernel(5);
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

  it('refuses removal without a code or with a wrong one (exit 4), and the server hears nothing', async () => {
    const none = await agentCli(['uninstall', '--check', '--state', stateDir], { PORTCULLIS_UNINSTALL_CODE: '', PORTCULLIS_FORCE_REMOVE: '' });
    expect(none.code, none.stderr).to.equal(4);
    expect(none.stderr).to.contain('removal of the Portcullis agent needs an uninstall code');
    const wrong = await agentCli(['uninstall', '--check', '--state', stateDir], { PORTCULLIS_UNINSTALL_CODE: '0000-0000-0000', PORTCULLIS_FORCE_REMOVE: '' });
    expect(wrong.code, wrong.stderr).to.equal(4);
    expect(wrong.stderr).to.contain(`not the uninstall code of this computer (agent ${agentId})`);
    expect(await agentEvents(url(), ca, admin, agentId, 'agent.uninstalled')).to.deep.equal([]);
  });

  it("accepts the code an admin got from the API, and the server holds agent.uninstalled when the command exits", async () => {
    const code = await uninstallCode();
    const r = await agentCli(['uninstall', '--check', '--state', stateDir], { PORTCULLIS_UNINSTALL_CODE: code.toLowerCase(), PORTCULLIS_FORCE_REMOVE: '' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('the uninstall code is valid').and.contain('the server acknowledged the agent.uninstalled event');
    expect(r.stdout + r.stderr).to.not.contain(code);
    const events = await agentEvents(url(), ca, admin, agentId, 'agent.uninstalled');
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ severity: 'medium' });
    expect(events[0].data).to.deep.include({ method: 'code', via: 'command' });
  });

  it('stops the running agent service to take its spool, and every event, its agent.stopping too, reaches the server', async () => {
    agent = new AgentProcess(['--state', stateDir, '--sysfs-root', fake.root, '--poll-ms', '50', '--no-inventory', '--no-mail-egress', '--log-level', 'warn']);
    await until('the agent service to connect', async () => (await readStatusFile(stateDir))?.connected === true, 30_000);
    const code = await uninstallCode();
    const r = await agentCli(['uninstall', '--check', '--state', stateDir], { PORTCULLIS_UNINSTALL_CODE: code, PORTCULLIS_FORCE_REMOVE: '' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`stopped the agent service (pid ${agent.child.pid})`).and.contain('the server acknowledged the agent.uninstalled event');
    expect(await agent.exited).to.equal(0);
    agent = undefined;
    const events = await agentEvents(url(), ca, admin, agentId);
    const seqs = events.map((e) => e.seq);
    expect(seqs, 'no gaps, no duplicates').to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(events.at(-1)?.type).to.equal('agent.uninstalled');
    expect(events.at(-2)?.type).to.equal('agent.stopping');
  });

  it("reports a forced removal by root (agent.uninstall, high) and has the server's ack before returning 0", async () => {
    const before = (await agentEvents(url(), ca, admin, agentId)).length;
    let out = '';
    let err = '';
    // In process so the test needs no root: privileged is the one thing replaced (its check is unit-tested).
    const exit = await uninstallCommand(['--check', '--state', stateDir], { stdout: (s) => void (out += s), stderr: (s) => void (err += s) }, {
      env: { PORTCULLIS_FORCE_REMOVE: '1', SUDO_USER: 'e2e-admin' },
      privileged: () => true,
    });
    expect(exit, err).to.equal(0);
    expect(out).to.contain('the server acknowledged the agent.uninstall event');
    const events = await agentEvents(url(), ca, admin, agentId);
    expect(events).to.have.length(before + 1);
    expect(events.at(-1)).to.deep.include({ type: 'agent.uninstall', severity: 'high' });
    expect(events.at(-1).data).to.deep.include({ method: 'forced', user: 'e2e-admin' });
  });
});
