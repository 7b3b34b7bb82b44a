import type { NewEvent, Store } from '../store/store.js';

export interface SinkLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/**
 * The server's own mail events (`mail.rejected`, `mail.account.unapproved`) on their way to the
 * hash-chained event log. Decisions must not wait for the database, so events queue here and are
 * written in batches (one transaction per group every `flushMs`). The queue is bounded: past
 * `maxPending` the oldest are dropped and counted, and the count becomes a `mail.events.dropped`
 * event of its own, so a loss is never silent.
 */
/** Events per transaction: a few milliseconds of SQLite work, so no decision waits much longer. */
const WRITE_CHUNK = 50;

export class MailEventSink {
  #pending: Array<{ readonly group: string | null; readonly event: NewEvent }> = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<Store, 'ingestEvents'>,
    private readonly clock: () => Date,
    private readonly logger: SinkLogger,
    private readonly options: { readonly flushMs: number; readonly maxPending: number } = { flushMs: 100, maxPending: 10_000 },
  ) {}

  add(group: string | null, event: NewEvent): void {
    if (this.#pending.length >= this.options.maxPending) {
      this.#pending.shift();
      this.#dropped++;
    }
    this.#pending.push({ group, event });
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.options.flushMs);
  }

  /** Writes what is queued; resolves when it is stored (tests and shutdown wait on it). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  async #write(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    const now = this.clock().toISOString();
    if (this.#dropped > 0) {
      const data = { dropped: this.#dropped, reason: 'the mail event queue was full (the database is slow or down)' };
      batch.push({ group: null, event: { seq: null, type: 'mail.events.dropped', severity: 'high', occurredAt: now, data } });
      this.logger.warn('mail events dropped', { dropped: this.#dropped });
      this.#dropped = 0;
    }
    const byGroup = new Map<string | null, NewEvent[]>();
    for (const { group, event } of batch) {
      const list = byGroup.get(group) ?? [];
      list.push(event);
      byGroup.set(group, list);
    }
    for (const [group, all] of byGroup) {
      for (let i = 0; i < all.length; i += WRITE_CHUNK) {
        await this.#ingest(group, all.slice(i, i + WRITE_CHUNK), now);
        // SQLite writes block the event loop: let waiting policy requests through between chunks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  async #ingest(group: string | null, events: NewEvent[], now: string): Promise<void> {
    try {
      await this.store.ingestEvents(null, group, events, now);
    } catch (err) {
      // Put them back (bounded by add's limit next time) so a database hiccup loses nothing.
      this.logger.error('storing mail events failed; will retry', { error: (err as Error).message, count: events.length });
      this.#pending.unshift(...events.map((event) => ({ group, event })));
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        void this.flush();
      }, 1_000);
    }
  }
}
