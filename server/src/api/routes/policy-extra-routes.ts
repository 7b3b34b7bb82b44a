import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

/** Routes the web console needs beyond the base API (policy-extra); filled in with the console's pages. */
export function policyExtraRoutes(_deps: ServerDeps) {
  return async (_app: FastifyInstance): Promise<void> => {};
}
