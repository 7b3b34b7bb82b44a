/** The console's fleet views: GET /overview and GET /usb-devices, and the store summary behind them. */
import { expect } from 'chai';
import type { NewEvent, Severity, Store } from '../src/store/store.js';
import { HOUR_MS, START, expectError, seedAgent, useApi } from './api-support.js';
import { BACKENDS, seedFleet, useStore } from './store-backends.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * HOUR_MS;
const iso = (ms: number): string => new Date(ms).toISOString();

function deviceEvent(seq: number, type: string, atMs: number, device: Record<string, unknown>, extra: Record<string, unknown> = {}, severity: Severity = 'medium'): NewEvent {
  return { seq, type, severity, occurredAt: iso(atMs), data: { name: '1-2', label: 'USB flash drive', device, ...extra } };
}

const CRUZER = { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', hash: '' };
const KEYBOARD = { id: '046d:c31c', name: 'USB Keyboard', serial: '', hash: 'kbdhash' };
const TOY = { id: '1234:abcd', name: 'Toy', serial: 'T1', hash: '' };

interface Overview {
  agents: Record<string, number>;
  drift: { count: number; agents: Array<{ id: string; appliedVersion: number | null; latestVersion: number | null }> };
  violations: { today: number; total: number; types: string[]; perDay: Array<{ day: string; count: number }> };
  topDevices: Array<{ id: string; name: string; label: string; count: number }>;
  topComputers: Array<{ id: string; hostname: string; group: string | null; count: number }>;
  silent: { count: number; agents: Array<{ id: string; reason: string; lastEventAt: string | null }> };
}

interface UsbDevice {
  key: string;
  id: string;
  name: string;
  serial: string;
  label: string;
  computerCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
  computers: Array<{ agentId: string; hostname: string; lastDecision?: { target: string; eventId: number; line: number | null } | null }>;
}

describe('REST API fleet extras (overview, usb-devices)', () => {
  const api = useApi();
  let viewer: string;

  before(async () => {
    const { store, clock } = api();
    viewer = await api().session('viewer');
    const now = clock.now().getTime();
    await store.createGroup({ name: 'finance', description: '', createdAt: iso(now) });
    // online, on the latest policy, busy
    await seedAgent(store, { id: 'agt_on', group: 'default', hostname: 'pc-on' });
    await store.touchAgent('agt_on', iso(now - MINUTE_MS));
    await store.setAgentApplied('agt_on', 1);
    // online, applied nothing yet (drift), never reported an event: silent ("no-events")
    await seedAgent(store, { id: 'agt_quiet', group: 'default', hostname: 'pc-quiet' });
    await store.touchAgent('agt_quiet', iso(now - 30_000));
    // stale
    await seedAgent(store, { id: 'agt_stale', group: 'default', hostname: 'pc-stale' });
    await store.touchAgent('agt_stale', iso(now - 5 * MINUTE_MS));
    await store.setAgentApplied('agt_stale', 1);
    // offline; the hub reported it silent for this very lastSeenAt ("no-contact")
    await seedAgent(store, { id: 'agt_off', group: 'default', hostname: 'pc-off' });
    await store.touchAgent('agt_off', iso(now - 2 * HOUR_MS));
    await store.setAgentApplied('agt_off', 1);
    // revoked: counted as revoked, never as drift or silent
    await seedAgent(store, { id: 'agt_gone', group: 'finance', hostname: 'pc-gone' });
    await store.revokeAgent('agt_gone', iso(now));

    await store.ingestEvents('agt_on', 'default', [
      deviceEvent(1, 'device.blocked', now - 10 * MINUTE_MS, CRUZER, { decision: { target: 'block', line: 4, rule: 'block with-interface one-of { 08:*:* }' } }),
      deviceEvent(2, 'device.blocked', now - DAY_MS, CRUZER),
      deviceEvent(3, 'device.rejected', now - 3 * DAY_MS, TOY, {}, 'high'),
      deviceEvent(4, 'device.allowed', now - 5 * MINUTE_MS, KEYBOARD, { decision: { target: 'allow', line: 2, rule: 'allow with-interface equals { 03:*:* }' } }, 'info'),
      // 31 days ago: outside the 30-day window
      deviceEvent(5, 'device.blocked', now - 31 * DAY_MS, TOY),
      // the newest decision for the Cruzer wins over the older block
      deviceEvent(6, 'device.readonly', now - 2 * MINUTE_MS, CRUZER, { decision: { target: 'readonly', line: 9, rule: 'readonly id 0781:5567' } }, 'low'),
    ], iso(now));
    await store.ingestEvents('agt_off', 'default', [
      deviceEvent(1, 'device.blocked', now - 3 * HOUR_MS, TOY),
      // high severity but not a violation type: not counted
      { seq: 2, type: 'policy.refused', severity: 'high', occurredAt: iso(now - 3 * HOUR_MS), data: { reason: 'bad signature' } },
    ], iso(now));
    await store.ingestEvents(null, 'default', [
      { seq: null, type: 'agent.silent', severity: 'high', occurredAt: iso(now - HOUR_MS), data: { agentId: 'agt_off', hostname: 'pc-off', lastSeenAt: iso(now - 2 * HOUR_MS), silentForSeconds: 3600 } },
      // an older silence of agt_stale that ended (it was seen since): not listed
      { seq: null, type: 'agent.silent', severity: 'high', occurredAt: iso(now - 2 * DAY_MS), data: { agentId: 'agt_stale', hostname: 'pc-stale', lastSeenAt: iso(now - 3 * DAY_MS), silentForSeconds: 3600 } },
    ], iso(now));

    await store.recordUsbSeen('agt_on', [
      { key: 'id:0781:5567|4C530001|Cruzer Blade', device: { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', interfaces: ['08:06:50'] } },
    ], iso(now - 10 * MINUTE_MS));
    await store.recordUsbSeen('agt_on', [
      { key: 'hash:kbdhash', device: { id: '046d:c31c', name: 'USB Keyboard', hash: 'kbdhash', interfaces: ['03:01:01'] } },
    ], iso(now - 20 * MINUTE_MS));
    await store.recordUsbSeen('agt_off', [
      { key: 'id:0781:5567|4C530001|Cruzer Blade', device: { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', interfaces: ['08:06:50'] } },
    ], iso(now - 3 * DAY_MS));
  });

  const overview = async (): Promise<Overview> => {
    const res = await api().call('GET', '/api/v1/overview', { token: viewer });
    expect(res.statusCode, res.body).to.equal(200);
    return res.json() as Overview;
  };

  it('needs a session', async () => {
    expectError(await api().call('GET', '/api/v1/overview'), 401);
    expectError(await api().call('GET', '/api/v1/usb-devices'), 401);
  });

  it('counts agents by presence', async () => {
    expect((await overview()).agents).to.deep.equal({ total: 5, online: 2, stale: 1, offline: 1, revoked: 1 });
  });

  it("lists drift: live agents not on their group's latest version", async () => {
    const { drift } = await overview();
    expect(drift.count).to.equal(1);
    expect(drift.agents.map((a) => [a.id, a.appliedVersion, a.latestVersion])).to.deep.equal([['agt_quiet', null, 1]]);
  });

  it('counts violations by type per UTC day over 30 days, today last', async () => {
    const { violations } = await overview();
    expect(violations.types).to.deep.equal(['device.blocked', 'device.rejected', 'port.blocked', 'mail.rejected', 'mail.account.unapproved', 'mail.egress.blocked']);
    expect(violations.perDay).to.have.length(30);
    expect(violations.perDay.at(-1)).to.deep.equal({ day: '2026-11-25', count: 2 });
    expect(violations.perDay.at(-2)).to.deep.equal({ day: '2026-11-24', count: 1 });
    expect(violations.perDay.at(-4)).to.deep.equal({ day: '2026-11-22', count: 1 });
    expect(violations.perDay[0]?.day).to.equal('2026-10-27');
    // readonly, allowed, policy.refused and the 31-day-old block are not counted
    expect(violations.today).to.equal(2);
    expect(violations.total).to.equal(4);
  });

  it('ranks devices and computers by violations', async () => {
    const { topDevices, topComputers } = await overview();
    expect(topDevices).to.deep.equal([
      { id: '0781:5567', name: 'Cruzer Blade', label: 'USB flash drive', count: 2 },
      { id: '1234:abcd', name: 'Toy', label: 'USB flash drive', count: 2 },
    ]);
    expect(topComputers).to.deep.equal([
      { id: 'agt_on', hostname: 'pc-on', group: 'default', count: 3 },
      { id: 'agt_off', hostname: 'pc-off', group: 'default', count: 1 },
    ]);
  });

  it('lists silent agents: still silent since the hub said so, or online with no event for a day', async () => {
    const { silent } = await overview();
    expect(silent.agents.map((a) => [a.id, a.reason]).sort()).to.deep.equal([['agt_off', 'no-contact'], ['agt_quiet', 'no-events']]);
    expect(silent.count).to.equal(2);
  });

  it('groups USB sightings by device across PCs, newest first', async () => {
    const res = await api().call('GET', '/api/v1/usb-devices', { token: viewer });
    expect(res.statusCode, res.body).to.equal(200);
    const devices = (res.json() as { devices: UsbDevice[] }).devices;
    expect(devices.map((d) => [d.id, d.computerCount])).to.deep.equal([['0781:5567', 2], ['046d:c31c', 1]]);
    const cruzer = devices[0] as UsbDevice;
    expect(cruzer).to.include({ name: 'Cruzer Blade', serial: '4C530001', label: 'USB flash drive' });
    expect(cruzer.firstSeenAt).to.equal(iso(START - 3 * DAY_MS));
    expect(cruzer.lastSeenAt).to.equal(iso(START - 10 * MINUTE_MS));
    expect(cruzer.computers.map((c) => c.hostname)).to.deep.equal(['pc-on', 'pc-off']);
    // Fleet-wide, no per-PC decision is looked up.
    expect(cruzer.computers[0]).to.not.have.property('lastDecision');
  });

  const searches: Array<[string, string[]]> = [
    // vendor:product
    ['046d', ['046d:c31c']],
    // serial, any case
    ['4c53', ['0781:5567']],
    // hostname of a PC it was seen on
    ['PC-OFF', ['0781:5567']],
    // the label
    ['keyboard', ['046d:c31c']],
    ['nothing-like-this', []],
  ];
  for (const [q, ids] of searches) {
    it(`filters by q=${q}`, async () => {
      const res = await api().call('GET', `/api/v1/usb-devices?q=${encodeURIComponent(q)}`, { token: viewer });
      expect((res.json() as { devices: UsbDevice[] }).devices.map((d) => d.id)).to.deep.equal(ids);
    });
  }

  it("per agent: only its sightings, each with the newest decision from that agent's events", async () => {
    const res = await api().call('GET', '/api/v1/usb-devices?agent=agt_on', { token: viewer });
    const devices = (res.json() as { devices: UsbDevice[] }).devices;
    const decisions = Object.fromEntries(devices.map((d) => [d.id, d.computers.map((c) => [c.agentId, c.lastDecision?.target, c.lastDecision?.line])]));
    expect(decisions).to.deep.equal({ '0781:5567': [['agt_on', 'readonly', 9]], '046d:c31c': [['agt_on', 'allow', 2]] });
    const off = (await api().call('GET', '/api/v1/usb-devices?agent=agt_off', { token: viewer })).json() as { devices: UsbDevice[] };
    // a sighting whose device was never decided on that PC says so with null
    expect(off.devices.map((d) => d.computers[0]?.lastDecision)).to.deep.equal([null]);
  });

  it('refuses unknown query parameters', async () => {
    expectError(await api().call('GET', '/api/v1/usb-devices?vendor=0781', { token: viewer }), 400);
    expectError(await api().call('GET', '/api/v1/overview?days=7', { token: viewer }), 400);
  });
});

for (const backend of BACKENDS) {
  describe(`store contract (${backend.name}): summarizeEvents`, function () {
    const h = useStore(backend);
    const t0 = Date.UTC(2026, 10, 25, 10, 0, 0);
    const seed = async (store: Store) => {
      await seedFleet(store);
      await store.ingestEvents('a1', 'g1', [
        deviceEvent(1, 'device.blocked', t0, CRUZER),
        deviceEvent(2, 'device.blocked', t0 - DAY_MS, CRUZER),
        deviceEvent(3, 'port.blocked', t0 - DAY_MS, {}, { port: 'serial' }),
        deviceEvent(4, 'device.allowed', t0, KEYBOARD),
      ], iso(t0));
      await store.ingestEvents('a2', 'g2', [deviceEvent(1, 'device.rejected', t0 + MINUTE_MS, { id: '1234:abcd', name: 'Tricky "quote" \u00e9' })], iso(t0));
      // a server event: counted per day, but has no agent to rank
      await store.ingestEvents(null, null, [{ seq: null, type: 'device.blocked', severity: 'medium', occurredAt: iso(t0 - 2 * DAY_MS), data: {} }], iso(t0));
    };

    it('counts per UTC day, top agents and top devices in the window, for the given types only', async () => {
      const { store } = h();
      await seed(store);
      const summary = await store.summarizeEvents({ since: iso(t0 - 5 * DAY_MS), until: iso(t0 + DAY_MS), types: ['device.blocked', 'device.rejected', 'port.blocked'], top: 10 });
      expect(summary.byDay).to.deep.equal([
        { day: '2026-11-23', count: 1 },
        { day: '2026-11-24', count: 2 },
        { day: '2026-11-25', count: 2 },
      ]);
      expect(summary.topAgents).to.deep.equal([{ agentId: 'a1', count: 3 }, { agentId: 'a2', count: 1 }]);
      // the port event has no device id and is not a device
      expect(summary.topDevices).to.deep.equal([
        { id: '0781:5567', name: 'Cruzer Blade', label: 'USB flash drive', count: 2 },
        { id: '1234:abcd', name: 'Tricky "quote" \u00e9', label: 'USB flash drive', count: 1 },
      ]);
    });

    it('bounds by the window (since inclusive, until exclusive) and by top', async () => {
      const { store } = h();
      const summary = await store.summarizeEvents({ since: iso(t0 - DAY_MS), until: iso(t0 + MINUTE_MS), types: ['device.blocked', 'device.rejected', 'port.blocked'], top: 1 });
      expect(summary.byDay).to.deep.equal([{ day: '2026-11-24', count: 2 }, { day: '2026-11-25', count: 1 }]);
      expect(summary.topAgents).to.deep.equal([{ agentId: 'a1', count: 3 }]);
      expect(summary.topDevices).to.have.length(1);
      expect(await store.summarizeEvents({ since: iso(t0), until: iso(t0 + DAY_MS), types: [], top: 10 })).to.deep.equal({ byDay: [], topAgents: [], topDevices: [] });
    });
  });
}
