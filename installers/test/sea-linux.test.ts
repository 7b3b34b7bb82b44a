/**
 * The Linux single-file agent as it ships (installers/out, built once here or reused when up to
 * date): the CLI gives the same answers as `node agent/bin/portcullis-agent.js`, prints no warning,
 * and the fake-sysfs end-to-end suite passes against it.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { FakeSysfs } from '@portcullis/agent/dist/test/support/fake-sysfs.js';
import { REPO_ROOT } from '../src/sea/layout.js';
import { buildLinuxBinary, type SeaBinary } from '../src/sea/sea-binary.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/sea/', import.meta.url));
const NODE_LAUNCHER = join(REPO_ROOT, 'agent', 'bin', 'portcullis-agent.js');
const EVAL_ARGS = ['eval', '--rules', join(FIXTURES, 'policy.rules'), '--devices', join(FIXTURES, 'devices.jsonl'), '--now', '2026-11-25T20:00:00+01:00'];

/** The caller's environment minus NODE_OPTIONS (the tests that want one set it). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...rest } = process.env;
  return { ...rest, ...extra };
}

function exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, [...args], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sea: the Linux single-file agent', function () {
  this.timeout(300_000);
  let bin: SeaBinary;
  let dir: string;

  before(async () => {
    bin = await buildLinuxBinary({ log: (line) => console.log(`      ${line}`) });
    dir = await mkdtemp(join(tmpdir(), 'portcullis-sea-linux-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is an executable named after the agent version', async () => {
    expect(bin.path).to.match(new RegExp(`/installers/out/portcullis-agent-${VERSION.replaceAll('.', '\\.')}-linux-x64$`));
    expect((await stat(bin.path)).mode & 0o777).to.equal(0o755);
  });

  it('prints its version, and nothing on stderr', () => {
    expect(exec(bin.path, ['--version'])).to.deep.equal({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('eval gives the same lines as node agent/bin/portcullis-agent.js', () => {
    const viaNode = exec(process.execPath, [NODE_LAUNCHER, ...EVAL_ARGS]);
    expect(viaNode.code, viaNode.stderr).to.equal(0);
    expect(viaNode.stdout.split('\n').length).to.equal(7);
    expect(exec(bin.path, EVAL_ARGS)).to.deep.equal({ code: 0, stdout: viaNode.stdout, stderr: '' });
  });

  it('rules --normalize of a bad file exits 1 with FILE:LINE:COLUMN', () => {
    const file = join(FIXTURES, 'bad.rules');
    expect(exec(bin.path, ['rules', '--normalize', file])).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `${file}:2:31: invalid interface type '08:*:05': a '*' subclass needs a '*' protocol (cc:*:*)\n`,
    });
  });

  describe('Node options from outside (the service units start it with a clean environment because of this)', () => {
    const rows: { name: string; nodeOptions?: string; args: string[]; expected: (inject: string) => { code: number; stdout: string; stderr: string | RegExp } }[] = [
      // Honoured: a --require in NODE_OPTIONS runs its code inside the binary before the agent.
      { name: 'NODE_OPTIONS=--require runs the file', nodeOptions: '--require=INJECT', args: ['--version'], expected: () => ({ code: 0, stdout: `${VERSION}\n`, stderr: 'injected\n' }) },
      // Refused: inspector flags in NODE_OPTIONS stop a SEA with exit 9.
      { name: 'NODE_OPTIONS=--inspect is refused', nodeOptions: '--inspect=127.0.0.1:0', args: ['--version'], expected: () => ({ code: 9, stdout: '', stderr: /--inspect= is not allowed in NODE_OPTIONS/ }) },
      // Node flags on the command line are the agent's arguments, not Node's.
      { name: 'a --require argument is not a Node flag', args: ['--require', 'INJECT', '--version'], expected: () => ({ code: 2, stdout: '', stderr: "portcullis-agent: unknown command '--require' (see --help)\n" }) },
    ];
    for (const row of rows) {
      it(row.name, async () => {
        const inject = join(dir, 'inject.cjs');
        await writeFile(inject, "process.stderr.write('injected\\n');\n");
        const env = row.nodeOptions === undefined ? cleanEnv() : cleanEnv({ NODE_OPTIONS: row.nodeOptions.replace('INJECT', inject) });
        const r = exec(bin.path, row.args.map((a) => a.replace('INJECT', inject)), env);
        const want = row.expected(inject);
        expect(r.code, r.stderr).to.equal(want.code);
        expect(r.stdout).to.equal(want.stdout);
        if (want.stderr instanceof RegExp) expect(r.stderr).to.match(want.stderr);
        else expect(r.stderr).to.equal(want.stderr);
      });
    }
  });

  it('runs the service on a fake sysfs tree without any warning (ws and systeminformation load their optional modules there)', async () => {
    const fake = await FakeSysfs.create({ controllers: 1 });
    const state = join(dir, 'state');
    try {
      const child = spawn(bin.path, ['run', '--state', state, '--sysfs-root', fake.root, '--no-mail-egress', '--log-stderr', '--log-level', 'error'], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      let status: { pid?: number } | null = null;
      while (status === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = await readFile(join(state, 'status.json'), 'utf8').then((t) => JSON.parse(t) as { pid?: number }, () => null);
      }
      // The inventory (systeminformation) runs at start; give it a moment before stopping.
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(status?.pid).to.equal(child.pid);
      expect(stderr).to.equal('');
    } finally {
      await fake.cleanup();
    }
  });

  it('passes the fake-sysfs end-to-end suite (test/e2e/agent-service) run against the binary', async () => {
    const suite = join(REPO_ROOT, 'test', 'dist', 'e2e', 'agent-service.test.js');
    const r = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('npx', ['mocha', '--no-config', '--timeout', '60000', suite], {
        cwd: join(REPO_ROOT, 'test'),
        env: cleanEnv({ PORTCULLIS_AGENT_BIN: bin.path }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    const passing = Number(/(\d+) passing/.exec(r.output)?.[1] ?? 0);
    expect(r.code, r.output).to.equal(0);
    expect(passing, r.output).to.equal(3);
    expect(r.output).to.not.match(/\d+ (failing|pending)/);
  });

  it('reports its size and startup time', async () => {
    const gzipped = (await promisify(gzip)(await readFile(bin.path))).length;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      exec(bin.path, ['--version']);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const median = [...times].sort((a, b) => a - b)[2] ?? 0;
    console.log(`      linux-x64: ${(bin.bytes / 1e6).toFixed(1)} MB (${(gzipped / 1e6).toFixed(1)} MB gzipped), --version in ${median.toFixed(0)} ms (median of 5)`);
    // Plausibility, not a benchmark: a stripped Node 20 is ~86 MB; a cold start on a busy CI box stays well under 2 s.
    expect(bin.bytes).to.be.within(60e6, 150e6);
    expect(median).to.be.below(2000);
  });
});
