import { expect } from 'chai';
import { parseRoute, routeHref } from '../src/router.js';
import { apiParams, appendOlder, filterFromQuery, filterToQuery, fromLocalInput, matchesText, mergeNewer, toLocalInput, withQuery } from '../src/pages/events/event-query.js';

const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);
const q = (s: string) => new URLSearchParams(s);

describe('events page: filter in the URL', () => {
  // One row per URL: what the page reads from it.
  const rows: Array<[string, Record<string, string>]> = [
    ['', {}],
    ['severity=high&status=false-positive&type=device.blocked', { severity: 'high', status: 'false-positive', type: 'device.blocked' }],
    // A quick range wins over absolute times (a bookmark of "last 24 h" stays relative).
    ['range=24h&from=2026-01-01T00:00:00Z', { range: '24h' }],
    ['from=2026-11-25T08:00:00Z&to=2026-11-25T09:00:00.000Z', { from: '2026-11-25T08:00:00.000Z', to: '2026-11-25T09:00:00.000Z' }],
    // Values the server would refuse are dropped, not sent: it would answer 400.
    ['severity=urgent&status=closed&range=2y&from=yesterday&type=Bad Type', {}],
    ['group=finance&agent=agt_1&device=0781:5567&q=%20kingston%20', { group: 'finance', agent: 'agt_1', device: '0781:5567', q: 'kingston' }],
  ];
  for (const [query, expected] of rows) {
    it(`reads "${query}"`, () => {
      const f = filterFromQuery(q(query));
      const defined = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
      expect(defined).to.deep.equal(expected);
    });
  }

  it('writes a link that reads back the same filter', () => {
    const f = filterFromQuery(q('severity=high&range=7d&q=usb stick&group=ga'));
    const back = filterFromQuery(parseRoute(routeHref('/events', filterToQuery(f))).query);
    expect(back).to.deep.equal(f);
  });

  it('leaves absolute times out of the link when a quick range is chosen', () => {
    const href = routeHref('/events', filterToQuery({ range: '1h', from: '2026-01-01T00:00:00.000Z' }));
    expect(href).to.equal('#/events?range=1h');
  });
});

describe('events page: API query', () => {
  it('turns a quick range into `since` relative to now', () => {
    const { params } = apiParams({ range: '1h', severity: 'high' }, NOW);
    expect(Object.fromEntries(params)).to.deep.equal({ since: '2026-11-25T09:00:00.000Z', severity: 'high' });
  });

  it('sends absolute times as since/until', () => {
    const { params } = apiParams({ from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z' }, NOW);
    expect(Object.fromEntries(params)).to.deep.equal({ since: '2026-11-24T00:00:00.000Z', until: '2026-11-25T00:00:00.000Z' });
  });

  // The server has one text search: one row per combination of device and free text.
  const rows: Array<[string, { device?: string; q?: string }, string | undefined, string | undefined]> = [
    ['free text alone goes to the server', { q: 'kingston' }, 'kingston', undefined],
    ['a device alone is a search for its id or serial', { device: '0781:5567' }, '0781:5567', undefined],
    ['with both, the device goes to the server and the text is applied to the rows', { device: 'SN123', q: 'kingston' }, 'SN123', 'kingston'],
    ['blank values send nothing', { device: '  ', q: '' }, undefined, undefined],
  ];
  for (const [name, f, serverQ, local] of rows) {
    it(name, () => {
      const r = apiParams({ ...f, agent: 'agt_1' }, NOW);
      expect(r.params.get('q') ?? undefined).to.equal(serverQ);
      expect(r.params.get('agent')).to.equal('agt_1');
      expect(r.localText).to.equal(local);
    });
  }

  it('matches text anywhere in the data, any case', () => {
    const data = { device: { name: 'Kingston DataTraveler', serial: 'SN1' } };
    expect(matchesText(data, 'KINGSTON')).to.equal(true);
    expect(matchesText(data, 'sandisk')).to.equal(false);
    expect(matchesText(data, undefined)).to.equal(true);
  });

  it('builds paths with the query and extra parameters', () => {
    expect(withQuery('/events', q('severity=high'), { limit: '100' })).to.equal('/events?severity=high&limit=100');
    expect(withQuery('/events/since', q(''))).to.equal('/events/since');
    expect(withQuery('/events/export', q('q=a b&group=g'), { format: 'csv' })).to.equal('/events/export?q=a+b&group=g&format=csv');
  });

  it('round-trips a datetime-local value through an ISO instant', () => {
    const iso = fromLocalInput('2026-11-25T14:30');
    expect(iso).to.be.a('string');
    expect(toLocalInput(iso)).to.equal('2026-11-25T14:30');
    expect(fromLocalInput('')).to.equal(undefined);
    expect(toLocalInput('not a time')).to.equal('');
  });
});

describe('events page: merging rows', () => {
  const rows = (...ids: number[]) => ids.map((id) => ({ id }));

  it('puts tail rows on top without repeating a shown one', () => {
    expect(mergeNewer(rows(5, 4, 3), rows(7, 6, 5)).map((r) => r.id)).to.deep.equal([7, 6, 5, 4, 3]);
  });

  it('keeps the same array when nothing is new (no re-render)', () => {
    const shown = rows(2, 1);
    expect(mergeNewer(shown, rows(2))).to.equal(shown);
  });

  it('appends an older page, skipping rows the tail already brought', () => {
    expect(appendOlder(rows(9, 8), rows(8, 7, 6)).map((r) => r.id)).to.deep.equal([9, 8, 7, 6]);
  });
});
