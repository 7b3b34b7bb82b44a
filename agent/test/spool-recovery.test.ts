import { expect } from 'chai';
import fc from 'fast-check';
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSpool } from '../src/spool/file-spool.js';
import { segmentName } from '../src/spool/segment.js';
import { dropReports, flipBytes, locateRecords, segmentNames, userEvents, writeEvents, type RecordLocation } from './support/spool-damage.js';
import { FIXED_NOW, readAll, recordingLogger, removeDir, tagOf, tempDir, usbEvent } from './support/spool-fixtures.js';

const SEGMENT_BYTES = 4096;
const pads = fc.array(fc.nat(400), { minLength: 1, maxLength: 40 });

async function reopen(dir: string) {
  const logger = recordingLogger();
  const spool = await FileSpool.open(dir, { clock: () => FIXED_NOW, logger, maxBytes: 4 * 1024 * 1024, segmentBytes: SEGMENT_BYTES });
  return { spool, logger, events: await readAll(spool) };
}

describe('FileSpool crash recovery', () => {
  it('a torn last record is cut off and everything before it kept (property)', async () => {
    const cuts = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1 << 20 }));
    await fc.assert(
      fc.asyncProperty(pads, cuts, fc.boolean(), async (sizes, cutBy, crashed) => {
        const dir = tempDir();
        try {
          await writeEvents(dir, sizes, SEGMENT_BYTES);
          // A crash leaves the state as it was before the torn write; a clean close recorded it.
          if (crashed) writeFileSync(join(dir, 'state.json'), JSON.stringify({ v: 1, ackedSeq: 0, nextSeq: 1 }));
          const lastFile = segmentNames(dir).at(-1)!;
          const path = join(dir, lastFile);
          const size = statSync(path).size;
          const newSize = size - 1 - ((cutBy - 1) % size);
          truncateSync(path, newSize);
          const kept = locateRecords(dir).filter((r) => r.file !== lastFile || r.offset + r.size <= newSize);
          const wholeEnd = Math.max(0, ...kept.filter((r) => r.file === lastFile).map((r) => r.offset + r.size));
          const lastKept = kept.at(-1)?.seq ?? 0;

          const { spool, events } = await reopen(dir);
          expect(userEvents(events).map((e) => e.seq)).to.deep.equal(kept.map((r) => r.seq));
          expect(userEvents(events).map(tagOf)).to.deep.equal(kept.map((r) => `e${r.seq}`));
          expect(spool.stats().truncatedBytes).to.equal(newSize - wholeEnd);
          expect(spool.stats().corruptBytes).to.equal(0);
          expect(statSync(path).size).to.equal(crashed ? wholeEnd : spool.stats().bytes - kept.filter((r) => r.file !== lastFile).reduce((n, r) => n + r.size, 0));
          let next: number;
          if (crashed) {
            // The torn seqs were never durable, so never sent: they are free again.
            expect(dropReports(events)).to.deep.equal([]);
            next = lastKept + 1;
          } else {
            // The state knew those seqs were durable: they are lost and reported, never reused.
            expect(dropReports(events).map((e) => e.data)).to.deep.equal([
              { count: sizes.length - lastKept, fromSeq: lastKept + 1, toSeq: sizes.length, reason: 'spool corrupt', file: lastFile, offset: wholeEnd },
            ]);
            next = sizes.length + 2;
          }
          expect((await spool.append([usbEvent('after')]))[0]?.seq).to.equal(next);
          await spool.close();

          const again = await reopen(dir);
          expect(again.events.map((e) => e.seq)).to.deep.equal([...events.map((e) => e.seq), next]);
          expect(again.spool.stats().truncatedBytes).to.equal(0);
          await again.spool.close();
        } finally {
          removeDir(dir);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('random byte flips: open never throws, every untouched record survives, the rest is reported once (property)', async () => {
    const flips = fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(400), { minLength: 2, maxLength: 40 }), flips, async (sizes, flipList) => {
        const dir = tempDir();
        try {
          await writeEvents(dir, sizes, SEGMENT_BYTES);
          const records = locateRecords(dir);
          const hits = flipBytes(dir, flipList);
          const touched = new Set(
            records.filter((r) => hits.some((h) => h.file === r.file && h.offset >= r.offset && h.offset < r.offset + r.size)).map((r) => r.seq),
          );
          const untouched = records.filter((r) => !touched.has(r.seq));
          // Damage at the end of the newest segment is cut off like a torn write; the state file
          // (written at close) knows those seqs were durable, so they are reported like the rest.
          const reportedSeqs = records.map((r) => r.seq).filter((s) => touched.has(s));

          const { spool, events } = await reopen(dir);
          expect(userEvents(events).map((e) => e.seq)).to.deep.equal(untouched.map((r) => r.seq));
          expect(userEvents(events).map(tagOf)).to.deep.equal(untouched.map((r) => `e${r.seq}`));
          const reports = dropReports(events);
          const covered = reports.flatMap((e) => seqRange(e.data['fromSeq'] as number, e.data['toSeq'] as number));
          expect(covered).to.deep.equal(reportedSeqs);
          expect(reports.map((e) => e.data['count'] as number).reduce((a, b) => a + b, 0)).to.equal(reportedSeqs.length);
          for (const e of reports) expect(e.data['reason']).to.equal('spool corrupt');
          const seqs = events.map((e) => e.seq);
          expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
          expect(new Set(seqs).size).to.equal(seqs.length);
          await spool.close();

          const again = await reopen(dir);
          expect(again.events.map((e) => e.seq)).to.deep.equal(seqs, 'a second open reports nothing new');
          await again.spool.close();
        } finally {
          removeDir(dir);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('damage found while open (after the open-time scan) is skipped and reported', async () => {
    const dir = tempDir();
    try {
      await writeEvents(dir, Array.from({ length: 30 }, () => 200), SEGMENT_BYTES);
      const { spool } = await reopen(dir);
      const victim = locateRecords(dir).find((r) => r.seq === 3)!;
      const path = join(dir, victim.file);
      const bytes = readFileSync(path);
      bytes[victim.offset + victim.size - 2]! ^= 0x40;
      writeFileSync(path, bytes);

      const events = await readAll(spool);
      expect(userEvents(events).map((e) => e.seq)).to.deep.equal(seqRange(1, 30).filter((s) => s !== 3));
      expect(dropReports(events).map((e) => e.data)).to.deep.equal([
        { count: 1, fromSeq: 3, toSeq: 3, reason: 'spool corrupt', file: victim.file, offset: victim.offset, bytes: victim.size },
      ]);
      await spool.close();
      const again = await reopen(dir);
      expect(dropReports(again.events)).to.have.length(1);
      await again.spool.close();
    } finally {
      removeDir(dir);
    }
  });

  /** Each row: damage done to a closed spool of 30 events in 3+ segments, and the seqs it loses. */
  const DAMAGE: { name: string; damage(dir: string, files: string[]): void; lost(records: RecordLocation[], files: string[]): number[] }[] = [
    {
      name: 'zero-filled end of the newest segment (what ext4 can leave after a power cut)',
      damage: (dir, files) => appendFileSync(join(dir, files.at(-1)!), Buffer.alloc(4096)),
      lost: () => [],
    },
    {
      name: 'empty newest segment (a crash right after a rotation)',
      damage: (dir) => writeFileSync(join(dir, segmentName(31)), ''),
      lost: () => [],
    },
    {
      name: 'leftover state.json.tmp (a crash while saving the state)',
      damage: (dir) => writeFileSync(join(dir, 'state.json.tmp'), '{"v":1,"ack'),
      lost: () => [],
    },
    {
      name: 'oldest segment overwritten with garbage',
      damage: (dir, files) => writeFileSync(join(dir, files[0]!), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 7) & 0xff))),
      lost: (records, files) => records.filter((r) => r.file === files[0]).map((r) => r.seq),
    },
    {
      name: 'oldest segment cut short by the file system',
      damage: (dir, files) => truncateSync(join(dir, files[0]!), 1000),
      lost: (records, files) => records.filter((r) => r.file === files[0] && r.offset + r.size > 1000).map((r) => r.seq),
    },
    {
      name: 'oldest segment emptied',
      damage: (dir, files) => truncateSync(join(dir, files[0]!), 0),
      lost: (records, files) => records.filter((r) => r.file === files[0]).map((r) => r.seq),
    },
  ];

  for (const row of DAMAGE) {
    it(`recovers from: ${row.name}`, async () => {
      const dir = tempDir();
      try {
        await writeEvents(dir, Array.from({ length: 30 }, () => 200), SEGMENT_BYTES);
        const files = segmentNames(dir);
        expect(files.length).to.be.at.least(3);
        const records = locateRecords(dir);
        row.damage(dir, files);
        const lost = row.lost(records, files);

        const { spool, events } = await reopen(dir);
        expect(userEvents(events).map((e) => e.seq)).to.deep.equal(records.map((r) => r.seq).filter((s) => !lost.includes(s)));
        const reports = dropReports(events);
        expect(reports.flatMap((r) => seqRange(r.data['fromSeq'] as number, r.data['toSeq'] as number))).to.deep.equal(lost);
        expect(reports.reduce((n, r) => n + (r.data['count'] as number), 0)).to.equal(lost.length);
        expect((await spool.append([usbEvent('next')]))[0]?.seq).to.equal(30 + reports.length + 1);
        await spool.close();
        const again = await reopen(dir);
        expect(dropReports(again.events)).to.have.length(reports.length, 'reported once');
        await again.spool.close();
      } finally {
        removeDir(dir);
      }
    });
  }

  it('ignores unknown files and logs them', async () => {
    const dir = tempDir();
    try {
      await writeEvents(dir, [10, 10], SEGMENT_BYTES);
      writeFileSync(join(dir, 'spool-old.log'), 'junk');
      const { spool, logger, events } = await reopen(dir);
      expect(events.map((e) => e.seq)).to.deep.equal([1, 2]);
      expect(logger.warnings.map((w) => w.message)).to.include('unexpected file in the spool folder; ignored');
      await spool.close();
    } finally {
      removeDir(dir);
    }
  });
});

function seqRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
