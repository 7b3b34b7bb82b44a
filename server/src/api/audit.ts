import type { FastifyRequest } from 'fastify';
import type { ServerDeps } from './deps.js';

/**
 * Records a change made by a person in the hash-chained audit trail. Details must never hold a
 * secret (passwords, tokens): callers pass what changed, not the values of secrets.
 */
export async function audit(
  deps: ServerDeps,
  request: FastifyRequest,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  const actor = request.user?.username ?? 'anonymous';
  await deps.store.appendAudit({ actor, action, target, details: { ...details, ip: request.ip } }, deps.clock().toISOString());
}
