import { join } from 'node:path';
import { StoreError, StoreErrorCodes, type Store } from './store.js';
import { openSqliteStore } from './sqlite-store.js';
import { openPostgresStore } from './postgres-store.js';

export const SQLITE_FILE_NAME = 'portcullis.db';

/**
 * Picks the back-end from the configured database URL: none means the embedded SQLite file
 * `<dataDir>/portcullis.db`; `postgres://` or `postgresql://` means that PostgreSQL database.
 * The store is opened, not migrated: callers run `migrate()`.
 */
export async function openStore(databaseUrl: string | undefined, dataDir: string): Promise<Store> {
  if (databaseUrl === undefined || databaseUrl.trim() === '') return openSqliteStore(join(dataDir, SQLITE_FILE_NAME));
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl.trim())?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return openPostgresStore(databaseUrl.trim());
  // Only the scheme is echoed: the rest of a URL may hold a password.
  throw new StoreError(
    StoreErrorCodes.DATABASE_URL,
    `unsupported database URL ${scheme === undefined ? '(no scheme)' : `scheme "${scheme}:"`}: give a postgres://user@host:5432/database URL, or none for the SQLite file ${join(dataDir, SQLITE_FILE_NAME)}`,
  );
}
