import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStateDir, writeFileAtomic } from './atomic-file.js';
import { StateError } from './state-error.js';

/** `<state>/machine-id`: the id this agent made up for a computer that has none of its own. */
export const MACHINE_ID_FILE = 'machine-id';

/** The system's own ids, first found wins: systemd's, then D-Bus's (older or systemd-less Linux). */
export const SYSTEM_MACHINE_ID_FILES: readonly string[] = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** What the server's enroll route accepts as a machine id (server/src/api/routes/enroll-routes.ts). */
const MACHINE_ID = /^[A-Za-z0-9{}-]{8,128}$/;

export interface MachineIdOptions {
  /** Files holding the system's machine id; tests point these at a temporary folder. */
  readonly systemFiles?: readonly string[];
  /** Makes a new id; 32 random hex digits, like systemd's. */
  readonly generate?: () => string;
}

export function isMachineId(text: string): boolean {
  return MACHINE_ID.test(text);
}

/**
 * The id that tells the server this is the same computer enrolling again (it then revokes the
 * old identity). The system's machine-id(5) when there is one:
 *
 *     4f1c8e0b9d2a47e6a1c35b7d9e0f2a18
 *
 * otherwise (an empty or missing /etc/machine-id, as in some images) one generated once and
 * kept in `<state>/machine-id`, 0600, so a re-enrollment sends the same id.
 */
export async function machineId(stateDir: string, options: MachineIdOptions = {}): Promise<string> {
  for (const file of options.systemFiles ?? SYSTEM_MACHINE_ID_FILES) {
    // An empty, odd or unreadable system file is skipped rather than fatal: systemd leaves it
    // empty until first boot, and the agent's own id serves just as well.
    const id = await readId(file).catch(() => null);
    if (id !== null && isMachineId(id)) return id;
  }
  const own = join(stateDir, MACHINE_ID_FILE);
  const kept = await readId(own);
  if (kept !== null) {
    if (!isMachineId(kept)) {
      throw new StateError(`${own} does not hold a machine id (8 to 128 letters, digits, '-', '{', '}'); delete it to make a new one`);
    }
    return kept;
  }
  const fresh = (options.generate ?? (() => randomBytes(16).toString('hex')))();
  if (!isMachineId(fresh)) throw new StateError('the generated machine id is not valid');
  await ensureStateDir(stateDir);
  await writeFileAtomic(stateDir, MACHINE_ID_FILE, `${fresh}\n`);
  return fresh;
}

/** The file's first line, or null when the file does not exist. */
async function readId(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new StateError(`cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  return (text.slice(0, 1024).split('\n')[0] ?? '').trim();
}
