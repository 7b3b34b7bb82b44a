import type { NewSpoolEvent, Spool, SpooledEvent, SpoolStats } from './spool.js';
import { SpoolError, SpoolErrorCodes } from './spool-error.js';
import { checkedEvent } from './spool-events.js';

/**
 * The Spool in memory, for tests of the link and of the agent's core: the same contract as
 * FileSpool (the spool contract tests run on both) without durability across processes.
 */
export class MemorySpool implements Spool {
  private events: SpooledEvent[] = [];
  private nextSeq = 1;
  private ackedSeq = 0;
  private appended = 0;
  private closed = false;

  async append(events: readonly NewSpoolEvent[]): Promise<SpooledEvent[]> {
    this.assertOpen();
    const checked = events.map(checkedEvent);
    const added = checked.map((e) => ({ seq: this.nextSeq++, ...e }));
    this.events.push(...added);
    this.appended += added.length;
    return added;
  }

  async pending(limit: number, afterSeq = 0): Promise<SpooledEvent[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new SpoolError(SpoolErrorCodes.ARGUMENT_INVALID, `limit must be a positive integer (got ${limit})`);
    this.assertOpen();
    const after = Math.max(afterSeq, this.ackedSeq);
    return this.events.filter((e) => e.seq > after).slice(0, limit);
  }

  async ack(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new SpoolError(SpoolErrorCodes.ARGUMENT_INVALID, `seq must be a non-negative integer (got ${seq})`);
    this.assertOpen();
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    this.events = this.events.filter((e) => e.seq > seq);
  }

  depth(): number {
    return this.events.length;
  }

  stats(): SpoolStats {
    return {
      depth: this.events.length,
      bytes: 0,
      ackedSeq: this.ackedSeq,
      lastSeq: this.nextSeq - 1,
      appended: this.appended,
      commits: this.appended,
      droppedEvents: 0,
      corruptBytes: 0,
      truncatedBytes: 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new SpoolError(SpoolErrorCodes.CLOSED, 'the spool is closed');
  }
}
