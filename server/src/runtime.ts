import winston from 'winston';
import type { Logger } from './api/deps.js';
import type { LogLevel, ServerConfig } from './config.js';
import { openPostgresStore } from './store/postgres-store.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

/** Opens the configured database and brings its schema up to date. */
export async function openConfiguredStore(config: ServerConfig): Promise<Store> {
  const store = config.database.kind === 'postgres' ? await openPostgresStore(config.database.url) : await openSqliteStore(config.database.path);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * The server log: JSON lines on stderr (journald and container runtimes collect it). Meta that
 * could carry a secret never reaches here: callers log usernames and ids, never tokens.
 */
export function createLogger(level: LogLevel): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: [...Object.keys(winston.config.npm.levels)] })],
  });
}
