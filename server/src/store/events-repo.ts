import type { ExpressionBuilder, Expression, Insertable, Selectable, SqlBool, Transaction } from 'kysely';
import { CompiledQuery } from 'kysely';
import { canonicalJson } from '@portcullis/shared';
import type { Database, EventsTable } from './schema.js';
import type { ChainCheck, EventQuery, EventRecord, IngestResult, NewEvent, Severity, TriageStatus } from './store.js';
import { StoreError, StoreErrorCodes } from './store.js';
import { CanonicalRecordShape } from './canonical-record.js';
import { chainHash, lockChainHead, moveChainHead, verifyTableChain } from './hash-chain.js';
import { changedRows, chunks, parseJsonObject, ROWS_PER_INSERT, type StoreContext } from './repo-support.js';

type EventFilter = Omit<EventQuery, 'limit' | 'beforeId' | 'afterId' | 'before' | 'orderBy'>;
type EventRow = Selectable<EventsTable>;

/** The hash-chained event log: ingest, search, triage, export and verification. */
/** The columns of a stored event, in the order the raw multi-row INSERT lists them. */
const EVENT_COLUMNS = ['id', 'agent_id', 'group', 'seq', 'type', 'severity', 'occurred_at', 'received_at', 'data', 'status', 'comment', 'prev_hash', 'hash'] as const;

export class EventsRepo {
  /** INSERT text per row count: built once, so the hot path neither builds a query tree nor re-prepares. */
  readonly #insertSql = new Map<number, string>();

  constructor(private readonly ctx: StoreContext) {}

  private insertSql(rows: number): string {
    let text = this.#insertSql.get(rows);
    if (text === undefined) {
      let n = 0;
      const tuple = () => `(${EVENT_COLUMNS.map(() => this.ctx.flavor.placeholder(++n)).join(', ')})`;
      text = `insert into "events" (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: rows }, tuple).join(', ')}`;
      this.#insertSql.set(rows, text);
    }
    return text;
  }

  /**
   * One transaction per batch, holding the events chain head: duplicates (already stored, or
   * repeated in the batch) are dropped before ids and hashes are assigned, so they are never
   * chained; the rest go in multi-row INSERTs. Any failure rolls the whole batch back.
   */
  async ingest(agentId: string | null, group: string | null, events: readonly NewEvent[], receivedAt: string): Promise<IngestResult> {
    checkSeqs(agentId, events);
    return this.ctx.db.transaction().execute(async (trx) => {
      const head = await lockChainHead(trx, this.ctx.flavor, 'events');
      const fresh = agentId === null ? events : await withoutStored(trx, agentId, events);
      let { lastId, hash } = head;
      const rows: Insertable<EventsTable>[] = fresh.map((e) => {
        lastId += 1;
        const prevHash = hash;
        const data = canonicalJson(e.data);
        hash = chainHash(prevHash, hashedFields({ id: lastId, agentId, group, seq: e.seq, type: e.type, severity: e.severity, occurredAt: e.occurredAt, receivedAt }, data));
        return {
          id: lastId,
          agent_id: agentId,
          group,
          seq: e.seq,
          type: e.type,
          severity: e.severity,
          occurred_at: e.occurredAt,
          received_at: receivedAt,
          data,
          status: 'new',
          comment: null,
          prev_hash: prevHash,
          hash,
        };
      });
      for (const chunk of chunks(rows, ROWS_PER_INSERT)) {
        await trx.executeQuery(CompiledQuery.raw(this.insertSql(chunk.length), chunk.flatMap((r) => EVENT_COLUMNS.map((c) => r[c]))));
      }
      if (rows.length > 0) await moveChainHead(trx, 'events', { lastId, hash });
      const ackedSeq = agentId === null ? 0 : await advanceAck(trx, agentId, fresh);
      return { stored: rows.length, ackedSeq };
    });
  }

