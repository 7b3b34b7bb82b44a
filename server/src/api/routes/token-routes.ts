import type { FastifyInstance } from 'fastify';
import { hashSecret, newId, newSecret } from '../../auth/secrets.js';
import { parseDuration } from '../../duration.js';
import { badRequest, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { GROUP_PATTERN } from './group-routes.js';

const MAX_TOKEN_LIFETIME_MS = 90 * 86_400_000;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['group'],
  properties: {
    group: { type: 'string', pattern: GROUP_PATTERN },
    expiresIn: { type: 'string', maxLength: 16, description: 'e.g. 30m, 24h, 7d (default 7d, at most 90d)' },
  },
} as const;

export function tokenRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { group: string; expiresIn?: string } }>(
      '/enrollment-tokens',
      { config: { access: 'admin', summary: 'Create an enrollment token for a group' }, schema: { body: createBody } },
      async (request, reply) => {
        const created = await createEnrollmentToken(deps, request.body.group, request.body.expiresIn ?? '7d', request.user?.username ?? '?');
        await audit(deps, request, 'token.create', created.id, { group: created.group, expiresAt: created.expiresAt });
        return reply.status(201).send(created);
      },
    );

    app.get('/enrollment-tokens', { config: { access: 'admin', summary: 'List enrollment tokens' } }, async () => {
      const tokens = await deps.store.listEnrollmentTokens();
      return { tokens: tokens.map(({ tokenHash: _secret, ...rest }) => rest) };
    });

    app.delete<{ Params: { id: string } }>(
      '/enrollment-tokens/:id',
      {
        config: { access: 'admin', summary: 'Revoke an enrollment token' },
        schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
      },
      async (request, reply) => {
        if (!(await deps.store.revokeEnrollmentToken(request.params.id, deps.clock().toISOString()))) {
          throw notFound(`enrollment token ${request.params.id}`);
        }
        await audit(deps, request, 'token.revoke', request.params.id);
        return reply.status(204).send();
      },
    );
  };
}

/** Shared by the API and `portcullis-server token create`. The token is shown once, stored hashed. */
export async function createEnrollmentToken(deps: Pick<ServerDeps, 'store' | 'clock'>, group: string, expiresIn: string, createdBy: string) {
  const ms = parseDuration(expiresIn);
  if (ms === null || ms <= 0) throw badRequest(`expiresIn must look like 30m, 24h or 7d, not "${expiresIn}"`);
  if (ms > MAX_TOKEN_LIFETIME_MS) throw badRequest('an enrollment token may live at most 90 days');
  if (!(await deps.store.getGroup(group))) throw notFound(`group ${group}`);
  const now = deps.clock();
  const token = `pct_${newSecret()}`;
  const id = newId('tok');
  const expiresAt = new Date(now.getTime() + ms).toISOString();
  await deps.store.createEnrollmentToken({ id, tokenHash: hashSecret(token), group, createdAt: now.toISOString(), createdBy, expiresAt });
  return { id, token, group, expiresAt };
}
