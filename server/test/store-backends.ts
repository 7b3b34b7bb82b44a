/**
 * The back-ends the store contract suite runs on (STYLE.md §4): each opens a fresh, migrated
 * store on an empty database and gives the test raw SQL on that same database, for tampering.
 * PostgreSQL gets a new database per store (`portcullis_test_<random>`), dropped afterwards;
 * when PostgreSQL is down the suite fails with a message saying so (it never skips).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { NewEvent, Severity, Store } from '../src/store/store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { openPostgresStore } from '../src/store/postgres-store.js';

export interface Harness {
  readonly store: Store;
  /** Runs SQL on the store's database behind the store's back (tampering, inspection). */
  exec(sql: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  open(): Promise<Harness>;
}

export const PG_ADMIN_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
    const file = join(dir, 'portcullis.db');
    const store = await openSqliteStore(file);
    await store.migrate();
    const raw = new BetterSqlite3(file);
    raw.pragma('busy_timeout = 5000');
    return {
      store,
      exec: async (sql) => void raw.exec(sql),
      async dispose() {
        raw.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(err as Error).message}). The store contract tests need it: ` +
        'start it (.ci/run does) or point PORTCULLIS_TEST_PG_URL at a server where this user may CREATE DATABASE.',
    );
  }
  return client;
}

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
    const admin = await adminClient();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    // pg's pool.end() does not wait for its connections to close, so the forced drop below may
    // cut some: only a connection lost while the store is in use is a failure.
    let disposing = false;
    const lost: Error[] = [];
    const store = await openPostgresStore(url.toString(), { onIdleError: (err) => void (disposing || lost.push(err)) });
    await store.migrate();
    const raw = new pg.Client({ connectionString: url.toString() });
    await raw.connect();
    return {
      store,
      exec: async (sql) => void (await raw.query(sql)),
      async dispose() {
        disposing = true;
        await raw.end();
        await store.close();
        if (lost.length > 0) throw new Error(`PostgreSQL connections lost during the test: ${lost.map((e) => e.message).join('; ')}`);
        const cleanup = await adminClient();
        try {
          await cleanup.query(`drop database if exists ${name} with (force)`);
        } finally {
          await cleanup.end();
        }
      },
    };
  },
};

export const BACKENDS: readonly Backend[] = [sqlite, postgres];

/**
 * Opens a fresh store for the enclosing `describe` and closes it after; call inside describe.
 * Returns an accessor because the store exists only once `before` ran.
 */
export function useStore(backend: Backend): () => Harness {
  let harness: Harness | undefined;
  before(async function () {
    this.timeout(30_000);
    harness = await backend.open();
  });
  after(async function () {
    this.timeout(30_000);
    await harness?.dispose();
  });
  return () => {
    if (harness === undefined) throw new Error(`${backend.name} store did not open (see the before hook's error)`);
    return harness;
  };
}

/** 2026-11-25T10:00:00.000Z plus `minutes`. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + minutes * 60_000).toISOString();
}

export function event(seq: number | null, patch: Partial<NewEvent> = {}): NewEvent {
  return { seq, type: 'device.blocked', severity: 'medium' as Severity, occurredAt: at(seq ?? 0), data: { seq }, ...patch };
}

export function events(from: number, to: number, patch: Partial<NewEvent> = {}): NewEvent[] {
  return Array.from({ length: to - from + 1 }, (_, i) => event(from + i, patch));
}

/** Groups g1, g2 and agents a1 (g1), a2 (g2): what events and inventory refer to. */
export async function seedFleet(store: Store): Promise<void> {
  for (const name of ['g1', 'g2']) await store.createGroup({ name, description: `group ${name}`, createdAt: at(0) });
  for (const [id, group, hostname] of [
    ['a1', 'g1', 'PC-Finance-01'],
    ['a2', 'g2', 'pc-legal-02'],
  ] as const) {
    await store.createAgent({
      id,
      secretHash: `secret-${id}`,
      group,
      hostname,
      machineId: `machine-${id}`,
      os: 'linux',
      agentVersion: '0.1.0',
      enrolledAt: at(0),
    });
  }
}
