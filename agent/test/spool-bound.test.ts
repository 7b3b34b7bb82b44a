import { expect } from 'chai';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpooledEvent } from '../src/spool/spool.js';
import { dropReports, segmentNames, userEvents } from './support/spool-damage.js';
import { openFileSpool, readAll, removeDir, tempDir, usbEvent } from './support/spool-fixtures.js';

const BOUND = { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 };

function folderBytes(dir: string): number {
  return segmentNames(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/**
 * Checks the reports against what was appended: every seq above the ack is pending or inside a
 * pending report's range, and the reports' counts add up to the appended events that are gone.
 */
function checkAccounting(appendedEvents: readonly number[], events: readonly SpooledEvent[], ackedSeq: number, lastSeq: number): number {
  const reports = dropReports(events).filter((e) => e.data['reason'] === 'spool full');
  const present = new Set(events.map((e) => e.seq));
  for (const r of reports) {
    const { count, fromSeq, toSeq } = r.data as { count: number; fromSeq: number; toSeq: number };
    expect(fromSeq).to.be.greaterThan(ackedSeq);
    expect(count).to.be.within(1, toSeq - fromSeq + 1);
    expect(r.seq, 'a report comes after what it reports').to.be.greaterThan(toSeq);
  }
  for (let seq = ackedSeq + 1; seq <= lastSeq; seq++) {
    const covered = reports.some((r) => seq >= (r.data['fromSeq'] as number) && seq <= (r.data['toSeq'] as number));
    expect(present.has(seq) || covered, `seq ${seq} is pending or reported dropped`).to.equal(true);
    expect(present.has(seq) && covered, `seq ${seq} is not both pending and reported dropped`).to.equal(false);
  }
  const gone = appendedEvents.filter((s) => s > ackedSeq && !present.has(s)).length;
  const counted = reports.reduce((n, r) => n + (r.data['count'] as number), 0);
  expect(counted, 'the counts add up to the events gone').to.equal(gone);
  return counted;
}

describe('FileSpool disk bound', () => {
  let dir: string;

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => {
    removeDir(dir);
  });

  it('drops the oldest segment past maxBytes and reports each drop once, with its count', async () => {
    const spool = await openFileSpool(dir, BOUND);
    const appended: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const batch = await spool.append(Array.from({ length: 5 }, (_, k) => usbEvent(`e${i}-${k}`, 250)));
      appended.push(...batch.map((e) => e.seq));
      expect(folderBytes(dir)).to.be.at.most(BOUND.maxBytes);
      for (const f of segmentNames(dir)) seen.add(f);
    }
    const dropsDone = [...seen].filter((f) => !segmentNames(dir).includes(f)).length;
    // Every seq that is not an appended event is a report: exactly one per dropped segment.
    expect(spool.stats().lastSeq - appended.length).to.equal(dropsDone);
    const events = await readAll(spool);
    const reports = dropReports(events);
    expect(reports.length).to.be.greaterThan(5);
    for (const r of reports) expect(r).to.deep.include({ type: 'events.dropped', severity: 'high' });
    // Reports are themselves dropped in a long outage; their counts live on in later reports.
    const dropped = checkAccounting(appended, events, 0, spool.stats().lastSeq);
    expect(dropped).to.equal(spool.stats().droppedEvents);
    expect(userEvents(events).length + dropped).to.equal(appended.length);
    await spool.close();

    const again = await openFileSpool(dir, BOUND);
    expect((await readAll(again)).map((e) => e.seq)).to.deep.equal(events.map((e) => e.seq), 'reopening reports nothing new');
    await again.close();
  });

  it('counts only undelivered events: acked ones are not reported', async () => {
    const spool = await openFileSpool(dir, BOUND);
    for (let i = 0; i < 10; i++) await spool.append(Array.from({ length: 5 }, (_, k) => usbEvent(`a${i}-${k}`, 250)));
    await spool.ack(20);
    for (let i = 0; spool.stats().droppedEvents === 0; i++) await spool.append(Array.from({ length: 5 }, (_, k) => usbEvent(`b${i}-${k}`, 250)));
    const events = await readAll(spool);
    const first = dropReports(events)[0];
    expect(first?.data['fromSeq']).to.equal(21);
    const appended = userEvents(events).map((e) => e.seq);
    expect(checkAccounting([...appended, ...seqRange(21, (first?.data['toSeq'] as number) ?? 0)], events, 20, spool.stats().lastSeq)).to.equal(
      spool.stats().droppedEvents,
    );
    await spool.close();
  });

  it('regression: a crash between the drop report and the deletion reports nothing twice', async () => {
    const spool = await openFileSpool(dir, BOUND);
    let restored: string | null = null;
    for (let i = 0; i < 200 && !restored; i++) {
      const before = new Map(segmentNames(dir).map((f) => [f, readFileSync(join(dir, f))]));
      const dropsBefore = spool.stats().droppedEvents;
      await spool.append(Array.from({ length: 5 }, (_, k) => usbEvent(`e${i}-${k}`, 250)));
      if (spool.stats().droppedEvents > dropsBefore) {
        // Put the dropped segment back, as if the unlink had never reached the disk.
        const gone = [...before.keys()].find((f) => !readdirSync(dir).includes(f));
        expect(gone).to.be.a('string');
        writeFileSync(join(dir, gone!), before.get(gone!)!, { mode: 0o600 });
        restored = gone!;
      }
    }
    expect(restored).to.be.a('string');
    const events = await readAll(spool);
    await spool.close();

    const again = await openFileSpool(dir, BOUND);
    expect(readdirSync(dir)).not.to.include(restored);
    expect((await readAll(again)).map((e) => e.seq)).to.deep.equal(events.map((e) => e.seq));
    expect(again.stats().droppedEvents).to.equal(0);
    await again.close();
  });
});

function seqRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
