import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Store } from './store.js';
import type { Database } from './schema.js';
import { postgresFlavor } from './sql-flavor.js';
import { KyselyStore } from './kysely-store.js';

const INT8_OID = 20;

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /**
   * An idle pooled connection failed (server restart, network cut). The pool drops it and the
   * next query opens a new one; without a listener pg would crash the process.
   */
  readonly onIdleError?: (err: Error) => void;
}

/**
 * Opens a pool on the PostgreSQL database at `url` and checks that it answers, so a wrong URL
 * or a stopped server fails here with a message that names the server (never the password).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // bigint (ids, seqs, counts) as numbers rather than strings; ids stay far below 2^53.
    types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) },
  });
  const onIdleError = options.onIdleError ?? ((err: Error) => console.error(`portcullis: PostgreSQL connection lost: ${err.message}`));
  pool.on('error', onIdleError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new Error(`cannot reach PostgreSQL at ${redacted(url)}: ${(err as Error).message}`, { cause: err });
  }
  return new KyselyStore(db, postgresFlavor);
}

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} does not fit a JavaScript number`);
  return n;
}

/** The URL without its password, for messages and logs. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch (err) {
    if (err instanceof TypeError) return '(unparseable URL)';
    throw err;
  }
}
