/**
 * `portcullis-agent uninstall --check` (issue 7): removal needs this PC's uninstall code, or root
 * forcing it after telling the server. The decision is tested with a recording reporter; the
 * reporter itself with the real file spool and server link against a fake hub on ws://.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeMessage, uninstallCodeFor, type AgentMessage } from '@portcullis/shared';
import { run } from '../src/cli.js';
import { CommandError } from '../src/commands/io.js';
import {
  CODE_ENV,
  FORCE_ENV,
  REFUSED,
  agentUninstallMac,
  reportRemoval,
  uninstallCommand,
  type RemovalReport,
  type ReportHooks,
  type ReportOutcome,
  type UninstallCommandDeps,
} from '../src/commands/uninstall-command.js';
import { ServerLink } from '../src/link/server-link.js';
import { FileSpool } from '../src/spool/file-spool.js';
import { saveIdentity, type AgentIdentity } from '../src/state/identity-store.js';
import { writeStatus } from '../src/state/status-file.js';

const KEY = generateKeyPairSync('ed25519');
const IDENTITY: AgentIdentity = {
  serverUrl: 'https://portcullis.example:8443',
  agentId: 'agt_Hr07xyz',
  secret: 'uninstall-test-secret-Zq8vLw2PnR7kT4xY',
  group: 'default',
  /** Structure is all the identity store checks of the CA; the reporter here never uses it. */
  caCertPem: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FGYWtlQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjO\n-----END CERTIFICATE-----\n',
  signingKeys: [{ keyId: 'policy-2026', publicKeyPem: KEY.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
  enrolledAt: '2026-11-01T09:00:00Z',
};
const NOW = new Date('2026-11-25T10:00:00Z');
const MAC = agentUninstallMac(IDENTITY.secret);
const codeOf = (day: string, agentId = IDENTITY.agentId) => uninstallCodeFor(MAC, agentId, day);

interface Ran {
  code: number;
  out: string;
  err: string;
  reports: RemovalReport[];
}

describe('uninstall --check: may the agent be removed?', () => {
  let dir: string;
  let state: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-uninstall-'));
    state = join(dir, 'state');
    await saveIdentity(state, IDENTITY);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the command through the CLI's error handling, with a recording reporter. */
  async function check(env: Record<string, string>, opts: { args?: string[]; privileged?: boolean; outcome?: ReportOutcome; platform?: NodeJS.Platform } = {}): Promise<Ran> {
    const reports: RemovalReport[] = [];
    const deps: UninstallCommandDeps = {
      env,
      now: () => NOW,
      privileged: () => opts.privileged ?? true,
      hostname: () => 'PC-HR-07',
      platform: opts.platform ?? 'linux',
      report: async (r) => {
        reports.push(r);
        return opts.outcome ?? { seq: 42, acked: true, stoppedPid: null, detail: null };
      },
    };
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    let exit: number;
    try {
      exit = await uninstallCommand(opts.args ?? ['--check', '--state', state], io, deps);
    } catch (e) {
      // As the CLI reports it: one line, the command's exit code.
      if (!(e instanceof CommandError)) throw e;
      err += `${e.message}\n`;
      exit = e.exitCode;
    }
    return { code: exit, out, err, reports };
  }

  const accepted: Array<{ name: string; code: () => string }> = [
    // made this morning
    { name: "today's code", code: () => codeOf('2026-11-25') },
    // made yesterday evening
    { name: "yesterday's code", code: () => codeOf('2026-11-24') },
    // typed in lower case with spaces
    { name: 'a code typed loosely', code: () => ` ${codeOf('2026-11-25').toLowerCase().replace(/-/g, ' ')} ` },
  ];
  for (const row of accepted) {
    it(`accepts ${row.name}: exit 0, and an agent.uninstalled event (medium) goes to the server`, async () => {
      const r = await check({ [CODE_ENV]: row.code(), SUDO_USER: 'aysel' });
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('the uninstall code is valid').and.contain('the server acknowledged the agent.uninstalled event (#42)');
      expect(r.reports).to.have.length(1);
      const event = r.reports[0]?.event;
      expect(event).to.deep.include({ type: 'agent.uninstalled', severity: 'medium', occurredAt: NOW.toISOString() });
      expect(event?.data).to.deep.include({ method: 'code', user: 'aysel', via: 'command' });
      expect(r.reports[0]?.timeoutMs).to.equal(10_000);
    });
  }

  const refused: Array<{ name: string; code: () => string; why: RegExp }> = [
    // two days old: expired at midnight
    { name: 'an expired code', code: () => codeOf('2026-11-23'), why: /made on 2026-11-23 and expired at 2026-11-25T00:00:00.000Z/ },
    // another PC's code
    { name: "another agent's code", code: () => codeOf('2026-11-25', 'agt_Other01'), why: /not the uninstall code of this computer \(agent agt_Hr07xyz\)/ },
    // not a code at all
    { name: 'a garbled code', code: () => 'letmein', why: /has 7 letters and digits; a code has 12/ },
  ];
  for (const row of refused) {
    it(`refuses ${row.name} with exit ${REFUSED}, says why and how to get a code, and reports nothing`, async () => {
      const r = await check({ [CODE_ENV]: row.code() });
      expect(r.code).to.equal(REFUSED);
      expect(r.err).to.match(row.why);
      expect(r.err).to.contain("ask a Portcullis admin for this PC's code (console: Computers → PC-HR-07 → Uninstall code)");
      expect(r.reports).to.deep.equal([]);
    });
  }

  it(`refuses with no code at all (exit ${REFUSED}) with the one-line instruction`, async () => {
    const r = await check({});
    expect(r.code).to.equal(REFUSED);
    expect(r.err).to.equal(
      "removal of the Portcullis agent needs an uninstall code: ask a Portcullis admin for this PC's code (console: Computers → PC-HR-07 → Uninstall code) and run: sudo PORTCULLIS_UNINSTALL_CODE=XXXX-XXXX-XXXX apt remove portcullis-agent\n",
    );
  });

  it('shows the Windows removal line on Windows (the .msi, not apt)', async () => {
    const r = await check({}, { platform: 'win32' });
    expect(r.code).to.equal(REFUSED);
    expect(r.err).to.contain('and run: msiexec /x portcullis-agent-<version>-x64.msi /qn UNINSTALLCODE=XXXX-XXXX-XXXX (as an administrator)\n');
    expect(r.err).to.not.contain('apt remove');
  });

  it('takes an empty code variable as no code', async () => {
    const r = await check({ [CODE_ENV]: '  ' });
    expect(r.code).to.equal(REFUSED);
    expect(r.err).to.match(/^removal of the Portcullis agent needs an uninstall code/);
  });

  it('reads the code from an owner-only file', async () => {
    const file = join(dir, 'code');
    await writeFile(file, `${codeOf('2026-11-25')}\n`, { mode: 0o600 });
    const r = await check({}, { args: ['--check', '--state', state, '--code-file', file] });
    expect(r.code, r.err).to.equal(0);
    expect(r.reports[0]?.event.data).to.deep.include({ method: 'code', codeDay: '2026-11-25' });
  });

  const usage: Array<{ name: string; env?: Record<string, string>; args: (f: string) => string[]; mode?: number; why: RegExp }> = [
    // a code on the command line is visible to every user (ps)
    { name: 'the code as an argument', args: () => ['--check', '--code', 'ABCD-EFGH-JKMN'], why: /not taken on the command line/ },
    { name: 'the code as --code=', args: () => ['--check', '--code=ABCD-EFGH-JKMN'], why: /not taken on the command line/ },
    // the package script must say what it wants
    { name: 'no --check', args: () => ['--state', '/nowhere'], why: /--check is required/ },
    // two sources: which one counts?
    { name: 'both a variable and a file', env: { [CODE_ENV]: 'ABCD-EFGH-JKMN' }, args: (f) => ['--check', '--code-file', f], why: /either in PORTCULLIS_UNINSTALL_CODE or with --code-file, not both/ },
    // a code file others can read
    { name: 'a code file readable by others', args: (f) => ['--check', '--code-file', f], mode: 0o644, why: /has mode 644: a code file must be readable by its owner only/ },
    // a missing file
    { name: 'a missing code file', args: (f) => ['--check', '--code-file', `${f}.missing`], why: /cannot read the code file \(ENOENT\)/ },
    // a typo in the force switch must not pass silently
    { name: `${FORCE_ENV}=yes`, env: { [FORCE_ENV]: 'yes' }, args: () => ['--check'], why: /must be 1 to force a removal, or unset/ },
  ];
  for (const row of usage) {
    it(`refuses ${row.name} as a usage error (exit 2)`, async () => {
      const file = join(dir, 'code-file');
      await writeFile(file, 'ABCD-EFGH-JKMN\n');
      await chmod(file, row.mode ?? 0o600);
      const r = await check(row.env ?? {}, { args: [...row.args(file), '--state', state] });
      expect(r.code).to.equal(2);
      expect(r.err).to.match(row.why);
      expect(r.err).to.not.contain('ABCD-EFGH');
      expect(r.reports).to.deep.equal([]);
    });
  }

  it('lets root force the removal after reporting an agent.uninstall event (high)', async () => {
    const r = await check({ [FORCE_ENV]: '1', SUDO_USER: 'kamran', DPKG_MAINTSCRIPT_NAME: 'prerm' });
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.contain('forced removal by root: telling the server first');
    expect(r.out).to.contain('the server acknowledged the agent.uninstall event (#42)');
    expect(r.reports[0]?.event).to.deep.include({ type: 'agent.uninstall', severity: 'high' });
    expect(r.reports[0]?.event.data).to.deep.equal({ method: 'forced', user: 'kamran', agentVersion: r.reports[0]?.event.data['agentVersion'], via: 'dpkg' });
  });

  it('lets root force the removal when the server is unreachable, and says the event is lost with the spool', async () => {
    const r = await check({ [FORCE_ENV]: '1', LOGNAME: 'root' }, { outcome: { seq: 7, acked: false, stoppedPid: null, detail: 'server link error: connect ECONNREFUSED 10.0.0.5:8443' } });
    expect(r.code).to.equal(0);
    expect(r.err).to.contain('the server did not acknowledge the agent.uninstall event (#7) within 10 s (server link error: connect ECONNREFUSED 10.0.0.5:8443)');
    expect(r.err).to.contain('it stays in the spool, which is deleted with the agent');
    expect(r.reports[0]?.event.data).to.deep.include({ user: 'root' });
  });

  it('lets root force past a wrong code, and the event says a code was refused', async () => {
    const r = await check({ [FORCE_ENV]: '1', [CODE_ENV]: codeOf('2026-11-25', 'agt_Other01') });
    expect(r.code).to.equal(0);
    expect(r.err).to.contain('not the uninstall code of this computer').and.contain(`going on because ${FORCE_ENV}=1`);
    expect(r.reports[0]?.event.data).to.deep.include({ method: 'forced', codeRejected: 'wrong' });
  });

  it('prefers a valid code to forcing (the milder event)', async () => {
    const r = await check({ [FORCE_ENV]: '1', [CODE_ENV]: codeOf('2026-11-25') });
    expect(r.code).to.equal(0);
    expect(r.reports.map((x) => x.event.type)).to.deep.equal(['agent.uninstalled']);
  });

  it(`refuses ${FORCE_ENV}=1 from a user who is not root (exit ${REFUSED})`, async () => {
    const r = await check({ [FORCE_ENV]: '1' }, { privileged: false });
    expect(r.code).to.equal(REFUSED);
    expect(r.err).to.contain('is for root only');
    expect(r.reports).to.deep.equal([]);
  });

  it('says when the service was stopped to carry the event, and when the event could not be queued', async () => {
    const stopped = await check({ [CODE_ENV]: codeOf('2026-11-25') }, { outcome: { seq: 9, acked: true, stoppedPid: 4242, detail: null } });
    expect(stopped.out).to.contain('stopped the agent service (pid 4242)');
    const lost = await check({ [FORCE_ENV]: '1' }, { outcome: { seq: null, acked: false, stoppedPid: null, detail: 'disk full' } });
    expect(lost.code).to.equal(0);
    expect(lost.err).to.contain('the agent.uninstall event could not be queued (disk full)');
  });

  it('lets removal go on when the computer is not enrolled: nothing to protect', async () => {
    const r = await check({}, { args: ['--check', '--state', join(dir, 'empty')] });
    expect(r.code).to.equal(0);
    expect(r.out).to.contain('this computer is not enrolled').and.contain('nothing to protect');
    expect(r.reports).to.deep.equal([]);
  });

  it('refuses a code when the identity cannot be read, but lets root force', async () => {
    await chmod(join(state, 'identity.json'), 0o644);
    const withCode = await check({ [CODE_ENV]: codeOf('2026-11-25') });
    expect(withCode.code).to.equal(REFUSED);
    expect(withCode.err).to.contain('has mode 644').and.contain('cannot be checked without it');
    const forced = await check({ [FORCE_ENV]: '1' });
    expect(forced.code).to.equal(0);
    expect(forced.err).to.contain('forced removal; the server cannot be told');
  });

  it('is listed in the CLI help and has its own', async () => {
    let out = '';
    const io = { stdout: (s: string) => void (out += s), stderr: () => undefined };
    expect(await run(['--help'], io)).to.equal(0);
    expect(out).to.match(/^ {2}uninstall {4}/m);
    out = '';
    expect(await run(['uninstall', '--help'], io)).to.equal(0);
    expect(out).to.match(/^Usage: portcullis-agent uninstall --check/).and.contain(CODE_ENV).and.contain(FORCE_ENV);
  });
});

/** A stand-in for the server's hub on ws://: welcomes, records the events, acks them when told to. */
class FakeHub {
  readonly events: Array<{ seq: number; type: string }> = [];
  acking = true;
  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as AgentMessage;
        if (msg.type !== 'events') return;
        this.events.push(...msg.body.events.map((e) => ({ seq: e.seq, type: e.type })));
        const last = msg.body.events.at(-1)?.seq;
        if (this.acking && last !== undefined) ws.send(encodeMessage({ v: 1, type: 'ack', body: { seq: last } }));
      });
      ws.send(encodeMessage({ v: 1, type: 'welcome', body: { agentId: IDENTITY.agentId, serverTime: NOW.toISOString() } }));
    });
  }

  static async start(): Promise<FakeHub> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeHub(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/agent`;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** The reporter's hooks with the real ServerLink, pointed at `url` over plain ws://. */
function hooksTo(url: string, stopService: (pid: number) => void = () => undefined): ReportHooks {
  return {
    connect: (identity, spool, logger) =>
      new ServerLink({
        url,
        agentId: identity.agentId,
        secret: identity.secret,
        caCertPem: undefined,
        spool,
        hello: () => ({ agentVersion: '0.1.0', hostname: 'PC-HR-07', os: 'Linux', appliedVersion: null, spoolDepth: spool.depth() }),
        clock: () => performance.now(),
        random: () => 0.5,
        backoff: { baseMs: 20, capMs: 100 },
        heartbeatMs: 5000,
        logger,
        onMessage: () => undefined,
        allowInsecure: true,
      }),
    stopService,
  };
}

const EVENT = { type: 'agent.uninstall', severity: 'high', occurredAt: NOW.toISOString(), data: { method: 'forced', user: 'root' } } as const;
const quiet = { warn: () => undefined };

describe('uninstall --check: getting the event to the server', function () {
  this.timeout(20_000);
  let dir: string;
  let state: string;
  let hub: FakeHub;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-uninstall-report-'));
    state = join(dir, 'state');
    hub = await FakeHub.start();
  });
  afterEach(async () => {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (timeoutMs: number): RemovalReport => ({ stateDir: state, identity: IDENTITY, event: { ...EVENT, data: { ...EVENT.data } }, timeoutMs });

  it('queues the event after what the agent already spooled and returns once the server acknowledges it', async () => {
    const earlier = await FileSpool.open(join(state, 'spool'), { logger: quiet, clock: () => NOW });
    await earlier.append([{ type: 'device.blocked', severity: 'medium', occurredAt: NOW.toISOString(), data: { name: '1-2' } }]);
    await earlier.close();

    const outcome = await reportRemoval(request(10_000), hooksTo(hub.url));
    expect(outcome).to.deep.equal({ seq: 2, acked: true, stoppedPid: null, detail: null });
    expect(hub.events).to.deep.equal([{ seq: 1, type: 'device.blocked' }, { seq: 2, type: 'agent.uninstall' }]);
    // The spool was closed and its lock released: it opens again, with nothing left to send.
    const after = await FileSpool.open(join(state, 'spool'), { logger: quiet, clock: () => NOW });
    expect(await after.pending(10)).to.deep.equal([]);
    await after.close();
  });

  it('gives up after the timeout when the server does not acknowledge, leaving the event in the spool', async () => {
    hub.acking = false;
    const started = performance.now();
    const outcome = await reportRemoval(request(600), hooksTo(hub.url));
    expect(performance.now() - started).to.be.lessThan(5000);
    expect(outcome).to.deep.include({ seq: 1, acked: false });
    expect(hub.events.map((e) => e.type)).to.deep.equal(['agent.uninstall']);
    const after = await FileSpool.open(join(state, 'spool'), { logger: quiet, clock: () => NOW });
    expect((await after.pending(10)).map((e) => e.type)).to.deep.equal(['agent.uninstall']);
    await after.close();
  });

  it('names the connection failure when the server cannot be reached', async () => {
    const url = hub.url;
    await hub.close();
    hub = await FakeHub.start();
    const outcome = await reportRemoval(request(600), hooksTo(url));
    expect(outcome).to.deep.include({ seq: 1, acked: false });
    expect(outcome.detail).to.match(/server link error: .*ECONNREFUSED/);
  });

  it('stops the running service that holds the spool (status and lock name it), then carries its events too', async () => {
    // The "service" is this process: it holds the spool and keeps a fresh status file.
    const held = await FileSpool.open(join(state, 'spool'), { logger: quiet, clock: () => NOW });
    await held.append([{ type: 'agent.stopping', severity: 'info', occurredAt: NOW.toISOString(), data: { reason: 'signal SIGTERM' } }]);
    const now = new Date().toISOString();
    await writeStatus(state, {
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      agentId: IDENTITY.agentId,
      serverUrl: IDENTITY.serverUrl,
      connected: true,
      lastConnectedAt: now,
      policy: { group: 'default', version: 3, source: 'cache' },
      spool: { depth: 1, lastSeq: 1, ackedSeq: 0, bytes: 100 },
      lastEvent: null,
      devices: 0,
    });
    const signalled: number[] = [];
    const outcome = await reportRemoval(request(10_000), hooksTo(hub.url, (pid) => {
      signalled.push(pid);
      void held.close();
    }));
    expect(signalled).to.deep.equal([process.pid]);
    expect(outcome).to.deep.equal({ seq: 2, acked: true, stoppedPid: process.pid, detail: null });
    expect(hub.events.map((e) => e.type)).to.deep.equal(['agent.stopping', 'agent.uninstall']);
  });

  it('signals nothing when the spool is held by a process that is not the running service, and says so', async () => {
    const held = await FileSpool.open(join(state, 'spool'), { logger: quiet, clock: () => NOW });
    try {
      const signalled: number[] = [];
      const outcome = await reportRemoval(request(400), hooksTo(hub.url, (pid) => void signalled.push(pid)));
      expect(signalled).to.deep.equal([]);
      expect(outcome).to.deep.include({ seq: null, acked: false, stoppedPid: null });
      expect(outcome.detail).to.contain(`in use by process ${process.pid}`);
      expect(hub.events).to.deep.equal([]);
    } finally {
      await held.close();
    }
  });

  it('delivers a forced removal before the command returns: the whole command against the fake hub', async () => {
    await saveIdentity(state, IDENTITY);
    const io = { stdout: () => undefined, stderr: () => undefined };
    const exit = await uninstallCommand(['--check', '--state', state], io, {
      env: { [FORCE_ENV]: '1', SUDO_USER: 'kamran' },
      now: () => NOW,
      privileged: () => true,
      report: (r) => reportRemoval(r, hooksTo(hub.url)),
    });
    expect(exit).to.equal(0);
    expect(hub.events).to.deep.equal([{ seq: 1, type: 'agent.uninstall' }]);
  });
});
