import { expect } from 'chai';
import type { FileSpool } from '../src/spool/file-spool.js';
import type { SpooledEvent } from '../src/spool/spool.js';
import { dropReports, userEvents } from './support/spool-damage.js';
import { openFileSpool, removeDir, tagOf, tempDir, usbEvent } from './support/spool-fixtures.js';
import { FakeEventServer, runLink, type LinkOptions } from './support/spool-link-sim.js';

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Appends `total` events in small batches with short pauses; returns what append gave back. */
async function produce(spool: FileSpool, total: number, random: () => number, pad: number): Promise<SpooledEvent[]> {
  const out: SpooledEvent[] = [];
  while (out.length < total) {
    const n = Math.min(total - out.length, 1 + Math.floor(random() * 5));
    out.push(...(await spool.append(Array.from({ length: n }, (_, i) => usbEvent(`t${out.length + i}`, pad)))));
    if (random() < 0.2) await new Promise((resolve) => setTimeout(resolve, random() * 3));
  }
  return out;
}

describe('FileSpool behind a flaky link', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = tempDir('spool-link-');
  });

  afterEach(() => {
    removeDir(dir);
  });

  it('every event reaches the server at least once, and exactly once after its dedup by seq', async () => {
    const seed = Number(process.env['SPOOL_TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const spool = await openFileSpool(dir, { segmentBytes: 32 * 1024 });
    const server = new FakeEventServer(false);
    let produced: SpooledEvent[] | null = null;
    const options: LinkOptions = { random, window: 3, batchSize: 40, disconnectRate: 0.15, maxDelayMs: 4 };
    const [events, link] = await Promise.all([
      produce(spool, 3000, random, 50).then((e) => (produced = e)),
      runLink(spool, server, options, () => produced !== null && spool.depth() === 0),
    ]);
    await spool.close();

    expect(server.stored.size, `seed ${seed}`).to.equal(events.length);
    for (const e of events) expect(tagOf(server.stored.get(e.seq)!), `seed ${seed}: seq ${e.seq}`).to.equal(tagOf(e));
    expect(link.reconnects, 'the connection did drop').to.be.greaterThan(0);
    expect(server.duplicates, 'resends after a drop reached the server twice').to.be.greaterThan(0);
    expect(server.received).to.equal(server.stored.size + server.duplicates);
    expect(spool.stats().depth).to.equal(0);
  });

  it('after an outage that overflowed the spool, the reports let the server ack past the gap', async () => {
    const seed = Number(process.env['SPOOL_TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const spool = await openFileSpool(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    const server = new FakeEventServer(true);
    let produced: SpooledEvent[] | null = null;
    const options: LinkOptions = { random, window: 2, batchSize: 50, disconnectRate: 0.1, maxDelayMs: 3, offline: () => produced === null };
    const [events] = await Promise.all([
      produce(spool, 1500, random, 250).then((e) => (produced = e)),
      runLink(spool, server, options, () => produced !== null && spool.depth() === 0),
    ]);
    await spool.close();

    const storedEvents = userEvents([...server.stored.values()]);
    const reports = dropReports([...server.stored.values()]);
    const lost = events.filter((e) => !server.stored.has(e.seq));
    expect(lost.length, 'the outage overflowed the spool').to.be.greaterThan(0);
    expect(reports.reduce((n, r) => n + (r.data['count'] as number), 0), `seed ${seed}: the reports count every lost event`).to.equal(lost.length);
    for (const e of lost) {
      const covered = reports.some((r) => e.seq >= (r.data['fromSeq'] as number) && e.seq <= (r.data['toSeq'] as number));
      expect(covered, `seed ${seed}: lost seq ${e.seq} is inside a report`).to.equal(true);
    }
    expect(storedEvents.length + lost.length).to.equal(events.length);
    expect(server.acked).to.equal(spool.stats().lastSeq);
  });

  it('a server that ignores events.dropped stops acking at the first dropped seq (why it must not)', async () => {
    const spool = await openFileSpool(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    for (let i = 0; i < 60; i++) await spool.append(Array.from({ length: 5 }, (_, k) => usbEvent(`e${i}-${k}`, 250)));
    const server = new FakeEventServer(false);
    for (let round = 0; round < 5; round++) {
      const batch = await spool.pending(500, 0);
      await spool.ack(server.ingest(batch));
    }
    const reports = dropReports(await spool.pending(500));
    expect(Math.min(...reports.map((r) => r.data['fromSeq'] as number)), 'seq 1 was dropped and reported').to.equal(1);
    expect(server.acked).to.equal(0);
    expect(spool.depth(), 'nothing can ever be deleted').to.be.greaterThan(0);
    await spool.close();
  });
});
