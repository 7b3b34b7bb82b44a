import type { Spool, SpooledEvent } from '../../src/spool/spool.js';

/**
 * A stand-in for the server's event ingest: stores by seq (duplicates are counted and dropped,
 * as the real store's (agent, seq) key does) and acks the highest seq up to which every seq is
 * stored — or, with `fillReportedGaps`, stored or named by an `events.dropped` report.
 */
export class FakeEventServer {
  readonly stored = new Map<number, SpooledEvent>();
  received = 0;
  duplicates = 0;
  acked = 0;
  private readonly reportedGone: { from: number; to: number }[] = [];

  constructor(private readonly fillReportedGaps: boolean) {}

  ingest(events: readonly SpooledEvent[]): number {
    for (const e of events) {
      this.received++;
      if (this.stored.has(e.seq)) {
        this.duplicates++;
        continue;
      }
      this.stored.set(e.seq, e);
      if (e.type === 'events.dropped') this.reportedGone.push({ from: e.data['fromSeq'] as number, to: e.data['toSeq'] as number });
    }
    while (this.stored.has(this.acked + 1) || (this.fillReportedGaps && this.isReportedGone(this.acked + 1))) this.acked++;
    return this.acked;
  }

  private isReportedGone(seq: number): boolean {
    return this.reportedGone.some((r) => seq >= r.from && seq <= r.to);
  }
}

export interface LinkOptions {
  readonly random: () => number;
  /** Batches sent and not yet acked. */
  readonly window: number;
  readonly batchSize: number;
  /** Chance that a batch or its ack is lost with the connection. */
  readonly disconnectRate: number;
  readonly maxDelayMs: number;
  /** While true the link stays down (a long outage). */
  readonly offline?: () => boolean;
}

export interface LinkResult {
  readonly reconnects: number;
  readonly batches: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The link's sending loop in miniature: sends pending batches with a window, acks what the
 * server acks, and on a lost connection starts again from the spool's ack (everything not acked
 * is sent again, so the server sees duplicates).
 */
export async function runLink(spool: Spool, server: FakeEventServer, options: LinkOptions, done: () => boolean): Promise<LinkResult> {
  const { random } = options;
  let connection = 0;
  let connected = false;
  let inFlight = 0;
  let sentUpTo = 0;
  let batches = 0;
  const acks = new Set<Promise<void>>();
  const disconnect = (id: number) => {
    if (id !== connection) return;
    connected = false;
    inFlight = 0;
  };
  while (!done()) {
    if (!connected) {
      if (options.offline?.()) {
        await sleep(2);
        continue;
      }
      await sleep(1 + random() * 3);
      connection++;
      connected = true;
      sentUpTo = spool.stats().ackedSeq;
    }
    if (inFlight >= options.window) {
      await sleep(1);
      continue;
    }
    const batch = await spool.pending(options.batchSize, sentUpTo);
    if (batch.length === 0) {
      await sleep(1);
      continue;
    }
    const id = connection;
    sentUpTo = batch.at(-1)?.seq ?? sentUpTo;
    inFlight++;
    batches++;
    setTimeout(() => {
      if (id !== connection || random() < options.disconnectRate / 2) return disconnect(id);
      const ack = server.ingest(batch);
      setTimeout(() => {
        // The ack is lost with the connection: the batch was stored, but the agent cannot know.
        if (id !== connection || random() < options.disconnectRate / 2) return disconnect(id);
        inFlight = Math.max(0, inFlight - 1);
        const p = spool.ack(ack).finally(() => acks.delete(p));
        acks.add(p);
      }, random() * options.maxDelayMs);
    }, random() * options.maxDelayMs);
  }
  await Promise.all(acks);
  return { reconnects: connection - 1, batches };
}
