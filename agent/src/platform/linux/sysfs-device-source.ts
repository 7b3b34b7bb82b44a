import type { DeviceSource, HotplugAction, HotplugListener, UsbDeviceState } from '../device-source.js';
import { PresencePoller } from './poll-hotplug.js';
import { SysfsDeviceReader } from './sysfs-device-reader.js';
import { DEFAULT_UDEVADM, UdevadmMonitor, type Backoff, type UdevadmCommand } from './udevadm-hotplug.js';
import { hotplugEventOf } from './udevadm-monitor-parser.js';

/** The slice of a logger the device source uses. */
export interface SourceLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface SysfsDeviceSourceOptions {
  /**
   * `udevadm`: kernel uevents through `udevadm monitor`, polling only while it is unavailable.
   * `poll`: look at sysfs every `pollMs` (tests, fake trees, machines without udevadm).
   */
  readonly hotplug?: 'udevadm' | 'poll';
  readonly pollMs?: number;
  readonly udevadm?: UdevadmCommand;
  readonly restartBackoff?: Backoff;
  readonly clock?: () => number;
  readonly log?: SourceLog;
}

const SILENT: SourceLog = { info: () => undefined, warn: () => undefined };

/** USB devices of a Linux machine, from sysfs (`/sys`, or a fake tree in tests). */
export class SysfsDeviceSource implements DeviceSource {
  private readonly reader: SysfsDeviceReader;
  private readonly hotplug: 'udevadm' | 'poll';
  private readonly pollMs: number;
  private readonly udevadm: UdevadmCommand;
  private readonly backoff: Backoff;
  private readonly clock: () => number;
  private readonly log: SourceLog;

  constructor(
    readonly sysfsRoot = '/sys',
    options: SysfsDeviceSourceOptions = {},
  ) {
    this.reader = new SysfsDeviceReader(sysfsRoot);
    this.hotplug = options.hotplug ?? 'udevadm';
    this.pollMs = options.pollMs ?? 1000;
    this.udevadm = options.udevadm ?? DEFAULT_UDEVADM;
    this.backoff = options.restartBackoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? SILENT;
  }

  async scan(): Promise<UsbDeviceState[]> {
    const cache = new Map<string, Promise<UsbDeviceState | null>>();
    const names = await this.reader.list();
    const states = await Promise.all(names.map((name) => this.reader.read(name, cache)));
    return states.filter((s): s is UsbDeviceState => s !== null);
  }

  /** One device now, or null when it is gone: what a consumer does on a hotplug event. */
  readDevice(name: string): Promise<UsbDeviceState | null> {
    return this.reader.read(name);
  }

  async watch(listener: HotplugListener): Promise<() => Promise<void>> {
    const emit = (action: HotplugAction, name: string): void => listener({ action, name, at: this.clock() });
    const poller = new PresencePoller({
      sysfsRoot: this.sysfsRoot,
      intervalMs: this.pollMs,
      onChange: emit,
      onError: (err) => this.log.warn(`USB polling failed: ${err instanceof Error ? err.message : String(err)}`),
    });
    if (this.hotplug === 'poll') {
      await poller.start();
      return () => poller.stop();
    }

    // Polling covers the times udevadm is not delivering. Switches are queued so a quick
    // down/up/down sequence ends in the last state asked for. Polling resumes from its last
    // snapshot, so a change udevadm already reported may be reported again: events are hints.
    let wantPolling = false;
    let switching: Promise<void> = Promise.resolve();
    const setPolling = (on: boolean): void => {
      wantPolling = on;
      switching = switching
        .then(async () => {
          if (wantPolling !== on) return;
          if (on) await poller.start();
          else {
            await poller.tick();
            await poller.stop();
          }
        })
        .catch((err: unknown) => this.log.warn(`USB polling: ${err instanceof Error ? err.message : String(err)}`));
    };
    const monitor = new UdevadmMonitor({
      udevadm: this.udevadm,
      backoff: this.backoff,
      onRecord: (record) => {
        const event = hotplugEventOf(record, this.clock());
        if (event !== null) listener(event);
      },
      onUp: () => {
        this.log.info('USB hotplug: receiving kernel uevents through udevadm');
        if (wantPolling) setPolling(false);
      },
      onDown: (reason, retryInMs) => {
        this.log.warn(`USB hotplug: ${reason}; polling sysfs every ${this.pollMs} ms, retrying udevadm in ${retryInMs} ms`);
        setPolling(true);
      },
    });
    monitor.start();
    return async () => {
      await monitor.stop();
      wantPolling = false;
      await switching;
      await poller.stop();
    };
  }
}
