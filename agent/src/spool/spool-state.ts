import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpoolLogger } from './spool.js';

/**
 * The spool's small state file, `state.json`:
 *
 *     {"v":1,"ackedSeq":1200,"nextSeq":1342}
 *
 * It only saves work: the segments alone give a safe answer when it is missing or stale
 * (ackedSeq ≥ first segment's firstSeq - 1, nextSeq > every seq in them), so it is a hint that
 * keeps seqs moving forward when the segments say less, never the only record of anything.
 */
export interface SpoolState {
  readonly ackedSeq: number;
  readonly nextSeq: number;
}

export const STATE_FILE = 'state.json';
const TMP_FILE = 'state.json.tmp';
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export async function readSpoolState(dir: string, logger: SpoolLogger): Promise<SpoolState | null> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn('spool state file unreadable; recovering from the segments', { dir, error: (err as Error).message });
    }
    return null;
  }
  const state = parseState(text);
  if (!state) logger.warn('spool state file is corrupt; recovering from the segments', { dir, bytes: text.length });
  return state;
}

function parseState(text: string): SpoolState | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { v, ackedSeq, nextSeq } = value as Record<string, unknown>;
  if (v !== 1 || !isSeq(ackedSeq, 0) || !isSeq(nextSeq, 1) || ackedSeq >= nextSeq) return null;
  return { ackedSeq, nextSeq };
}

function isSeq(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** Atomic replace: write a temporary file, fsync it, rename it over the old one, fsync the folder. */
export async function writeSpoolState(dir: string, state: SpoolState): Promise<void> {
  const tmp = join(dir, TMP_FILE);
  const fh = await open(tmp, 'w', FILE_MODE);
  try {
    await fh.writeFile(JSON.stringify({ v: 1, ackedSeq: state.ackedSeq, nextSeq: state.nextSeq }));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, STATE_FILE));
  await fsyncDir(dir);
}

/** A leftover from a write the process did not finish: the real state file is intact. */
export async function removeStaleTmp(dir: string): Promise<void> {
  await unlink(join(dir, TMP_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Makes creations, renames and deletions in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
