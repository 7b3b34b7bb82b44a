import { ErrorCodes, parseIsoTimestamp } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import type { EventQuery, EventRecord, TriageStatus } from '../../store/store.js';
import { ApiError, badRequest, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { DEFAULT_SEARCH_SCAN_ROWS, STATUSES, filterProperties, type Filters } from './event-routes.js';

/**
 * What the violation log page needs beyond the base events API: a live tail ("events newer
 * than the newest I show"), bulk triage, and the policy lines a decision trace refers to.
 */

export const MAX_BULK_TRIAGE = 500;
const MAX_TAIL_LIMIT = 500;

/** The same filters as GET /events, so a tail shows exactly what the page's query would. */
interface TailQuery extends Filters {
  after?: string;
  limit?: string;
}

function isoOf(s: string | undefined, name: string): string | undefined {
  if (s === undefined) return undefined;
  const ms = parseIsoTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  if (ms === null) throw badRequest(`${name} is not a valid time: "${s}"`);
  return new Date(ms).toISOString();
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } } as const;

export function eventsExtraRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: TailQuery }>(
      '/events/since',
      {
        config: { access: 'viewer', summary: 'Live tail: events with an id above `after` that match the filters, newest first' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...filterProperties,
              after: { type: 'string', pattern: '^[0-9]{1,18}$' },
              limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
            },
          },
        },
      },
      async (request) => {
        const limit = Math.min(Math.max(Number(request.query.limit ?? 200), 1), MAX_TAIL_LIMIT);
        const [newest] = await deps.store.queryEvents({ limit: 1 });
        const newestId = newest?.id ?? 0;
        // Without `after` the caller only wants where the log ends now: its first cursor.
        if (request.query.after === undefined) return { events: [], cursor: newestId, gap: false };
        const after = Number(request.query.after);
        if (after >= newestId) return { events: [], cursor: newestId, gap: false };
        // One poll reads a bounded span of ids (a burst, or a client back from sleep, must not
        // scan the whole log for `q`); the cursor says where the next poll carries on.
        const ceiling = Math.min(newestId, after + (deps.options.searchScanRows ?? DEFAULT_SEARCH_SCAN_ROWS));
        const q = request.query;
        const filters: EventQuery = {
          type: q.type,
          severity: q.severity,
          agentId: q.agent,
          group: q.group,
          status: q.status,
          since: isoOf(q.since, 'since'),
          until: isoOf(q.until, 'until'),
          q: q.q,
          limit,
          afterId: after,
          beforeId: ceiling + 1,
          orderBy: 'id',
        };
        const events = await deps.store.queryEvents(filters);
        // A full page may have left older matches of the span out: say so, the page offers a reload.
        return { events, cursor: ceiling, gap: events.length === limit };
      },
    );

    app.post<{ Body: { ids: number[]; status: TriageStatus; comment?: string } }>(
      '/events/triage',
      {
        config: { access: 'security', summary: 'Triage many events at once (all or nothing); answers the updated count' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['ids', 'status'],
            properties: {
              ids: { type: 'array', minItems: 1, maxItems: MAX_BULK_TRIAGE, uniqueItems: true, items: { type: 'integer', minimum: 1 } },
              status: { type: 'string', enum: STATUSES },
              comment: { type: 'string', maxLength: 2000 },
            },
          },
        },
      },
      async (request) => {
        const { ids, status } = request.body;
        const comment = request.body.comment ?? null;
        // Events are never deleted, so once every id is found the updates below cannot miss one:
        // checking first is what makes the call all-or-nothing for unknown ids.
        const before = new Map<number, EventRecord>();
        for (const id of ids) {
          const event = await deps.store.getEvent(id);
          if (event) before.set(id, event);
        }
        const unknown = ids.filter((id) => !before.has(id));
        if (unknown.length > 0) {
          throw new ApiError(404, ErrorCodes.NOT_FOUND, `${unknown.length} of the events do not exist; nothing was changed`, { unknownIds: unknown.slice(0, 50) });
        }
        let updated = 0;
        for (const id of ids) if (await deps.store.triageEvent(id, status, comment)) updated += 1;
        const from: Record<string, number> = {};
        for (const e of before.values()) from[e.status] = (from[e.status] ?? 0) + 1;
        await audit(deps, request, 'event.triage.bulk', `${ids.length} events`, { ids, from, to: status, comment });
        return { updated };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/events/:id/rules',
      {
        config: { access: 'viewer', summary: "The policy lines an event's decision trace names (matched rule, rules whose conditions failed)" },
        schema: { params: idParams },
      },
      async (request) => {
        const event = await deps.store.getEvent(Number(request.params.id));
        if (!event) throw notFound(`event ${request.params.id}`);
        const ref = policyRefOf(event);
        if (ref === null) return { policy: null, lines: [] };
        const record = await deps.store.getPolicyVersion(ref.group, ref.version);
        if (!record) return { policy: { ...ref, found: false }, lines: [] };
        const rules = rulesOf(record.document);
        const wanted = traceLines(event);
        const text = rules.split('\n');
        const lines = wanted.filter((n) => n >= 1 && n <= text.length).map((line) => ({ line, text: text[line - 1] ?? '' }));
        return { policy: { ...ref, found: true }, lines };
      },
    );
  };
}

function policyRefOf(event: EventRecord): { group: string; version: number } | null {
  const p = event.data.policy;
  if (typeof p !== 'object' || p === null) return null;
  const { group, version } = p as Record<string, unknown>;
  return typeof group === 'string' && typeof version === 'number' ? { group, version } : null;
}

/** Lines of `decision.line`, `decision.conditionsNotMet` and per-interface `line`s, sorted, once each. */
export function traceLines(event: Pick<EventRecord, 'data'>): number[] {
  const d = event.data.decision;
  if (typeof d !== 'object' || d === null) return [];
  const decision = d as Record<string, unknown>;
  const out = new Set<number>();
  const add = (v: unknown) => {
    if (typeof v === 'number' && Number.isInteger(v)) out.add(v);
  };
  add(decision.line);
  if (Array.isArray(decision.conditionsNotMet)) decision.conditionsNotMet.forEach(add);
  if (Array.isArray(decision.interfaces)) for (const i of decision.interfaces) if (typeof i === 'object' && i !== null) add((i as Record<string, unknown>).line);
  return [...out].sort((a, b) => a - b);
}

/** The stored document is the signed policy's canonical JSON (group-routes writes it); `rules` is its rule text. */
function rulesOf(document: string): string {
  const rules = (JSON.parse(document) as { rules?: unknown }).rules;
  return typeof rules === 'string' ? rules : '';
}
