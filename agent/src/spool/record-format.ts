import { crc32 } from 'node:zlib';

/**
 * One spool record on disk. A segment file is nothing but records back to back:
 *
 *     ff 50 53 fe  2f 00 00 00  2a 00 00 00 00 00 00 00  00 00 00 00  c4 1d 77 e1  {"type":"usb.blocked",…
 *     magic        length       seq (u64 LE)              kind + 0 0 0 crc32        payload (length bytes)
 *
 * - magic: 0xFF and 0xFE never occur in UTF-8, so the magic never appears inside a payload; after
 *   corruption, scanning for it finds record starts again (resync) without false hits in text.
 * - length: payload bytes, 1..MAX_PAYLOAD_BYTES; a larger value is corruption, not a record.
 * - seq: the event's seq (stored below 2^48; the top two bytes are zero).
 * - kind: 0 an event, 1 the spool's own `events.dropped` report (read back at open).
 * - crc32 (zlib's CRC-32) over bytes 4..20 and the payload: length, seq and kind are checked too.
 */
export const RECORD_MAGIC = Buffer.from([0xff, 0x50, 0x53, 0xfe]);
export const HEADER_BYTES = 24;
/** Far above any event the protocol accepts (data ≤ 16 KiB), small enough to reject garbage lengths. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_RECORD_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES;

export const RecordKinds = { event: 0, report: 1 } as const;
export type RecordKind = (typeof RecordKinds)[keyof typeof RecordKinds];

export function encodeRecord(seq: number, kind: RecordKind, payload: Buffer): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES + payload.length);
  RECORD_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(payload.length, 4);
  buf.writeUIntLE(seq, 8, 6);
  buf.writeUInt8(kind, 16);
  payload.copy(buf, HEADER_BYTES);
  buf.writeUInt32LE(crc32(payload, crc32(buf.subarray(4, 20))), 20);
  return buf;
}

export type Decoded =
  | { readonly ok: true; readonly seq: number; readonly kind: RecordKind; readonly size: number }
  /** `incomplete`: the header is sound but the buffer ends before the record does. */
  | { readonly ok: false; readonly incomplete: boolean };

const INVALID: Decoded = { ok: false, incomplete: false };
const INCOMPLETE: Decoded = { ok: false, incomplete: true };

/** The record starting at `pos`, which must have a seq above `afterSeq`. */
export function decodeAt(buf: Buffer, pos: number, afterSeq: number): Decoded {
  if (pos >= buf.length) return INCOMPLETE;
  const magicBytes = Math.min(RECORD_MAGIC.length, buf.length - pos);
  if (!buf.subarray(pos, pos + magicBytes).equals(RECORD_MAGIC.subarray(0, magicBytes))) return INVALID;
  if (buf.length - pos < HEADER_BYTES) return INCOMPLETE;
  const length = buf.readUInt32LE(pos + 4);
  const seq = buf.readUIntLE(pos + 8, 6);
  const kind = buf.readUInt8(pos + 16);
  if (length < 1 || length > MAX_PAYLOAD_BYTES || buf.readUInt16LE(pos + 14) !== 0 || buf.readUIntLE(pos + 17, 3) !== 0) return INVALID;
  if (kind !== RecordKinds.event && kind !== RecordKinds.report) return INVALID;
  if (seq <= afterSeq || seq < 1) return INVALID;
  const size = HEADER_BYTES + length;
  if (buf.length - pos < size) return INCOMPLETE;
  const crc = crc32(buf.subarray(pos + HEADER_BYTES, pos + size), crc32(buf.subarray(pos + 4, pos + 20)));
  if (crc !== buf.readUInt32LE(pos + 20)) return INVALID;
  return { ok: true, seq, kind, size };
}

export function payloadAt(buf: Buffer, pos: number, size: number): Buffer {
  return buf.subarray(pos + HEADER_BYTES, pos + size);
}

/**
 * The first offset ≥ `from` where a whole valid record with a seq above `afterSeq` starts, or -1.
 * Every occurrence of the magic is tried, so the search never skips a record that survived: the
 * only records it can miss are damaged ones, and a false start needs a matching CRC-32 as well.
 */
export function resync(buf: Buffer, from: number, afterSeq: number): number {
  for (let at = buf.indexOf(RECORD_MAGIC, from); at !== -1; at = buf.indexOf(RECORD_MAGIC, at + 1)) {
    if (decodeAt(buf, at, afterSeq).ok) return at;
  }
  return -1;
}

export interface ScannedRecord {
  readonly seq: number;
  readonly kind: RecordKind;
  readonly offset: number;
  readonly size: number;
}

/** Bytes holding no valid record, with the seqs of the valid records around them. */
export interface Hole {
  readonly start: number;
  readonly end: number;
  /** Seq of the last valid record before the hole in this scan, null when none. */
  readonly prevSeq: number | null;
  /** Seq of the first valid record after it, null when none (a tail). */
  readonly nextSeq: number | null;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Damaged ranges followed by at least one valid record. */
  readonly holes: Hole[];
  /** Bytes after the last valid record that hold none (a torn write, or damage at the end). */
  readonly tail: Hole | null;
}

/** Reads a whole segment's bytes; seqs must increase and stay above `afterSeq`. Never throws. */
export function scanSegment(buf: Buffer, afterSeq: number): SegmentScan {
  const records: ScannedRecord[] = [];
  const holes: Hole[] = [];
  let last = afterSeq;
  let pos = 0;
  while (pos < buf.length) {
    const d = decodeAt(buf, pos, last);
    if (d.ok) {
      records.push({ seq: d.seq, kind: d.kind, offset: pos, size: d.size });
      last = d.seq;
      pos += d.size;
      continue;
    }
    const prevSeq = records.at(-1)?.seq ?? null;
    const next = resync(buf, pos + 1, last);
    if (next === -1) return { records, holes, tail: { start: pos, end: buf.length, prevSeq, nextSeq: null } };
    const found = decodeAt(buf, next, last);
    holes.push({ start: pos, end: next, prevSeq, nextSeq: found.ok ? found.seq : null });
    pos = next;
  }
  return { records, holes, tail: null };
}
