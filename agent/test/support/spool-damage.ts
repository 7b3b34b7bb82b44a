import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanSegment } from '../../src/spool/record-format.js';
import type { SpooledEvent } from '../../src/spool/spool.js';
import { openFileSpool, usbEvent } from './spool-fixtures.js';

/** Where one record of a spool folder sits on disk. */
export interface RecordLocation {
  readonly file: string;
  readonly offset: number;
  readonly size: number;
  readonly seq: number;
}

/** Writes one event per pad size (tags `e<seq>`), in several segments when segmentBytes is small. */
export async function writeEvents(dir: string, pads: readonly number[], segmentBytes: number): Promise<void> {
  const spool = await openFileSpool(dir, { maxBytes: 4 * 1024 * 1024, segmentBytes });
  for (const [i, pad] of pads.entries()) await spool.append([usbEvent(`e${i + 1}`, pad)]);
  await spool.close();
}

/** Every record of every segment file, in seq order (read with the spool's own decoder). */
export function locateRecords(dir: string): RecordLocation[] {
  const out: RecordLocation[] = [];
  for (const file of segmentNames(dir)) {
    for (const r of scanSegment(readFileSync(join(dir, file)), 0).records) out.push({ file, offset: r.offset, size: r.size, seq: r.seq });
  }
  return out;
}

export function segmentNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^spool-\d+\.log$/.test(n))
    .sort();
}

/** XORs bytes of the segment files, addressed as if the files were one run of bytes. */
export function flipBytes(dir: string, flips: readonly { at: number; xor: number }[]): { file: string; offset: number }[] {
  const files = segmentNames(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
  const total = files.reduce((n, f) => n + f.bytes.length, 0);
  const hits: { file: string; offset: number }[] = [];
  for (const { at, xor } of flips) {
    let pos = at % total;
    for (const f of files) {
      if (pos < f.bytes.length) {
        f.bytes[pos]! ^= xor;
        hits.push({ file: f.name, offset: pos });
        break;
      }
      pos -= f.bytes.length;
    }
  }
  for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
  return hits;
}

export function userEvents(events: readonly SpooledEvent[]): SpooledEvent[] {
  return events.filter((e) => e.type !== 'events.dropped');
}

export function dropReports(events: readonly SpooledEvent[]): SpooledEvent[] {
  return events.filter((e) => e.type === 'events.dropped');
}
