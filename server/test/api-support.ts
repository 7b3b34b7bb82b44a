/**
 * Fixtures for the REST API tests (STYLE.md §8): the app built by buildApi and driven in process
 * with inject(), on a real migrated SQLite store in a temp folder, a real Ed25519 policy signer,
 * a controllable clock and recorders for what the API publishes and logs.
 */
import { createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { verifySignedPolicy, type CommandName, type PolicyDocument, type SignedPolicy } from '@portcullis/shared';
import { buildApi } from '../src/api/app.js';
import type { Logger, PolicySigner, ServerDeps } from '../src/api/deps.js';
import { hashPassword } from '../src/auth/passwords.js';
import { hashSecret, newSecret } from '../src/auth/secrets.js';
import { bootstrap } from '../src/bootstrap.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { ROLES, type AgentRecord, type Role, type Store } from '../src/store/store.js';

/** 2026-11-25T10:00:00.000Z: where every fixture clock starts. */
export const START = Date.UTC(2026, 10, 25, 10, 0, 0);
export const HOUR_MS = 3_600_000;
export const SESSION_TTL_HOURS = 12;

/** One user per role, named after it. The passwords are distinctive so a log scan finds them. */
export const PASSWORDS: Readonly<Record<Role, string>> = {
  admin: 'Admin-pw-never-logged-7731',
  security: 'Security-pw-never-logged-4410',
  viewer: 'Viewer-pw-never-logged-9052',
};

export interface TestClock {
  now(): Date;
  advance(ms: number): void;
  set(ms: number): void;
}

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly meta: Record<string, unknown> | undefined;
}

export interface Published {
  readonly group: string;
  readonly signed: SignedPolicy;
}

export interface SentCommand {
  readonly agentId: string;
  readonly name: CommandName;
  readonly args: Record<string, unknown>;
  readonly actor: string;
  readonly commandId: string;
}

export interface Call {
  token?: string;
  /** An object or array is sent as JSON; a string is sent as it is, labelled JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiFixture {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly clock: TestClock;
  readonly published: Published[];
  /** Agents the API told the hub to re-read (moved or revoked). */
  readonly changed: string[];
  readonly commands: SentCommand[];
  /** Agents the fake hub calls connected: sendCommand succeeds only for these. */
  readonly connected: Set<string>;
  readonly logs: LogEntry[];
  readonly keyId: string;
  /** Logs in through POST /api/v1/session (a real scrypt check) and returns the bearer token. */
  login(role: Role): Promise<string>;
  /** A session written straight to the store: a token without the scrypt cost of a login. */
  session(role: Role): Promise<string>;
  call(method: InjectOptions['method'], url: string, options?: Call): Promise<LightMyRequestResponse>;
  /** Checks the signature with the fixture's public key and returns the document. */
  verify(signed: unknown): PolicyDocument;
  close(): Promise<void>;
}

// Hashed once per process: scrypt costs ~90 ms a password.
let hashes: Promise<Record<Role, string>> | undefined;
function roleHashes(): Promise<Record<Role, string>> {
  hashes ??= (async () => {
    const out = {} as Record<Role, string>;
    for (const role of ROLES) out[role] = await hashPassword(PASSWORDS[role]);
    return out;
  })();
  return hashes;
}

/**
 * A fresh API on an empty store with the three role users and the `default` group with its
 * starter policy (version 1, from bootstrap). `published` and `logs` start empty.
 */
