import { expect } from 'chai';
import { MailEventSink } from '../src/mail/mail-event-sink.js';
import type { NewEvent } from '../src/store/store.js';

const NOW = new Date('2026-11-25T10:00:00Z');

function event(n: number): NewEvent {
  return { seq: null, type: 'mail.rejected', severity: 'medium', occurredAt: NOW.toISOString(), data: { n } };
}

class Recorder {
  readonly lines: string[] = [];
  warn = (message: string) => void this.lines.push(`warn ${message}`);
  error = (message: string) => void this.lines.push(`error ${message}`);
}

describe('mail event sink', () => {
  it('writes queued events in batches per group, in order, in chunks of at most 50', async () => {
    const calls: Array<{ group: string | null; ns: unknown[] }> = [];
    const sink = new MailEventSink(
      { ingestEvents: async (_agent, group, events) => (calls.push({ group, ns: events.map((e) => e.data.n) }), { stored: events.length, ackedSeq: 0 }) },
      () => NOW,
      new Recorder(),
      { flushMs: 10_000, maxPending: 1000 },
    );
    for (let n = 0; n < 120; n++) sink.add(n % 3 === 0 ? null : 'finance', event(n));
    await sink.close();
    const finance = calls.filter((c) => c.group === 'finance').flatMap((c) => c.ns);
    expect(finance).to.deep.equal([...Array(120).keys()].filter((n) => n % 3 !== 0));
    expect(calls.filter((c) => c.group === null).flatMap((c) => c.ns)).to.have.length(40);
    expect(Math.max(...calls.map((c) => c.ns.length))).to.equal(50);
  });

  it('keeps the events when the database refuses them, and stores them on the next flush', async () => {
    let failing = true;
    const stored: unknown[] = [];
    const logger = new Recorder();
    const sink = new MailEventSink(
      {
        ingestEvents: async (_agent, _group, events) => {
          if (failing) throw new Error('database is locked');
          stored.push(...events.map((e) => e.data.n));
          return { stored: events.length, ackedSeq: 0 };
        },
      },
      () => NOW,
      logger,
      { flushMs: 10_000, maxPending: 1000 },
    );
    sink.add('finance', event(1));
    sink.add('finance', event(2));
    await sink.flush();
    expect(stored).to.deep.equal([]);
    expect(logger.lines).to.deep.equal(['error storing mail events failed; will retry']);
    failing = false;
    await sink.close();
    expect(stored).to.deep.equal([1, 2]);
  });

  it('drops the oldest past its bound and says so with a mail.events.dropped event', async () => {
    const stored: NewEvent[] = [];
    const logger = new Recorder();
    const sink = new MailEventSink(
      { ingestEvents: async (_agent, _group, events) => (stored.push(...events), { stored: events.length, ackedSeq: 0 }) },
      () => NOW,
      logger,
      { flushMs: 10_000, maxPending: 3 },
    );
    for (let n = 1; n <= 5; n++) sink.add('finance', event(n));
    await sink.close();
    expect(stored.filter((e) => e.type === 'mail.rejected').map((e) => e.data.n)).to.deep.equal([3, 4, 5]);
    const dropped = stored.find((e) => e.type === 'mail.events.dropped');
    expect(dropped?.severity).to.equal('high');
    expect(dropped?.data.dropped).to.equal(2);
    expect(logger.lines).to.deep.equal(['warn mail events dropped']);
  });
});
