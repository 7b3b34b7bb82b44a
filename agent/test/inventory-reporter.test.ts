import { expect } from 'chai';
import type { InventoryBody } from '@portcullis/shared';
import type { InventoryLogger } from '../src/inventory/inventory-collector.js';
import type { Inventory } from '../src/inventory/inventory-model.js';
import { DEFAULT_INVENTORY_INTERVAL_MS, InventoryReporter, type InventoryReporterOptions } from '../src/inventory/inventory-reporter.js';

function inventory(hostname: string, collectedAt = '2026-11-25T10:00:00.000Z'): Inventory {
  return {
    collectedAt,
    hardware: { error: 'dmidecode: permission denied' },
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', kernel: '6.1.0', arch: 'x64', hostname },
    users: { total: 0, truncated: false, sessions: [] },
    software: { source: 'none', total: 0, truncated: false, packages: [] },
    network: { total: 0, truncated: false, interfaces: [] },
    ports: { total: 0, truncated: false, listening: [] },
    usb: { total: 0, truncated: false, devices: [] },
    mail: { total: 0, truncated: false, accounts: [], problems: [] },
  };
}

/** Timers the test fires by hand. */
class FakeTimers {
  private next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  set = (callback: () => void, ms: number): number => {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  };
  clear = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };
  /** Fires every pending timer once. */
  fireAll(): void {
    const due = [...this.pending.entries()];
    this.pending.clear();
    for (const [, timer] of due) timer.callback();
  }
}

/** A collect() whose rounds the test answers one at a time. */
class ScriptedCollect {
  calls = 0;
  private waiting: Array<(inv: Inventory) => void> = [];
  readonly fn = (): Promise<Inventory> => {
    this.calls++;
    return new Promise((resolve) => this.waiting.push(resolve));
  };
  answer(inv: Inventory): void {
    const resolve = this.waiting.shift();
    if (!resolve) throw new Error('no collection is waiting');
    resolve(inv);
  }
  get waitingCount(): number {
    return this.waiting.length;
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function quietLogger(): InventoryLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (message) => warnings.push(message) };
}

function setup(overrides: Partial<InventoryReporterOptions> = {}) {
  const timers = new FakeTimers();
  const collect = new ScriptedCollect();
  const sent: InventoryBody[] = [];
  let connected = true;
  const logger = quietLogger();
  const reporter = new InventoryReporter({
    collect: collect.fn,
    send: (body) => {
      if (!connected) return false;
      sent.push(body);
      return true;
    },
    intervalMs: 1_000,
    logger,
    setTimer: timers.set,
    clearTimer: timers.clear,
    ...overrides,
  });
  return {
    reporter,
    timers,
    collect,
    sent,
    logger,
    setConnected: (value: boolean) => {
      connected = value;
    },
  };
}

