import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What an artifact in installers/out was built from, kept beside it as `<artifact>.build.json`:
 * the builders reuse an artifact whose inputs are the same and whose bytes are still the ones
 * they wrote (a damaged or replaced file is rebuilt, never shipped).
 */

/** Streamed: the binaries are 75-90 MB. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function sha256IfExists(file: string): Promise<string | null> {
  try {
    return await sha256File(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The stamp, or null when there is none or it is damaged: either way the artifact is rebuilt. */
export async function readStamp<T extends object>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return null;
    throw err;
  }
}

/** Whether the stamp records exactly these inputs (every key of `inputs`, compared by value). */
export function sameInputs(stamp: object, inputs: object): boolean {
  const recorded = stamp as Record<string, unknown>;
  return Object.entries(inputs).every(([key, value]) => recorded[key] === value);
}

/**
 * sha256 over the files of some folders (name and bytes, in name order): a builder's compiled
 * code and its assets, so a change in how an artifact is made rebuilds it.
 */
export async function hashFolders(folders: ReadonlyArray<{ readonly dir: string; readonly keep: (name: string) => boolean }>): Promise<string> {
  const hash = createHash('sha256');
  for (const { dir, keep } of folders) {
    const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && keep(e.name)).map((e) => e.name).sort();
    for (const f of files) hash.update(`${f}\0`).update(await readFile(join(dir, f))).update('\0');
  }
  return hash.digest('hex');
}
