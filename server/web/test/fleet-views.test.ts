import { expect } from 'chai';
import { filterComputers, osFamilies, type AgentView } from '../src/pages/computers/computer-filter.js';
import { layoutBars, niceCeiling, shortDay } from '../src/pages/overview/overview-chart.js';

const NOW = new Date('2026-11-25T10:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function agent(patch: Partial<AgentView>): AgentView {
  return {
    id: 'agt',
    group: 'default',
    hostname: 'pc',
    machineId: 'm',
    os: 'Debian GNU/Linux 13',
    agentVersion: '0.1.0',
    enrolledAt: ago(0),
    lastSeenAt: ago(0),
    appliedVersion: 1,
    latestVersion: 1,
    revokedAt: null,
    status: 'online',
    drift: false,
    ...patch,
  };
}

describe('fleet: computers list filter', () => {
  const agents = [
    agent({ id: 'a', hostname: 'PC-FIN-02', group: 'finance', os: 'Windows 11 Pro' }),
    agent({ id: 'b', hostname: 'pc-fin-01', group: 'finance', status: 'stale', lastSeenAt: ago(5 * 60_000) }),
    agent({ id: 'c', hostname: 'legal-01', group: 'legal', status: 'offline', lastSeenAt: ago(3 * 86_400_000) }),
    agent({ id: 'd', hostname: 'legal-02', group: 'legal', status: 'offline', lastSeenAt: null }),
  ];
  const rows: Array<[string, Parameters<typeof filterComputers>[1], string[]]> = [
    // no filter: everything, by hostname ignoring case
    ['none', {}, ['c', 'd', 'b', 'a']],
    // hostname search ignores case
    ['search', { q: 'FIN' }, ['b', 'a']],
    ['group', { group: 'legal' }, ['c', 'd']],
    ['status', { status: 'stale' }, ['b']],
    // OS family is the first word of the reported OS
    ['os', { os: 'Windows' }, ['a']],
    ['seen within the hour', { seen: '1h' }, ['b', 'a']],
    ['seen within a week', { seen: '7d' }, ['c', 'b', 'a']],
    // never seen counts as older than a week
    ['seen longer ago', { seen: 'older' }, ['d']],
    // filters combine
    ['combined', { group: 'finance', q: '01' }, ['b']],
    // an unknown window is ignored rather than hiding everything
    ['bad window', { seen: '2y' }, ['c', 'd', 'b', 'a']],
  ];
  for (const [name, filter, ids] of rows) {
    it(name, () => expect(filterComputers(agents, filter, NOW).map((a) => a.id)).to.deep.equal(ids));
  }
  it('offers each OS family once, sorted', () => {
    expect(osFamilies(agents)).to.deep.equal(['Debian', 'Windows']);
  });
});

describe('fleet: overview chart layout', () => {
  const box = { width: 340, height: 140, left: 40, bottom: 20, top: 20 };
  it('rounds the scale up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 12, 50, 51, 240].map(niceCeiling)).to.deep.equal([1, 1, 5, 10, 20, 50, 100, 500]);
  });

  it('places bars left to right, scaled to the plot, with a label every 5th day counted from the last', () => {
    const days = Array.from({ length: 30 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, count: i === 29 ? 10 : i === 0 ? 5 : 0 }));
    const layout = layoutBars(days, box);
    expect(layout.bars).to.have.length(30);
    const last = layout.bars[29]!;
    const first = layout.bars[0]!;
    expect(last.height).to.equal(100);
    expect(last.y).to.equal(20);
    expect(first.height).to.equal(50);
    expect(first.x).to.be.above(40).and.below(last.x);
    expect(last.x + last.width).to.be.at.most(340);
    expect(layout.labelled).to.deep.equal([4, 9, 14, 19, 24, 29]);
    expect(layout.ticks.map((t) => t.value)).to.deep.equal([0, 2.5, 5, 7.5, 10]);
    expect(layout.ticks[0]!.y).to.equal(120);
  });

  it('draws an empty month with a scale of 0..1', () => {
    const layout = layoutBars([{ day: '2026-11-25', count: 0 }], box);
    expect(layout.bars[0]!.height).to.equal(0);
    expect(layout.ticks.map((t) => t.value)).to.deep.equal([0, 1]);
  });

  it('writes days day first', () => {
    expect(shortDay('2026-11-05')).to.equal('05.11');
    expect(shortDay('garbage')).to.equal('garbage');
  });
});
