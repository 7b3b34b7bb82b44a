/**
 * What the .deb tests share: the package (built once per test run from the real single-file
 * agent), a throwaway Debian 12 root to install it into, and a real Portcullis server to enroll
 * against.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { buildDeb } from '../src/deb/build-deb.js';
import { CACHE_DIR, OUT_DIR, REPO_ROOT } from '../src/sea/layout.js';
import { buildLinuxBinary } from '../src/sea/sea-binary.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, collecting its output. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment tools run with here: nothing of the caller's but PATH. */
export const TOOL_ENV: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

export interface AgentPackage {
  /** installers/out/portcullis-agent_<VERSION>_amd64.deb */
  readonly deb: string;
  /** The single-file agent it was built from. */
  readonly binary: string;
}

let debOnce: Promise<AgentPackage> | undefined;

/**
 * The package from the real single-file agent (buildLinuxBinary): both are reused when their
 * inputs did not change, and built at most once per test run.
 */
export function agentDeb(): Promise<AgentPackage> {
  debOnce ??= (async () => {
    const log = (line: string): void => console.log(`      ${line}`);
    const binary = await buildLinuxBinary({ log });
    return { deb: await buildDeb({ binary: binary.path, outDir: OUT_DIR, version: VERSION, log }), binary: binary.path };
  })();
  return debOnce;
}

/** What the cached root is made of; a change here makes a new cache file. */
const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
/**
 * udev: the package's Depends. init-system-helpers: deb-systemd-helper, which the maintainer
 * scripts use as on any Debian. systemd: systemd-analyze verify of the installed units (it does not
 * run: /run/systemd/system is absent in a chroot, as in many containers). nftables: postrm's nft.
 */
const INCLUDE = ['udev', 'init-system-helpers', 'systemd', 'nftables'];

/**
 * A throwaway Debian 12 root (debootstrap --variant=minbase, cached as a tar file in
 * installers/.cache: about a minute the first time, under a second to unpack afterwards).
 * Commands run in it through chroot, inside a mount namespace of their own where /proc is
 * mounted: nothing stays mounted when they end, even if the test dies. It shares the network
 * with the test, so a server on 127.0.0.1 is reachable.
 */
export class ChrootRoot {
  private constructor(readonly dir: string) {}

  static async create(): Promise<ChrootRoot> {
    const tarball = await cachedTarball();
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-deb-root-'));
    const unpacked = await run('tar', ['-C', dir, '-xf', tarball], TOOL_ENV);
    if (unpacked.code !== 0) throw new Error(`tar -xf ${tarball}: ${unpacked.stderr}`);
    return new ChrootRoot(dir);
  }

  /** A path inside the root, as seen from outside. */
  path(inside: string): string {
    return join(this.dir, inside);
  }

  /**
   * Runs a command inside the root with a clean environment plus `env`; with `ownNetwork`, in a
   * network namespace of its own (nftables changes stay there, 127.0.0.1 is not the test's).
   */
  exec(args: readonly string[], env: Record<string, string> = {}, options: { ownNetwork?: boolean } = {}): Promise<RunResult> {
    const namespaces = options.ownNetwork === true ? ['--mount', '--net'] : ['--mount'];
    return run('unshare', [...namespaces, '--propagation', 'private', 'sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', this.dir, ...args], {
      ...TOOL_ENV,
      ...env,
    });
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function cachedTarball(): Promise<string> {
  const dir = join(CACHE_DIR, 'debootstrap');
  const tarball = join(dir, `${SUITE}-minbase-${INCLUDE.join('+')}.tar`);
  if (await exists(tarball)) return tarball;
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'portcullis-debootstrap-'));
  try {
    console.log(`      debootstrap ${SUITE} (minbase + ${INCLUDE.join(', ')}) into ${work}, cached as ${tarball}`);
    const made = await run('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, SUITE, work, MIRROR], TOOL_ENV).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new Error('debootstrap is not installed: apt-get install debootstrap');
      throw err;
    });
    if (made.code !== 0) throw new Error(`debootstrap failed (exit ${made.code}):\n${(made.stdout + made.stderr).slice(-2000)}`);
    const partial = `${tarball}.partial-${process.pid}`;
    const packed = await run('tar', ['-C', work, '-cf', partial, '.'], TOOL_ENV);
    if (packed.code !== 0) throw new Error(`tar -cf ${partial}: ${packed.stderr}`);
    await rename(partial, tarball);
    return tarball;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export interface ApiReply {
  status: number;
  json: unknown;
}

/**
 * A real Portcullis server (server/bin/portcullis-server.js start) on a free loopback port with
 * its own data folder, and the few REST calls the tests make.
 */
export class TestServer {
  private token = '';

  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    readonly dataDir: string,
    readonly url: string,
    readonly ca: Buffer,
    /** SHA-256 of the server's CA certificate, as the console shows it for enrollment. */
    readonly caFingerprint: string,
  ) {}

  static async start(): Promise<TestServer> {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-deb-server-'));
    const password = 'deb-test-admin-password-789';
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'server', 'bin', 'portcullis-server.js'), 'start', '--listen', `127.0.0.1:${port}`, '--mail-policy-listen', '127.0.0.1:0', '--data', dataDir],
      { env: { ...TOOL_ENV, PORTCULLIS_ADMIN_PASSWORD: password, PORTCULLIS_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${output}`)), 60_000);
      const onData = (c: Buffer): void => {
        output += c.toString('utf8');
        if (output.includes('Portcullis server listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code}) before listening:\n${output}`));
      });
    });
    await listening;
    const ca = await readFile(join(dataDir, 'pki', 'ca.crt'));
    const server = new TestServer(child, dataDir, `https://127.0.0.1:${port}`, ca, new X509Certificate(ca).fingerprint256);
    const session = await server.call('POST', '/api/v1/session', { username: 'admin', password });
    if (session.status !== 200) throw new Error(`login: ${session.status} ${JSON.stringify(session.json)}`);
    server.token = (session.json as { token: string }).token;
    return server;
  }

  /** One HTTPS call, trusting only the server's CA. */
  call(method: string, path: string, body?: unknown): Promise<ApiReply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${this.url}${path}`,
        {
          method,
          ca: this.ca,
          headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A new single-use enrollment token for the group "default". */
  async enrollmentToken(): Promise<string> {
    const reply = await this.call('POST', '/api/v1/enrollment-tokens', { group: 'default' });
    if (reply.status !== 201) throw new Error(`POST /enrollment-tokens: ${reply.status} ${JSON.stringify(reply.json)}`);
    return (reply.json as { token: string }).token;
  }

  /** The ids of the agents the server knows. */
  async agentIds(): Promise<string[]> {
    const reply = await this.call('GET', '/api/v1/agents');
    if (reply.status !== 200) throw new Error(`GET /agents: ${reply.status} ${JSON.stringify(reply.json)}`);
    return (reply.json as { agents: { id: string }[] }).agents.map((a) => a.id);
  }

  /** The types of one agent's events. */
  async eventTypes(agentId: string): Promise<string[]> {
    const reply = await this.call('GET', `/api/v1/events?agent=${encodeURIComponent(agentId)}&limit=1000`);
    if (reply.status !== 200) throw new Error(`GET /events: ${reply.status} ${JSON.stringify(reply.json)}`);
    return (reply.json as { events: { type: string }[] }).events.map((e) => e.type);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