export async function makeApi(extra: Partial<ServerDeps['options']> = {}): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-api-'));
  const store = await openSqliteStore(join(dir, 'portcullis.db'));
  await store.migrate();

  let nowMs = START;
  const clock: TestClock = {
    now: () => new Date(nowMs),
    advance: (ms) => void (nowMs += ms),
    set: (ms) => void (nowMs = ms),
  };
  const logs: LogEntry[] = [];
  const logger: Logger = {
    info: (message, meta) => void logs.push({ level: 'info', message, meta }),
    warn: (message, meta) => void logs.push({ level: 'warn', message, meta }),
    error: (message, meta) => void logs.push({ level: 'error', message, meta }),
  };
  const published: Published[] = [];
  const changed: string[] = [];
  const commands: SentCommand[] = [];
  const connected = new Set<string>();
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyId = 'test-key-1';
  const signer: PolicySigner = {
    keyId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (payload) => edSign(null, payload, privateKey).toString('base64'),
  };
  const deps: ServerDeps = {
    store,
    clock: clock.now,
    signer,
    publisher: {
      publish: (group, signed) => void published.push({ group, signed }),
      agentChanged: async (agentId) => void changed.push(agentId),
      sendCommand: (agentId, name, args, actor) => {
        if (!connected.has(agentId)) return null;
        const commandId = `cmd_${commands.length + 1}`;
        commands.push({ agentId, name, args, actor, commandId });
        return commandId;
      },
    },
    logger,
    options: { sessionTtlHours: SESSION_TTL_HOURS, secureCookies: true, ...extra },
  };

  const roleHash = await roleHashes();
  for (const role of ROLES) await store.createUser({ username: role, role, passwordHash: roleHash[role] }, clock.now().toISOString());
  await bootstrap(deps, {}, () => undefined);
  published.length = 0;
  logs.length = 0;
  const app = await buildApi(deps);

  const call: ApiFixture['call'] = (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const inject: InjectOptions = { method, url, headers };
    if (typeof options.body === 'string') {
      headers['content-type'] ??= 'application/json';
      inject.payload = options.body;
    } else if (options.body !== undefined) {
      inject.payload = options.body as InjectOptions['payload'];
    }
    return app.inject(inject);
  };

  const spki = createPublicKey(signer.publicKeyPem);
  return {
    app,
    store,
    clock,
    published,
    changed,
    commands,
    connected,
    logs,
    keyId,
    async login(role) {
      const res = await call('POST', '/api/v1/session', { body: { username: role, password: PASSWORDS[role] } });
      expect(res.statusCode, `login as ${role}: ${res.body}`).to.equal(200);
      return (res.json() as { token: string }).token;
    },
    async session(role) {
      const token = newSecret();
      const now = clock.now();
      await store.createSession({
        tokenHash: hashSecret(token),
        username: role,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + SESSION_TTL_HOURS * HOUR_MS).toISOString(),
      });
      return token;
    },
    call,
    verify: (signed) => verifySignedPolicy(signed, (kid, payload, sig) => kid === keyId && edVerify(null, payload, spki, sig)),
    async close() {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** makeApi() for the enclosing describe: built in `before`, closed in `after`. */
export function useApi(): () => ApiFixture {
  let fixture: ApiFixture | undefined;
  before(async function () {
    this.timeout(10_000);
    fixture = await makeApi();
  });
  after(async () => {
    await fixture?.close();
  });
  return () => {
    if (fixture === undefined) throw new Error('the API fixture did not build (see the before hook)');
    return fixture;
  };
}

/** An agent row as enrollment would write it; the secret hash is of a throwaway value. */
export async function seedAgent(
  store: Store,
  a: { id: string; group: string; hostname: string; machineId?: string; enrolledAt?: string },
): Promise<AgentRecord> {
  await store.createAgent({
    id: a.id,
    secretHash: hashSecret(`secret-of-${a.id}`),
    group: a.group,
    hostname: a.hostname,
    machineId: a.machineId ?? `machine-${a.id}`,
    os: 'linux',
    agentVersion: '0.1.0',
    enrolledAt: a.enrolledAt ?? new Date(START).toISOString(),
  });
  return (await store.getAgent(a.id)) as AgentRecord;
}

/** Asserts the API's error format and returns the error. */
export function expectError(res: LightMyRequestResponse, status: number): { code: string; message: string; details?: unknown } {
  expect(res.statusCode, res.body).to.equal(status);
  const body = res.json() as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  expect(body.error, res.body).to.be.an('object');
  expect(body.error?.code, res.body).to.be.a('string').and.match(/^PORTCULLIS_ERR_/);
  expect(body.error?.message, res.body).to.be.a('string').and.not.equal('');
  return body.error as { code: string; message: string; details?: unknown };
}

export interface OpenApiOperation {
  readonly method: string;
  /** The OpenAPI path, `{name}` for parameters. */
  readonly path: string;
  readonly access: 'public' | Role;
  readonly queryParams: readonly string[];
}

/** Every operation of the OpenAPI document the app serves at GET /api/docs. */
export async function operationsOf(app: FastifyInstance): Promise<OpenApiOperation[]> {
  const res = await app.inject({ method: 'GET', url: '/api/docs' });
  expect(res.statusCode).to.equal(200);
  const doc = res.json() as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const ops: OpenApiOperation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []) as Array<{ name: string; in: string }>;
      ops.push({
        method: method.toUpperCase(),
        path,
        access: op['x-portcullis-access'] as OpenApiOperation['access'],
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  return ops;
}

export const key = (op: { method: string; path: string }): string => `${op.method} ${op.path}`;

/** Fills `{name}` path parameters from the given values; fails on one it has no value for. */
export function fillPath(path: string, values: Readonly<Record<string, string>>): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no test value for path parameter {${name}} in ${path}`);
    return encodeURIComponent(v);
  });
}

/**
 * The operations the app documents, read from a build of it whose store must never be touched:
 * lets a test file generate one test per documented route at load time.
 */
export async function documentedOperations(): Promise<OpenApiOperation[]> {
  const untouchable = new Proxy({} as Store, {
    get: (_t, name) => {
      throw new Error(`the documentation build touched store.${String(name)}`);
    },
  });
  const app = await buildApi({
    store: untouchable,
    clock: () => new Date(START),
    signer: { keyId: 'doc', publicKeyPem: '', sign: () => '' },
    publisher: { publish: () => undefined, agentChanged: async () => undefined, sendCommand: () => null },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    options: { sessionTtlHours: SESSION_TTL_HOURS, secureCookies: true },
  });
  try {
    return await operationsOf(app);
  } finally {
    await app.close();
  }
}
