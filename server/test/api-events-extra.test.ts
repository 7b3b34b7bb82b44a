/** The violation log page's extra routes: live tail, bulk triage and the policy lines of a trace. */
import { expect } from 'chai';
import type { EventRecord, NewEvent, Severity } from '../src/store/store.js';
import { START, expectError, makeApi, seedAgent, useApi } from './api-support.js';

const MINUTE_MS = 60_000;
const at = (minutes: number): string => new Date(START + minutes * MINUTE_MS).toISOString();

function ev(seq: number, type: string, severity: Severity, minute: number, name: string, decision?: Record<string, unknown>): NewEvent {
  return {
    seq,
    type,
    severity,
    occurredAt: at(minute),
    data: { device: { id: '0781:5567', name, serial: `SN-${seq}` }, ...(decision ? { decision, policy: { group: 'default', version: 1 } } : {}) },
  };
}

interface Tail {
  events: EventRecord[];
  cursor: number;
  gap: boolean;
}

describe('REST API events (console extras)', () => {
  const api = useApi();
  let viewer: string;
  let security: string;
  let admin: string;

  before(async () => {
    const { store } = api();
    viewer = await api().session('viewer');
    security = await api().session('security');
    admin = await api().session('admin');
    await store.createGroup({ name: 'ga', description: '', createdAt: at(0) });
    await seedAgent(store, { id: 'agt_a', group: 'ga', hostname: 'pc-a' });
    await seedAgent(store, { id: 'agt_b', group: 'default', hostname: 'pc-b' });
    await store.ingestEvents('agt_a', 'ga', [ev(1, 'device.blocked', 'medium', 1, 'SanDisk'), ev(2, 'device.allowed', 'info', 2, 'Keyboard')], at(3));
  });

  const tail = async (query: string, token = viewer): Promise<Tail> => {
    const res = await api().call('GET', `/api/v1/events/since${query}`, { token });
    expect(res.statusCode, res.body).to.equal(200);
    return res.json() as Tail;
  };

  describe('GET /events/since (live tail)', () => {
    it('without `after` answers only the cursor: where the log ends now', async () => {
      const newest = (await api().store.queryEvents({ limit: 1 }))[0] as EventRecord;
      expect(await tail('')).to.deep.equal({ events: [], cursor: newest.id, gap: false });
    });

    it('returns events above the cursor that match the filters, newest first, and moves the cursor', async () => {
      const { cursor } = await tail('');
      await api().store.ingestEvents('agt_b', 'default', [ev(1, 'device.blocked', 'high', 4, 'Kingston'), ev(2, 'device.blocked', 'low', 5, 'Verbatim')], at(6));
      await api().store.ingestEvents('agt_a', 'ga', [ev(3, 'device.blocked', 'high', 6, 'kingston two')], at(7));

      const allNew = await tail(`?after=${cursor}`);
      expect(allNew.events.map((e) => String(e.data.device && (e.data.device as { name: string }).name))).to.deep.equal(['kingston two', 'Verbatim', 'Kingston']);
      expect(allNew.cursor).to.equal(cursor + 3);
      expect(allNew.gap).to.equal(false);

      // Each filter of GET /events applies: one row per filter and the names it keeps.
      const rows: Array<[string, string[]]> = [
        ['&severity=high', ['kingston two', 'Kingston']],
        ['&agent=agt_b', ['Verbatim', 'Kingston']],
        ['&group=ga', ['kingston two']],
        ['&q=KINGSTON', ['kingston two', 'Kingston']],
        ['&type=device.allowed', []],
        [`&since=${at(5)}`, ['kingston two', 'Verbatim']],
        [`&until=${at(5)}`, ['Kingston']],
        ['&status=resolved', []],
      ];
      for (const [filter, names] of rows) {
        const page = await tail(`?after=${cursor}${filter}`);
        expect(page.events.map((e) => (e.data.device as { name: string }).name), filter).to.deep.equal(names);
        expect(page.cursor, filter).to.equal(cursor + 3);
      }
      // Nothing new past the newest: empty, cursor unchanged.
      expect(await tail(`?after=${cursor + 3}`)).to.deep.equal({ events: [], cursor: cursor + 3, gap: false });
    });

    it('flags a gap when more events matched than the limit (the oldest were left out)', async () => {
      const page = await tail('?after=0&limit=2');
      expect(page.events).to.have.length(2);
      expect(page.gap).to.equal(true);
      expect(page.events[0]?.id).to.be.above(page.events[1]?.id ?? Infinity);
    });

    it('refuses bad input with 400', async () => {
      for (const q of ['?after=-1', '?after=abc', '?limit=10000', '?severity=urgent', '?since=yesterday', '?unknown=1']) {
        expectError(await api().call('GET', `/api/v1/events/since${q}`, { token: viewer }), 400);
      }
    });

    it('needs a session (401)', async () => {
      expectError(await api().call('GET', '/api/v1/events/since'), 401);
    });
  });

  describe('POST /events/triage (bulk)', () => {
    const ids = async () => (await api().store.queryEvents({ limit: 100 })).map((e) => e.id);
    const statuses = async () => (await api().store.queryEvents({ limit: 100 })).map((e) => `${e.id}:${e.status}:${e.comment ?? ''}`);

    it('triages every listed event, answers the count and audits once', async () => {
      const [a, b] = await ids();
      const res = await api().call('POST', '/api/v1/events/triage', { token: security, body: { ids: [a, b], status: 'acknowledged', comment: 'seen in bulk' } });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.equal({ updated: 2 });
      for (const id of [a, b]) {
        const e = (await api().store.getEvent(id as number)) as EventRecord;
        expect([e.status, e.comment]).to.deep.equal(['acknowledged', 'seen in bulk']);
      }
      const [entry] = await api().store.listAudit(1);
      expect(entry?.action).to.equal('event.triage.bulk');
      expect(entry?.actor).to.equal('security');
      expect(entry?.details).to.include({ to: 'acknowledged', comment: 'seen in bulk' });
      expect(entry?.details.ids).to.deep.equal([a, b]);
      expect(entry?.details.from).to.deep.equal({ new: 2 });
    });

    it('accepts no comment (stored as null)', async () => {
      const [a] = await ids();
      const res = await api().call('POST', '/api/v1/events/triage', { token: admin, body: { ids: [a], status: 'resolved' } });
      expect(res.json()).to.deep.equal({ updated: 1 });
      expect((await api().store.getEvent(a as number))?.comment).to.equal(null);
    });

    // One row per bad request: the body, the status it must get. Nothing may change.
    const bad: Array<[string, (known: number[]) => unknown, number]> = [
      ['empty ids', () => ({ ids: [], status: 'resolved' }), 400],
      ['unknown status', (k) => ({ ids: [k[0]], status: 'closed' }), 400],
      ['too many ids (501)', () => ({ ids: Array.from({ length: 501 }, (_, i) => i + 1), status: 'resolved' }), 400],
      ['a repeated id', (k) => ({ ids: [k[0], k[0]], status: 'resolved' }), 400],
      ['an id that is not a number', () => ({ ids: ['1'], status: 'resolved' }), 400],
      ['a zero id', () => ({ ids: [0], status: 'resolved' }), 400],
      ['no status', (k) => ({ ids: [k[0]] }), 400],
      ['an unknown field', (k) => ({ ids: [k[0]], status: 'resolved', note: 'x' }), 400],
      ['a comment over 2000 characters', (k) => ({ ids: [k[0]], status: 'resolved', comment: 'x'.repeat(2001) }), 400],
      ['one unknown id among known ones (all or nothing)', (k) => ({ ids: [k[0], 999_999, k[1]], status: 'false-positive' }), 404],
    ];
    for (const [name, body, status] of bad) {
      it(`refuses ${name} with ${status} and changes nothing`, async () => {
        const known = await ids();
        const beforeState = await statuses();
        const auditBefore = (await api().store.listAudit(1))[0]?.id;
        const res = await api().call('POST', '/api/v1/events/triage', { token: security, body: body(known) });
        const error = expectError(res, status);
        if (status === 404) expect(error.details).to.deep.equal({ unknownIds: [999_999] });
        expect(await statuses()).to.deep.equal(beforeState);
        expect((await api().store.listAudit(1))[0]?.id).to.equal(auditBefore);
      });
    }

    it('refuses a viewer (403) and no session (401)', async () => {
      const [a] = await ids();
      expectError(await api().call('POST', '/api/v1/events/triage', { token: viewer, body: { ids: [a], status: 'resolved' } }), 403);
      expectError(await api().call('POST', '/api/v1/events/triage', { body: { ids: [a], status: 'resolved' } }), 401);
    });

    it('takes 500 ids at once', async function () {
      this.timeout(20_000);
      const fx = await makeApi();
      try {
        await seedAgent(fx.store, { id: 'agt_many', group: 'default', hostname: 'pc-many' });
        const batch = Array.from({ length: 500 }, (_, i) => ev(i + 1, 'device.blocked', 'medium', 1, `stick ${i}`));
        await fx.store.ingestEvents('agt_many', 'default', batch, at(2));
        const all = (await fx.store.queryEvents({ limit: 1000 })).map((e) => e.id);
        const res = await fx.call('POST', '/api/v1/events/triage', { token: await fx.session('security'), body: { ids: all, status: 'false-positive' } });
        expect(res.json()).to.deep.equal({ updated: 500 });
        expect((await fx.store.queryEvents({ limit: 1000, status: 'false-positive' })).length).to.equal(500);
      } finally {
        await fx.close();
      }
    });
  });

  describe('GET /events/:id/rules (the policy lines of a decision trace)', () => {
    it("answers the matched line and the lines whose conditions failed, from the event's policy version", async () => {
      const { store } = api();
      const rules = (JSON.parse((await store.getPolicyVersion('default', 1))?.document ?? '{}') as { rules: string }).rules.split('\n');
      expect(rules.length, 'the starter policy has rules').to.be.above(1);
      const last = rules.length;
      await store.ingestEvents('agt_b', 'default', [
        ev(10, 'device.blocked', 'medium', 10, 'traced', { target: 'block', source: 'rule', line: last, rule: rules[last - 1], conditionsNotMet: [1, 999], interfaces: [{ type: '08:06:50', line: 1 }] }),
      ], at(11));
      const [event] = await store.queryEvents({ limit: 1 });
      const res = await api().call('GET', `/api/v1/events/${event?.id}/rules`, { token: viewer });
      expect(res.statusCode, res.body).to.equal(200);
      // Line 999 is past the end of the rules: left out rather than invented.
      expect(res.json()).to.deep.equal({
        policy: { group: 'default', version: 1, found: true },
        lines: [
          { line: 1, text: rules[0] },
          { line: last, text: rules[last - 1] },
        ],
      });
    });

    it('answers no lines for an event without a trace, or whose policy version is unknown', async () => {
      const { store } = api();
      const [plain] = await store.queryEvents({ limit: 1, type: 'device.allowed' });
      expect((await api().call('GET', `/api/v1/events/${plain?.id}/rules`, { token: viewer })).json()).to.deep.equal({ policy: null, lines: [] });
      await store.ingestEvents(null, null, [{ seq: null, type: 'device.blocked', severity: 'low', occurredAt: at(12), data: { decision: { line: 1 }, policy: { group: 'default', version: 77 } } }], at(12));
      const [orphan] = await store.queryEvents({ limit: 1 });
      expect((await api().call('GET', `/api/v1/events/${orphan?.id}/rules`, { token: viewer })).json()).to.deep.equal({
        policy: { group: 'default', version: 77, found: false },
        lines: [],
      });
    });

    it('answers 404 for an unknown event and 400 for a bad id', async () => {
      expectError(await api().call('GET', '/api/v1/events/999999/rules', { token: viewer }), 404);
      expectError(await api().call('GET', '/api/v1/events/abc/rules', { token: viewer }), 400);
    });
  });
});
