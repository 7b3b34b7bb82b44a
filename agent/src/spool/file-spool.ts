import { open, unlink, type FileHandle } from 'node:fs/promises';
import {
  DEFAULT_SPOOL_MAX_BYTES,
  type DropReport,
  type NewSpoolEvent,
  type Spool,
  type SpooledEvent,
  type SpoolLogger,
  type SpoolStats,
} from './spool.js';
import { SpoolError, SpoolErrorCodes } from './spool-error.js';
import { checkedEvent, dropEvent, encodeEventPayload } from './spool-events.js';
import { FILE_MODE, fsyncDir, writeSpoolState } from './spool-state.js';
import { releaseSpoolLock } from './spool-lock.js';
import { corruptionReports, recoverSpool, reportKey, rescanSegment } from './spool-recovery.js';
import { MAX_PAYLOAD_BYTES, RecordKinds, encodeRecord, type RecordKind } from './record-format.js';
import { addSeq, countAbove, lastSeqOf, newSegment, type Segment } from './segment.js';
import { ReadCursors, readSegment } from './segment-reader.js';

export interface FileSpoolOptions {
  /** Disk budget for the segment files (default 64 MiB); past it the oldest segment is dropped. */
  readonly maxBytes?: number;
  /** Segment size that starts a new file (default maxBytes / 16, at most maxBytes / 4). */
  readonly segmentBytes?: number;
  readonly clock: () => Date;
  /**
   * Extra wait before a commit so a trickle of appends shares one fsync. 0 (default) still
   * groups: every append that arrives while a commit's fsync runs goes into the next commit.
   */
  readonly fsyncDelayMs?: number;
  readonly logger: SpoolLogger;
}

interface Entry {
  readonly kind: RecordKind;
  readonly event: NewSpoolEvent;
  readonly payload: Buffer;
  /** Set for the spool's own loss reports. */
  readonly report?: DropReport;
}

interface Waiter {
  readonly entries: readonly Entry[];
  resolve(events: SpooledEvent[]): void;
  reject(err: Error): void;
}

const MAX_READ_ATTEMPTS = 3;

/**
 * The Spool on local disk: append-only segment files of CRC-checked records (record-format.ts),
 * a small state file (spool-state.ts) and group commit. Every write to disk, every read and every
 * deletion runs one at a time (`exclusive`), so seqs are assigned in file order and a reader
 * never meets a segment being deleted under it.
 */
