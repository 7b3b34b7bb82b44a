import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Files in the state folder hold the agent's secret and its trust anchors: owner only. */
export const STATE_FILE_MODE = 0o600;
export const STATE_DIR_MODE = 0o700;

/** Creates the state folder (and missing parents) owner-only; an existing folder is left as it is. */
export async function ensureStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE });
}

/**
 * Replaces `<dir>/<name>` so that a crash leaves either the old file or the new one, never a
 * torn mix: a fresh temporary file ('wx', so a planted file or symlink is never followed),
 * written and fsynced, renamed over the target, then the folder fsynced so the rename survives
 * a power cut.
 */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx', STATE_FILE_MODE);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
    renamed = true;
    await fsyncDir(dir);
  } finally {
    if (!renamed) await unlink(tmp).catch(ignoreMissing);
  }
}

/** The tmp file may never have been created; any other failure to remove it is worth hearing about. */
function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
