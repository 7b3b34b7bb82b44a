import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStateDir, writeFileAtomic } from '../../state/atomic-file.js';
import { StateError } from '../../state/state-error.js';
import { describeError, errnoOf } from './port-fs.js';
import { parseNodeName } from './port-names.js';

export const PORT_MODES_FILE = 'ports.json';
const SCHEMA = 1;
/** A few hundred nodes at most; anything much bigger is not ours. */
const MAX_FILE_BYTES = 64 * 1024;

/** The slice of a logger the port control uses (winston fits; tests pass a recorder). */
export interface PortLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Reads `ports.json`, the mode each device node had before the agent first changed it:
 *
 *     {"schema":1,"originalModes":{"ttyS0":"0660","sr0":"0660","sg1":"0660"}}
 *
 * Names must be switched node names (port-names.ts), modes four octal digits of permission bits
 * only, with a write bit. Anything else is a StateError naming what is wrong; nothing is half-read.
 */
export function parsePortModes(text: string): Map<string, number> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${PORT_MODES_FILE}: not JSON (${describeError(err)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new StateError(`${PORT_MODES_FILE}: not a JSON object`);
  const record = doc as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'schema' && key !== 'originalModes') throw new StateError(`${PORT_MODES_FILE}: unknown field ${JSON.stringify(key)}`, key);
  }
  if (record.schema !== SCHEMA) throw new StateError(`${PORT_MODES_FILE}: schema must be ${SCHEMA}`, 'schema');
  const modes = record.originalModes;
  if (typeof modes !== 'object' || modes === null || Array.isArray(modes)) {
    throw new StateError(`${PORT_MODES_FILE}: originalModes must be an object`, 'originalModes');
  }
  const out = new Map<string, number>();
  for (const [id, value] of Object.entries(modes as Record<string, unknown>)) {
    if (parseNodeName(id) === null) throw new StateError(`${PORT_MODES_FILE}: ${JSON.stringify(id)} is not a port device name`, 'originalModes');
    if (typeof value !== 'string' || !/^0[0-7]{3}$/.test(value)) {
      throw new StateError(`${PORT_MODES_FILE}: mode of ${id} must be four octal digits like "0660"`, 'originalModes');
    }
    const mode = Number.parseInt(value, 8);
    // The agent records a mode only while the node is allowed (some write bit set); anything
    // else is a mode it may have set itself, and "restoring" it would be no allow at all.
    if ((mode & 0o222) === 0) throw new StateError(`${PORT_MODES_FILE}: mode of ${id} (${value}) has no write bit, so it is no original`, 'originalModes');
    out.set(id, mode);
  }
  return out;
}

export function formatPortModes(modes: ReadonlyMap<string, number>): string {
  const sorted = [...modes].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const originalModes = Object.fromEntries(sorted.map(([id, mode]) => [id, (mode & 0o777).toString(8).padStart(4, '0')]));
  return `${JSON.stringify({ schema: SCHEMA, originalModes }, null, 2)}\n`;
}

/**
 * The original modes, loaded once and kept in memory. A damaged file is never used and never
 * silently replaced: it is renamed to `ports.json.bad-<ms>` with a warning, and every node whose
 * original is thereby lost is restored to the caller's fallback mode. If it cannot be moved
 * aside (or cannot be read at all), the store stops writing so the evidence stays in place.
 */
export class PortModeStore {
  private modes: Map<string, number> | undefined;
  private writable = true;
  private loading: Promise<Map<string, number>> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly logger: PortLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async get(id: string): Promise<number | undefined> {
    return (await this.load()).get(id);
  }

  /**
   * Records `mode` as the original of `id` and waits until it is on disk. A failure is logged,
   * not thrown: the change the caller is about to make (often a block) must not be held back by
   * the bookkeeping for a later allow, which then falls back as for an unknown original.
   */
  async remember(id: string, mode: number): Promise<void> {
    const modes = await this.load();
    if (modes.get(id) === (mode & 0o777)) return;
    modes.set(id, mode & 0o777);
    const text = formatPortModes(modes);
    const write = this.saving.then(() => this.write(text));
    this.saving = write;
    await write;
  }

  private async write(text: string): Promise<void> {
    if (!this.writable) {
      this.logger.warn(`${PORT_MODES_FILE} is not written: the existing file could not be read or moved aside`, { stateDir: this.stateDir });
      return;
    }
    try {
      await ensureStateDir(this.stateDir);
      await writeFileAtomic(this.stateDir, PORT_MODES_FILE, text);
    } catch (err) {
      this.logger.warn(`cannot save original port modes: ${describeError(err)}`, { stateDir: this.stateDir });
    }
  }

  private load(): Promise<Map<string, number>> {
    if (this.modes !== undefined) return Promise.resolve(this.modes);
    this.loading ??= this.read().then((m) => (this.modes = m));
    return this.loading;
  }

  private async read(): Promise<Map<string, number>> {
    const file = join(this.stateDir, PORT_MODES_FILE);
    let text: string;
    try {
      const bytes = await readFile(file);
      if (bytes.length > MAX_FILE_BYTES) return await this.setAside(file, new StateError(`${PORT_MODES_FILE}: larger than ${MAX_FILE_BYTES} bytes`));
      text = bytes.toString('utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return new Map();
      this.writable = false;
      this.logger.warn(`cannot read ${PORT_MODES_FILE}; original port modes unknown, allowed ports get the default mode: ${describeError(err)}`, { file });
      return new Map();
    }
    try {
      return parsePortModes(text);
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      return this.setAside(file, err);
    }
  }

  private async setAside(file: string, problem: StateError): Promise<Map<string, number>> {
    const aside = `${file}.bad-${this.now()}`;
    try {
      await rename(file, aside);
      this.logger.warn(`${problem.message}; moved to ${aside}, original port modes unknown, allowed ports get the default mode`, {
        code: problem.code,
        file: aside,
      });
    } catch (err) {
      this.writable = false;
      this.logger.warn(`${problem.message}; cannot move it aside (${describeError(err)}), so it is kept and not replaced`, { code: problem.code, file });
    }
    return new Map();
  }
}
