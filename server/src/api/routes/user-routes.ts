import type { FastifyInstance } from 'fastify';
import { hashPassword, passwordProblem } from '../../auth/passwords.js';
import { ROLES, type Role } from '../../store/store.js';
import { badRequest, conflict, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';

export const USERNAME_PATTERN = '^[a-z][a-z0-9._-]{1,63}$';

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password', 'role'],
  properties: {
    username: { type: 'string', pattern: USERNAME_PATTERN },
    password: { type: 'string', maxLength: 1024 },
    role: { type: 'string', enum: ROLES },
  },
} as const;

const passwordBody = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password: { type: 'string', maxLength: 1024 } },
} as const;

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', pattern: USERNAME_PATTERN } },
} as const;

export function userRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/users', { config: { access: 'admin', summary: 'List users' } }, async () => {
      const users = await deps.store.listUsers();
      return { users: users.map(({ username, role, createdAt, disabled }) => ({ username, role, createdAt, disabled })) };
    });

    app.post<{ Body: { username: string; password: string; role: Role } }>(
      '/users',
      { config: { access: 'admin', summary: 'Create a user' }, schema: { body: createBody } },
      async (request, reply) => {
        const { username, password, role } = request.body;
        const problem = passwordProblem(password);
        if (problem) throw badRequest(problem);
        if (await deps.store.getUser(username)) throw conflict(`user ${username} already exists`);
        await deps.store.createUser({ username, role, passwordHash: await hashPassword(password) }, deps.clock().toISOString());
        await audit(deps, request, 'user.create', username, { role });
        return reply.status(201).send({ username, role });
      },
    );

    app.put<{ Params: { username: string }; Body: { password: string } }>(
      '/users/:username/password',
      { config: { access: 'admin', summary: "Set a user's password" }, schema: { params: usernameParams, body: passwordBody } },
      async (request, reply) => {
        const problem = passwordProblem(request.body.password);
        if (problem) throw badRequest(problem);
        const ok = await deps.store.setPasswordHash(request.params.username, await hashPassword(request.body.password));
        if (!ok) throw notFound(`user ${request.params.username}`);
        // Whoever held the old password must not keep a session made with it.
        await deps.store.deleteSessionsOf(request.params.username);
        await audit(deps, request, 'user.password', request.params.username);
        return reply.status(204).send();
      },
    );
  };
}
