import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { PkiError } from './pki-error.js';

/**
 * File modes for the identity folder, and the atomic writes that put them in place. On Windows the
 * mode bits mean nothing (the installer sets ACLs on the data folder), so nothing is checked there.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;

const CHECK_MODES = process.platform !== 'win32';

/** Suffix of our in-flight files: `server.key.<pid>.<hex>.tmp`. Left-overs of a crash match it. */
export const TEMP_FILE = /\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Writes `data` to `path` so that a reader sees the old file or the new one, never a part: the
 * temporary file is created exclusively with its final mode (so a key is never readable by others,
 * whatever the umask), synced, then renamed over the target.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, 'wx', mode);
  let renamed = false;
  try {
    try {
      await file.chmod(mode); // the umask may have taken bits from a public file's mode
      await file.writeFile(data, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    renamed = true;
    await syncDirectory(dirname(path));
  } finally {
    if (!renamed) await rm(temp, { force: true });
  }
}

/** Makes a rename durable: on POSIX the directory entry is only safe once the directory is synced. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A private key file: a regular file no one but the owner can read, write or execute. */
export async function checkPrivateFile(path: string): Promise<void> {
  const st = await statOrRefuse(path);
  if (!st.isFile()) throw new PkiError(`${path}: not a regular file; refusing to start`, path);
  if (CHECK_MODES && (st.mode & 0o077) !== 0) {
    throw new PkiError(
      `${path}: private key is accessible to other users (mode ${octal(st.mode)}); refusing to start. ` +
        `Fix it with: chmod 600 '${path}' (and consider the key exposed if others could read it)`,
      path,
    );
  }
}

/** A certificate or a folder: others may read it but must not be able to replace it. */
export async function checkNotWritableByOthers(path: string, kind: 'file' | 'folder'): Promise<void> {
  const st = await statOrRefuse(path);
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) {
    throw new PkiError(`${path}: not a ${kind === 'file' ? 'regular file' : 'folder'}; refusing to start`, path);
  }
  if (CHECK_MODES && (st.mode & 0o022) !== 0) {
    const fix = kind === 'file' ? `chmod 644 '${path}'` : `chmod 700 '${path}'`;
    throw new PkiError(`${path}: writable by other users (mode ${octal(st.mode)}); refusing to start. Fix it with: ${fix}`, path);
  }
}

async function statOrRefuse(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    throw new PkiError(`${path}: cannot read (${errnoCode(err)}); refusing to start`, path);
  }
}

export function errnoCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}
