import type { Selectable } from 'kysely';
import { canonicalJson } from '@portcullis/shared';
import type { AuditTable } from './schema.js';
import type { AuditEntry, AuditRecord, ChainCheck } from './store.js';
import { CanonicalRecordShape } from './canonical-record.js';
import { chainHash, lockChainHead, moveChainHead, verifyTableChain } from './hash-chain.js';
import { parseJsonObject, type StoreContext } from './repo-support.js';

/** The append-only, hash-chained trail of admin changes. */
export class AuditRepo {
  constructor(private readonly ctx: StoreContext) {}

  async append(entry: AuditEntry, at: string): Promise<AuditRecord> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const head = await lockChainHead(trx, this.ctx.flavor, 'audit');
      const id = head.lastId + 1;
      const details = canonicalJson(entry.details);
      const hash = chainHash(head.hash, hashedFields({ id, at, actor: entry.actor, action: entry.action, target: entry.target }, details));
      await trx.insertInto('audit').values({ id, at, actor: entry.actor, action: entry.action, target: entry.target, details, prev_hash: head.hash, hash }).execute();
      await moveChainHead(trx, 'audit', { lastId: id, hash });
      return { id, at, actor: entry.actor, action: entry.action, target: entry.target, details: entry.details, prevHash: head.hash, hash };
    });
  }

  /** Newest first; `beforeId` continues from the last page's smallest id. */
  async list(limit: number, beforeId?: number): Promise<AuditRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('audit')
      .selectAll()
      .$if(beforeId !== undefined, (qb) => qb.where('id', '<', beforeId ?? 0))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toAudit);
  }

  async verifyChain(): Promise<ChainCheck> {
    return verifyTableChain(
      this.ctx.db,
      'audit',
      (row) => chainHash(row.prev_hash, hashedFields(row, row.details)),
    );
  }
}

/** The canonical JSON an audit entry's hash covers; `detailsJson` is the column as stored. */
const HASHED_AUDIT = new CanonicalRecordShape(['id', 'at', 'actor', 'action', 'target'], ['details']);

function hashedFields(e: Pick<AuditRecord, 'id' | 'at' | 'actor' | 'action' | 'target'>, detailsJson: string): string {
  return HASHED_AUDIT.write(e, { details: detailsJson });
}

function toAudit(row: Selectable<AuditTable>): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: parseJsonObject(row.details),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