  /** Newest first; `beforeId` (or `before`, in occurredAt order) continues from the last page. */
  async query(q: EventQuery): Promise<EventRecord[]> {
    const base = this.ctx.db.selectFrom('events').selectAll().where((eb) => this.conditions(eb, q, q.orderBy === 'occurredAt'));
    const before = q.before;
    const rows =
      q.orderBy === 'occurredAt'
        ? await base
            .$if(before !== undefined, (qb) =>
              qb.where((eb) =>
                eb.or([
                  eb('occurred_at', '<', before?.occurredAt ?? ''),
                  eb.and([eb('occurred_at', '=', before?.occurredAt ?? ''), eb('id', '<', before?.id ?? 0)]),
                ]),
              ),
            )
            .orderBy('occurred_at', 'desc')
            .orderBy('id', 'desc')
            .limit(q.limit)
            .execute()
        : await base
            .$if(q.beforeId !== undefined, (qb) => qb.where('id', '<', q.beforeId ?? 0))
            .$if(q.afterId !== undefined, (qb) => qb.where('id', '>', q.afterId ?? 0))
            .orderBy('id', 'desc')
            .limit(q.limit)
            .execute();
    return rows.map(toEvent);
  }

  async get(id: number): Promise<EventRecord | undefined> {
    const row = await this.ctx.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  async triage(id: number, status: TriageStatus, comment: string | null): Promise<boolean> {
    const result = await this.ctx.db.updateTable('events').set({ status, comment }).where('id', '=', id).executeTakeFirst();
    return changedRows(result) > 0;
  }

  /** Oldest first, `pageSize` rows per query, keyset on id (later pages cost the same as the first). */
  async *iterate(q: EventFilter, pageSize = 500): AsyncGenerator<EventRecord> {
    let afterId = 0;
    for (;;) {
      const rows = await this.ctx.db
        .selectFrom('events')
        .selectAll()
        .where((eb) => this.conditions(eb, q))
        .where('id', '>', afterId)
        .orderBy('id', 'asc')
        .limit(pageSize)
        .execute();
      for (const row of rows) yield toEvent(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < pageSize) return;
      afterId = last.id;
    }
  }

  async verifyChain(): Promise<ChainCheck> {
    return verifyTableChain(
      this.ctx.db,
      'events',
      (row) =>
        chainHash(
          row.prev_hash,
          hashedFields({ id: row.id, agentId: row.agent_id, group: row.group, seq: row.seq === null ? null : Number(row.seq), type: row.type, severity: row.severity as Severity, occurredAt: row.occurred_at, receivedAt: row.received_at }, row.data),
        ),
    );
  }

  /**
   * since is inclusive and until exclusive, both on occurred_at; q searches the data's JSON
   * text, so the needle is JSON-escaped the same way (a quote or backslash matches itself).
   */
  private conditions(eb: ExpressionBuilder<Database, 'events'>, q: EventFilter, byTime = false): Expression<SqlBool> {
    const all: Expression<SqlBool>[] = [];
    // In occurred_at order, equality filters must not steer the planner off the time index.
    const col = (c: 'type' | 'severity' | 'agent_id' | 'group' | 'status') => (byTime ? this.ctx.flavor.withoutIndex(c) : eb.ref(c));
    if (q.type !== undefined) all.push(eb(col('type'), '=', q.type));
    if (q.severity !== undefined) all.push(eb(col('severity'), '=', q.severity));
    if (q.agentId !== undefined) all.push(eb(col('agent_id'), '=', q.agentId));
    if (q.group !== undefined) all.push(eb(col('group'), '=', q.group));
    if (q.status !== undefined) all.push(eb(col('status'), '=', q.status));
    if (q.since !== undefined) all.push(eb('occurred_at', '>=', q.since));
    if (q.until !== undefined) all.push(eb('occurred_at', '<', q.until));
    if (q.q !== undefined && q.q !== '') all.push(this.ctx.flavor.containsIgnoringCase(eb.ref('data'), JSON.stringify(q.q).slice(1, -1)));
    return eb.and(all);
  }
}

/**
 * The canonical JSON an event's hash covers: every field but triage (status, comment) and the
 * links; `dataJson` is the data column as stored.
 */
const HASHED_EVENT = new CanonicalRecordShape(['id', 'agentId', 'group', 'seq', 'type', 'severity', 'occurredAt', 'receivedAt'], ['data']);

function hashedFields(e: Omit<EventRecord, 'data' | 'status' | 'comment' | 'prevHash' | 'hash'>, dataJson: string): string {
  return HASHED_EVENT.write(e, { data: dataJson });
}

function checkSeqs(agentId: string | null, events: readonly NewEvent[]): void {
  for (const e of events) {
    const ok = agentId === null ? e.seq === null : e.seq !== null && Number.isSafeInteger(e.seq) && e.seq >= 1;
    if (!ok) {
      const rule = agentId === null ? 'server events have no seq' : 'agent events need a seq that is an integer ≥ 1';
      throw new StoreError(StoreErrorCodes.INVALID, `refused event batch: ${rule} (got ${String(e.seq)})`);
    }
  }
}

/** The batch minus seqs the agent already stored and minus repeats inside the batch. */
async function withoutStored(trx: Transaction<Database>, agentId: string, events: readonly NewEvent[]): Promise<NewEvent[]> {
  const seqs = [...new Set(events.map((e) => e.seq as number))];
  const stored = new Set<number>();
  for (const chunk of chunks(seqs, ROWS_PER_INSERT)) {
    const rows = await trx.selectFrom('events').select('seq').where('agent_id', '=', agentId).where('seq', 'in', chunk).execute();
    for (const row of rows) stored.add(Number(row.seq));
  }
  return events.filter((e) => {
    const seq = e.seq as number;
    if (stored.has(seq)) return false;
    stored.add(seq);
    return true;
  });
}

const ACK_WALK_PAGE = 1000;

/**
 * Moves the agent's ack over the seqs stored contiguously after it. Only a batch holding
 * acked + 1 can move it (everything stored before was already walked), and the walk reads the
 * (agent_id, seq) index from the old ack, stopping at the first gap: the cost follows how far
 * the ack moves, not the agent's history.
 */
async function advanceAck(trx: Transaction<Database>, agentId: string, fresh: readonly NewEvent[]): Promise<number> {
  const row = await trx.selectFrom('agent_seq').select('acked_seq').where('agent_id', '=', agentId).executeTakeFirst();
  const before = Number(row?.acked_seq ?? 0);
  const next = before + 1;
  const reportsGap = droppedRanges(fresh).some(([from, to]) => from <= next && to >= next);
  if (!fresh.some((e) => e.seq === next) && !reportsGap) return before;
  // The agent's own loss reports not yet passed by the ack (rare: a spool that overflowed).
  const reports = await trx
    .selectFrom('events')
    .select(['seq', 'type', 'data'])
    .where('agent_id', '=', agentId)
    .where('type', '=', DROPPED_TYPE)
    .where('seq', '>', before)
    .execute();
  const skips = droppedRanges(reports.map((r) => ({ seq: r.seq === null ? null : Number(r.seq), type: r.type, data: parseJsonObject(r.data) })));
  let acked = before;
  for (;;) {
    const page = await trx
      .selectFrom('events')
      .select('seq')
      .where('agent_id', '=', agentId)
      .where('seq', '>', acked)
      .orderBy('seq', 'asc')
      .limit(ACK_WALK_PAGE)
      .execute();
    let contiguous = 0;
    while (contiguous < page.length && Number(page[contiguous]?.seq) === acked + 1) {
      acked += 1;
      contiguous += 1;
    }
    if (contiguous === ACK_WALK_PAGE) continue;
    // A range the agent reported lost will never arrive: the ack steps over it.
    const skip = skips.find(([from, to]) => from <= acked + 1 && to >= acked + 1);
    if (skip === undefined) break;
    acked = skip[1];
  }
  await trx
    .insertInto('agent_seq')
    .values({ agent_id: agentId, acked_seq: acked })
    .onConflict((oc) => oc.column('agent_id').doUpdateSet({ acked_seq: acked }))
    .execute();
  return acked;
}

/** The type an agent's spool reports lost events with: `{count, fromSeq, toSeq, reason}`. */
const DROPPED_TYPE = 'events.dropped';

/**
 * The seq ranges `events.dropped` reports declare lost. Only ranges before the report's own seq
 * count (a spool reports a loss after it), so no report can make the ack leap past events still
 * to come.
 */
function droppedRanges(events: ReadonlyArray<Pick<NewEvent, 'seq' | 'type' | 'data'>>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const e of events) {
    if (e.type !== DROPPED_TYPE || e.seq === null) continue;
    const { fromSeq, toSeq } = e.data as { fromSeq?: unknown; toSeq?: unknown };
    if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq)) continue;
    const from = fromSeq as number;
    const to = toSeq as number;
    if (from >= 1 && from <= to && to < e.seq) ranges.push([from, to]);
  }
  return ranges;
}

function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    agentId: row.agent_id,
    group: row.group,
    seq: row.seq === null ? null : Number(row.seq),
    type: row.type,
    severity: row.severity as Severity,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    data: parseJsonObject(row.data),
    status: row.status as TriageStatus,
    comment: row.comment,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
