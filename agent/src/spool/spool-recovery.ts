import { chmod, mkdir, open, readFile, readdir, unlink } from 'node:fs/promises';
import type { DropReport, SpoolLogger } from './spool.js';
import { decodeEventPayload, readDropReport } from './spool-events.js';
import { DIR_MODE, FILE_MODE, readSpoolState, removeStaleTmp } from './spool-state.js';
import { acquireSpoolLock, releaseSpoolLock } from './spool-lock.js';
import { RecordKinds, payloadAt, scanSegment, type Hole } from './record-format.js';
import { addHole, addSeq, holeAt, newSegment, parseSegmentName, type Segment } from './segment.js';
import { readWholeSegment } from './segment-reader.js';

/** The spool as found on disk, repaired where repair is safe. */
export interface RecoveredSpool {
  readonly segments: Segment[];
  readonly ackedSeq: number;
  readonly nextSeq: number;
  /** Corruption that no earlier open reported: one events.dropped is owed for each. */
  readonly newReports: DropReport[];
  /** reportKey of every damaged range already reported. */
  readonly reported: Set<string>;
  readonly corruptBytes: number;
  readonly truncatedBytes: number;
}

export interface FoundHole {
  readonly segment: Segment;
  readonly hole: Hole;
}

/**
 * Scans every segment, oldest first, and never throws on what it finds in them:
 * - a torn or damaged end of the LAST segment (no valid record after it) is cut off: it is the
 *   write a crash interrupted, never fsynced, so no seq in it was reported durable or sent;
 * - damage anywhere else is skipped up to the next valid record (record-format.ts `resync`) and
 *   stays in the file as a hole readers jump over; the seqs it held are reported once;
 * - segments wholly at or below the ack, or below a 'spool full' report, are deleted (a crash
 *   came between the ack or report and the deletion).
 */
export async function recoverSpool(dir: string, logger: SpoolLogger): Promise<RecoveredSpool> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
  await acquireSpoolLock(dir, logger);
  try {
    return await recoverLocked(dir, logger);
  } catch (err) {
    await releaseSpoolLock(dir);
    throw err;
  }
}

async function recoverLocked(dir: string, logger: SpoolLogger): Promise<RecoveredSpool> {
  await removeStaleTmp(dir);
  const state = await readSpoolState(dir, logger);
  const files = await listSegmentFiles(dir, logger);

  const segments: Segment[] = [];
  const known: DropReport[] = [];
  let holes: FoundHole[] = [];
  let lastSeq = 0;
  let corruptBytes = 0;
  let truncatedBytes = 0;
  for (const [i, firstSeq] of files.entries()) {
    const segment = newSegment(dir, firstSeq);
    let buf: Buffer;
    try {
      await chmod(segment.path, FILE_MODE);
      buf = await readFile(segment.path);
    } catch (err) {
      logger.warn('spool segment unreadable; its events are skipped', { file: segment.name, error: (err as Error).message });
      continue;
    }
    const scan = scanSegment(buf, lastSeq);
    for (const r of scan.records) {
      addSeq(segment.runs, r.seq);
      if (r.kind === RecordKinds.report) {
        const report = readDropReport(decodeEventPayload(r.seq, payloadAt(buf, r.offset, r.size)));
        if (report) {
          known.push(report);
          segment.reports.push({ seq: r.seq, report });
        }
      }
    }
    lastSeq = scan.records.at(-1)?.seq ?? lastSeq;
    segment.size = buf.length;
    const damaged = [...scan.holes];
    if (scan.tail && i === files.length - 1 && (await truncateTail(segment, scan.tail, logger))) {
      truncatedBytes += scan.tail.end - scan.tail.start;
      segment.size = scan.tail.start;
    } else if (scan.tail) {
      damaged.push(scan.tail);
    }
    for (const hole of damaged) {
      corruptBytes += hole.end - hole.start;
      segment.holes.push({ start: hole.start, end: hole.end });
      holes.push({ segment, hole });
      logger.warn('spool segment damaged; skipped to the next valid record', {
        file: segment.name,
        offset: hole.start,
        droppedBytes: hole.end - hole.start,
      });
    }
    segments.push(segment);
  }

  const state0 = state ?? { ackedSeq: 0, nextSeq: 1 };
  let ackedSeq = Math.max(state0.ackedSeq, (segments[0]?.firstSeq ?? 1) - 1);
  const dropFloor = Math.max(0, ...known.filter((r) => r.reason === 'spool full').map((r) => r.toSeq));
  const floor = Math.max(ackedSeq, dropFloor);
  while (segments.length > 1 && (segments[1]?.firstSeq ?? 0) - 1 <= floor) {
    const gone = segments.shift();
    if (gone) await unlinkQuietly(gone, logger);
  }
  holes = holes.filter((h) => segments.includes(h.segment));
  ackedSeq = Math.max(ackedSeq, (segments[0]?.firstSeq ?? 1) - 1);
  for (const [i, segment] of segments.entries()) {
    // Seqs a segment should hold up to the next one's first, with no bytes left to show for
    // them (the file was cut short, or one between could not be read): lost as well.
    const following = segments[i + 1];
    const last = segment.runs.at(-1)?.to ?? null;
    const tailDamaged = holes.some((h) => h.segment === segment && h.hole.nextSeq === null);
    if (following && !tailDamaged && Math.max(last ?? segment.firstSeq - 1, ackedSeq) < following.firstSeq - 1) {
      holes.push({ segment, hole: { start: segment.size, end: segment.size, prevSeq: last, nextSeq: null } });
      logger.warn('spool segment ends before the next one begins: events are missing', { file: segment.name, lastSeq: last, next: following.name });
    }
  }
  const derivedNext = Math.max(lastSeq + 1, files.at(-1) ?? 1, ackedSeq + 1);
  const nextSeq = Math.max(state0.nextSeq, derivedNext);
  const reported = new Set(known.filter((r) => r.reason === 'spool corrupt').map((r) => reportKey(r.file ?? '', r.offset ?? -1)));
  const newReports = corruptionReports(holes, segments, reported, ackedSeq, nextSeq);
  if (state0.nextSeq > derivedNext) {
    // The state only ever records durable seqs (or acked ones, which derivedNext covers): these
    // were on disk and are gone, e.g. damage at the end of the newest segment was cut off.
    const newest = segments.at(-1);
    const lost: DropReport = {
      count: state0.nextSeq - derivedNext,
      fromSeq: derivedNext,
      toSeq: state0.nextSeq - 1,
      reason: 'spool corrupt',
      ...(newest ? { file: newest.name, offset: newest.size } : {}),
    };
    logger.warn('spool state is ahead of the segments: durable events are missing', { ...lost });
    newReports.push(lost);
  }
  return { segments, ackedSeq, nextSeq, newReports, reported, corruptBytes, truncatedBytes };
}