export class FileSpool implements Spool {
  private active: { readonly segment: Segment; readonly fh: FileHandle } | null = null;
  private waiting: Waiter[] = [];
  private flushScheduled = false;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failure: Error | null = null;
  private readonly cursors = new ReadCursors();
  private appended = 0;
  private commits = 0;
  private droppedEvents = 0;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly fsyncDelayMs: number,
    private readonly clock: () => Date,
    private readonly logger: SpoolLogger,
    private segments: Segment[],
    private ackedSeq: number,
    private nextSeq: number,
    private readonly reported: Set<string>,
    private corruptBytes: number,
    private readonly truncatedBytes: number,
  ) {}

  /** Opens (creating if need be) the spool in `dir`. Damaged files are logged and repaired, never thrown. */
  static async open(dir: string, options: FileSpoolOptions): Promise<FileSpool> {
    const maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 64 * 1024) {
      throw new SpoolError(SpoolErrorCodes.ARGUMENT_INVALID, `maxBytes must be at least 64 KiB (got ${maxBytes})`);
    }
    // Segments are the unit of deletion and of dropping: several must fit in the budget.
    const segmentBytes = Math.max(4096, Math.min(options.segmentBytes ?? Math.floor(maxBytes / 16), Math.floor(maxBytes / 4)));
    const r = await recoverSpool(dir, options.logger);
    const spool = new FileSpool(
      dir,
      maxBytes,
      segmentBytes,
      Math.max(0, options.fsyncDelayMs ?? 0),
      options.clock,
      options.logger,
      r.segments,
      r.ackedSeq,
      r.nextSeq,
      r.reported,
      r.corruptBytes,
      r.truncatedBytes,
    );
    try {
      await spool.exclusive(() => spool.start(r.newReports));
    } catch (err) {
      await releaseSpoolLock(dir);
      throw err;
    }
    return spool;
  }

  private async start(reports: readonly DropReport[]): Promise<void> {
    // A killed writer's last records may sit only in the page cache: make them durable before
    // any is sent, or a power cut could take back a seq the server already holds.
    const last = this.segments.at(-1);
    if (last) await fsyncFile(last.path);
    await fsyncDir(this.dir);
    await this.saveState();
    await this.commitReports(reports);
    await this.enforceBound();
  }

  append(events: readonly NewSpoolEvent[]): Promise<SpooledEvent[]> {
    try {
      this.assertWritable();
      const entries = events.map((e) => entryFor(RecordKinds.event, checkedEvent(e)));
      if (entries.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        this.waiting.push({ entries, resolve, reject });
        this.scheduleFlush();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async pending(limit: number, afterSeq = 0): Promise<SpooledEvent[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new SpoolError(SpoolErrorCodes.ARGUMENT_INVALID, `limit must be a positive integer (got ${limit})`);
    checkSeqArgument('afterSeq', afterSeq);
    this.assertOpen();
    return this.exclusive(() => this.read(limit, Math.max(afterSeq, this.ackedSeq)));
  }

  async ack(seq: number): Promise<void> {
    checkSeqArgument('seq', seq);
    this.assertOpen();
    await this.exclusive(async () => {
      if (seq <= this.ackedSeq) return;
      if (seq >= this.nextSeq) {
        // The server holds seqs this spool never made (its files were lost): never reuse them.
        this.logger.warn('the server acknowledged seqs beyond the spool; continuing after them', { ack: seq, nextSeq: this.nextSeq });
        this.nextSeq = seq + 1;
      }
      this.ackedSeq = seq;
      while (this.segments.length > 1 && (this.segments[1]?.firstSeq ?? Infinity) - 1 <= seq) await this.deleteOldest();
      await this.saveState();
    });
  }

  depth(): number {
    return this.segments.reduce((n, s) => n + countAbove(s.runs, this.ackedSeq), 0);
  }

  stats(): SpoolStats {
    return {
      depth: this.depth(),
      bytes: this.totalBytes(),
      ackedSeq: this.ackedSeq,
      lastSeq: this.nextSeq - 1,
      appended: this.appended,
      commits: this.commits,
      droppedEvents: this.droppedEvents,
      corruptBytes: this.corruptBytes,
      truncatedBytes: this.truncatedBytes,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.exclusive(async () => {
      await this.flush();
      await this.saveState();
      await this.active?.fh.close();
      this.active = null;
      await releaseSpoolLock(this.dir);
    });
  }

  // ---- writing ------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => {
      this.exclusive(() => this.flush()).catch((err: Error) => this.logger.warn('spool commit failed', { error: err.message }));
    };
    if (this.fsyncDelayMs > 0) setTimeout(run, this.fsyncDelayMs);
    else setImmediate(run);
  }

  /** One group commit: every append waiting now shares one write and one fsync. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    let seqs: number[];
    try {
      seqs = await this.commit(batch.flatMap((w) => w.entries));
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return;
    }
    // Within the budget before anyone is told the append is done (enforceBound never throws).
    await this.enforceBound();
    let i = 0;
    for (const w of batch) w.resolve(w.entries.map((e) => ({ seq: seqs[i++] ?? 0, ...e.event })));
  }

  /**
   * Writes the entries at the end of the active segment and fsyncs it; the seqs are taken only
   * once that succeeded. A failed write is cut back off (the seqs are then free again); a failed
   * fsync leaves the file's content unknown, so the spool stops taking appends (fail-stop: the
   * next open rescans the files and decides what is really there).
   */
  private async commit(entries: readonly Entry[]): Promise<number[]> {
    if (this.failure) throw new SpoolError(SpoolErrorCodes.IO, `the spool stopped after a failed fsync: ${this.failure.message}`);
    const { segment, fh } = await this.activeSegment().catch((err: Error) => {
      throw new SpoolError(SpoolErrorCodes.IO, `spool segment could not be opened: ${err.message}`, { cause: err });
    });
    const first = this.nextSeq;
    const data = Buffer.concat(entries.map((e, i) => encodeRecord(first + i, e.kind, e.payload)));
    try {
      await writeAll(fh, data);
    } catch (err) {
      await fh.truncate(segment.size).catch((cutErr: Error) => (this.failure = cutErr));
      throw new SpoolError(SpoolErrorCodes.IO, `spool write failed: ${(err as Error).message}`, { cause: err });
    }
    try {
      await fh.datasync();
    } catch (err) {
      this.failure = err as Error;
      throw new SpoolError(SpoolErrorCodes.IO, `spool fsync failed: ${(err as Error).message}`, { cause: err });
    }
    const seqs = entries.map((_, i) => first + i);
    for (const seq of seqs) addSeq(segment.runs, seq);
    entries.forEach((e, i) => e.report && segment.reports.push({ seq: first + i, report: e.report }));
    segment.size += data.length;
    this.nextSeq = first + entries.length;
    this.appended += entries.length;
    this.commits += 1;
    return seqs;
  }

  /** The segment appends go to; a full one is closed and a new `spool-<nextSeq>.log` started. */
  private async activeSegment(): Promise<{ readonly segment: Segment; readonly fh: FileHandle }> {
    if (this.active && this.active.segment.size < this.segmentBytes) return this.active;
    if (this.active) await this.active.fh.close();
    this.active = null;
    const last = this.segments.at(-1);
    if (last && last.size < this.segmentBytes) {
      this.active = { segment: last, fh: await open(last.path, 'a+', FILE_MODE) };
      return this.active;
    }
    const segment = newSegment(this.dir, this.nextSeq);
    const fh = await open(segment.path, 'a+', FILE_MODE);
    // The new file's directory entry must be durable before any record in it is called durable.
    await fsyncDir(this.dir);
    this.segments.push(segment);
    this.active = { segment, fh };
    return this.active;
  }

  /**
   * Keeps the files within maxBytes: drops the oldest segment (never the active one) and
   * reports what it held. Loss reports stored in that segment are carried into the new one
   * ('spool full' ones merged into it, others written again), so a long outage that drops
   * reports too still tells every loss. The report is durable before the file goes; a crash
   * between the two leaves the file, and the next open deletes it on the strength of the report
   * (no second report). A failure here is logged: the appends before it are already durable.
   */
  private async enforceBound(): Promise<void> {
    try {
      while (this.totalBytes() > this.maxBytes && this.segments.length > 1) {
        const [oldest, next] = this.segments;
        if (!oldest || !next) break;
        const carried = oldest.reports.filter((r) => r.seq > this.ackedSeq).map((r) => r.report);
        const merged = carried.filter((r) => r.reason === 'spool full');
        const events = countAbove(oldest.runs, this.ackedSeq) - carried.length;
        const count = events + merged.reduce((n, r) => n + r.count, 0);
        const reports = carried.filter((r) => r.reason !== 'spool full');
        if (count > 0) {
          const fromSeq = Math.max(this.ackedSeq + 1, Math.min(oldest.firstSeq, ...merged.map((r) => r.fromSeq)));
          reports.push({ count, fromSeq, toSeq: next.firstSeq - 1, reason: 'spool full' });
          this.logger.warn('spool full: the oldest undelivered events were dropped', { count, fromSeq, toSeq: next.firstSeq - 1, maxBytes: this.maxBytes });
        }
        if (reports.length > 0) await this.commit(reports.map((r) => this.reportEntry(r)));
        this.droppedEvents += events;
        await this.deleteOldest();
      }
    } catch (err) {
      this.logger.warn('spool could not drop its oldest segment', { error: (err as Error).message });
    }
  }

  private async commitReports(reports: readonly DropReport[]): Promise<void> {
    for (const report of reports) {
      try {
        await this.commit([this.reportEntry(report)]);
        if (report.file !== undefined && report.offset !== undefined) this.reported.add(reportKey(report.file, report.offset));
      } catch (err) {
        this.logger.warn('spool could not record a loss report', { ...report, error: (err as Error).message });
      }
    }
  }

  private reportEntry(report: DropReport): Entry {
    return { ...entryFor(RecordKinds.report, checkedEvent(dropEvent(report, this.clock()))), report };
  }

  private async deleteOldest(): Promise<void> {
    const oldest = this.segments.shift();
    if (!oldest) return;
    this.cursors.forget(oldest);
    await unlink(oldest.path).catch((err: NodeJS.ErrnoException) => {
      // Left behind, it is deleted by the next open (it is below the ack or a report).
      if (err.code !== 'ENOENT') this.logger.warn('spool segment could not be deleted', { file: oldest.name, error: err.message });
    });
  }

  private async saveState(): Promise<void> {
    try {
      await writeSpoolState(this.dir, { ackedSeq: this.ackedSeq, nextSeq: this.nextSeq });
    } catch (err) {
      // The state only saves resending: the segments still give a safe answer without it.
      this.logger.warn('spool state could not be saved', { error: (err as Error).message });
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  private async read(limit: number, after: number): Promise<SpooledEvent[]> {
    for (let attempt = 1; ; attempt++) {
      const out: SpooledEvent[] = [];
      const start = this.cursors.before(after);
      let i = start ? this.segments.indexOf(start.segment) : 0;
      let offset = start?.offset ?? 0;
      let damaged: { segment: Segment; offset: number } | null = null;
      for (; i < this.segments.length && out.length < limit && !damaged; i++, offset = 0) {
        const segment = this.segments[i];
        if (!segment || lastSeqOf(segment) <= after) continue;
        const r = await readSegment(segment, offset, after, limit - out.length);
        if (!r.ok) {
          damaged = { segment, offset: r.offset };
        } else {
          out.push(...r.events);
          const last = r.events.at(-1);
          if (last) this.cursors.remember({ seq: last.seq, segment, offset: r.end });
        }
      }
      if (!damaged || attempt === MAX_READ_ATTEMPTS) return out;
      await this.rescan(damaged.segment, damaged.offset);
    }
  }

  /** Bytes that went bad after open: find the damage the way open does, and report it. */
  private async rescan(segment: Segment, offset: number): Promise<void> {
    this.logger.warn('spool segment damaged since it was opened; rescanning it', { file: segment.name, offset });
    const previous = this.segments[this.segments.indexOf(segment) - 1];
    const { holes, newBytes } = await rescanSegment(segment, previous ? lastSeqOf(previous) : 0, offset);
    this.corruptBytes += newBytes;
    await this.commitReports(corruptionReports(holes, this.segments, this.reported, this.ackedSeq, this.nextSeq));
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    // The caller gets `run` and its error; the chain only needs to know that it settled.
    this.tail = run.then(settled, settled);
    return run;
  }

  private totalBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  private assertOpen(): void {
    if (this.closed) throw new SpoolError(SpoolErrorCodes.CLOSED, 'the spool is closed');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.failure) throw new SpoolError(SpoolErrorCodes.IO, `the spool stopped after a failed fsync: ${this.failure.message}`);
  }
}

function settled(): void {
  // Nothing to do: see exclusive().
}

function entryFor(kind: RecordKind, event: NewSpoolEvent): Entry {
  const payload = encodeEventPayload(event);
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new SpoolError(SpoolErrorCodes.EVENT_INVALID, `the event is ${payload.length} bytes; the spool takes at most ${MAX_PAYLOAD_BYTES}`);
  }
  return { kind, event, payload };
}

function checkSeqArgument(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SpoolError(SpoolErrorCodes.ARGUMENT_INVALID, `${name} must be a non-negative integer (got ${value})`);
  }
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await fh.write(data, written, data.length - written);
    written += bytesWritten;
  }
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
