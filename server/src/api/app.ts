import { ErrorCodes } from '@portcullis/shared';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hashSecret } from '../auth/secrets.js';
import type { Role } from '../store/store.js';
import { ApiError, badRequest, forbidden, unauthorized } from './api-error.js';
import type { ServerDeps } from './deps.js';
import { agentRoutes } from './routes/agent-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { adminExtraRoutes } from './routes/admin-extra-routes.js';
import { consoleRoutes } from './routes/console-routes.js';
import { eventsExtraRoutes } from './routes/events-extra-routes.js';
import { fleetExtraRoutes } from './routes/fleet-extra-routes.js';
import { policyExtraRoutes } from './routes/policy-extra-routes.js';
import { enrollRoutes } from './routes/enroll-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { mailRoutes } from './routes/mail-routes.js';
import { sessionRoutes, SESSION_COOKIE } from './routes/session-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { openApiRoutes, OpenApiCollector } from './openapi.js';

/** Who may call a route: `public`, or the lowest role that may (admin > security > viewer). */
export type Access = Role | 'public';

export interface SessionUser {
  readonly username: string;
  readonly role: Role;
  readonly tokenHash: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** One line for the OpenAPI document. */
    summary?: string;
  }
  interface FastifyRequest {
    user?: SessionUser;
  }
}

const RANK: Readonly<Record<Role, number>> = { viewer: 1, security: 2, admin: 3 };

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Builds the REST API (STYLE §8: built here, listened on in main.ts; tests use inject()).
 * Every route must declare its access in `config.access`; registering one that does not fails
 * at start-up, so a forgotten role check cannot ship.
 */
export async function buildApi(deps: ServerDeps, tls?: { key: string; cert: string }): Promise<FastifyInstance> {
  const app = Fastify({
    ...(tls ? { https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const } } : {}),
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    // Unknown fields are errors, not silently dropped: an admin's typo must not pass unnoticed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    trustProxy: false,
    // A GET must not run twice under another name (an export would be audited for a HEAD).
    exposeHeadRoutes: false,
    // Errors fastify raises before routing (bad URL escapes, over-long parameters) use the API's format too.
    frameworkErrors: (err, _request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      void reply
        .status(err.statusCode ?? 400)
        .header('Cache-Control', 'no-store')
        .header('X-Content-Type-Options', 'nosniff')
        .send({ error: { code: ErrorCodes.BAD_REQUEST, message: err.message } });
    },
  });
  const openApi = new OpenApiCollector();

  app.addHook('onRoute', (route) => {
    const access = (route.config as { access?: Access } | undefined)?.access;
    if (access === undefined && !route.url.startsWith('/api/docs')) {
      throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
    }
    const schema = (route.schema ??= {});
    // No declared query parameters means none: `?version=2` must not be silently ignored.
    schema.querystring ??= { type: 'object', additionalProperties: false, properties: {} };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!schema.body && methods.some((m) => !SAFE_METHODS.has(m))) {
      // A route that takes no body refuses one, so `{"dryRun": true}` cannot be mistaken for a no-op.
      const previous = route.preValidation;
      const refuseBody = async (request: FastifyRequest) => {
        if (request.body !== undefined && request.body !== null) throw badRequest('this request takes no body');
      };
      route.preValidation = previous ? [refuseBody, ...(Array.isArray(previous) ? previous : [previous])] : refuseBody;
    }
    openApi.add(route);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    request.user = await authenticate(deps, request);
    if (RANK[request.user.role] < RANK[access]) {
      throw forbidden(`this needs the ${access} role; you are ${request.user.role}`);
    }
  });

  app.addHook('onSend', async (_request, reply) => {
    // Console files say how they may be cached (hashed assets forever, the page never without
    // asking); everything else, API answers above all, is never stored.
    const consoleCache = reply.getHeader('X-Console-Cache');
    reply.removeHeader('X-Console-Cache');
    reply.header(
      'Cache-Control',
      consoleCache === 'immutable' ? 'public, max-age=31536000, immutable' : consoleCache === 'no-cache' ? 'no-cache' : 'no-store',
    );
    reply.header('X-Content-Type-Options', 'nosniff');
  });

  app.setErrorHandler((err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({ error: { code: err.code, message: err.message, details: err.details } });
    }
    if (err.validation) {
      return reply.status(400).send({ error: { code: ErrorCodes.BAD_REQUEST, message: `invalid request: ${err.message}` } });
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: bad JSON, body too large, wrong content type.
      return reply.status(err.statusCode).send({ error: { code: ErrorCodes.BAD_REQUEST, message: err.message } });
    }
    deps.logger.error('request failed', { method: request.method, url: request.url, error: err.message, stack: err.stack });
    return reply.status(500).send({ error: { code: ErrorCodes.INTERNAL, message: 'internal error; see the server log' } });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: ErrorCodes.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  await app.register(sessionRoutes(deps), { prefix: '/api/v1' });
  await app.register(userRoutes(deps), { prefix: '/api/v1' });
  await app.register(groupRoutes(deps), { prefix: '/api/v1' });
  await app.register(tokenRoutes(deps), { prefix: '/api/v1' });
  await app.register(enrollRoutes(deps), { prefix: '/api/v1' });
  await app.register(agentRoutes(deps), { prefix: '/api/v1' });
  await app.register(eventRoutes(deps), { prefix: '/api/v1' });
  await app.register(auditRoutes(deps), { prefix: '/api/v1' });
  await app.register(eventsExtraRoutes(deps), { prefix: '/api/v1' });
  await app.register(policyExtraRoutes(deps), { prefix: '/api/v1' });
  await app.register(fleetExtraRoutes(deps), { prefix: '/api/v1' });
  await app.register(adminExtraRoutes(deps), { prefix: '/api/v1' });
  await app.register(mailRoutes(deps), { prefix: '/api/v1' });
  await app.register(openApiRoutes(openApi));
  if (deps.options.webRoot !== undefined) await app.register(consoleRoutes(deps.options.webRoot));
  return app;
}

/** The session from `Authorization: Bearer <token>` or the console's session cookie. */
async function authenticate(deps: ServerDeps, request: FastifyRequest): Promise<SessionUser> {
  const bearer = bearerToken(request);
  const token = bearer ?? cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (!token) throw unauthorized();
  if (bearer === undefined && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) {
    // SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock.
    throw forbidden('cross-origin request refused');
  }
  const tokenHash = hashSecret(token);
  const session = await deps.store.getSession(tokenHash);
  if (!session || session.expiresAt <= deps.clock().toISOString()) throw unauthorized('session expired or unknown; log in again');
  const user = await deps.store.getUser(session.username);
  if (!user || user.disabled) throw unauthorized('account disabled');
  return { username: user.username, role: user.role, tokenHash };
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A cookie-authenticated change must come from a page of this server (Origin matches Host). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
  if (!m) throw unauthorized('malformed Authorization header; expected "Bearer <token>"');
  return m[1];
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
