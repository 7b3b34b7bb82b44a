import { Readable } from 'node:stream';
import { parseIsoTimestamp } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import type { EventQuery, EventRecord, Severity, TriageStatus } from '../../store/store.js';
import { badRequest, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { GROUP_PATTERN } from './group-routes.js';

const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
export const STATUSES: readonly TriageStatus[] = ['new', 'acknowledged', 'resolved', 'false-positive'];
const ISO = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$';

/** The event filters of GET /events, shared with the console's live tail (events-extra-routes.ts). */
export const filterProperties = {
  type: { type: 'string', pattern: '^[a-z0-9.-]{1,64}$' },
  severity: { type: 'string', enum: SEVERITIES },
  agent: { type: 'string', maxLength: 64 },
  group: { type: 'string', pattern: GROUP_PATTERN },
  status: { type: 'string', enum: STATUSES },
  since: { type: 'string', pattern: ISO },
  until: { type: 'string', pattern: ISO },
  q: { type: 'string', maxLength: 200 },
} as const;

export interface Filters {
  type?: string;
  severity?: Severity;
  agent?: string;
  group?: string;
  status?: TriageStatus;
  since?: string;
  until?: string;
  q?: string;
}

function toQuery(f: Filters): Omit<EventQuery, 'limit' | 'beforeId' | 'before' | 'orderBy'> {
  const iso = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined;
    // Strict: 2026-02-30 is refused, not rolled over to March.
    const ms = parseIsoTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
    if (ms === null) throw badRequest(`${name} is not a valid time: "${s}"`);
    return new Date(ms).toISOString();
  };
  return {
    type: f.type,
    severity: f.severity,
    agentId: f.agent,
    group: f.group,
    status: f.status,
    since: iso(f.since, 'since'),
    until: iso(f.until, 'until'),
    q: f.q,
  };
}

export function eventRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Filters & { limit?: string; cursor?: string } }>(
      '/events',
      {
        config: { access: 'viewer', summary: 'Events, newest first, with keyset pagination' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { ...filterProperties, limit: { type: 'string', pattern: '^[0-9]{1,4}$' }, cursor: { type: 'string', pattern: CURSOR_PATTERN } },
          },
        },
      },
      async (request) => {
        const limit = Math.min(Math.max(Number(request.query.limit ?? 50), 1), 1000);
        const filters = toQuery(request.query);
        // A time window pages in the order events happened (the occurred_at index serves it);
        // otherwise in arrival order. The cursor says which: "<id>" or "t<ms>.<id>".
        const byTime = filters.since !== undefined || filters.until !== undefined;
        const cursor = parseCursor(request.query.cursor, byTime);
        if (!byTime && filters.q !== undefined && filters.q !== '') return searchPage(deps, filters, limit, cursor.beforeId);
        const events = await deps.store.queryEvents({ ...filters, limit, orderBy: byTime ? 'occurredAt' : 'id', ...cursor });
        const last = events.at(-1);
        const next = last === undefined || events.length < limit ? null : byTime ? `t${Date.parse(last.occurredAt)}.${last.id}` : String(last.id);
        return { events, nextCursor: next };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/events/:id',
      { config: { access: 'viewer', summary: 'One event' }, schema: { params: idParams } },
      async (request) => {
        const event = await deps.store.getEvent(Number(request.params.id));
        if (!event) throw notFound(`event ${request.params.id}`);
        return { event };
      },
    );

    app.patch<{ Params: { id: string }; Body: { status: TriageStatus; comment?: string } }>(
      '/events/:id',
      {
        config: { access: 'security', summary: 'Triage an event' },
        schema: {
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['status'],
            properties: { status: { type: 'string', enum: STATUSES }, comment: { type: 'string', maxLength: 2000 } },
          },
        },
      },
      async (request) => {
        const id = Number(request.params.id);
        const before = await deps.store.getEvent(id);
        if (!before) throw notFound(`event ${id}`);
        await deps.store.triageEvent(id, request.body.status, request.body.comment ?? null);
        await audit(deps, request, 'event.triage', String(id), { from: before.status, to: request.body.status, comment: request.body.comment ?? null });
        return { event: await deps.store.getEvent(id) };
      },
    );

    app.get<{ Querystring: Filters & { format?: 'csv' | 'jsonl' } }>(
      '/events/export',
      {
        config: { access: 'security', summary: 'Export events (oldest first) as CSV or JSON lines, streamed' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { ...filterProperties, format: { type: 'string', enum: ['csv', 'jsonl'] } },
          },
        },
      },
      async (request, reply) => {
        const format = request.query.format ?? 'jsonl';
        const events = deps.store.iterateEvents(toQuery(request.query));
        await audit(deps, request, 'event.export', format, { filters: { ...request.query } });
        reply.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
        reply.header('Content-Disposition', `attachment; filename="portcullis-events.${format}"`);
        return reply.send(Readable.from(format === 'csv' ? csvLines(events) : jsonLines(events)));
      },
    );
  };
}

