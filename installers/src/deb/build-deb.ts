import { execFile } from 'node:child_process';
import { hashFolders, readStamp, sameInputs, sha256File, sha256IfExists } from '../build-stamp.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  changelogFile,
  changelogName,
  checkMaintainer,
  conffilesFile,
  controlFile,
  debFileName,
  DEFAULT_MAINTAINER,
  md5sumsFile,
  PACKAGE,
  parseDebVersion,
} from './deb-control.js';

const execFileAsync = promisify(execFile);

/** installers/debian-assets: the unit files, maintainer scripts and documents, as shipped. */
export const DEBIAN_ASSETS_DIR = fileURLToPath(new URL('../../../debian-assets/', import.meta.url));
/** This folder once compiled: its files are part of every package's build stamp. */
const DEB_DIST_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface BuildDebOptions {
  /** The single-file Linux agent (buildLinuxBinary's output). */
  readonly binary: string;
  readonly outDir: string;
  /** The package's Debian version: the agent's VERSION, e.g. "0.1.0". */
  readonly version: string;
  readonly maintainer?: string;
  /**
   * Seconds since 1970 for every file's time and the changelog's date, so that the same inputs
   * give the same .deb. Default: SOURCE_DATE_EPOCH, else the binary's modification time.
   */
  readonly sourceDateEpoch?: number;
  /** Rebuild even when the .deb in outDir is up to date. */
  readonly force?: boolean;
  /** Progress, one line each. */
  readonly log?: (line: string) => void;
}

/** One asset of installers/debian-assets and where the package puts it. */
interface AssetFile {
  readonly asset: string;
  readonly path: string;
  readonly mode: number;
  /** Man pages and changelogs are shipped gzip -9n. */
  readonly gzip?: boolean;
}

const DOC_DIR = `usr/share/doc/${PACKAGE}`;

const ASSET_FILES: readonly AssetFile[] = [
  { asset: 'portcullis-agent.service', path: 'lib/systemd/system/portcullis-agent.service', mode: 0o644 },
  { asset: 'portcullis-agent-watchdog.service', path: 'lib/systemd/system/portcullis-agent-watchdog.service', mode: 0o644 },
  { asset: 'portcullis-agent-watchdog.timer', path: 'lib/systemd/system/portcullis-agent-watchdog.timer', mode: 0o644 },
  { asset: 'watchdog', path: 'usr/libexec/portcullis-agent/watchdog', mode: 0o755 },
  { asset: 'agent.json', path: 'etc/portcullis/agent.json', mode: 0o644 },
  { asset: 'copyright', path: `${DOC_DIR}/copyright`, mode: 0o644 },
  { asset: 'portcullis-agent.8', path: 'usr/share/man/man8/portcullis-agent.8.gz', mode: 0o644, gzip: true },
  { asset: 'lintian-overrides', path: `usr/share/lintian/overrides/${PACKAGE}`, mode: 0o644 },
];

const MAINTAINER_SCRIPTS = ['postinst', 'prerm', 'postrm'] as const;
const BINARY_PATH = `usr/bin/${PACKAGE}`;

/** What a package was built from, kept beside it as <deb>.build.json. */
interface BuildStamp {
  schema: 1;
  version: string;
  maintainer: string;
  sourceDateEpoch: number;
  /** sha256 of the agent binary. */
  binary: string;
  /** sha256 of the assets and of this builder's compiled files. */
  recipe: string;
  /** sha256 of the .deb, so a damaged or replaced output is rebuilt, not reused. */
  output: string;
}

/**
 * Builds installers/out/portcullis-agent_<version>_amd64.deb from the single-file agent: a staging
 * tree (binary, systemd units, watchdog, conffile, documents, maintainer scripts) packed by
 * `dpkg-deb --root-owner-group -Zxz --build`, every file root:root. Returns the .deb's path;
 * reuses the one in outDir when its stamp says it was built from the same inputs.
 */
