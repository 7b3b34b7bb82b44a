import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { canonicalJson } from '@portcullis/shared';
import { StoreError, StoreErrorCodes, type EventQuery, type EventRecord, type Severity, type Store } from '../src/store/store.js';
import { BACKENDS, at, event, events, seedFleet, useStore, type Backend, type Harness } from './store-backends.js';

const GENESIS = '0'.repeat(64);

async function all(store: Store, q: Omit<EventQuery, 'limit' | 'beforeId'> = {}, pageSize?: number): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const e of store.iterateEvents(q, pageSize)) out.push(e);
  return out;
}

async function seqsOf(store: Store, agentId: string): Promise<number[]> {
  return (await all(store, { agentId })).map((e) => e.seq as number);
}

/** A fresh store with the fleet seeded, for tests that tamper with the database. */
async function openSeeded(backend: Backend): Promise<Harness> {
  const h = await backend.open();
  await seedFleet(h.store);
  return h;
}

for (const backend of BACKENDS) {
  describe(`store contract (${backend.name}): events`, function () {
    describe('ingest', () => {
      const h = useStore(backend);
      before(() => seedFleet(h().store));

      it('stores a batch once: the same batch again stores nothing and acks the same', async () => {
        const { store } = h();
        expect(await store.ingestEvents('a1', 'g1', events(1, 5), at(100))).to.deep.equal({ stored: 5, ackedSeq: 5 });
        expect(await store.ingestEvents('a1', 'g1', events(1, 5), at(101))).to.deep.equal({ stored: 0, ackedSeq: 5 });
        expect(await seqsOf(store, 'a1')).to.deep.equal([1, 2, 3, 4, 5]);
      });

      it('stores a seq repeated inside one batch once', async () => {
        const { store } = h();
        expect(await store.ingestEvents('a1', 'g1', [event(6), event(6), event(5), event(7)], at(102))).to.deep.equal({ stored: 2, ackedSeq: 7 });
        expect(await seqsOf(store, 'a1')).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      });

      it('acks only the contiguous prefix, and moves on when a gap is filled late', async () => {
        const { store } = h();
        const steps: Array<[number[], number]> = [
          [[1, 2, 4], 2], // 3 missing
          [[6], 2], // still 3 missing
          [[3], 4], // 3 fills the gap up to 4; 5 is missing
          [[5], 6], // 5 joins 4 and 6
          [[8, 9], 6], // 7 missing
          [[7], 9],
          [[2, 3], 9], // late duplicates change nothing
        ];
        for (const [seqs, acked] of steps) {
          const result = await store.ingestEvents('a2', 'g2', seqs.map((s) => event(s)), at(110));
          expect(result.ackedSeq, `after ${seqs.join(',')}`).to.equal(acked);
        }
        expect(await seqsOf(store, 'a2')).to.deep.equal([1, 2, 4, 6, 3, 5, 8, 9, 7]);
      });

      it("steps the ack over seqs the agent's spool reported lost (events.dropped)", async () => {
        const { store } = h();
        await store.createAgent({ id: 'a4', secretHash: 's', group: 'g1', hostname: 'h4', machineId: 'm4', os: 'linux', agentVersion: '0.1.0', enrolledAt: at(0) });
        const dropped = (seq: number, fromSeq: number, toSeq: number) => ({ ...event(seq), type: 'events.dropped', data: { count: toSeq - fromSeq + 1, fromSeq, toSeq, reason: 'spool full' } });
        expect((await store.ingestEvents('a4', 'g1', [event(1), event(2)], at(130))).ackedSeq).to.equal(2);
        // 3..5 were dropped by a full spool; the report (seq 6) and 7 arrive.
        expect((await store.ingestEvents('a4', 'g1', [dropped(6, 3, 5), event(7)], at(131))).ackedSeq).to.equal(7);
        // A report whose range reaches past its own seq is not trusted: 9..20 are still to come.
        expect((await store.ingestEvents('a4', 'g1', [dropped(10, 9, 20)], at(132))).ackedSeq).to.equal(7);
        expect((await store.ingestEvents('a4', 'g1', [event(8)], at(133))).ackedSeq).to.equal(8);
      });

      it('walks the ack over more stored seqs than one page of the walk', async () => {
        const { store } = h();
        await store.createAgent({ id: 'a3', secretHash: 's', group: 'g1', hostname: 'h3', machineId: 'm3', os: 'linux', agentVersion: '0.1.0', enrolledAt: at(0) });
        expect(await store.ingestEvents('a3', 'g1', events(2, 2600), at(120))).to.deep.equal({ stored: 2599, ackedSeq: 0 });
        expect(await store.ingestEvents('a3', 'g1', [event(1)], at(121))).to.deep.equal({ stored: 1, ackedSeq: 2600 });
      });

      it('stores server events (agent null, seq null) without an ack', async () => {
        const { store } = h();
        const result = await store.ingestEvents(null, null, [event(null, { type: 'server.start' }), event(null, { type: 'server.start' })], at(130));
        expect(result).to.deep.equal({ stored: 2, ackedSeq: 0 });
        const stored = await store.queryEvents({ type: 'server.start', limit: 10 });
        expect(stored.map((e) => [e.agentId, e.group, e.seq])).to.deep.equal([
          [null, null, null],
          [null, null, null],
        ]);
      });

      const refused: Array<[string, string | null, number | null]> = [
        ['an agent event without a seq', 'a1', null],
        ['an agent event with seq 0', 'a1', 0],
        ['an agent event with a fractional seq', 'a1', 1.5],
        ['a server event with a seq', null, 1],
      ];
      for (const [name, agentId, seq] of refused) {
        it(`refuses ${name}`, async () => {
          const err = await h()
            .store.ingestEvents(agentId, null, [event(seq)], at(140))
            .catch((e: unknown) => e);
          expect(err).to.be.instanceOf(StoreError);
          expect((err as StoreError).code).to.equal(StoreErrorCodes.INVALID);
        });
      }

      it('rolls back the whole batch when one event breaks a constraint', async () => {
        const { store } = h();
        const before = await store.queryEvents({ limit: 1 });
        const bad = [event(10), event(11, { severity: 'catastrophic' as Severity }), event(12)];
        const err = await store.ingestEvents('a1', 'g1', bad, at(150)).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(Error);
        expect(await seqsOf(store, 'a1')).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
        expect(await store.queryEvents({ limit: 1 })).to.deep.equal(before);
        // The chain head did not move either: the next batch links to the last stored event.
        expect(await store.ingestEvents('a1', 'g1', events(8, 9), at(151))).to.deep.equal({ stored: 2, ackedSeq: 9 });
        expect(await store.verifyEventChain()).to.include({ intact: true });
      });

      it('rolls back a batch for an unknown agent', async () => {
        const { store } = h();
        const count = (await all(store)).length;
        const err = await store.ingestEvents('ghost', 'g1', events(1, 3), at(160)).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(Error);
        expect(await all(store)).to.have.length(count);
      });

      it('keeps one unforked chain under concurrent batches', async () => {
        const { store } = h();
        await Promise.all([
          store.ingestEvents('a1', 'g1', events(10, 60), at(170)),
          store.ingestEvents('a2', 'g2', events(10, 60), at(170)),
          store.ingestEvents(null, null, [event(null), event(null)], at(170)),
          store.ingestEvents('a1', 'g1', events(40, 90), at(171)),
          store.ingestEvents('a3', 'g1', events(2601, 2700), at(171)),
        ]);
        const stored = await all(store);
        expect(stored.map((e) => e.id)).to.deep.equal(stored.map((_, i) => i + 1));
        expect(await seqsOf(store, 'a1')).to.have.length(90);
        const check = await store.verifyEventChain();
        expect(check).to.deep.equal({ intact: true, count: stored.length });
        expect(stored[0]?.prevHash).to.equal(GENESIS);
      });
    });

    describe('queries', () => {
      const h = useStore(backend);
      before(async () => {
        const { store } = h();
        await seedFleet(store);
        await store.ingestEvents('a1', 'g1', [
          event(1, { type: 'device.blocked', severity: 'high', occurredAt: at(1), data: { name: 'SanDisk Cruzer', path: '100%_done' } }),
          event(2, { type: 'device.allowed', severity: 'info', occurredAt: at(2), data: { name: 'Logitech Mouse', path: '100xydone' } }),
          event(3, { type: 'mail.blocked', severity: 'critical', occurredAt: at(3), data: { to: 'someone@example.org', path: 'C:\\Users\\Öffentlich' } }),
        ], at(10));
        await store.ingestEvents('a2', 'g2', [
          event(1, { type: 'device.blocked', severity: 'medium', occurredAt: at(4), data: { name: 'KINGSTON DataTraveler', quote: 'say "hi"' } }),
          event(2, { type: 'device.blocked', severity: 'high', occurredAt: '2026-11-25T11:05:00+01:00', data: { name: 'Phone', nested: { deep: ['sandisk'] } } }),
        ], at(10));
        await store.ingestEvents(null, null, [event(null, { type: 'server.start', severity: 'info', occurredAt: at(6), data: {} })], at(10));
        await store.triageEvent(5, 'acknowledged', 'looked at it');
      });

      // Each row: a filter and the ids it returns, newest first (ids follow the ingest order above).
      const rows: Array<{ name: string; q: Omit<EventQuery, 'limit'>; ids: number[] }> = [
        { name: 'no filter', q: {}, ids: [6, 5, 4, 3, 2, 1] },
        { name: 'type', q: { type: 'device.blocked' }, ids: [5, 4, 1] },
        { name: 'severity', q: { severity: 'high' }, ids: [5, 1] },
        { name: 'agent', q: { agentId: 'a2' }, ids: [5, 4] },
        { name: 'group', q: { group: 'g1' }, ids: [3, 2, 1] },
        { name: 'status', q: { status: 'acknowledged' }, ids: [5] },
        { name: 'status new', q: { status: 'new' }, ids: [6, 4, 3, 2, 1] },
        { name: 'since (inclusive)', q: { since: at(4) }, ids: [6, 5, 4] },
        { name: 'until (exclusive)', q: { until: at(3) }, ids: [2, 1] },
        { name: 'since and until', q: { since: at(2), until: at(5) }, ids: [4, 3, 2] },
        // 11:04+01:00 is at(4): ranges compare instants, not how they were written.
        { name: 'since with an offset', q: { since: '2026-11-25T11:04:00+01:00' }, ids: [6, 5, 4] },
        { name: 'q ignores ASCII case', q: { q: 'sandisk' }, ids: [5, 1] },
        { name: 'q upper case', q: { q: 'KINGSTON data' }, ids: [4] },
        { name: 'q with a literal %', q: { q: '0%' }, ids: [1] },
        { name: 'q with a literal _', q: { q: '%_d' }, ids: [1] },
        { name: 'q with _ is not a wildcard', q: { q: '100_' }, ids: [] },
        { name: 'q with a backslash as typed', q: { q: 'c:\\users' }, ids: [3] },
        { name: 'q with a quote as typed', q: { q: 'say "hi"' }, ids: [4] },
        { name: 'q matches a key too', q: { q: 'nested' }, ids: [5] },
        { name: 'q and type', q: { q: 'sandisk', type: 'device.blocked', agentId: 'a1' }, ids: [1] },
        { name: 'beforeId', q: { beforeId: 4 }, ids: [3, 2, 1] },
      ];
      for (const row of rows) {
        it(`filters by ${row.name}`, async () => {
          expect((await h().store.queryEvents({ ...row.q, limit: 50 })).map((e) => e.id)).to.deep.equal(row.ids);
        });
      }

      it('returns the stored record as ingested, with triage beside it', async () => {
        const e = await h().store.getEvent(5);
        expect(e).to.deep.include({
          id: 5,
          agentId: 'a2',
          group: 'g2',
          seq: 2,
          type: 'device.blocked',
          severity: 'high',
          occurredAt: at(5),
          receivedAt: at(10),
          data: { name: 'Phone', nested: { deep: ['sandisk'] } },
          status: 'acknowledged',
          comment: 'looked at it',
        });
        expect(e?.prevHash).to.equal((await h().store.getEvent(4))?.hash);
        expect(await h().store.getEvent(99)).to.equal(undefined);
        expect(await h().store.triageEvent(99, 'resolved', null)).to.equal(false);
      });

      it('hashes sha256(prev_hash + "\\n" + canonical JSON of the immutable fields), as verify-log documents', async () => {
        for (const id of [1, 6]) {
          const e = (await h().store.getEvent(id)) as EventRecord;
          const { status: _status, comment: _comment, prevHash, hash, ...immutable } = e;
          expect(hash).to.equal(createHash('sha256').update(`${prevHash}\n${canonicalJson(immutable)}`).digest('hex'));
        }
      });

      it('pages newest first over many pages with no duplicate and no gap', async () => {
        const { store } = h();
        await store.ingestEvents('a1', 'g1', events(4, 40, { type: 'paging' }), at(20));
        const expected = (await all(store, { type: 'paging' })).map((e) => e.id).reverse();
        const seen: number[] = [];
        let beforeId: number | undefined;
        for (let page = 0; page < 20; page++) {
          const got = await store.queryEvents({ type: 'paging', limit: 6, ...(beforeId === undefined ? {} : { beforeId }) });
          seen.push(...got.map((e) => e.id));
          if (got.length < 6) break;
          beforeId = got.at(-1)?.id;
        }
        expect(seen).to.deep.equal(expected);
        expect(seen).to.have.length(37);
      });

      it('iterates oldest first in pages, with filters', async () => {
        const { store } = h();
        const everything = await all(store, {}, 4);
        expect(everything.map((e) => e.id)).to.deep.equal(everything.map((_, i) => i + 1));
        expect((await all(store, { agentId: 'a2' }, 1)).map((e) => e.id)).to.deep.equal([4, 5]);
        expect(await all(store, { type: 'nothing' })).to.deep.equal([]);
      });

      it('triage changes status and comment without breaking the chain', async () => {
        const { store } = h();
        expect(await store.triageEvent(1, 'false-positive', 'a known stick')).to.equal(true);
        expect(await store.triageEvent(1, 'resolved', null)).to.equal(true);
        expect(await store.getEvent(1)).to.deep.include({ status: 'resolved', comment: null });
        expect(await store.verifyEventChain()).to.deep.equal({ intact: true, count: 43 });
      });
    });

    describe('hash chains', function () {
      this.timeout(30_000);
      let h: Harness;
      beforeEach(async () => {
        h = await openSeeded(backend);
        // 2,500 events: verification crosses its 1,000-row pages.
        await h.store.ingestEvents('a1', 'g1', events(1, 2000), at(1));
        await h.store.ingestEvents(null, null, [event(null)], at(2));
        await h.store.ingestEvents('a2', 'g2', events(1, 499), at(3));
        for (let i = 1; i <= 5; i++) await h.store.appendAudit({ actor: 'alice', action: 'group.create', target: `g${i}`, details: { i } }, at(i));
      });
      afterEach(async () => {
        await h.dispose();
      });

      it('verifies intact chains', async () => {
        expect(await h.store.verifyEventChain()).to.deep.equal({ intact: true, count: 2500 });
        expect(await h.store.verifyAuditChain()).to.deep.equal({ intact: true, count: 5 });
      });

      const tampering: Array<{ name: string; sql: string; brokenAtId: number }> = [
        { name: 'changed data', sql: `update events set data = '{"seq":9999}' where id = 1500`, brokenAtId: 1500 },
        { name: 'changed severity', sql: `update events set severity = 'info' where id = 7`, brokenAtId: 7 },
        { name: 'data that no longer parses', sql: `update events set data = 'not json' where id = 2001`, brokenAtId: 2001 },
        { name: 'a deleted row (the next one breaks)', sql: 'delete from events where id = 1200', brokenAtId: 1201 },
        { name: 'the first row deleted', sql: 'delete from events where id = 1', brokenAtId: 2 },
        { name: 'the last row deleted (the head names it)', sql: 'delete from events where id = 2500', brokenAtId: 2500 },
        {
          name: 'two rows swapped',
          sql: 'update events set id = -1 where id = 30; update events set id = 30 where id = 31; update events set id = 31 where id = -1',
          brokenAtId: 30,
        },
      ];
      for (const t of tampering) {
        it(`reports the first broken event link after ${t.name}`, async () => {
          await h.exec(t.sql);
          expect(await h.store.verifyEventChain()).to.deep.include({ intact: false, brokenAtId: t.brokenAtId });
        });
      }

      it('reports the first broken audit link after changed details or a deleted entry', async () => {
        await h.exec(`update audit set details = '{"i":33}' where id = 3`);
        expect(await h.store.verifyAuditChain()).to.deep.include({ intact: false, brokenAtId: 3 });
        await h.exec(`update audit set details = '{"i":3}' where id = 3`);
        expect(await h.store.verifyAuditChain()).to.deep.equal({ intact: true, count: 5 });
        await h.exec('delete from audit where id = 2');
        expect(await h.store.verifyAuditChain()).to.deep.include({ intact: false, brokenAtId: 3 });
      });

      it('links and lists audit entries newest first, in pages', async () => {
        const { store } = h;
        const record = await store.appendAudit({ actor: 'bob', action: 'user.create', target: 'carol', details: { role: 'viewer' } }, at(9));
        const { prevHash, hash, ...immutable } = record;
        expect(hash).to.equal(createHash('sha256').update(`${prevHash}\n${canonicalJson(immutable)}`).digest('hex'));
        expect(record).to.deep.include({ id: 6, at: at(9), actor: 'bob', action: 'user.create', target: 'carol', details: { role: 'viewer' } });
        const page1 = await store.listAudit(4);
        expect(page1.map((a) => a.id)).to.deep.equal([6, 5, 4, 3]);
        expect(page1[0]).to.deep.equal(record);
        expect((await store.listAudit(4, 3)).map((a) => a.id)).to.deep.equal([2, 1]);
        expect((await store.listAudit(10, 1)).map((a) => a.id)).to.deep.equal([]);
        expect(page1[0]?.prevHash).to.equal(page1[1]?.hash);
        expect((await store.listAudit(1, 2))[0]?.prevHash).to.equal(GENESIS);
      });

      it('chains concurrent audit appends without a fork', async () => {
        await Promise.all(Array.from({ length: 20 }, (_, i) => h.store.appendAudit({ actor: 'x', action: 'a', target: `t${i}`, details: {} }, at(10))));
        expect(await h.store.verifyAuditChain()).to.deep.equal({ intact: true, count: 25 });
      });
    });
  });
}
