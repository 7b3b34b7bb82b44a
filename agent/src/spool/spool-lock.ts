import { open, readFile, unlink } from 'node:fs/promises';
import { uptime } from 'node:os';
import { join } from 'node:path';
import type { SpoolLogger } from './spool.js';
import { SpoolError, SpoolErrorCodes } from './spool-error.js';
import { FILE_MODE } from './spool-state.js';

/**
 * `spool.lock`, naming the process that has the spool open and when its machine booted:
 *
 *     4711 1764064800
 *
 * Opening repairs files (it cuts a torn end off), so a second opener — `portcullis-agent status`
 * while the service runs — would cut off a record the service is writing. A lock whose process
 * is gone (kill -9) or from an earlier boot (power cut; its pid may now be someone else's) is
 * taken over.
 */
export const LOCK_FILE = 'spool.lock';

export async function acquireSpoolLock(dir: string, logger: SpoolLogger): Promise<void> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', FILE_MODE);
      try {
        await fh.writeFile(`${process.pid} ${bootTime()}`);
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // An unreadable lock (cut short by a crash while being written) names no live process.
    const [pidText, bootText] = (await readFile(path, 'utf8').catch(() => '')).split(' ');
    const holder = Number.parseInt(pidText ?? '', 10);
    const sameBoot = Math.abs(Number(bootText) - bootTime()) <= BOOT_TOLERANCE_S;
    if (Number.isSafeInteger(holder) && holder > 0 && sameBoot && isAlive(holder)) {
      throw new SpoolError(SpoolErrorCodes.LOCKED, `the spool in ${dir} is in use by process ${holder}`);
    }
    logger.warn('spool lock left by a process that is gone; taking it over', { dir, pid: Number.isNaN(holder) ? null : holder });
    await releaseSpoolLock(dir);
  }
  throw new SpoolError(SpoolErrorCodes.LOCKED, `the spool lock in ${dir} could not be taken`);
}

export async function releaseSpoolLock(dir: string): Promise<void> {
  await unlink(join(dir, LOCK_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Boot time from uptime moves a little with clock adjustments: a minute apart is the same boot. */
const BOOT_TOLERANCE_S = 60;

function bootTime(): number {
  return Math.round(Date.now() / 1000 - uptime());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
