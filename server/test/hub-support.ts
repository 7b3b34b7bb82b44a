/**
 * A real hub in process for the hub tests: a migrated SQLite store in a temp folder, the REST API
 * over plain HTTP (TLS is covered once, in hub-tls.test.ts) with the AgentHub as its publisher,
 * listening on 127.0.0.1:<any>. Agents enroll through POST /api/v1/enroll and connect with the
 * `ws` client as a real agent would.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import {
  parseServerMessage,
  STARTER_POLICY_INPUT,
  verifySignedPolicy,
  type PolicyDocument,
  type ServerMessage,
  type ServerMessageType,
} from '@portcullis/shared';
import { buildApi } from '../src/api/app.js';
import type { Logger, ServerDeps } from '../src/api/deps.js';
import { savePolicy } from '../src/api/routes/group-routes.js';
import { createEnrollmentToken } from '../src/api/routes/token-routes.js';
import { AgentHub, DEFAULT_HUB_OPTIONS } from '../src/hub/agent-hub.js';
import { generateSigningKeyPem, loadSigningKey } from '../src/pki/signing-key.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: 'info' | 'warn' | 'error'; message: string; meta: Record<string, unknown> | undefined }> = [];
  info(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, meta });
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, meta });
  }
  error(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, meta });
  }
}

export interface EnrolledAgent {
  readonly agentId: string;
  readonly secret: string;
  readonly group: string;
  /** The Authorization header value the hub expects. */
  readonly bearer: string;
}

export interface HubHarness {
  readonly store: Store;
  readonly hub: AgentHub;
  readonly app: FastifyInstance;
  readonly deps: ServerDeps;
  readonly logger: RecordingLogger;
  /** `ws://127.0.0.1:<port>` (append `/agent`). */
  readonly baseUrl: string;
  /** verifySignedPolicy with the server's signing key, as an agent does. */
  verifyPolicy(signed: unknown): PolicyDocument;
  /** Enrolls a computer (a new one unless `machineId` names one enrolled before). */
  enroll(group: string, machineId?: string): Promise<EnrolledAgent>;
  /** Enrolls and connects; resolves once `welcome` arrived. */
  connectNew(group: string): Promise<{ agent: EnrolledAgent; client: TestAgent }>;
  dispose(): Promise<void>;
}

/** Groups g1 and g2, each with the starter policy as version 1. */
export const GROUPS = ['g1', 'g2'] as const;

