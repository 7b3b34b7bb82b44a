import type { FastifyInstance } from 'fastify';
import { LoginLimiter } from '../../auth/login-limiter.js';
import { verifyPassword } from '../../auth/passwords.js';
import { hashSecret, newSecret } from '../../auth/secrets.js';
import { tooManyRequests, unauthorized } from '../api-error.js';
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
          throw tooManyRequests(`too many failed logins; try again in ${Math.ceil(wait / 60_000)} min`);
        }
        const user = await deps.store.getUser(username);
        const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
        if (!user || !ok || user.disabled) {
          deps.logger.warn('login failed', { username, ip: request.ip });
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
  };
}

function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
