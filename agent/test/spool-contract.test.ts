import { expect } from 'chai';
import { MemorySpool } from '../src/spool/memory-spool.js';
import type { Spool } from '../src/spool/spool.js';
import { SpoolError } from '../src/spool/spool-error.js';
import { openFileSpool, readAll, removeDir, tagOf, tempDir, usbEvent } from './support/spool-fixtures.js';

/** Every Spool back-end runs the same cases (STYLE.md §4). */
const BACKENDS: { name: string; open(): Promise<{ spool: Spool; cleanup(): void }> }[] = [
  {
    name: 'FileSpool',
    async open() {
      const dir = tempDir();
      const spool = await openFileSpool(dir);
      return { spool, cleanup: () => removeDir(dir) };
    },
  },
  {
    name: 'MemorySpool',
    async open() {
      return { spool: new MemorySpool(), cleanup: () => undefined };
    },
  },
];

async function rejection(p: Promise<unknown>): Promise<SpoolError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(SpoolError);
    return err as SpoolError;
  }
  throw new Error('expected a rejection');
}

for (const backend of BACKENDS) {
  describe(`Spool contract: ${backend.name}`, () => {
    let spool: Spool;
    let cleanup: () => void;

    beforeEach(async () => {
      ({ spool, cleanup } = await backend.open());
    });

    afterEach(async () => {
      await spool.close();
      cleanup();
    });

    it('assigns seqs 1, 2, 3… with one call getting consecutive seqs', async () => {
      const a = await spool.append([usbEvent('a'), usbEvent('b')]);
      const b = await spool.append([usbEvent('c')]);
      expect(a.map((e) => e.seq)).to.deep.equal([1, 2]);
      expect(b.map((e) => e.seq)).to.deep.equal([3]);
      expect(a[0]).to.deep.include({ type: 'device.blocked', severity: 'medium', occurredAt: '2026-11-25T10:00:00Z' });
      expect(spool.depth()).to.equal(3);
    });

    it('pending returns the oldest first, honours limit and afterSeq', async () => {
      await spool.append(['a', 'b', 'c', 'd', 'e'].map((t) => usbEvent(t)));
      expect((await spool.pending(2)).map(tagOf)).to.deep.equal(['a', 'b']);
      expect((await spool.pending(2, 2)).map(tagOf)).to.deep.equal(['c', 'd']);
      expect((await spool.pending(10, 4)).map(tagOf)).to.deep.equal(['e']);
      expect(await spool.pending(10, 5)).to.deep.equal([]);
    });

    it('ack removes everything up to the seq; an older ack is ignored', async () => {
      await spool.append(['a', 'b', 'c', 'd'].map((t) => usbEvent(t)));
      await spool.ack(2);
      expect((await spool.pending(10)).map((e) => e.seq)).to.deep.equal([3, 4]);
      await spool.ack(1);
      expect(spool.depth()).to.equal(2);
      expect(spool.stats().ackedSeq).to.equal(2);
      await spool.ack(4);
      expect(spool.depth()).to.equal(0);
      expect(await spool.pending(10)).to.deep.equal([]);
      expect((await spool.append([usbEvent('e')]))[0]?.seq).to.equal(5);
    });

    it('refuses an event the server would refuse, without using a seq', async () => {
      // Each row: one way the server's parser refuses an event.
      const bad = [
        { ...usbEvent('x'), type: 'Not A Type' },
        { ...usbEvent('x'), severity: 'urgent' as 'high' },
        { ...usbEvent('x'), occurredAt: '2026-11-25' },
        { ...usbEvent('x'), data: { big: 'x'.repeat(20 * 1024) } },
      ];
      for (const event of bad) {
        const err = await rejection(spool.append([usbEvent('ok'), event]));
        expect(err.code).to.equal('PORTCULLIS_ERR_SPOOL_EVENT_INVALID');
      }
      expect((await spool.append([usbEvent('ok')]))[0]?.seq).to.equal(1);
    });

    it('refuses bad arguments with a code', async () => {
      expect((await rejection(spool.pending(0))).code).to.equal('PORTCULLIS_ERR_SPOOL_ARGUMENT_INVALID');
      expect((await rejection(spool.ack(-1))).code).to.equal('PORTCULLIS_ERR_SPOOL_ARGUMENT_INVALID');
    });

    it('1000 concurrent appends get unique, contiguous seqs', async () => {
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => spool.append([usbEvent(`e${i}`)])));
      const seqs = results.map((r) => r[0]?.seq ?? 0).sort((a, b) => a - b);
      expect(seqs).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i + 1));
      const all = await readAll(spool);
      expect(all.map((e) => e.seq)).to.deep.equal(seqs);
      // Each event sits at the seq its append returned.
      for (const [i, r] of results.entries()) expect(tagOf(all[(r[0]?.seq ?? 0) - 1]!)).to.equal(`e${i}`);
    });

    it('is closed after close()', async () => {
      await spool.append([usbEvent('a')]);
      await spool.close();
      expect((await rejection(spool.append([usbEvent('b')]))).code).to.equal('PORTCULLIS_ERR_SPOOL_CLOSED');
      expect((await rejection(spool.pending(1))).code).to.equal('PORTCULLIS_ERR_SPOOL_CLOSED');
    });
  });
}
