import {
  INVENTORY_SECTIONS,
  type Inventory,
  type InventorySectionName,
  type InventorySections,
  type SectionError,
} from './inventory-model.js';
import {
  toHardwareSection,
  toMailSection,
  toNetworkSection,
  toOsSection,
  toPortsSection,
  toSoftwareSection,
  toUsbSection,
  toUsersSection,
} from './inventory-mappers.js';
import type { InventorySource } from './inventory-source.js';

/** The slice of a logger the inventory uses (winston fits; tests pass a recorder). */
export interface InventoryLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface CollectOptions {
  readonly logger: InventoryLogger;
  /** Milliseconds since the epoch; stamps `collectedAt`. Default Date.now. */
  readonly clock?: () => number;
  /** Each collector's own limit (default 20 s). */
  readonly timeoutMs?: number;
  /** Overrides per section, e.g. a slower one for software on an rpm box. */
  readonly sectionTimeoutsMs?: Partial<Record<InventorySectionName, number>>;
}

export const DEFAULT_COLLECTOR_TIMEOUT_MS = 20_000;
/** Error texts in a section stay short: they go to the console as they are. */
const MAX_ERROR_CHARS = 512;

type Collectors = { readonly [K in InventorySectionName]: (source: InventorySource) => Promise<InventorySections[K]> };

/** One collector per section: a new section does not compile until it has one. */
const COLLECTORS: Collectors = {
  hardware: async ({ system }) => {
    const [sys, bios, cpu, mem] = await Promise.all([system.system(), system.bios(), system.cpu(), system.mem()]);
    return toHardwareSection(sys, bios, cpu, mem);
  },
  os: async ({ system }) => toOsSection(await system.osInfo()),
  users: async ({ system }) => toUsersSection(await system.users()),
  software: async ({ software }) => toSoftwareSection(await software.list()),
  network: async ({ system }) => toNetworkSection(await system.networkInterfaces()),
  ports: async ({ system }) => toPortsSection(await system.networkConnections()),
  usb: async ({ system }) => toUsbSection(await system.usb()),
  mail: async ({ mail }) => toMailSection(await mail.discover()),
};

/**
 * Reads the whole inventory, every collector at once. Collectors fail soft: one that throws or
 * outlives its timeout gives its section as `{error}` and a warning in the log, and the others
 * are unaffected; this never rejects. A timed-out call cannot be cancelled (systeminformation
 * has no abort), so it runs on in the background and its late result is dropped.
 */
export async function collectInventory(source: InventorySource, options: CollectOptions): Promise<Inventory> {
  const timeoutOf = (name: InventorySectionName): number => options.sectionTimeoutsMs?.[name] ?? options.timeoutMs ?? DEFAULT_COLLECTOR_TIMEOUT_MS;
  for (const name of INVENTORY_SECTIONS) checkTimeout(timeoutOf(name), name);
  const collectedAt = new Date((options.clock ?? Date.now)()).toISOString();
  const values = await Promise.all(
    INVENTORY_SECTIONS.map((name) => runCollector<unknown>(name, () => COLLECTORS[name](source), timeoutOf(name), options.logger)),
  );
  const sections = Object.fromEntries(INVENTORY_SECTIONS.map((name, i) => [name, values[i]]));
  return { collectedAt, ...sections } as Inventory;
}

function checkTimeout(ms: number, name: string): void {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`inventory timeout for ${name} must be a positive integer of milliseconds (got ${ms})`);
}

async function runCollector<T>(name: InventorySectionName, work: () => Promise<T>, timeoutMs: number, logger: InventoryLogger): Promise<T | SectionError> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const started = Promise.resolve().then(work);
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([started, deadline]);
  } catch (err) {
    const error = errorText(err);
    logger.warn('inventory collector failed', { section: name, error });
    if (timedOut) {
      // Still running: say so if it fails later, rather than leave an unhandled rejection.
      started.catch((late: unknown) => logger.info('timed-out inventory collector failed later', { section: name, error: errorText(late) }));
    }
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const clean = text.trim() === '' ? 'failed without a message' : text.trim();
  return clean.length > MAX_ERROR_CHARS ? `${clean.slice(0, MAX_ERROR_CHARS)}…` : clean;
}