export async function startHub(): Promise<HubHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-hub-'));
  const store = await openSqliteStore(join(dir, 'portcullis.db'));
  await store.migrate();
  const key = loadSigningKey(generateSigningKeyPem());
  const publicKey = createPublicKey(key.publicKeyPem);
  const logger = new RecordingLogger();
  const clock = () => new Date();
  const hub = new AgentHub(store, clock, logger, DEFAULT_HUB_OPTIONS);
  const deps: ServerDeps = {
    store,
    clock,
    signer: { keyId: key.keyId, publicKeyPem: key.publicKeyPem, sign: key.sign },
    publisher: hub,
    logger,
    options: { sessionTtlHours: 1, secureCookies: false },
  };
  for (const name of GROUPS) {
    await store.createGroup({ name, description: `group ${name}`, createdAt: clock().toISOString() });
    await savePolicy(deps, name, STARTER_POLICY_INPUT, 'test', 'test');
  }
  const app = await buildApi(deps);
  hub.attach(app.server as Server);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the test server has no port');
  const baseUrl = `ws://127.0.0.1:${address.port}`;

  const enroll = async (group: string, machineId: string = randomUUID()): Promise<EnrolledAgent> => {
    const { token } = await createEnrollmentToken(deps, group, '1h', 'test');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      payload: { token, hostname: `pc-${group}-${randomUUID().slice(0, 8)}`, machineId, os: 'linux', agentVersion: '0.1.0' },
    });
    if (res.statusCode !== 201) throw new Error(`enrollment failed: ${res.statusCode} ${res.body}`);
    const body = res.json<{ agentId: string; secret: string; group: string }>();
    return { agentId: body.agentId, secret: body.secret, group: body.group, bearer: `Bearer ${body.agentId}.${body.secret}` };
  };

  return {
    store,
    hub,
    app,
    deps,
    logger,
    baseUrl,
    verifyPolicy: (signed) =>
      verifySignedPolicy(signed, (keyId, payload, signature) => keyId === key.keyId && verify(null, payload, publicKey, signature)),
    enroll,
    async connectNew(group) {
      const agent = await enroll(group);
      const client = await TestAgent.connect(`${baseUrl}/agent`, agent.bearer);
      await client.next('welcome');
      return { agent, client };
    },
    async dispose() {
      await hub.close();
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a hub for the enclosing `describe` and stops it after; returns an accessor. */
export function useHub(): () => HubHarness {
  let harness: HubHarness | undefined;
  before(async () => {
    harness = await startHub();
  });
  after(async () => {
    await harness?.dispose();
  });
  return () => {
    if (harness === undefined) throw new Error('the hub did not start (see the before hook)');
    return harness;
  };
}

type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

/**
 * One agent connection. Every frame the server sends is parsed with parseServerMessage (so the
 * server is held to the protocol too) and queued; `next(type)` takes the oldest of a type.
 */
export class TestAgent {
  /** Parsed messages not yet taken by next(), oldest first. */
  readonly inbox: ServerMessage[] = [];
  /** Frames parseServerMessage refused: always a server bug. */
  readonly unparsable: string[] = [];
  closeEvent: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  private wakers: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      const text = rawText(data);
      try {
        this.inbox.push(parseServerMessage(text));
      } catch (err) {
        this.unparsable.push(`${(err as Error).message}: ${text.slice(0, 200)}`);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeEvent = { code, reason: reason.toString() };
        resolve(this.closeEvent);
        this.wake();
      });
    });
    // A socket error is followed by 'close'; tests look at the close code.
    ws.on('error', () => undefined);
  }

  static connect(url: string, bearer: string, options: ClientOptions = {}): Promise<TestAgent> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ...options, headers: { Authorization: bearer } });
      const agent = new TestAgent(ws);
      ws.once('open', () => resolve(agent));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`));
      });
      ws.once('error', reject);
    });
  }

  send(message: object | string | Buffer): void {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  /** Takes the oldest queued message of `type`, waiting for one up to `timeoutMs`. */
  async next<T extends ServerMessageType>(type: T, timeoutMs = 3000): Promise<MessageOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.unparsable.length > 0) throw new Error(`the server sent a frame its own protocol refuses: ${this.unparsable[0]}`);
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as MessageOf<T>;
      const seen = this.inbox.map((m) => m.type).join(', ') || 'nothing';
      if (this.closeEvent) throw new Error(`closed (${this.closeEvent.code} ${this.closeEvent.reason}) before a "${type}" message; queued: ${seen}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" message within ${timeoutMs} ms; queued: ${seen}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Queued messages of `type` (not taken). */
  queued(type: ServerMessageType): ServerMessage[] {
    return this.inbox.filter((m) => m.type === type);
  }

  async close(): Promise<void> {
    if (this.closeEvent) return;
    this.ws.close(1000);
    await this.closed;
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }
}

/** The HTTP status the server answers an upgrade with (101 when it accepts). */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- agent → server messages ----------------------------------------------------------------

export function hello(appliedVersion: number | null): object {
  return { v: 1, type: 'hello', body: { agentVersion: '0.1.0', hostname: 'pc-test', os: 'linux', appliedVersion, spoolDepth: 0 } };
}

export function eventsBatch(seqs: readonly number[]): object {
  return {
    v: 1,
    type: 'events',
    body: { events: seqs.map((seq) => ({ seq, type: 'usb.blocked', severity: 'high', occurredAt: '2026-11-25T10:00:00Z', data: { seq, device: { id: '0781:5567' } } })) },
  };
}

function rawText(data: RawData): string {
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
