import type { InventoryBody } from '@portcullis/shared';
import type { InventoryLogger } from './inventory-collector.js';
import { changedSections, fitInventory, inventoryDelta } from './inventory-delta.js';
import { INVENTORY_SECTIONS, isSectionError, type Inventory, type InventorySectionName } from './inventory-model.js';

export type TimerHandle = unknown;

export interface InventoryReporterOptions {
  /** Reads the inventory; expected never to reject (collectInventory does not), handled if it does. */
  readonly collect: () => Promise<Inventory>;
  /** Queues one `inventory` message; false when there is no connection to send it on. */
  readonly send: (body: InventoryBody) => boolean;
  /** Between scheduled collections while connected (default 6 h). */
  readonly intervalMs?: number;
  /** Milliseconds, to time collections in the log. Default Date.now. */
  readonly clock?: () => number;
  readonly logger: InventoryLogger;
  readonly setTimer?: (callback: () => void, ms: number) => TimerHandle;
  readonly clearTimer?: (handle: TimerHandle) => void;
}

/** What one round came to; the `refresh-inventory` command returns it as its result. */
export type InventoryReport = {
  /** `unchanged`: collected, nothing differed, nothing sent. `failed`: collecting itself failed. */
  readonly kind: 'snapshot' | 'delta' | 'unchanged' | 'failed';
  /** False when send refused (not connected): it will be sent on a later round. */
  readonly sent: boolean;
  /** The sections the message carried. */
  readonly sections: InventorySectionName[];
  /** Sections whose collector failed this round (they carry `{error}`). */
  readonly failedSections: InventorySectionName[];
};

export const DEFAULT_INVENTORY_INTERVAL_MS = 6 * 60 * 60 * 1000;

const defaultSetTimer = (callback: () => void, ms: number): TimerHandle => {
  const timer = setTimeout(callback, ms);
  // The schedule alone must not keep the process alive.
  timer.unref();
  return timer;
};
const defaultClearTimer = (handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout);

/**
 * Sends the inventory over the link: a full snapshot on every (re)connect, then on a slow
 * schedule only the sections that changed.
 *
 * Why a snapshot on every connect, not only on the process's first: `send` returning true means
 * the frame was queued, not that the server stored it (inventory has no ack), and the server may
 * have lost or never had what this process sent earlier (a restore, a re-enrolled agent). A
 * snapshot per connection, a few KB to a few hundred, costs little and makes the server right
 * again after anything.
 *
 * Rounds run in the background and never overlap: a request while one runs joins it, and a
 * connect during a round makes that round send a snapshot (the kind is chosen after collecting).
 * Nothing here throws into the caller or out of a timer; failures are logged. What the server
 * holds is remembered only after `send` returned true, so a refused send is simply redone.
 */
export class InventoryReporter {
  private readonly collect: () => Promise<Inventory>;
  private readonly send: (body: InventoryBody) => boolean;
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private readonly logger: InventoryLogger;
  private readonly setTimer: (callback: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;

  /** The inventory the server holds, as far as this process knows; null before the first send. */
  private sent: Inventory | null = null;
  private snapshotDue = true;
  private connected = false;
  private stopped = false;
  private running: Promise<InventoryReport> | undefined;
  private timer: TimerHandle | undefined;

  constructor(options: InventoryReporterOptions) {
    this.collect = options.collect;
    this.send = options.send;
    this.intervalMs = options.intervalMs ?? DEFAULT_INVENTORY_INTERVAL_MS;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs <= 0) {
      throw new RangeError(`inventory intervalMs must be a positive integer of milliseconds (got ${this.intervalMs})`);
    }
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
    this.setTimer = options.setTimer ?? defaultSetTimer;
    this.clearTimer = options.clearTimer ?? defaultClearTimer;
  }

  /** The link is up (welcomed): send a snapshot soon and start the schedule. Returns at once. */
  onConnected(): void {
    if (this.stopped) return;
    this.connected = true;
    this.snapshotDue = true;
    this.schedule();
    void this.round('connect');
  }

  /** The link is down: no schedule until the next connect (which sends a snapshot anyway). */
  onDisconnected(): void {
    this.connected = false;
    this.cancelTimer();
  }

  /** The server's `refresh-inventory` command: a round now (or the one running), and its report. */
  refresh(): Promise<InventoryReport> {
    if (this.stopped) return Promise.resolve(report('failed', false, [], []));
    return this.round('refresh');
  }

  /** No more timers or sends; a round under way finishes collecting and sends nothing. */
  stop(): void {
    this.stopped = true;
    this.connected = false;
    this.cancelTimer();
  }

  private schedule(): void {
    this.cancelTimer();
    if (!this.connected || this.stopped) return;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      void this.round('schedule').finally(() => this.schedule());
    }, this.intervalMs);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Joins the running round, or starts one. Never rejects. */
  private round(reason: string): Promise<InventoryReport> {
    if (this.running) return this.running;
    const running = this.collectAndSend(reason).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async collectAndSend(reason: string): Promise<InventoryReport> {
    const started = this.clock();
    let inventory: Inventory;
    try {
      inventory = fitInventory(await this.collect());
    } catch (err) {
      this.logger.warn('inventory collection failed', { reason, error: (err as Error).message });
      return report('failed', false, [], []);
    }
    const failed = INVENTORY_SECTIONS.filter((name) => isSectionError(inventory[name]));
    if (this.stopped) return report('failed', false, [], failed);

    const snapshot = this.snapshotDue || this.sent === null;
    const update = snapshot ? { kind: 'snapshot' as const, inventory } : inventoryDelta(this.sent, inventory);
    if (update === null) {
      this.logger.info('inventory unchanged', { reason, ms: this.clock() - started });
      return report('unchanged', false, [], failed);
    }
    const sections = update.kind === 'snapshot' ? [...INVENTORY_SECTIONS] : changedSections(this.sent as Inventory, inventory);
    let ok: boolean;
    try {
      ok = this.send(update);
    } catch (err) {
      this.logger.warn('inventory send failed', { reason, error: (err as Error).message });
      ok = false;
    }
    if (!ok) {
      this.logger.info('inventory not sent (not connected); it will be sent on a later round', { reason, kind: update.kind });
      return report(update.kind, false, sections, failed);
    }
    // A delta leaves the server holding exactly `inventory`, as does a snapshot.
    this.sent = inventory;
    if (snapshot) this.snapshotDue = false;
    this.logger.info('inventory sent', { reason, kind: update.kind, sections, failed, ms: this.clock() - started });
    return report(update.kind, true, sections, failed);
  }
}

function report(kind: InventoryReport['kind'], sent: boolean, sections: InventorySectionName[], failedSections: InventorySectionName[]): InventoryReport {
  return { kind, sent, sections, failedSections };
}
