import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CACHE_DIR } from '../sea/layout.js';
import type { NpmClient } from '../sea/node-dist.js';
import { hashFolders, readStamp, sameInputs, sha256File, sha256IfExists } from '../build-stamp.js';
import { checkMsiVersion, CUSTOM_ACTION_TYPES, parseIdt, postProcessQueries, productCode, UPGRADE_CODE, type MsiTable } from './msi-tables.js';
import { cmdCleanEnv, extractWinsw, WINSW_SHA256, winswConfig } from './winsw.js';

const execFileAsync = promisify(execFile);

/** installers/windows-assets: the .wxs, the custom actions' script and WinSW's license, as shipped. */
export const WINDOWS_ASSETS_DIR = fileURLToPath(new URL('../../../windows-assets/', import.meta.url));
/** This folder once compiled: its files are part of every package's build stamp. */
const MSI_DIST_DIR = fileURLToPath(new URL('.', import.meta.url));

const WXS = 'portcullis-agent.wxs';
const ASSETS = [WXS, 'portcullis-msi.js', 'WinSW-LICENSE.txt'] as const;

/** The files the package installs, by the name each has in the staging folder and on the PC. */
export const INSTALLED_FILES = ['portcullis-agent.exe', 'PortcullisAgentService.exe', 'PortcullisAgentService.exe.config', 'PortcullisAgentService.xml', 'WinSW-LICENSE.txt'] as const;

export interface BuildMsiOptions {
  /** The single-file Windows agent (buildWindowsBinary's output). */
  readonly exe: string;
  readonly outDir: string;
  /** The agent's VERSION, e.g. "0.1.0": the package's ProductVersion. */
  readonly version: string;
  /** Where the node-windows tarball is kept (default installers/.cache). */
  readonly cacheDir?: string;
  /** Rebuild even when the .msi in outDir is up to date. */
  readonly force?: boolean;
  /** Progress, one line each. */
  readonly log?: (line: string) => void;
  readonly npm?: NpmClient;
}

/** What a package was built from, kept beside it as <msi>.build.json. */
interface BuildStamp {
  schema: 1;
  version: string;
  /** sha256 of the agent's exe. */
  exe: string;
  winsw: string;
  /** sha256 of the assets and of this builder's compiled files. */
  recipe: string;
  /** sha256 of the .msi, so a damaged or replaced output is rebuilt, not reused. */
  output: string;
}

export function msiFileName(version: string): string {
  return `portcullis-agent-${checkMsiVersion(version)}-x64.msi`;
}

/**
 * Builds installers/out/portcullis-agent-<version>-x64.msi: wixl (msitools) compiles
 * windows-assets/portcullis-agent.wxs in a staging folder holding the agent's exe, WinSW from
 * node-windows with its XML, the custom actions' script and WinSW's license; msibuild then adds
 * what wixl cannot express (msi-tables.ts), and the result is read back and checked. Returns the
 * .msi's path; reuses the one in outDir when its stamp says it was built from the same inputs.
 */
