import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeMessage, PortcullisError, type AgentMessage, type EventsMessage, type ServerMessage } from '@portcullis/shared';
import { attemptAfterClose, nextDelay, STABLE_CONNECTION_MS } from '../src/link/backoff.js';
import { checkLinkUrl } from '../src/link/link-url.js';
import { ServerLink, type LinkOptions } from '../src/link/server-link.js';
import { MemorySpool } from '../src/spool/memory-spool.js';
import { usbEvent } from './support/spool-fixtures.js';

const AGENT_ID = 'agt_test01';
const SECRET = 's'.repeat(40);

/** One connection the fake server accepted, and what the agent sent on it. */
interface Conn {
  readonly ws: WebSocket;
  readonly authorization: string | undefined;
  readonly received: AgentMessage[];
  closeCode?: number;
}

/** A stand-in for the server's hub on plain ws://: welcomes, records, acks as told. */
class FakeHub {
  readonly conns: Conn[] = [];
  /** Called on each `events` frame; returns the seq to ack, or undefined for no ack. */
  onEvents: (conn: Conn, msg: EventsMessage) => number | undefined = (_c, m) => m.body.events.at(-1)?.seq;
  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws, req) => {
      const conn: Conn = { ws, authorization: req.headers.authorization, received: [] };
      this.conns.push(conn);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as AgentMessage;
        conn.received.push(msg);
        if (msg.type !== 'events') return;
        const seq = this.onEvents(conn, msg);
        if (seq !== undefined) this.send(conn, { v: 1, type: 'ack', body: { seq } });
      });
      ws.on('close', (code) => {
        conn.closeCode = code;
      });
      this.send(conn, { v: 1, type: 'welcome', body: { agentId: AGENT_ID, serverTime: '2026-11-25T10:00:00Z' } });
    });
  }

  static start(options: { autoPong?: boolean } = {}): Promise<FakeHub> {
    return FakeHub.startOn(0, options);
  }

  static async startOn(port: number, options: { autoPong?: boolean } = {}): Promise<FakeHub> {
    const wss = new WebSocketServer({ port, host: '127.0.0.1', autoPong: options.autoPong ?? true });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeHub(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/agent`;
  }

  send(conn: Conn, msg: ServerMessage): void {
    conn.ws.send(encodeMessage(msg));
  }

  /** Every event seq the agent sent, over all connections, in order. */
  sentSeqs(): number[] {
    return this.conns.flatMap((c) => c.received.flatMap((m) => (m.type === 'events' ? m.body.events.map((e) => e.seq) : [])));
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** MemorySpool that records the acks the link gives it. */
class RecordingSpool extends MemorySpool {
  readonly acks: number[] = [];
  override async ack(seq: number): Promise<void> {
    this.acks.push(seq);
    await super.ack(seq);
  }
}

interface Logged {
  readonly level: string;
  readonly message: string;
}

function linkFor(hub: FakeHub, spool: MemorySpool, overrides: Partial<LinkOptions> = {}): { link: ServerLink; logs: Logged[]; handed: ServerMessage[] } {
  const logs: Logged[] = [];
  const handed: ServerMessage[] = [];
  const link = new ServerLink({
    url: overrides.url ?? hub.url,
    agentId: AGENT_ID,
    secret: SECRET,
    caCertPem: undefined,
    spool,
    hello: () => ({ agentVersion: '0.1.0', hostname: 'pc-17', os: 'linux', appliedVersion: null, spoolDepth: spool.depth() }),
    clock: () => Date.now(),
    random: () => 0,
    backoff: { baseMs: 500, capMs: 60_000 },
    heartbeatMs: 10_000,
    logger: {
      info: (message) => logs.push({ level: 'info', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
    },
    onMessage: (msg) => handed.push(msg),
    allowInsecure: true,
    ...overrides,
  });
  return { link, logs, handed };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function appendEvents(spool: MemorySpool, n: number): Promise<void> {
  await spool.append(Array.from({ length: n }, (_, i) => usbEvent(`e${i}`)));
}

/** Timers alive now; call it after an await, once mocha has armed its own test timeout. */
async function timeoutCount(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('link backoff', () => {
  it('nextDelay stays within 0 ≤ d ≤ min(cap, base·2^attempt)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        (attempt, r, base, cap) => {
          const window = Math.min(cap, base * 2 ** attempt);
          const d = nextDelay(attempt, () => r, base, cap);
          expect(d).to.be.at.least(0);
          expect(d).to.be.at.most(window);
          expect(Number.isFinite(d)).to.equal(true);
        },
      ),
    );
  });

  it('nextDelay reaches the cap of about a minute and not beyond', () => {
    expect(nextDelay(0, () => 0.5, 500, 60_000)).to.equal(250);
    expect(nextDelay(3, () => 0.5, 500, 60_000)).to.equal(2_000);
    expect(nextDelay(20, () => 0.999, 500, 60_000)).to.be.closeTo(59_940, 1e-6);
  });

  const resetRows: { name: string; attempt: number; upMs: number; welcomed: boolean; expected: number }[] = [
    // the server never answered: keep backing off
    { name: 'refused connection', attempt: 3, upMs: 0, welcomed: false, expected: 4 },
    // TLS/auth passed and the hub said welcome: the server is healthy again
    { name: 'welcomed connection', attempt: 5, upMs: 10, welcomed: true, expected: 0 },
    // no welcome, but it stayed up past the stable threshold
    { name: 'long-lived connection', attempt: 5, upMs: STABLE_CONNECTION_MS + 1, welcomed: false, expected: 0 },
    // exactly at the threshold is not yet "stayed up > 30 s"
    { name: 'connection at the threshold', attempt: 2, upMs: STABLE_CONNECTION_MS, welcomed: false, expected: 3 },
  ];
  for (const row of resetRows) {
    it(`attemptAfterClose: ${row.name}`, () => {
      expect(attemptAfterClose(row.attempt, { upMs: row.upMs, welcomed: row.welcomed })).to.equal(row.expected);
    });
  }
});

describe('link url', () => {
  it('production takes only wss://', () => {
    expect(checkLinkUrl('wss://srv:8443/agent', false).protocol).to.equal('wss:');
    expect(() => checkLinkUrl('ws://srv:8443/agent', false)).to.throw(PortcullisError, /wss:\/\//);
    expect(() => checkLinkUrl('https://srv:8443/agent', true)).to.throw(PortcullisError);
    expect(() => checkLinkUrl('not a url', true)).to.throw(PortcullisError);
  });

  it('ws:// only when insecure is allowed explicitly', () => {
    expect(checkLinkUrl('ws://127.0.0.1:1/agent', true).protocol).to.equal('ws:');
    expect(() => new ServerLink({ url: 'ws://127.0.0.1:1/agent' } as LinkOptions)).to.throw(PortcullisError);
  });
});

describe('ServerLink', () => {
  let hub: FakeHub;
  let link: ServerLink | undefined;

  beforeEach(async () => {
    hub = await FakeHub.start();
  });

  afterEach(async () => {
    await link?.stop();
    link = undefined;
    await hub.close();
  });

  it('authenticates with Bearer <agentId>.<secret> and says hello first', async () => {
    const spool = new MemorySpool();
    ({ link } = linkFor(hub, spool));
    link.start();
    await until(() => (hub.conns[0]?.received.length ?? 0) > 0, 'hello');
    const conn = hub.conns[0] as Conn;
    expect(conn.authorization).to.equal(`Bearer ${AGENT_ID}.${SECRET}`);
    expect(conn.received[0]?.type).to.equal('hello');
    expect(link.connected).to.equal(true);
  });

  it('sends spooled events after hello and drains the spool on ack', async () => {
    const spool = new RecordingSpool();
    await appendEvents(spool, 5);
    ({ link } = linkFor(hub, spool));
    link.start();
    await until(() => spool.depth() === 0, 'drained spool');
    expect(hub.conns[0]?.received.map((m) => m.type)).to.deep.equal(['hello', 'events']);
    expect(hub.sentSeqs()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(spool.acks).to.deep.equal([5]);
  });

  it('sends events appended later when notified', async () => {
    const spool = new MemorySpool();
    ({ link } = linkFor(hub, spool));
    link.start();
    await until(() => link?.connected === true, 'connection');
    await appendEvents(spool, 3);
    link.notify();
    await until(() => spool.depth() === 0, 'drained spool');
    expect(hub.sentSeqs()).to.deep.equal([1, 2, 3]);
  });

  it('splits a backlog into batches of at most 500 and keeps at most maxInFlight unacked', async () => {
    hub.onEvents = () => undefined;
    const spool = new MemorySpool();
    await appendEvents(spool, 1_600);
    ({ link } = linkFor(hub, spool, { maxInFlight: 2 }));
    link.start();
    await until(() => hub.sentSeqs().length === 1_000, 'two batches');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const batches = hub.conns[0]?.received.filter((m) => m.type === 'events') ?? [];
    expect(batches.map((b) => (b as EventsMessage).body.events.length)).to.deep.equal([500, 500]);
  });

  it('keeps events in the spool while the server never acks', async () => {
    hub.onEvents = () => undefined;
    const spool = new MemorySpool();
    await appendEvents(spool, 4);
    ({ link } = linkFor(hub, spool));
    link.start();
    await until(() => hub.sentSeqs().length === 4, 'events sent');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(spool.depth()).to.equal(4);
    expect(spool.stats().ackedSeq).to.equal(0);
  });

  it('reconnects after the server closes mid-stream and resends what was not acked', async () => {
    // The first connection stores only seqs 1..3 of the batch, then drops.
    hub.onEvents = (conn, msg) => {
      if (conn !== hub.conns[0]) return msg.body.events.at(-1)?.seq;
      setTimeout(() => conn.ws.close(1011, 'server restarting'), 20);
      return 3;
    };
    const spool = new RecordingSpool();
    await appendEvents(spool, 6);
    ({ link } = linkFor(hub, spool));
    link.start();
    await until(() => spool.depth() === 0 && hub.conns.length === 2, 'resend on the second connection');
    const second = (hub.conns[1] as Conn).received;
    expect(second[0]?.type).to.equal('hello');
    expect(second.flatMap((m) => (m.type === 'events' ? m.body.events.map((e) => e.seq) : []))).to.deep.equal([4, 5, 6]);
    expect(spool.acks).to.deep.equal([3, 6]);
  });

  it('keeps retrying while the server is down and connects when it is back', async () => {
    const port = (hub.wss.address() as AddressInfo).port;
    const url = hub.url;
    await hub.close();
    const spool = new MemorySpool();
    await appendEvents(spool, 2);
    let logs: Logged[];
    ({ link, logs } = linkFor(hub, spool, { url, backoff: { baseMs: 20, capMs: 40 }, random: () => 1 }));
    link.start();
    await until(() => logs.filter((l) => l.message.includes('reconnecting')).length >= 3, 'several retries');
    hub = await FakeHub.startOn(port);
    await until(() => spool.depth() === 0, 'drained after the server returned');
  });

  it('ignores invalid server frames and keeps working', async () => {
    hub.onEvents = () => undefined;
    const spool = new MemorySpool();
    await appendEvents(spool, 2);
    let logs: Logged[];
    ({ link, logs } = linkFor(hub, spool));
    link.start();
    await until(() => hub.sentSeqs().length === 2, 'events sent');
    const conn = hub.conns[0] as Conn;
    conn.ws.send('not json');
    conn.ws.send('{"v":1,"type":"ack","body":{"seq":-1}}');
    conn.ws.send('{"v":9,"type":"ack","body":{"seq":2}}');
    conn.ws.send('{"v":1,"type":"launch-missiles","body":{}}');
    conn.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    hub.send(conn, { v: 1, type: 'ack', body: { seq: 2 } });
    await until(() => spool.depth() === 0, 'the valid ack after the invalid frames');
    expect(logs.filter((l) => l.message === 'ignored an invalid frame from the server')).to.have.length(5);
    expect(link.connected).to.equal(true);
    expect(hub.conns).to.have.length(1);
  });

  it('hands command messages to the agent and only logs server errors', async () => {
    const spool = new MemorySpool();
    let handed: ServerMessage[];
    ({ link, handed } = linkFor(hub, spool));
    link.start();
    await until(() => hub.conns.length === 1 && link?.connected === true, 'connection');
    const conn = hub.conns[0] as Conn;
    hub.send(conn, { v: 1, type: 'command', body: { commandId: 'c-1', name: 'rescan', args: {} } });
    hub.send(conn, { v: 1, type: 'error', body: { code: 'PORTCULLIS_ERR_INTERNAL', message: 'oops' } });
    await until(() => handed.length === 1, 'command handed over');
    expect(handed[0]?.type).to.equal('command');
  });

  it('terminates a connection whose pings go unanswered and reconnects', async () => {
    await hub.close();
    hub = await FakeHub.start({ autoPong: false });
    const spool = new MemorySpool();
    ({ link } = linkFor(hub, spool, { heartbeatMs: 30 }));
    link.start();
    await until(() => hub.conns.length >= 2, 'a second connection after the dead one');
  });

  it('stop() closes with 1000, does not reconnect and leaves no timers', async () => {
    const before = await timeoutCount();
    const spool = new MemorySpool();
    ({ link } = linkFor(hub, spool, { heartbeatMs: 50 }));
    link.start();
    await until(() => link?.connected === true, 'connection');
    await link.stop();
    expect(link.connected).to.equal(false);
    await until(() => hub.conns[0]?.closeCode !== undefined, 'server saw the close');
    expect(hub.conns[0]?.closeCode).to.equal(1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hub.conns).to.have.length(1);
    expect(await timeoutCount()).to.equal(before);
  });

  it('stop() during the backoff wait cancels the reconnect', async () => {
    const url = hub.url;
    await hub.close();
    const before = await timeoutCount();
    const spool = new MemorySpool();
    let logs: Logged[];
    ({ link, logs } = linkFor(hub, spool, { url, random: () => 1, backoff: { baseMs: 60_000, capMs: 60_000 } }));
    link.start();
    await until(() => logs.some((l) => l.message.includes('reconnecting')), 'a scheduled reconnect');
    await link.stop();
    expect(await timeoutCount()).to.equal(before);
    hub = await FakeHub.start();
  });
});