export const DEFAULT_SEARCH_SCAN_ROWS = 100_000;

/**
 * A substring search reads at most `searchScanRows` events per page, newest first: a term that
 * is rare would otherwise scan the whole log (450 ms at a million events). When the span holds
 * fewer matches than asked, the page says which ids it searched and the cursor continues below.
 */
async function searchPage(deps: ServerDeps, filters: ReturnType<typeof toQuery>, limit: number, beforeId: number | undefined) {
  const [newest] = await deps.store.queryEvents({ limit: 1 });
  const ceiling = beforeId ?? (newest ? newest.id + 1 : 1);
  const floor = Math.max(0, ceiling - 1 - (deps.options.searchScanRows ?? DEFAULT_SEARCH_SCAN_ROWS));
  const events = await deps.store.queryEvents({ ...filters, limit, beforeId: ceiling, afterId: floor });
  const last = events.at(-1);
  if (last !== undefined && events.length === limit) return { events, nextCursor: String(last.id) };
  // Fewer than asked: the span is exhausted; carry on below it unless it reached the first event.
  return { events, nextCursor: floor > 0 ? String(floor + 1) : null, searched: { fromId: floor + 1, toId: ceiling - 1 } };
}

const CURSOR_PATTERN = '^([0-9]{1,18}|t[0-9]{1,15}\\.[0-9]{1,18})$';

function parseCursor(cursor: string | undefined, byTime: boolean): Pick<EventQuery, 'beforeId' | 'before'> {
  if (cursor === undefined) return {};
  const m = /^t([0-9]+)\.([0-9]+)$/.exec(cursor);
  if (byTime !== (m !== null)) throw badRequest('this cursor belongs to a query with other filters; start again without it');
  if (m) return { before: { occurredAt: new Date(Number(m[1])).toISOString(), id: Number(m[2]) } };
  return { beforeId: Number(cursor) };
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } } as const;

async function* jsonLines(events: AsyncIterable<EventRecord>): AsyncGenerator<string> {
  for await (const e of events) yield JSON.stringify(e) + '\n';
}

export const CSV_COLUMNS = ['id', 'receivedAt', 'occurredAt', 'agentId', 'group', 'seq', 'type', 'severity', 'status', 'comment', 'data', 'hash'] as const;

async function* csvLines(events: AsyncIterable<EventRecord>): AsyncGenerator<string> {
  yield CSV_COLUMNS.join(',') + '\r\n';
  for await (const e of events) {
    yield CSV_COLUMNS.map((c) => csvCell(c === 'data' ? JSON.stringify(e.data) : e[c])).join(',') + '\r\n';
  }
}

/**
 * RFC 4180 quoting, plus a leading apostrophe on cells a spreadsheet would run as a formula
 * (a device name of `=HYPERLINK(...)` must not execute in an analyst's Excel).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
