import type { FastifyInstance } from 'fastify';
import { hashSecret, newId, newSecret } from '../../auth/secrets.js';
import { unauthorized } from '../api-error.js';
import type { ServerDeps } from '../deps.js';
import { signedPolicyOf } from './group-routes.js';

const enrollBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'hostname', 'machineId', 'os', 'agentVersion'],
  properties: {
    token: { type: 'string', minLength: 8, maxLength: 128 },
    hostname: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    machineId: { type: 'string', minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9{}-]+$' },
    os: { type: 'string', minLength: 1, maxLength: 128 },
    agentVersion: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[0-9A-Za-z.+-]+$' },
  },
} as const;

interface EnrollBody {
  token: string;
  hostname: string;
  machineId: string;
  os: string;
  agentVersion: string;
}

/**
 * Agent enrollment. The identity is an agent id plus a 256-bit secret (stored as SHA-256), sent
 * over TLS to a server whose certificate the agent pinned: revocation is one row, no CRL to ship,
 * and it passes TLS-terminating proxies. A machine that enrolls again replaces its old identity.
 */
export function enrollRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: EnrollBody }>(
      '/enroll',
      { config: { access: 'public', summary: 'Enroll an agent with an enrollment token' }, schema: { body: enrollBody } },
      async (request, reply) => {
        const now = deps.clock().toISOString();
        const body = request.body;
        const token = await deps.store.useEnrollmentToken(hashSecret(body.token), now);
        if (!token) {
          deps.logger.warn('enrollment refused', { hostname: body.hostname, ip: request.ip });
          throw unauthorized('enrollment token invalid, expired or revoked');
        }
        const replaced = await deps.store.listAgents({ machineId: body.machineId });
        for (const old of replaced) {
          await deps.store.revokeAgent(old.id, now);
          await deps.publisher.agentChanged(old.id);
        }
        const agentId = newId('agt');
        const secret = newSecret();
        await deps.store.createAgent({
          id: agentId,
          secretHash: hashSecret(secret),
          group: token.group,
          hostname: body.hostname,
          machineId: body.machineId,
          os: body.os,
          agentVersion: body.agentVersion,
          enrolledAt: now,
        });
        await deps.store.ingestEvents(null, token.group, [
          {
            seq: null,
            type: 'agent.enrolled',
            // A second identity for the same machine is worth a look: anyone holding an enrollment
            // token could cut a PC's agent off this way.
            severity: replaced.length > 0 ? 'medium' : 'info',
            occurredAt: now,
            data: { agentId, hostname: body.hostname, machineId: body.machineId, os: body.os, tokenId: token.id, replaced: replaced.map((a) => a.id) },
          },
        ], now);
        deps.logger.info('agent enrolled', { agentId, hostname: body.hostname, group: token.group });
        const latest = await deps.store.latestPolicy(token.group);
        return reply.status(201).send({
          agentId,
          secret,
          group: token.group,
          serverTime: now,
          signingKeys: [{ keyId: deps.signer.keyId, publicKeyPem: deps.signer.publicKeyPem }],
          policy: latest ? signedPolicyOf(latest) : null,
        });
      },
    );
  };
}
