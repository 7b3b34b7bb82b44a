import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli.js';
import { statusCommand, isProcessAlive, type StatusCommandDeps } from '../src/commands/status-command.js';
import { CommandError } from '../src/commands/io.js';
import { STATUS_FILE, readStatus, writeStatus, type AgentStatus } from '../src/state/status-file.js';
import { StateError } from '../src/state/state-error.js';

const NOW = new Date('2026-11-25T10:00:30.000Z');

function status(overrides: Partial<AgentStatus> = {}): AgentStatus {
  return {
    pid: 4242,
    startedAt: '2026-11-25T08:00:00.000Z',
    updatedAt: '2026-11-25T10:00:25.000Z',
    agentId: 'agt_5Jm0',
    serverUrl: 'https://portcullis.example:8443',
    connected: true,
    lastConnectedAt: '2026-11-25T08:00:01.000Z',
    policy: { group: 'finance', version: 7, source: 'cache' },
    spool: { depth: 3, lastSeq: 120, ackedSeq: 117, bytes: 1536 },
    lastEvent: { seq: 120, type: 'device.blocked', at: '2026-11-25T09:59:58.000Z' },
    devices: 4,
    ...overrides,
  };
}

describe('status file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'portcullis-status-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a status, written 0600 with no temporary file left', async () => {
    const state = join(dir, 'state');
    await writeStatus(state, status());
    expect(await readStatus(state)).to.deep.equal(status());
    expect(readdirSync(state)).to.deep.equal([STATUS_FILE]);
    if (process.platform !== 'win32') expect(statSync(join(state, STATUS_FILE)).mode & 0o777).to.equal(0o600);
  });

  it('round-trips a not-enrolled status with its nulls', async () => {
    const s = status({ agentId: null, serverUrl: null, connected: false, lastConnectedAt: null, lastEvent: null, policy: { group: 'default', version: 0, source: 'built-in' } });
    await writeStatus(dir, s);
    expect(await readStatus(dir)).to.deep.equal(s);
  });

  it('reads no status as null', async () => {
    expect(await readStatus(dir)).to.equal(null);
  });

  it('drops fields a later version may add, rather than refusing the file', async () => {
    writeFileSync(join(dir, STATUS_FILE), JSON.stringify({ ...status(), mail: { guarded: 2 } }));
    expect(await readStatus(dir)).to.deep.equal(status());
  });

  const bad: ReadonlyArray<{ name: string; value: unknown; field: string | null }> = [
    { name: 'not JSON', value: '{"pid":', field: null },
    { name: 'a list', value: [], field: null },
    { name: 'pid 0', value: { ...status(), pid: 0 }, field: 'pid' },
    { name: 'a fractional pid', value: { ...status(), pid: 1.5 }, field: 'pid' },
    { name: 'updatedAt not a time', value: { ...status(), updatedAt: 'now' }, field: 'updatedAt' },
    { name: 'agentId missing', value: { ...status(), agentId: undefined }, field: 'agentId' },
    { name: 'connected as a string', value: { ...status(), connected: 'yes' }, field: 'connected' },
    { name: 'lastConnectedAt a number', value: { ...status(), lastConnectedAt: 5 }, field: 'lastConnectedAt' },
    { name: 'an unknown policy source', value: { ...status(), policy: { group: 'g', version: 1, source: 'disk' } }, field: 'policy.source' },
    { name: 'a negative policy version', value: { ...status(), policy: { group: 'g', version: -1, source: 'cache' } }, field: 'policy.version' },
    { name: 'a group on two lines', value: { ...status(), policy: { group: 'a\nb', version: 1, source: 'cache' } }, field: 'policy.group' },
    { name: 'no spool', value: { ...status(), spool: null }, field: 'spool' },
    { name: 'a negative spool depth', value: { ...status(), spool: { depth: -1, lastSeq: 0, ackedSeq: 0, bytes: 0 } }, field: 'spool.depth' },
    // The server cannot have acknowledged an event that was never written.
    { name: 'acked past the last seq', value: { ...status(), spool: { depth: 0, lastSeq: 5, ackedSeq: 6, bytes: 0 } }, field: 'spool.ackedSeq' },
    { name: 'a last event without a type', value: { ...status(), lastEvent: { seq: 1, type: '', at: '2026-11-25T10:00:00Z' } }, field: 'lastEvent.type' },
    { name: 'devices as a string', value: { ...status(), devices: '4' }, field: 'devices' },
  ];
  for (const row of bad) {
    it(`refuses a status file with ${row.name}${row.field === null ? '' : `, naming ${row.field}`}`, async () => {
      writeFileSync(join(dir, STATUS_FILE), typeof row.value === 'string' ? row.value : JSON.stringify(row.value));
      let caught: unknown;
      try {
        await readStatus(dir);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(StateError);
      expect((caught as StateError).field).to.equal(row.field);
      if (row.field !== null) expect((caught as Error).message).to.include(`"${row.field}"`);
    });
  }

  it('refuses to write a malformed status', async () => {
    let caught: unknown;
    try {
      await writeStatus(dir, status({ devices: -1 }));
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(StateError);
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});

describe('status command', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'portcullis-status-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function statusOf(argv: string[], deps: StatusCommandDeps): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s) };
    try {
      return { code: await statusCommand(argv, io, deps), out, err };
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      return { code: e.exitCode, out, err: `${err}${e.message}\n` };
    }
  }
  const alive = (): boolean => true;
  const dead = (): boolean => false;

  it('says running, exit 0, with the summary, when the pid is alive and the status fresh', async () => {
    await writeStatus(dir, status());
    const r = await statusOf(['--state', dir], { now: () => NOW, isAlive: alive });
    expect(r.code).to.equal(0);
    expect(r.out.split('\n')).to.deep.equal([
      'portcullis-agent is running (pid 4242, since 2026-11-25T08:00:00.000Z)',
      '  server:      https://portcullis.example:8443, connected',
      '  agent id:    agt_5Jm0',
      '  policy:      group finance, version 7 (signed, from the server)',
      '  spool:       3 events waiting (1536 bytes); last seq 120, acknowledged 117',
      '  last event:  #120 device.blocked at 2026-11-25T09:59:58.000Z',
      '  USB devices: 4',
      '  updated:     5 s ago',
      '',
    ]);
  });

  it('summarises a service that is not enrolled and has never connected', async () => {
    await writeStatus(dir, status({ agentId: null, serverUrl: null, connected: false, lastConnectedAt: null, lastEvent: null, policy: { group: 'default', version: 0, source: 'built-in' } }));
    const r = await statusOf(['--state', dir], { now: () => NOW, isAlive: alive });
    expect(r.code).to.equal(0);
    expect(r.out).to.include('server:      not enrolled (run portcullis-agent enroll)');
    expect(r.out).to.include('policy:      group default, version 0 (built-in default)');
    expect(r.out).to.include('last event:  none');
  });

  it('shows when a disconnected service last reached the server', async () => {
    await writeStatus(dir, status({ connected: false }));
    const r = await statusOf(['--state', dir], { now: () => NOW, isAlive: alive });
    expect(r.out).to.include('https://portcullis.example:8443, not connected (last connected 2026-11-25T08:00:01.000Z)');
  });

  const notRunning: ReadonlyArray<{ name: string; updatedAt: string; isAlive: () => boolean; says: string }> = [
    // The process died without removing its status.
    { name: 'the pid is dead', updatedAt: '2026-11-25T10:00:25.000Z', isAlive: dead, says: 'process 4242 is gone' },
    // Hung, or the pid was reused by another program after a crash.
    { name: 'the status is stale', updatedAt: '2026-11-25T09:55:30.000Z', isAlive: alive, says: 'last updated 5 min ago' },
    { name: 'the status is from far in the future', updatedAt: '2026-11-25T11:00:00.000Z', isAlive: alive, says: 'in the future' },
  ];
  for (const row of notRunning) {
    it(`says not running, exit 3, when ${row.name}`, async () => {
      await writeStatus(dir, status({ updatedAt: row.updatedAt }));
      const r = await statusOf(['--state', dir], { now: () => NOW, isAlive: row.isAlive });
      expect(r.code).to.equal(3);
      expect(r.out).to.match(/^portcullis-agent is not running \(/);
      expect(r.out).to.include(row.says);
    });
  }

  it('says not running, exit 3, when there is no status file', async () => {
    const r = await statusOf(['--state', dir], { now: () => NOW, isAlive: alive });
    expect(r.code).to.equal(3);
    expect(r.out).to.match(/^portcullis-agent is not running \(no .*status\.json/);
  });

  it('prints the status and "running" as one JSON object with --json', async () => {
    await writeStatus(dir, status());
    const r = await statusOf(['--state', dir, '--json'], { now: () => NOW, isAlive: alive });
    expect(r.code).to.equal(0);
    expect(r.out.endsWith('\n') && r.out.trimEnd().split('\n').length === 1).to.equal(true);
    expect(JSON.parse(r.out)).to.deep.equal({ ...status(), running: true });

    const stale = await statusOf(['--state', dir, '--json'], { now: () => NOW, isAlive: dead });
    expect(stale.code).to.equal(3);
    expect(JSON.parse(stale.out)).to.deep.include({ running: false, pid: 4242 });
  });

  it('prints nothing on stdout with --json and no status file, exit 3', async () => {
    const r = await statusOf(['--state', dir, '--json'], { now: () => NOW, isAlive: alive });
    expect(r).to.deep.include({ code: 3, out: '' });
    expect(r.err).to.include('portcullis-agent is not running');
  });

  it('reports a malformed status file in one line, exit 1, through the CLI', async () => {
    writeFileSync(join(dir, STATUS_FILE), '{"pid":"x"}');
    let err = '';
    const code = await run(['status', '--state', dir], { stdout: () => undefined, stderr: (s) => (err += s) });
    expect(code).to.equal(1);
    expect(err).to.match(/^status: .*status\.json: "pid" must be a whole number ≥ 0\n$/);
  });

  it('refuses an unknown option as a usage error', async () => {
    const r = await statusOf(['--state', dir, '--verbose'], {});
    expect(r.code).to.equal(2);
  });

  it('checks processes for real: this one is alive, a reaped child is not', () => {
    expect(isProcessAlive(process.pid)).to.equal(true);
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.status).to.equal(0);
    expect(isProcessAlive(child.pid as number)).to.equal(false);
  });
});
