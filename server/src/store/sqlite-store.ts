import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { Store } from './store.js';
import type { Database } from './schema.js';
import { sqliteFlavor } from './sql-flavor.js';
import { KyselyStore } from './kysely-store.js';

/** How long a writer waits for another process's write lock (e.g. the CLI beside the server). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating it if needed) the embedded SQLite database. The file holds password hashes
 * and the event log, so it and its folder are private to the service account: the folder is
 * created 0700 and the file 0600 before SQLite opens it (SQLite gives -wal and -shm the main
 * file's mode).
 */
export async function openSqliteStore(file: string): Promise<Store> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await (await open(file, 'a', 0o600)).close();
  await chmod(file, 0o600);

  const sqlite = new BetterSqlite3(file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // FULL, not NORMAL: the server acks events once committed, and an ack must survive a power cut.
    sqlite.pragma('synchronous = FULL');
    for (const companion of [`${file}-wal`, `${file}-shm`]) {
      if (await exists(companion)) await chmod(companion, 0o600);
    }
  } catch (err) {
    sqlite.close();
    throw err;
  }
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cachingStatements(sqlite) }) });
  return new KyselyStore(db, sqliteFlavor);
}

const STATEMENT_CACHE_SIZE = 512;

/**
 * better-sqlite3 with prepared statements reused by SQL text. Kysely prepares every query anew,
 * which cost a fifth of the ingest time in the benchmark. Statements run one at a time on this
 * single connection, so reuse is safe; the cache is bounded (IN lists make many texts).
 */
function cachingStatements(sqlite: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        stmt = sqlite.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  } as unknown as SqliteDialectConfig['database'];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Kysely's SQLite dialect with transactions that `BEGIN IMMEDIATE`: a writing transaction takes
 * the write lock before its first read, so a read-modify-write (chain head, next policy
 * version) cannot interleave with another process's, and a second writer waits (busy_timeout)
 * instead of failing with SQLITE_BUSY when it upgrades.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
