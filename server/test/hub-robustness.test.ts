/**
 * Failures around the hub rather than in what agents send: a client that vanishes mid-upgrade, a
 * store that fails, an identity replaced while its old connection is open. The server must stay
 * up: Node ends the process on an 'error' event nobody listens to and on an unhandled rejection.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { AgentHub, DEFAULT_HUB_OPTIONS } from '../src/hub/agent-hub.js';
import type { Store } from '../src/store/store.js';
import { RecordingLogger, TestAgent, eventually, useHub, type EnrolledAgent } from './hub-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The store with some methods replaced. */
function storeWith(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Store];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Runs `body` with this process's uncaught-exception and unhandled-rejection handlers swapped
 * for a recorder (mocha's are put back after), and returns what would have killed a server.
 */
async function processFailuresDuring(body: () => Promise<void>): Promise<string[]> {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const saved = events.map((e) => [e, process.listeners(e as 'uncaughtException')] as const);
  const failures: string[] = [];
  const record = (err: unknown) => void failures.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  for (const e of events) process.removeAllListeners(e);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  try {
    await body();
    await sleep(50);
  } finally {
    for (const [e, listeners] of saved) {
      process.removeAllListeners(e);
      for (const l of listeners) process.on(e as 'uncaughtException', l as NodeJS.UncaughtExceptionListener);
    }
  }
  return failures;
}

/** A second hub on the harness's database, over its own plain HTTP server. */
async function hubOn(store: Store, pingIntervalMs = DEFAULT_HUB_OPTIONS.pingIntervalMs): Promise<{ hub: AgentHub; server: Server; port: number; logger: RecordingLogger; stop(): Promise<void> }> {
  const logger = new RecordingLogger();
  const hub = new AgentHub(store, () => new Date(), logger, { ...DEFAULT_HUB_OPTIONS, pingIntervalMs });
  const server = createServer();
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hub,
    server,
    port,
    logger,
    async stop() {
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Sends an upgrade request on a raw socket, then resets the connection (RST) after `resetAfterMs`. */
async function upgradeThenReset(port: number, agent: EnrolledAgent, resetAfterMs: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'GET /agent HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: ${agent.bearer}\r\n\r\n`,
  );
  await sleep(resetAfterMs);
  socket.resetAndDestroy();
}

describe('agent hub: robustness', function () {
  const h = useHub();

  // Bug: during the asynchronous authentication nothing listens for the socket's 'error' (Node
  // removes its own on upgrade), so a client resetting the connection crashes the server.
  it('a client that resets the connection while it is being authenticated does not crash the server', async () => {
    const agent = await h().enroll('g1');
    const slow = storeWith(h().store, {
      getAgent: async (id: string) => {
        await sleep(150);
        return h().store.getAgent(id);
      },
    });
    const side = await hubOn(slow);
    try {
      const failures = await processFailuresDuring(async () => {
        await upgradeThenReset(side.port, agent, 30);
        await sleep(250);
      });
      expect(failures).to.deep.equal([]);
      const client = await TestAgent.connect(`ws://127.0.0.1:${side.port}/agent`, agent.bearer);
      await client.next('welcome');
      await client.close();
    } finally {
      await side.stop();
    }
  });

  // Bug: accept() and tick() call store.touchAgent with `void`, so a failing database write (locked
  // SQLite file, lost PostgreSQL connection) is an unhandled rejection, which ends the process.
  it('a failing touchAgent on connect is logged, not an unhandled rejection', async () => {
    const agent = await h().enroll('g1');
    const failing = storeWith(h().store, { touchAgent: () => Promise.reject(new Error('SQLITE_BUSY: database is locked')) });
    const side = await hubOn(failing);
    try {
      let client: TestAgent | undefined;
      const failures = await processFailuresDuring(async () => {
        client = await TestAgent.connect(`ws://127.0.0.1:${side.port}/agent`, agent.bearer);
        await client.next('welcome');
      });
      await client?.close();
      expect(failures).to.deep.equal([]);
    } finally {
      await side.stop();
    }
  });

  it('a failing store during a message gets an INTERNAL error, and the connection stays', async () => {
    const agent = await h().enroll('g1');
    const failing = storeWith(h().store, { ingestEvents: () => Promise.reject(new Error('connection terminated')) });
    const side = await hubOn(failing);
    try {
      const client = await TestAgent.connect(`ws://127.0.0.1:${side.port}/agent`, agent.bearer);
      await client.next('welcome');
      client.send({ v: 1, type: 'events', body: { events: [{ seq: 1, type: 'usb.blocked', severity: 'high', occurredAt: '2026-11-25T10:00:00Z', data: {} }] } });
      const error = await client.next('error');
      expect(error.body.code).to.equal('PORTCULLIS_ERR_INTERNAL');
      expect(error.body.message).not.to.match(/connection terminated/);
      expect(client.queued('ack')).to.deep.equal([]);
      expect(side.logger.lines.some((l) => l.level === 'error' && l.message === 'agent message failed')).to.equal(true);
      await client.close();
    } finally {
      await side.stop();
    }
  });

  it('a connection that stops answering pings is dropped; one that answers stays', async () => {
    const quiet = await h().enroll('g1');
    const lively = await h().enroll('g1');
    const side = await hubOn(h().store, 40);
    try {
      const url = `ws://127.0.0.1:${side.port}/agent`;
      const dead = await TestAgent.connect(url, quiet.bearer, { autoPong: false });
      const alive = await TestAgent.connect(url, lively.bearer);
      await dead.next('welcome');
      await alive.next('welcome');
      expect((await dead.closed).code).to.equal(1006);
      await eventually('the hub to drop the silent connection', async () => !side.hub.isConnected(quiet.agentId));
      expect(side.hub.isConnected(lively.agentId)).to.equal(true);
      await alive.close();
    } finally {
      await side.stop();
    }
  });

  // Bug: enrolling the same machine again revokes the old identity in the store, but the old
  // identity's open connection is not told (publisher.agentChanged), so it keeps reporting.
  it('re-enrolling a machine disconnects the identity it replaces', async () => {
    const machineId = '6f1c2d3e-0000-4000-8000-000000000001';
    const old = await h().enroll('g1', machineId);
    const client = await TestAgent.connect(`${h().baseUrl}/agent`, old.bearer);
    await client.next('welcome');
    await h().enroll('g1', machineId);
    expect((await h().store.getAgent(old.agentId))?.revokedAt).to.be.a('string');
    await eventually('the old connection to close', async () => client.closeEvent !== undefined, 1000).catch(() => undefined);
    await client.close();
    expect(client.closeEvent?.code).to.equal(4001);
  });
});
