import { open, type FileHandle } from 'node:fs/promises';
import type { SpooledEvent } from './spool.js';
import { decodeEventPayload } from './spool-events.js';
import { MAX_RECORD_BYTES, decodeAt, payloadAt } from './record-format.js';
import { holeAt, type Segment } from './segment.js';

/** Read size: always holds at least one whole record. */
const CHUNK_BYTES = Math.max(256 * 1024, MAX_RECORD_BYTES);

export type SegmentRead =
  /** `end`: the offset just after the last record read, where a later read can resume. */
  | { readonly ok: true; readonly events: SpooledEvent[]; readonly end: number }
  /** Bytes at `offset` that are no record and no known hole: damage since the spool was opened. */
  | { readonly ok: false; readonly offset: number };

/**
 * Reads the events of `segment` with seq > afterSeq, from `offset` (a record boundary), until
 * `limit` events or the segment's durable size. Known holes are jumped over.
 */
export async function readSegment(segment: Segment, offset: number, afterSeq: number, limit: number): Promise<SegmentRead> {
  const fh = await open(segment.path, 'r');
  try {
    const events: SpooledEvent[] = [];
    let buf: Buffer = Buffer.alloc(0);
    let bufStart = offset;
    let pos = offset;
    while (events.length < limit && pos < segment.size) {
      const hole = holeAt(segment, pos);
      if (hole) {
        pos = hole.end;
        continue;
      }
      let d = decodeAt(buf, pos - bufStart, 0);
      if (!d.ok && d.incomplete) {
        buf = await readRange(fh, pos, Math.min(CHUNK_BYTES, segment.size - pos));
        bufStart = pos;
        d = decodeAt(buf, 0, 0);
      }
      if (!d.ok) return { ok: false, offset: pos };
      if (d.seq > afterSeq) {
        const event = decodeEventPayload(d.seq, payloadAt(buf, pos - bufStart, d.size));
        // A payload with a valid CRC that is no event was written by something else than this spool.
        if (!event) return { ok: false, offset: pos };
        events.push(event);
      }
      pos += d.size;
    }
    return { ok: true, events, end: pos };
  } finally {
    await fh.close();
  }
}

/** The whole durable content of a segment (for a rescan). */
export async function readWholeSegment(segment: Segment): Promise<Buffer> {
  const fh = await open(segment.path, 'r');
  try {
    return await readRange(fh, 0, segment.size);
  } finally {
    await fh.close();
  }
}

async function readRange(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

/** Where a read can resume: just after the record with `seq`. */
export interface Cursor {
  readonly seq: number;
  readonly segment: Segment;
  readonly offset: number;
}

/**
 * The last few places reads stopped, so paging through a large backlog (pending with afterSeq
 * = the last seq sent) does not re-read a segment from its start on every call.
 */
export class ReadCursors {
  private cursors: Cursor[] = [];

  constructor(private readonly max = 4) {}

  /** The known position furthest along that is still at or before `after`. */
  before(after: number): Cursor | undefined {
    let best: Cursor | undefined;
    for (const c of this.cursors) if (c.seq <= after && (!best || c.seq > best.seq)) best = c;
    return best;
  }

  remember(cursor: Cursor): void {
    this.cursors = [cursor, ...this.cursors.filter((c) => c.seq !== cursor.seq)].slice(0, this.max);
  }

  forget(segment: Segment): void {
    this.cursors = this.cursors.filter((c) => c.segment !== segment);
  }
}
