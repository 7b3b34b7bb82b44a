import { join } from 'node:path';
import type { DropReport } from './spool.js';

/** Seqs held by a segment, as runs of consecutive seqs (one run unless corruption cut holes). */
export interface SeqRun {
  from: number;
  to: number;
}

/** A damaged byte range of a segment that readers jump over. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * What the spool keeps in memory about one segment file `spool-<firstSeq>.log`. The name says
 * the first seq the segment was opened for, so the seqs a segment covers are firstSeq up to the
 * next segment's firstSeq - 1, whatever corruption later did to its records.
 */
export interface Segment {
  readonly firstSeq: number;
  readonly path: string;
  readonly name: string;
  /** Bytes of durable, valid content: readers never look past it. */
  size: number;
  readonly runs: SeqRun[];
  readonly holes: ByteRange[];
  /** The spool's own loss reports stored here: dropping the segment must carry them forward. */
  readonly reports: { readonly seq: number; readonly report: DropReport }[];
}

const NAME = /^spool-(\d{16})\.log$/;

/** Zero-padded so a directory listing sorts like the seqs do. */
export function segmentName(firstSeq: number): string {
  return `spool-${String(firstSeq).padStart(16, '0')}.log`;
}

export function parseSegmentName(name: string): number | null {
  const m = NAME.exec(name);
  const n = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

export function newSegment(dir: string, firstSeq: number): Segment {
  const name = segmentName(firstSeq);
  return { firstSeq, name, path: join(dir, name), size: 0, runs: [], holes: [], reports: [] };
}

export function addSeq(runs: SeqRun[], seq: number): void {
  const last = runs.at(-1);
  if (last && last.to + 1 === seq) last.to = seq;
  else runs.push({ from: seq, to: seq });
}

/** How many of the seqs in `runs` are above `seq`. */
export function countAbove(runs: readonly SeqRun[], seq: number): number {
  let n = 0;
  for (const r of runs) if (r.to > seq) n += r.to - Math.max(r.from, seq + 1) + 1;
  return n;
}

export function lastSeqOf(segment: Segment): number {
  return segment.runs.at(-1)?.to ?? segment.firstSeq - 1;
}

/** The hole `offset` falls in, if any. */
export function holeAt(segment: Segment, offset: number): ByteRange | undefined {
  return segment.holes.find((h) => h.start <= offset && offset < h.end);
}

export function addHole(segment: Segment, hole: ByteRange): void {
  segment.holes.push({ start: hole.start, end: hole.end });
  segment.holes.sort((a, b) => a.start - b.start);
}
