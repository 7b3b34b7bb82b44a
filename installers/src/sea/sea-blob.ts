import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** File names inside a build folder: relative in sea-config.json, so the blob does not depend on the folder. */
export const SEA_MAIN = 'agent.cjs';
export const SEA_BLOB = 'agent.blob';
export const SEA_CONFIG = 'sea-config.json';

/** The resource name and fuse Node 20 looks for (doc/api/single-executable-applications.md). */
export const SEA_RESOURCE = 'NODE_SEA_BLOB';
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * The SEA configuration. No code cache and no snapshot: both are V8 data for the platform that
 * makes the blob, and one blob made here serves Linux and Windows. Without them the blob holds
 * only the flags, the main file's name and its source, the same bytes whichever platform's node
 * writes it (the Windows test checks this under wine).
 */
export function seaConfig(): string {
  return `${JSON.stringify({ main: SEA_MAIN, output: SEA_BLOB, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }, null, 2)}\n`;
}

/** The environment of every tool run while building: no NODE_OPTIONS from the caller. */
export function toolEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...rest } = process.env;
  return rest;
}

/**
 * Makes dir/agent.blob from dir/agent.cjs with this node, whose version the target binaries are
 * pinned to: a blob is only read by the Node version that wrote it.
 */
export async function makeSeaBlob(dir: string): Promise<string> {
  await writeFile(join(dir, SEA_CONFIG), seaConfig());
  await run(process.execPath, ['--experimental-sea-config', SEA_CONFIG], dir);
  return join(dir, SEA_BLOB);
}

const require = createRequire(import.meta.url);

/** Injects the blob into a copy of a Node binary with postject (ELF or PE; no Mach-O segment here). */
export async function injectSeaBlob(binary: string, blob: string): Promise<void> {
  const postject = require.resolve('postject/dist/cli.js');
  await run(process.execPath, [postject, binary, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE]);
}

/**
 * Runs a build tool; its chatter (postject's LIEF warnings about ELF note names, node's "Wrote
 * single executable preparation blob") is shown only when it fails.
 */
export async function run(file: string, args: readonly string[], cwd?: string): Promise<void> {
  try {
    await execFileAsync(file, [...args], { cwd, env: toolEnv(), maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
    throw new Error(`${[file, ...args].join(' ')} failed: ${e.message.split('\n')[0]}${output ? `\n${output}` : ''}`);
  }
}