export async function buildMsi(opts: BuildMsiOptions): Promise<string> {
  const log = opts.log ?? (() => undefined);
  const version = checkMsiVersion(opts.version);
  await checkPeX64(opts.exe);
  const output = join(opts.outDir, msiFileName(version));
  const stampFile = `${output}.build.json`;
  const inputs = { schema: 1 as const, version, exe: await sha256File(opts.exe), winsw: WINSW_SHA256, recipe: await recipeHash() };
  const stamp = await readStamp<BuildStamp>(stampFile);
  if (!opts.force && stamp !== null && sameInputs(stamp, inputs) && (await sha256IfExists(output)) === stamp.output) {
    log(`msi: ${output} is up to date`);
    return output;
  }

  const started = Date.now();
  const stage = await mkdtemp(join(tmpdir(), 'portcullis-msi-'));
  // Built aside and renamed into place: a reader never sees half a package.
  const partial = `${output}.partial-${process.pid}`;
  try {
    await fillStage(stage, opts);
    await mkdir(opts.outDir, { recursive: true });
    const defines = { Version: version, ProductCode: productCode(version), UpgradeCode: UPGRADE_CODE, CleanEnv: cmdCleanEnv() };
    await tool('wixl', ['-a', 'x64', ...Object.entries(defines).flatMap(([k, v]) => ['-D', `${k}=${v}`]), '-o', partial, WXS], stage);
    const secure = (await exportTable(partial, 'Property')).rows.find((r) => r.Property === 'SecureCustomProperties')?.Value;
    const queries = postProcessQueries(secure === undefined ? null : secure.split(';').filter((p) => p !== ''));
    await tool('msibuild', [partial, ...queries.flatMap((q) => ['-q', q])], stage);
    await checkBuilt(partial);
    await rename(partial, output);
    await writeFile(stampFile, `${JSON.stringify({ ...inputs, output: await sha256File(output) } satisfies BuildStamp, null, 2)}\n`);
    log(`msi: built ${output} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return output;
  } finally {
    await rm(stage, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

async function fillStage(stage: string, opts: BuildMsiOptions): Promise<void> {
  await copyFile(opts.exe, join(stage, 'portcullis-agent.exe'));
  const winsw = await extractWinsw(opts.cacheDir ?? CACHE_DIR, join(stage, 'winsw'), { npm: opts.npm, log: opts.log });
  // WinSW finds its configuration by its own name: PortcullisAgentService.exe reads PortcullisAgentService.xml.
  await copyFile(winsw.exe, join(stage, 'PortcullisAgentService.exe'));
  await copyFile(winsw.config, join(stage, 'PortcullisAgentService.exe.config'));
  await writeFile(join(stage, 'PortcullisAgentService.xml'), winswConfig());
  for (const asset of ASSETS) await copyFile(join(WINDOWS_ASSETS_DIR, asset), join(stage, asset));
}

/** Reads one table of an MSI (`msiinfo export`). */
export async function exportTable(msi: string, table: string): Promise<MsiTable> {
  const { stdout } = await execFileAsync('msiinfo', ['export', msi, table], { env: toolEnv(), maxBuffer: 16 * 1024 * 1024 });
  return parseIdt(stdout);
}

/**
 * Reads back what was built: every file and every custom action's final type. A wixl or msibuild
 * that silently dropped something fails the build instead of shipping a package without it.
 */
async function checkBuilt(msi: string): Promise<void> {
  const files = (await exportTable(msi, 'File')).rows.map((r) => r.FileName ?? '');
  const missing = INSTALLED_FILES.filter((f) => !files.includes(f));
  if (missing.length > 0) throw new Error(`${msi}: the File table lacks ${missing.join(', ')}`);
  const actions = new Map((await exportTable(msi, 'CustomAction')).rows.map((r) => [r.Action ?? '', r.Type ?? '']));
  for (const [action, type] of Object.entries(CUSTOM_ACTION_TYPES)) {
    if (actions.get(action) !== String(type)) throw new Error(`${msi}: custom action ${action} has type ${actions.get(action) ?? '(none)'}, not ${type}`);
  }
  if (actions.size !== Object.keys(CUSTOM_ACTION_TYPES).length) {
    throw new Error(`${msi}: custom actions ${[...actions.keys()].filter((a) => !(a in CUSTOM_ACTION_TYPES)).join(', ')} have no type in msi-tables.ts`);
  }
}

/**
 * Runs wixl or msibuild. Their warnings count as errors: wixl warns, and goes on, when the .wxs
 * uses an element or attribute it does not implement, and that part would be missing.
 */
async function tool(file: string, args: readonly string[], cwd: string): Promise<void> {
  let result: { stdout: string; stderr: string };
  try {
    result = await execFileAsync(file, [...args], { cwd, env: toolEnv(), maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT') throw new Error(`${file} not found: apt-get install ${file === 'wixl' ? 'wixl' : 'msitools'}`);
    throw new Error(`${file} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
  }
  if (result.stderr.trim() !== '') throw new Error(`${file} warned, which would leave part of the package out:\n${result.stderr.trim()}`);
}

function toolEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}

/** A 64-bit Windows executable: "MZ", then the PE header with machine AMD64 (0x8664). */
async function checkPeX64(file: string): Promise<void> {
  const head = Buffer.alloc(4096);
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`the agent exe ${file} cannot be read (${err.code ?? err.message})`);
  });
  let read: number;
  try {
    ({ bytesRead: read } = await fh.read(head, 0, head.length, 0));
  } finally {
    await fh.close();
  }
  const pe = read >= 64 ? head.readUInt32LE(60) : -1;
  const ok = read >= 64 && head.toString('latin1', 0, 2) === 'MZ' && pe > 0 && pe + 6 <= read && head.toString('latin1', pe, pe + 4) === 'PE\0\0' && head.readUInt16LE(pe + 4) === 0x8664;
  if (!ok) throw new Error(`${file} is not a 64-bit Windows executable (x64 PE): the .msi needs buildWindowsBinary's portcullis-agent-<version>-win-x64.exe`);
}

function recipeHash(): Promise<string> {
  return hashFolders([
    { dir: WINDOWS_ASSETS_DIR, keep: (f) => (ASSETS as readonly string[]).includes(f) },
    { dir: MSI_DIST_DIR, keep: (f) => f.endsWith('.js') },
  ]);
}



