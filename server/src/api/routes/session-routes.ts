import { ErrorCodes } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import { LoginLimiter } from '../../auth/login-limiter.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.js';
import { hashSecret, newSecret } from '../../auth/secrets.js';
import { ApiError, badRequest, unauthorized } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';

export const SESSION_COOKIE = 'portcullis_session';

// A hash to compare against when the user does not exist, so timing does not tell which
// usernames exist. (scrypt of a random password; never matches.)
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

export function sessionRoutes(deps: ServerDeps) {
  const limiter = new LoginLimiter();
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { username: string; password: string } }>(
      '/session',
      { config: { access: 'public', summary: 'Log in' }, schema: { body: loginBody } },
      async (request, reply) => {
        const now = deps.clock();
        const { username, password } = request.body;
        const keys = [`user:${username.toLowerCase()}`, `ip:${request.ip}`];
        const wait = limiter.attempt(keys, now.getTime());
        if (wait > 0) {
          reply.header('Retry-After', String(Math.ceil(wait / 1000)));
          throw new ApiError(429, ErrorCodes.RATE_LIMITED, `too many failed logins; try again in ${Math.ceil(wait / 60_000)} min`, {
            retryAfterSeconds: Math.ceil(wait / 1000),
          });
        }
        const user = await deps.store.getUser(username);
        const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
        if (!user || !ok || user.disabled) {
          // An unknown name is not logged as typed: people type their password into the user
          // name field, and the log must not keep it.
          deps.logger.warn('login failed', { username: user ? user.username : '(unknown user)', ip: request.ip });
          throw unauthorized('wrong username or password');
        }
        limiter.succeed(keys[0] as string);
        limiter.forgive(keys[1] as string, now.getTime());
        const token = newSecret();
        const ttlMs = deps.options.sessionTtlHours * 3600_000;
        const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
        await deps.store.createSession({ tokenHash: hashSecret(token), username: user.username, createdAt: now.toISOString(), expiresAt });
        await deps.store.deleteExpiredSessions(now.toISOString());
        deps.logger.info('login', { username: user.username, ip: request.ip });
        reply.header('Set-Cookie', sessionCookie(token, Math.floor(ttlMs / 1000), deps.options.secureCookies));
        return { token, username: user.username, role: user.role, expiresAt };
      },
    );

    app.delete('/session', { config: { access: 'viewer', summary: 'Log out' } }, async (request, reply) => {
      await deps.store.deleteSession((request.user as { tokenHash: string }).tokenHash);
      reply.header('Set-Cookie', sessionCookie('', 0, deps.options.secureCookies));
      return reply.status(204).send();
    });

    app.get('/me', { config: { access: 'viewer', summary: 'The logged-in user' } }, async (request) => {
      const user = request.user as { username: string; role: string };
      return { username: user.username, role: user.role };
    });

    app.put<{ Body: { current: string; password: string } }>(
      '/me/password',
      {
        config: { access: 'viewer', summary: 'Change your own password (the current one is required)' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['current', 'password'],
            properties: { current: { type: 'string', minLength: 1, maxLength: 1024 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
          },
        },
      },
      async (request, reply) => {
        const me = request.user as { username: string; tokenHash: string };
        const keys = [`user:${me.username.toLowerCase()}`, `ip:${request.ip}`];
        const now = deps.clock().getTime();
        const wait = limiter.attempt(keys, now);
        if (wait > 0) throw new ApiError(429, ErrorCodes.RATE_LIMITED, 'too many failed attempts', { retryAfterSeconds: Math.ceil(wait / 1000) });
        const user = await deps.store.getUser(me.username);
        if (!user || !(await verifyPassword(request.body.current, user.passwordHash))) throw unauthorized('the current password is wrong');
        // A right current password clears both counts, as a sign-in does: otherwise a few password
        // changes from one office address would lock everyone behind it out of signing in.
        limiter.succeed(keys[0] as string);
        limiter.forgive(keys[1] as string, now);
        const problem = passwordProblem(request.body.password);
        if (problem) throw badRequest(problem);
        await deps.store.setPasswordHash(me.username, await hashPassword(request.body.password));
        // Other sessions made with the old password end; this one goes on.
        await deps.store.deleteSessionsOf(me.username);
        const token = newSecret();
        const ttlMs = deps.options.sessionTtlHours * 3600_000;
        await deps.store.createSession({ tokenHash: hashSecret(token), username: me.username, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlMs).toISOString() });
        reply.header('Set-Cookie', sessionCookie(token, Math.floor(ttlMs / 1000), deps.options.secureCookies));
        await audit(deps, request, 'user.password', me.username, { self: true });
        return reply.status(204).send();
      },
    );
  };
}

function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
