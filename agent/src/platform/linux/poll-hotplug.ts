import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HotplugAction } from '../device-source.js';
import { compareUsbNames, isDeviceName } from './sysfs-names.js';

/**
 * Hotplug by polling: inotify sees nothing on sysfs, so without uevents the only way to notice a
 * device is to look. A snapshot is cheap (two small reads per device); the full read happens only
 * for what changed.
 */

export interface PresenceEntry {
  /** Changes when another device takes the same port between two looks. */
  readonly devnum: string;
  readonly authorized: string;
}

export type Presence = ReadonlyMap<string, PresenceEntry>;

export async function snapshotPresence(sysfsRoot: string): Promise<Presence> {
  const dir = join(sysfsRoot, 'bus', 'usb', 'devices');
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isDeviceName);
  } catch (err) {
    // No USB bus (yet): nothing present. A missing sysfs root is still an error.
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    await stat(sysfsRoot);
    names = [];
  }
  const entries = await Promise.all(
    names.map(async (name): Promise<[string, PresenceEntry] | undefined> => {
      try {
        const [devnum, authorized] = await Promise.all(
          ['devnum', 'authorized'].map(async (a) => (await readFile(join(dir, name, a), 'latin1')).trim()),
        );
        return [name, { devnum: devnum ?? '', authorized: authorized ?? '' }];
      } catch {
        // Unplugged between readdir and read: it is simply not present in this snapshot.
        return undefined;
      }
    }),
  );
  return new Map(entries.filter((e): e is [string, PresenceEntry] => e !== undefined));
}

/**
 * What happened between two snapshots: removals first (children before their hub), then
 * additions (hubs before their children), then authorization changes.
 */
export function diffPresence(before: Presence, after: Presence): { action: HotplugAction; name: string }[] {
  const removed: string[] = [];
  const added: string[] = [];
  const changed: string[] = [];
  for (const [name, old] of before) {
    const now = after.get(name);
    if (now === undefined) removed.push(name);
    else if (now.devnum !== old.devnum) {
      removed.push(name);
      added.push(name);
    } else if (now.authorized !== old.authorized) changed.push(name);
  }
  for (const name of after.keys()) if (!before.has(name)) added.push(name);
  removed.sort((a, b) => compareUsbNames(b, a));
  added.sort(compareUsbNames);
  changed.sort(compareUsbNames);
  return [
    ...removed.map((name) => ({ action: 'remove' as const, name })),
    ...added.map((name) => ({ action: 'add' as const, name })),
    ...changed.map((name) => ({ action: 'change' as const, name })),
  ];
}

export interface PollerOptions {
  readonly sysfsRoot: string;
  readonly intervalMs: number;
  readonly onChange: (action: HotplugAction, name: string) => void;
  readonly onError: (err: unknown) => void;
}

/** Looks every `intervalMs` (never two looks at once) and reports differences. */
export class PresencePoller {
  private last: Presence | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;

  constructor(private readonly options: PollerOptions) {}

  /** Takes the baseline, then starts looking. Changes before the baseline are the caller's scan. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** One look now (also used to catch up when uevents take over again). */
  tick(): Promise<void> {
    this.inFlight ??= this.look().finally(() => {
      this.inFlight = undefined;
      if (this.running) {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick(), this.options.intervalMs);
      }
    });
    return this.inFlight;
  }

  private async look(): Promise<void> {
    let now: Presence;
    try {
      now = await snapshotPresence(this.options.sysfsRoot);
    } catch (err) {
      this.options.onError(err);
      return;
    }
    const before = this.last;
    this.last = now;
    if (before === undefined) return;
    for (const { action, name } of diffPresence(before, now)) this.options.onChange(action, name);
  }
}
