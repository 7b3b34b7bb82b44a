import { parseIsoTimestamp } from '@portcullis/shared';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { SqlFlavor } from './sql-flavor.js';
import { StoreError, StoreErrorCodes } from './store.js';

/** What every repo needs: the database and the few things that differ per back-end. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly flavor: SqlFlavor;
}

/**
 * Rows per multi-row INSERT: 500 × 13 event columns stays far below SQLite's 32,766 and
 * PostgreSQL's 65,535 bound parameters.
 */
export const ROWS_PER_INSERT = 500;

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export function changedRows(result: { numUpdatedRows: bigint } | { numDeletedRows: bigint }): number {
  return Number('numUpdatedRows' in result ? result.numUpdatedRows : result.numDeletedRows);
}

/**
 * Runs a write and turns the driver's constraint errors into StoreErrors with a message for
 * people, so callers need not know SQLite's or PostgreSQL's error codes.
 */
export async function guarded<T>(
  flavor: SqlFlavor,
  write: () => Promise<T>,
  messages: { readonly duplicate?: string; readonly missingReference?: string },
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const violated = flavor.violatedConstraint(err);
    if (violated === 'unique' && messages.duplicate !== undefined) {
      throw new StoreError(StoreErrorCodes.CONFLICT, messages.duplicate, { cause: err });
    }
    if (violated === 'foreign-key' && messages.missingReference !== undefined) {
      throw new StoreError(StoreErrorCodes.NOT_FOUND, messages.missingReference, { cause: err });
    }
    throw err;
  }
}

export function parseJsonObject(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}


/**
 * Every time is stored in one form, toISOString's (`2026-11-25T10:00:00.000Z`): text order is
 * then time order on both back-ends, so expiry checks and ranges compare correctly even when a
 * caller wrote `…T11:00:00+01:00` or left out the milliseconds. Parsing is shared's strict
 * RFC 3339 profile (date, time with seconds, explicit zone): no guessing what a time means.
 */
export function utc(time: string, what: string): string {
  const ms = parseIsoTimestamp(time);
  if (ms === null) throw new StoreError(StoreErrorCodes.INVALID, `${what} is not an ISO-8601 time: ${JSON.stringify(time)}`);
  return new Date(ms).toISOString();
}

export function utcOrUndefined(time: string | undefined, what: string): string | undefined {
  return time === undefined ? undefined : utc(time, what);
}
