import { expect } from 'chai';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { FileSpool } from '../src/spool/file-spool.js';
import type { SpoolError } from '../src/spool/spool-error.js';
import {
  FIXED_NOW,
  openFileSpool,
  readAll,
  recordingLogger,
  removeDir,
  segmentFiles,
  tagOf,
  tempDir,
  usbEvent,
} from './support/spool-fixtures.js';

describe('FileSpool on disk', () => {
  let dir: string;

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => {
    removeDir(dir);
  });

  it('keeps un-acked events across a restart and continues the seqs', async () => {
    const a = await openFileSpool(dir);
    await a.append(['a', 'b', 'c', 'd'].map((t) => usbEvent(t)));
    await a.ack(2);
    await a.close();

    const b = await openFileSpool(dir);
    expect((await readAll(b)).map(tagOf)).to.deep.equal(['c', 'd']);
    expect(b.stats()).to.include({ ackedSeq: 2, lastSeq: 4, depth: 2 });
    expect((await b.append([usbEvent('e')]))[0]?.seq).to.equal(5);
    await b.close();
  });

  it('keeps events that were never closed (the process just stopped)', async () => {
    const a = await openFileSpool(dir);
    await a.append(['a', 'b'].map((t) => usbEvent(t)));
    // No close(): what append returned must already be on disk. Remove the lock as if `a`'s
    // process had died.
    unlinkSync(join(dir, 'spool.lock'));
    const b = await openFileSpool(dir);
    expect((await readAll(b)).map(tagOf)).to.deep.equal(['a', 'b']);
    await b.close();
    await a.close();
  });

  it('continues the seqs when the state file is lost, even with everything acked', async () => {
    const a = await openFileSpool(dir, { maxBytes: 256 * 1024, segmentBytes: 8 * 1024 });
    for (let i = 0; i < 40; i++) await a.append([usbEvent(`e${i}`, 100)]);
    await a.ack(40);
    await a.close();
    expect(segmentFiles(dir)).to.have.length(1, 'acked segments are deleted, the active one stays');
    unlinkSync(join(dir, 'state.json'));

    const b = await openFileSpool(dir);
    // Without the state, the acked events still in the active segment are sent again (the
    // server drops them as duplicates); what matters is that no seq is handed out twice.
    expect((await readAll(b)).every((e) => e.seq <= 40)).to.equal(true);
    expect((await b.append([usbEvent('next')]))[0]?.seq).to.equal(41);
    await b.close();
  });

  it('deletes acked segments and only those', async () => {
    const spool = await openFileSpool(dir, { maxBytes: 1024 * 1024, segmentBytes: 4096 });
    for (let i = 0; i < 60; i++) await spool.append([usbEvent(`e${i}`, 200)]);
    const before = segmentFiles(dir).length;
    expect(before).to.be.greaterThan(3);
    await spool.ack(30);
    const after = segmentFiles(dir).length;
    expect(after).to.be.lessThan(before);
    expect((await readAll(spool)).map((e) => e.seq)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 31));
    await spool.ack(60);
    expect(segmentFiles(dir)).to.have.length(1);
    await spool.close();
  });

  it('refuses a second opener while the first is alive, and takes over a dead one\'s lock', async () => {
    const a = await openFileSpool(dir);
    const err = await openFileSpool(dir).then(
      () => null,
      (e: SpoolError) => e,
    );
    expect(err?.code).to.equal('PORTCULLIS_ERR_SPOOL_LOCKED');
    await a.close();
    expect(existsSync(join(dir, 'spool.lock'))).to.equal(false);

    const bootTime = Math.round(Date.now() / 1000 - uptime());
    // Each row: a lock left behind that must not keep the spool closed.
    for (const stale of [`99999999 ${bootTime}` /* process gone */, `${process.pid} ${bootTime - 3600}` /* earlier boot */, '']) {
      writeFileSync(join(dir, 'spool.lock'), stale);
      const logger = recordingLogger();
      const b = await FileSpool.open(dir, { clock: () => FIXED_NOW, logger });
      expect(logger.warnings.map((w) => w.message), stale).to.include('spool lock left by a process that is gone; taking it over');
      expect(readFileSync(join(dir, 'spool.lock'), 'utf8').split(' ')[0]).to.equal(String(process.pid));
      await b.close();
    }
  });

  it('creates the folder 0700 and its files 0600', async () => {
    const sub = join(dir, 'spool');
    const spool = await openFileSpool(sub);
    await spool.append([usbEvent('a')]);
    await spool.close();
    expect(statSync(sub).mode & 0o777).to.equal(0o700);
    for (const name of [...segmentFiles(sub), 'state.json']) expect(statSync(join(sub, name)).mode & 0o777, name).to.equal(0o600);
  });

  it('warns about a corrupt state file and recovers from the segments', async () => {
    const a = await openFileSpool(dir);
    await a.append(['a', 'b', 'c'].map((t) => usbEvent(t)));
    await a.close();
    writeFileSync(join(dir, 'state.json'), '{"v":1,"ackedSeq":');
    const logger = recordingLogger();
    const b = await FileSpool.open(dir, { clock: () => FIXED_NOW, logger });
    expect(logger.warnings.map((w) => w.message)).to.include('spool state file is corrupt; recovering from the segments');
    expect((await readAll(b)).map(tagOf)).to.deep.equal(['a', 'b', 'c']);
    expect((await b.append([usbEvent('d')]))[0]?.seq).to.equal(4);
    await b.close();
  });

  it('never reuses seqs the server acknowledged beyond its own (its files were lost)', async () => {
    const logger = recordingLogger();
    const spool = await FileSpool.open(dir, { clock: () => FIXED_NOW, logger });
    await spool.append([usbEvent('a')]);
    await spool.ack(500);
    expect((await spool.append([usbEvent('b')]))[0]?.seq).to.equal(501);
    await spool.close();
    const again = await openFileSpool(dir);
    expect((await again.append([usbEvent('c')]))[0]?.seq).to.equal(502);
    await again.close();
    expect(logger.warnings.map((w) => w.message)).to.include('the server acknowledged seqs beyond the spool; continuing after them');
  });

  it('group commit: concurrent appends share fsyncs (measured with and without)', async () => {
    const spool = await openFileSpool(dir);
    const sequential = 300;
    let t = performance.now();
    for (let i = 0; i < sequential; i++) await spool.append([usbEvent(`s${i}`)]);
    const seqMs = performance.now() - t;
    expect(spool.stats().commits).to.equal(sequential, 'one append at a time: one fsync each');

    const concurrent = 4800;
    const commitsBefore = spool.stats().commits;
    t = performance.now();
    // 16 producers, each waiting for its own append before the next (like 16 device handlers).
    await Promise.all(
      Array.from({ length: 16 }, async (_, p) => {
        for (let i = 0; i < concurrent / 16; i++) await spool.append([usbEvent(`p${p}-${i}`)]);
      }),
    );
    const groupMs = performance.now() - t;
    const groupCommits = spool.stats().commits - commitsBefore;
    expect(groupCommits).to.be.lessThan(concurrent / 4);

    // A burst: every append in flight at once (a rescan reporting many devices).
    const burst = 5000;
    const burstCommitsBefore = spool.stats().commits;
    t = performance.now();
    await Promise.all(Array.from({ length: burst }, (_, i) => spool.append([usbEvent(`b${i}`)])));
    const burstMs = performance.now() - t;
    const burstCommits = spool.stats().commits - burstCommitsBefore;
    await spool.close();

    const total = sequential + concurrent + burst;
    const reopened = await openFileSpool(dir);
    const all = await readAll(reopened);
    expect(all.map((e) => e.seq)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
    await reopened.close();
    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    console.log(
      `      spool appends/s: one at a time ${perSecond(sequential, seqMs)} (1 fsync each); ` +
        `16 concurrent producers ${perSecond(concurrent, groupMs)} (${(concurrent / groupCommits).toFixed(1)} per fsync); ` +
        `burst of ${burst} ${perSecond(burst, burstMs)} (${burstCommits} fsyncs)`,
    );
  });

  it('fsyncDelayMs gathers a trickle of appends into one commit', async () => {
    const spool = await openFileSpool(dir, { fsyncDelayMs: 20 });
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      appends.push(spool.append([usbEvent(`t${i}`)]));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(appends);
    expect(spool.stats().commits).to.equal(1);
    await spool.close();
  });
});
