import { createHash } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ChainCheck } from './store.js';
import type { ChainName, Database } from './schema.js';
import type { SqlFlavor } from './sql-flavor.js';

/** prev_hash of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** hash = sha256 hex of (prev_hash + "\n" + canonical JSON of the record's immutable fields). */
export function chainHash(prevHash: string, canonicalFields: string): string {
  return createHash('sha256').update(`${prevHash}\n${canonicalFields}`).digest('hex');
}

export interface ChainHead {
  readonly lastId: number;
  readonly hash: string;
}

/**
 * Reads the chain's end and, in PostgreSQL, locks it until the transaction ends: every append
 * goes through this row, so two concurrent batches queue instead of forking the chain.
 */
export async function lockChainHead(trx: Transaction<Database>, flavor: SqlFlavor, name: ChainName): Promise<ChainHead> {
  const row = await flavor
    .forUpdate(trx.selectFrom('chain_head').select(['last_id', 'hash']).where('name', '=', name))
    .executeTakeFirstOrThrow();
  return { lastId: row.last_id, hash: row.hash };
}

export async function readChainHead(db: Kysely<Database>, name: ChainName): Promise<ChainHead> {
  const row = await db.selectFrom('chain_head').select(['last_id', 'hash']).where('name', '=', name).executeTakeFirstOrThrow();
  return { lastId: row.last_id, hash: row.hash };
}

export async function moveChainHead(trx: Transaction<Database>, name: ChainName, head: ChainHead): Promise<void> {
  await trx.updateTable('chain_head').set({ last_id: head.lastId, hash: head.hash }).where('name', '=', name).execute();
}

export interface ChainLink {
  readonly id: number;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * Walks a chain oldest first, one page at a time, up to the head read when the walk began
 * (appends that land meanwhile are left for the next check). Reports the first record whose
 * link is broken: its content no longer matches its hash (changed), or its prev_hash is not the
 * previous record's hash (a record before it was deleted, or rows were reordered); a missing
 * tail shows as a head that points past the last record.
 */
export async function verifyChain<R extends ChainLink>(
  head: ChainHead,
  readPage: (afterId: number, upToId: number, limit: number) => Promise<R[]>,
  recompute: (record: R) => string,
  pageSize = 1000,
): Promise<ChainCheck> {
  let prev: ChainLink | undefined;
  let count = 0;
  for (;;) {
    const page = await readPage(prev?.id ?? 0, head.lastId, pageSize);
    for (const record of page) {
      const expectedPrev = prev?.hash ?? GENESIS_HASH;
      if (record.prevHash !== expectedPrev) {
        const after = prev === undefined ? 'the start of the chain' : `record ${prev.id}`;
        return { intact: false, brokenAtId: record.id, reason: `prev_hash does not match ${after}: a record before it was deleted, altered or reordered` };
      }
      if (recompute(record) !== record.hash) {
        return { intact: false, brokenAtId: record.id, reason: 'the record no longer matches its hash: its content was altered' };
      }
      prev = record;
      count += 1;
    }
    if (page.length < pageSize) break;
  }
  if ((prev?.id ?? 0) !== head.lastId || (prev?.hash ?? GENESIS_HASH) !== head.hash) {
    const last = prev === undefined ? 'no record' : `record ${prev.id}`;
    return { intact: false, brokenAtId: head.lastId, reason: `the chain head names record ${head.lastId} but the chain ends at ${last}: records at its end were deleted or altered` };
  }
  return { intact: true, count };
}

/**
 * Walks a chained table (`events` or `audit`) in id order, a page at a time, up to its chain
 * head; `recompute` gives a row's hash from its own content.
 */
export async function verifyTableChain<T extends ChainName>(
  db: Kysely<Database>,
  table: T,
  recompute: (row: Selectable<Database[T]>) => string,
): Promise<ChainCheck> {
  type Row = Selectable<Database[T]> & ChainLink & { prev_hash: string };
  const head = await readChainHead(db, table);
  return verifyChain<Row>(
    head,
    async (afterId, upToId, limit) => {
      // Both chained tables share id and prev_hash; the row type is the one of `table`.
      const rows = (await db
        .selectFrom(table as ChainName)
        .selectAll()
        .where('id', '>', afterId)
        .where('id', '<=', upToId)
        .orderBy('id', 'asc')
        .limit(limit)
        .execute()) as unknown as Array<Omit<Row, 'prevHash'>>;
      return rows.map((row) => ({ ...row, prevHash: row.prev_hash }) as unknown as Row);
    },
    recompute,
  );
}
