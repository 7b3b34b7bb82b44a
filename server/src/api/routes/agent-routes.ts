import { createHmac } from 'node:crypto';
import { COMMAND_NAMES, issueUninstallCode, type CommandName, type UninstallMac } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import type { AgentRecord } from '../../store/store.js';
import { badRequest, conflict, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { GROUP_PATTERN } from './group-routes.js';

export type Presence = 'online' | 'stale' | 'offline' | 'revoked';

/** Seconds without a sign of life after which an agent is stale, then offline. */
export const STALE_AFTER_S = 120;
export const OFFLINE_AFTER_S = 900;

export function presenceOf(agent: AgentRecord, now: Date): Presence {
  if (agent.revokedAt) return 'revoked';
  if (!agent.lastSeenAt) return 'offline';
  const age = (now.getTime() - Date.parse(agent.lastSeenAt)) / 1000;
  return age <= STALE_AFTER_S ? 'online' : age <= OFFLINE_AFTER_S ? 'stale' : 'offline';
}

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    group: { type: 'string', pattern: GROUP_PATTERN },
    status: { type: 'string', enum: ['online', 'stale', 'offline', 'revoked'] },
    hostname: { type: 'string', maxLength: 253 },
  },
} as const;

/**
 * The uninstall code's key: the agent's stored secret hash as its 32 bytes, which the agent
 * computes from its secret (shared/src/agent/uninstall-code.ts).
 */
export function uninstallMac(secretHash: string): UninstallMac {
  if (!/^[0-9a-f]{64}$/.test(secretHash)) throw new Error('the stored agent secret hash is not SHA-256 hex');
  const key = Buffer.from(secretHash, 'hex');
  return (message) => createHmac('sha256', key).update(message, 'utf8').digest();
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

export function agentRoutes(deps: ServerDeps) {
  /** `latest` caches each group's latest policy for one request: a list of 3,000 agents reads it once per group. */
  const view = async (a: AgentRecord, now: Date, latestOf = new Map<string, ReturnType<ServerDeps['store']['latestPolicy']>>()) => {
    let pending = latestOf.get(a.group);
    if (pending === undefined) {
      pending = deps.store.latestPolicy(a.group);
      latestOf.set(a.group, pending);
    }
    const latest = await pending;
    const { secretHash: _secret, ...rest } = a;
    return {
      ...rest,
      status: presenceOf(a, now),
      latestVersion: latest?.version ?? null,
      // Drift: the agent enforces an older policy than its group's latest.
      drift: latest !== undefined && a.appliedVersion !== latest.version,
    };
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { group?: string; status?: string; hostname?: string } }>(
      '/agents',
      { config: { access: 'viewer', summary: 'List agents' }, schema: { querystring: listQuery } },
      async (request) => {
        const now = deps.clock();
        const { group, status, hostname } = request.query;
        const agents = await deps.store.listAgents({ group, hostname, includeRevoked: status === 'revoked' });
        const latestOf = new Map<string, ReturnType<ServerDeps['store']['latestPolicy']>>();
        const views = await Promise.all(agents.map((a) => view(a, now, latestOf)));
        return { agents: status ? views.filter((v) => v.status === status) : views };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/agents/:id',
      { config: { access: 'viewer', summary: 'An agent with its inventory' }, schema: { params: idParams } },
      async (request) => {
        const agent = await deps.store.getAgent(request.params.id);
        if (!agent) throw notFound(`agent ${request.params.id}`);
        const inventory = await deps.store.getInventory(agent.id);
        return { agent: await view(agent, deps.clock()), inventory: inventory ?? null };
      },
    );

    app.put<{ Params: { id: string }; Body: { group: string } }>(
      '/agents/:id/group',
      {
        config: { access: 'admin', summary: 'Move an agent to another group' },
        schema: {
          params: idParams,
          body: { type: 'object', additionalProperties: false, required: ['group'], properties: { group: { type: 'string', pattern: GROUP_PATTERN } } },
        },
      },
      async (request) => {
        if (!(await deps.store.getGroup(request.body.group))) throw notFound(`group ${request.body.group}`);
        const before = await deps.store.getAgent(request.params.id);
        if (!before || !(await deps.store.setAgentGroup(request.params.id, request.body.group))) throw notFound(`agent ${request.params.id}`);
        await audit(deps, request, 'agent.move', request.params.id, { from: before.group, to: request.body.group });
        await deps.publisher.agentChanged(request.params.id);
        return { agent: await view((await deps.store.getAgent(request.params.id)) as AgentRecord, deps.clock()) };
      },
    );

    app.post<{ Params: { id: string } }>(
      '/agents/:id/revoke',
      { config: { access: 'admin', summary: "Revoke an agent's identity" }, schema: { params: idParams } },
      async (request, reply) => {
        if (!(await deps.store.revokeAgent(request.params.id, deps.clock().toISOString()))) throw notFound(`agent ${request.params.id}`);
        await audit(deps, request, 'agent.revoke', request.params.id);
        await deps.publisher.agentChanged(request.params.id);
        return reply.status(204).send();
      },
    );

    app.post<{ Params: { id: string }; Body: { name: CommandName; args?: Record<string, unknown> } }>(
      '/agents/:id/commands',
      {
        config: { access: 'admin', summary: 'Send a command to a connected agent; its result arrives as a command.result event' },
        schema: {
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string', enum: COMMAND_NAMES }, args: { type: 'object', maxProperties: 32 } },
          },
        },
      },
      async (request, reply) => {
        if (JSON.stringify(request.body.args ?? {}).length > 16_384) throw badRequest('command args are larger than 16 KiB');
        const agent = await deps.store.getAgent(request.params.id);
        if (!agent || agent.revokedAt) throw notFound(`agent ${request.params.id}`);
        const commandId = deps.publisher.sendCommand(agent.id, request.body.name, request.body.args ?? {}, request.user?.username ?? '?');
        if (commandId === null) throw conflict(`agent ${agent.id} is not connected; try again when it is online`);
        await audit(deps, request, 'agent.command', agent.id, { name: request.body.name, commandId });
        return reply.status(202).send({ commandId });
      },
    );

    app.post<{ Params: { id: string } }>(
      '/agents/:id/uninstall-code',
      { config: { access: 'admin', summary: "An agent's uninstall code: removing the agent from its PC needs it (valid today and tomorrow, UTC)" }, schema: { params: idParams } },
      async (request, reply) => {
        const agent = await deps.store.getAgent(request.params.id);
        if (!agent || agent.revokedAt) throw notFound(`agent ${request.params.id}`);
        const issued = issueUninstallCode(uninstallMac(agent.secretHash), agent.id, deps.clock());
        // Who asked for which PC's removal, never the code: the audit trail is readable by security staff.
        await audit(deps, request, 'agent.uninstall-code', agent.id, { hostname: agent.hostname, day: issued.day, validUntil: issued.validUntil });
        return reply.status(201).send({ agentId: agent.id, hostname: agent.hostname, code: issued.code, validUntil: issued.validUntil });
      },
    );
  };
}
