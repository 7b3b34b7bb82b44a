import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$' },
  },
} as const;

/** The audit trail: who changed what. Security staff watch the administrators (DESIGN.md §0). */
export function auditRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { limit?: string; cursor?: string } }>(
      '/audit',
      { config: { access: 'security', summary: 'The audit trail, newest first' }, schema: { querystring: query } },
      async (request) => {
        const limit = Math.min(Math.max(Number(request.query.limit ?? 100), 1), 1000);
        const records = await deps.store.listAudit(limit, request.query.cursor ? Number(request.query.cursor) : undefined);
        const last = records.at(-1);
        return { records, nextCursor: records.length === limit && last ? String(last.id) : null };
      },
    );
  };
}