/** Identifies a damaged range across opens, so it is reported once. */
export function reportKey(file: string, offset: number): string {
  return `${file}@${offset}`;
}

/** One report per hole not yet reported, covering the seqs between its valid neighbours. */
export function corruptionReports(
  holes: readonly FoundHole[],
  segments: readonly Segment[],
  reported: ReadonlySet<string>,
  ackedSeq: number,
  nextSeq: number,
): DropReport[] {
  const reports: DropReport[] = [];
  for (const { segment, hole } of holes) {
    const following = segments[segments.indexOf(segment) + 1];
    const fromSeq = Math.max((hole.prevSeq ?? segment.firstSeq - 1) + 1, ackedSeq + 1);
    const toSeq = (hole.nextSeq ?? following?.firstSeq ?? nextSeq) - 1;
    if (toSeq < fromSeq || reported.has(reportKey(segment.name, hole.start))) continue;
    reports.push({
      count: toSeq - fromSeq + 1,
      fromSeq,
      toSeq,
      reason: 'spool corrupt',
      file: segment.name,
      offset: hole.start,
      bytes: hole.end - hole.start,
    });
  }
  return reports;
}

/** Cuts the torn end off and makes the cut durable; false (and a warning) when it cannot. */
async function truncateTail(segment: Segment, tail: Hole, logger: SpoolLogger): Promise<boolean> {
  logger.warn('spool segment ends in a torn or damaged record; cut off', {
    file: segment.name,
    offset: tail.start,
    droppedBytes: tail.end - tail.start,
  });
  try {
    const fh = await open(segment.path, 'r+');
    try {
      await fh.truncate(tail.start);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    logger.warn('spool segment could not be truncated; the damage is skipped instead', { file: segment.name, error: (err as Error).message });
    return false;
  }
}

async function unlinkQuietly(segment: Segment, logger: SpoolLogger): Promise<void> {
  try {
    await unlink(segment.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn('spool segment could not be deleted', { file: segment.name, error: (err as Error).message });
    }
  }
}

/** First seqs of the segment files, ascending; other files are left alone. */
async function listSegmentFiles(dir: string, logger: SpoolLogger): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await readdir(dir)) {
    const seq = parseSegmentName(name);
    if (seq !== null) seqs.push(seq);
    else if (name.startsWith('spool-')) logger.warn('unexpected file in the spool folder; ignored', { dir, file: name });
  }
  return seqs.sort((a, b) => a - b);
}

/**
 * Scans a segment again after a read met bytes that are no record at `offset` (the disk changed
 * under the open spool). Updates the segment's seqs, holes and reports in place and returns the
 * new damage, for corruptionReports. The end of the segment is never cut here: it is durable and
 * may be followed by appends.
 */
export async function rescanSegment(segment: Segment, afterSeq: number, offset: number): Promise<{ holes: FoundHole[]; newBytes: number }> {
  const buf = await readWholeSegment(segment);
  const scan = scanSegment(buf, afterSeq);
  const damage = scan.tail ? [...scan.holes, scan.tail] : [...scan.holes];
  if (buf.length < segment.size) damage.push({ start: buf.length, end: segment.size, prevSeq: scan.records.at(-1)?.seq ?? null, nextSeq: null });
  if (!damage.some((h) => h.start <= offset && offset < h.end)) {
    // A record with a valid CRC whose payload is no event: that record alone is the damage.
    const i = scan.records.findIndex((r) => r.offset === offset);
    const record = scan.records[i];
    damage.push({
      start: offset,
      end: record ? offset + record.size : segment.size,
      prevSeq: scan.records[i - 1]?.seq ?? null,
      nextSeq: scan.records[i + 1]?.seq ?? null,
    });
  }
  const damaged = (at: number) => damage.some((h) => h.start <= at && at < h.end);
  segment.runs.length = 0;
  for (const r of scan.records) if (!damaged(r.offset)) addSeq(segment.runs, r.seq);
  const kept = segment.reports.filter((r) => segment.runs.some((run) => run.from <= r.seq && r.seq <= run.to));
  segment.reports.splice(0, segment.reports.length, ...kept);
  let newBytes = 0;
  for (const hole of damage) {
    if (holeAt(segment, hole.start)) continue;
    addHole(segment, hole);
    newBytes += hole.end - hole.start;
  }
  return { holes: damage.map((hole) => ({ segment, hole })), newBytes };
}
