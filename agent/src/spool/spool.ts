import type { EventSeverity, JsonObject } from '@portcullis/shared';

/**
 * The durable outbound event queue (DESIGN.md §3): every event is written here before it is
 * sent and leaves only when the server has acknowledged it.
 *
 * Contract, for every back-end:
 * - `append` assigns seqs 1, 2, 3… (never reused, never going backwards across restarts), one
 *   call's events get consecutive seqs, and the events are durable when the promise resolves.
 * - `pending` returns only durable events, oldest first, seq > the last ack (and > `afterSeq`
 *   when given, so a link can keep several batches in flight).
 * - `ack(seq)` takes the server's "everything up to seq is stored"; the spool may then delete
 *   those events. Acks never move backwards; an ack below the current one is ignored.
 * - When the spool must drop events it has not delivered (full disk budget, corrupt file), it
 *   appends an `events.dropped` event `{count, fromSeq, toSeq, reason, …}` of its own, so the
 *   loss is reported and the server can tell the seq gap from events still in flight.
 */
export interface Spool {
  append(events: readonly NewSpoolEvent[]): Promise<SpooledEvent[]>;
  pending(limit: number, afterSeq?: number): Promise<SpooledEvent[]>;
  ack(seq: number): Promise<void>;
  /** Events waiting for the server's ack. */
  depth(): number;
  stats(): SpoolStats;
  /** Commits what was appended, then refuses further calls. */
  close(): Promise<void>;
}

/** An event as the agent produces it; the spool adds the seq. */
export interface NewSpoolEvent {
  readonly type: string;
  readonly severity: EventSeverity;
  readonly occurredAt: string;
  readonly data: JsonObject;
}

export interface SpooledEvent extends NewSpoolEvent {
  readonly seq: number;
}

export interface SpoolStats {
  /** Events waiting for the server's ack. */
  readonly depth: number;
  /** Bytes held on the spool's medium (segment files for FileSpool). */
  readonly bytes: number;
  readonly ackedSeq: number;
  /** Highest seq handed out (every seq is durable once handed out); 0 before the first event. */
  readonly lastSeq: number;
  /** Events made durable since open, the spool's own `events.dropped` reports included. */
  readonly appended: number;
  /** Durable writes (fsyncs of event data) since open: appended / commits is the group-commit factor. */
  readonly commits: number;
  /** Undelivered events dropped since open because the spool was full. */
  readonly droppedEvents: number;
  /** Bytes skipped as corrupt when the spool was opened. */
  readonly corruptBytes: number;
  /** Bytes of a torn last record cut off when the spool was opened. */
  readonly truncatedBytes: number;
}

/** The slice of a logger the spool uses (winston fits; tests pass a recorder). */
export interface SpoolLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** The event type of the spool's own loss reports. */
export const DROPPED_EVENT_TYPE = 'events.dropped';

export type DropReason = 'spool full' | 'spool corrupt';

/** `data` of an `events.dropped` event: seqs fromSeq..toSeq will never be sent (count of them existed). */
export interface DropReport {
  readonly count: number;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly reason: DropReason;
  /** For 'spool corrupt': where the damage was, so a second open does not report it again. */
  readonly file?: string;
  readonly offset?: number;
  readonly bytes?: number;
}

export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
