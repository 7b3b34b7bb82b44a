import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

/** Routes the web console needs beyond the base API (events-extra); filled in with the console's pages. */
export function eventsExtraRoutes(_deps: ServerDeps) {
  return async (_app: FastifyInstance): Promise<void> => {};
}