export async function buildDeb(opts: BuildDebOptions): Promise<string> {
  const log = opts.log ?? (() => undefined);
  parseDebVersion(opts.version);
  const maintainer = checkMaintainer(opts.maintainer ?? DEFAULT_MAINTAINER);
  await checkElfX64(opts.binary);
  const epoch = opts.sourceDateEpoch ?? sourceDateEpochFromEnv() ?? Math.floor((await stat(opts.binary)).mtimeMs / 1000);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`the source date must be whole seconds since 1970, not ${epoch}`);

  const output = join(opts.outDir, debFileName(opts.version));
  const stampFile = `${output}.build.json`;
  const inputs = { schema: 1 as const, version: opts.version, maintainer, sourceDateEpoch: epoch, binary: await sha256File(opts.binary), recipe: await recipeHash() };
  const stamp = await readStamp<BuildStamp>(stampFile);
  if (!opts.force && stamp !== null && sameInputs(stamp, inputs) && (await sha256IfExists(output)) === stamp.output) {
    log(`deb: ${output} is up to date`);
    return output;
  }

  const started = Date.now();
  const root = await mkdtemp(join(tmpdir(), 'portcullis-deb-'));
  try {
    // mkdtemp makes the folder 0700; it becomes the package's "./".
    await chmod(root, 0o755);
    await stage(root, opts.binary, opts.version, maintainer, new Date(epoch * 1000));
    await clampTimes(root, epoch);
    await mkdir(opts.outDir, { recursive: true });
    // Renamed into place: a reader never sees half a package.
    const partial = `${output}.partial-${process.pid}`;
    await execFileAsync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, partial], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', SOURCE_DATE_EPOCH: String(epoch) },
      maxBuffer: 1024 * 1024,
    });
    await rename(partial, output);
    await writeFile(stampFile, `${JSON.stringify({ ...inputs, output: await sha256File(output) } satisfies BuildStamp, null, 2)}\n`);
    log(`deb: built ${output} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return output;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Fills the staging tree; DEBIAN/control comes last, once the Installed-Size is known. */
async function stage(root: string, binary: string, version: string, maintainer: string, date: Date): Promise<void> {
  const md5s: { path: string; md5: string }[] = [];
  const put = async (path: string, mode: number, content: Buffer): Promise<void> => {
    await writeStaged(root, path, mode, content);
    md5s.push({ path, md5: createHash('md5').update(content).digest('hex') });
  };

  await mkdir(join(root, dirname(BINARY_PATH)), { recursive: true, mode: 0o755 });
  await copyFile(binary, join(root, BINARY_PATH));
  await chmod(join(root, BINARY_PATH), 0o755);
  md5s.push({ path: BINARY_PATH, md5: await md5File(binary) });

  for (const file of ASSET_FILES) {
    const content = await readFile(join(DEBIAN_ASSETS_DIR, file.asset));
    await put(file.path, file.mode, file.gzip === true ? gzipSync(content, { level: 9 }) : content);
  }
  await put(`${DOC_DIR}/${changelogName(version)}`, 0o644, gzipSync(Buffer.from(changelogFile(version, maintainer, date)), { level: 9 }));

  const installedSizeKiB = await installedSize(root);
  await writeStaged(root, 'DEBIAN/control', 0o644, Buffer.from(controlFile({ version, maintainer, installedSizeKiB })));
  await writeStaged(root, 'DEBIAN/conffiles', 0o644, Buffer.from(conffilesFile()));
  await writeStaged(root, 'DEBIAN/md5sums', 0o644, Buffer.from(md5sumsFile(md5s)));
  for (const script of MAINTAINER_SCRIPTS) {
    await writeStaged(root, `DEBIAN/${script}`, 0o755, await readFile(join(DEBIAN_ASSETS_DIR, script)));
  }
}

async function writeStaged(root: string, path: string, mode: number, content: Buffer): Promise<void> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(file, content, { mode });
  // writeFile's mode is filtered by the umask; the package's modes must not be.
  await chmod(file, mode);
}

/** dpkg-gencontrol's count: each file rounded up to KiB, one KiB per directory. */
async function installedSize(root: string): Promise<number> {
  let kib = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        kib += 1;
        await walk(path);
      } else {
        kib += Math.max(1, Math.ceil((await stat(path)).size / 1024));
      }
    }
  };
  await walk(root);
  return kib;
}

/** Every file and folder gets the same time, so the package does not depend on when it was built. */
async function clampTimes(dir: string, epoch: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await clampTimes(path, epoch);
    await utimes(path, epoch, epoch);
  }
  await utimes(dir, epoch, epoch);
}

/**
 * Refuses anything but an x86-64 ELF executable: an amd64 package with a script or a Windows
 * binary inside would install and then fail on every computer.
 */
async function checkElfX64(file: string): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`the agent binary ${file} cannot be read: ${err.code ?? err.message}`);
  });
  if (!info.isFile()) throw new Error(`the agent binary ${file} is not a file`);
  const head = Buffer.alloc(20);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  // e_ident: 7f 'E' 'L' 'F', class 2 (64-bit), data 1 (little-endian); e_machine 0x3e (x86-64).
  const elf = head.readUInt32BE(0) === 0x7f454c46 && head[4] === 2 && head[5] === 1 && head.readUInt16LE(18) === 0x3e;
  if (!elf) throw new Error(`the agent binary ${file} is not an x86-64 Linux executable (ELF)`);
}

function sourceDateEpochFromEnv(): number | null {
  const text = process.env.SOURCE_DATE_EPOCH;
  if (text === undefined || text === '') return null;
  if (!/^\d+$/.test(text)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not ${JSON.stringify(text)}`);
  return Number(text);
}

async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}


/** The assets and this builder's compiled files: a change to either rebuilds the package. */
function recipeHash(): Promise<string> {
  const keep = (name: string) => !name.endsWith('.map');
  return hashFolders([
    { dir: DEBIAN_ASSETS_DIR, keep },
    { dir: DEB_DIST_DIR, keep },
  ]);
}