describe('inventory reporter', () => {
  it('sends a snapshot on connect and arms the schedule, without waiting for the collection', async () => {
    const { reporter, timers, collect, sent } = setup();
    reporter.onConnected();
    expect(collect.calls).to.equal(1);
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([1_000]);
    expect(sent).to.deep.equal([]);
    collect.answer(inventory('pc-1'));
    await settle();
    expect(sent).to.deep.equal([{ kind: 'snapshot', inventory: inventory('pc-1') }]);
  });

  it('on the timer: a delta of only what changed, and nothing at all when nothing did', async () => {
    const { reporter, timers, collect, sent } = setup();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();

    timers.fireAll();
    collect.answer(inventory('pc-1', '2026-11-25T16:00:00.000Z'));
    await settle();
    expect(sent).to.have.length(1);

    timers.fireAll();
    collect.answer(inventory('pc-2', '2026-11-25T22:00:00.000Z'));
    await settle();
    expect(sent[1]).to.deep.equal({ kind: 'delta', changes: { collectedAt: '2026-11-25T22:00:00.000Z', os: inventory('pc-2').os } });
    // The schedule keeps going.
    expect(timers.pending.size).to.equal(1);
  });

  it('when send refuses, nothing is remembered and the same change is sent on a later round', async () => {
    const { reporter, timers, collect, sent, setConnected } = setup();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();

    setConnected(false);
    timers.fireAll();
    collect.answer(inventory('pc-2'));
    await settle();
    expect(sent).to.have.length(1);

    setConnected(true);
    timers.fireAll();
    collect.answer(inventory('pc-2'));
    await settle();
    expect(sent[1]).to.deep.include({ kind: 'delta' });
    expect((sent[1] as { changes: Record<string, unknown> }).changes['os']).to.deep.equal(inventory('pc-2').os);
  });

  it('a refused first snapshot is retried as a snapshot, not a delta', async () => {
    const { reporter, timers, collect, sent, setConnected } = setup();
    setConnected(false);
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();
    setConnected(true);
    timers.fireAll();
    collect.answer(inventory('pc-1'));
    await settle();
    expect(sent.map((b) => b.kind)).to.deep.equal(['snapshot']);
  });

  it('every reconnect sends a full snapshot again, even when nothing changed', async () => {
    const { reporter, collect, sent } = setup();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();
    reporter.onDisconnected();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();
    expect(sent.map((b) => b.kind)).to.deep.equal(['snapshot', 'snapshot']);
  });

  it('no schedule while disconnected', () => {
    const { reporter, timers } = setup();
    reporter.onConnected();
    reporter.onDisconnected();
    expect(timers.pending.size).to.equal(0);
  });

  it('collections never overlap: requests during a round join it', async () => {
    const { reporter, timers, collect, sent } = setup();
    reporter.onConnected();
    const first = reporter.refresh();
    timers.fireAll();
    const second = reporter.refresh();
    expect(collect.calls).to.equal(1);
    collect.answer(inventory('pc-1'));
    const [a, b] = await Promise.all([first, second]);
    expect(a).to.equal(b);
    expect(a).to.deep.equal({ kind: 'snapshot', sent: true, sections: ['hardware', 'os', 'users', 'software', 'network', 'ports', 'usb', 'mail'], failedSections: ['hardware'] });
    expect(sent).to.have.length(1);
    // After the round, a new request collects again.
    void reporter.refresh();
    expect(collect.calls).to.equal(2);
    expect(collect.waitingCount).to.equal(1);
  });

  it('a connect during a delta round turns it into a snapshot', async () => {
    const { reporter, timers, collect, sent } = setup();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();
    timers.fireAll();
    reporter.onDisconnected();
    reporter.onConnected();
    expect(collect.calls).to.equal(2);
    collect.answer(inventory('pc-1'));
    await settle();
    expect(sent.map((b) => b.kind)).to.deep.equal(['snapshot', 'snapshot']);
  });

  it('refresh reports what it sent: a delta of the changed sections, or unchanged', async () => {
    const { reporter, collect } = setup();
    reporter.onConnected();
    collect.answer(inventory('pc-1'));
    await settle();

    const changed = reporter.refresh();
    collect.answer(inventory('pc-2'));
    expect(await changed).to.deep.equal({ kind: 'delta', sent: true, sections: ['os'], failedSections: ['hardware'] });

    const same = reporter.refresh();
    collect.answer(inventory('pc-2'));
    expect(await same).to.deep.equal({ kind: 'unchanged', sent: false, sections: [], failedSections: ['hardware'] });
  });

  it('a collect that rejects or a send that throws is logged, never thrown', async () => {
    const logger = quietLogger();
    const reporter = new InventoryReporter({
      collect: () => Promise.reject(new Error('boom')),
      send: () => true,
      logger,
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    expect(await reporter.refresh()).to.deep.equal({ kind: 'failed', sent: false, sections: [], failedSections: [] });

    const throwing = new InventoryReporter({
      collect: () => Promise.resolve(inventory('pc-1')),
      send: () => {
        throw new Error('frame too large');
      },
      logger,
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    expect((await throwing.refresh()).sent).to.equal(false);
    expect(logger.warnings).to.deep.equal(['inventory collection failed', 'inventory send failed']);
  });

  it('stop clears the schedule and sends nothing more', async () => {
    const { reporter, timers, collect, sent } = setup();
    reporter.onConnected();
    reporter.stop();
    expect(timers.pending.size).to.equal(0);
    collect.answer(inventory('pc-1'));
    await settle();
    expect(sent).to.deep.equal([]);
    reporter.onConnected();
    expect(collect.calls).to.equal(1);
  });

  it('defaults to a six-hour schedule and refuses a bad interval', () => {
    expect(DEFAULT_INVENTORY_INTERVAL_MS).to.equal(6 * 60 * 60 * 1000);
    const { timers, reporter } = setup({ intervalMs: undefined });
    reporter.onConnected();
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([DEFAULT_INVENTORY_INTERVAL_MS]);
    expect(() => setup({ intervalMs: 0 })).to.throw(RangeError, /intervalMs/);
  });
});
