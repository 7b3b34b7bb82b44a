import { PRODUCT_VERSION } from '@portcullis/shared';
import type { FastifyInstance } from 'fastify';
import type { AuditRecord, ChainCheck, UserRecord } from '../../store/store.js';
import { badRequest, conflict, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { USERNAME_PATTERN } from './user-routes.js';

/** How many audit records one search request reads at most; the answer's cursor carries on from there. */
export const AUDIT_SEARCH_SCAN_ROWS = 5000;
const AUDIT_PAGE = 500;

export interface AuditFilter {
  readonly actor?: string;
  /** `user` matches `user.create` and `user.password`; `user.create` only itself. */
  readonly action?: string;
  readonly since?: string;
  readonly until?: string;
}

/** Whether an audit record passes the filter (times compared as instants, `since` inclusive, `until` exclusive). */
export function auditMatches(record: Pick<AuditRecord, 'actor' | 'action' | 'at'>, filter: AuditFilter): boolean {
  if (filter.actor !== undefined && record.actor !== filter.actor) return false;
  if (filter.action !== undefined && record.action !== filter.action && !record.action.startsWith(`${filter.action}.`)) return false;
  const at = Date.parse(record.at);
  if (filter.since !== undefined && at < Date.parse(filter.since)) return false;
  if (filter.until !== undefined && at >= Date.parse(filter.until)) return false;
  return true;
}

/**
 * Why `actor` may not set `target`'s disabled flag to `disabled`, or null. Nobody locks themselves
 * out, and the fleet never loses its last active administrator (reachable only through a race
 * today, as a disabled admin cannot sign in, but the rule must hold whatever the order of calls).
 */
export function disableRefusal(
  actor: string,
  target: Pick<UserRecord, 'username' | 'role' | 'disabled'>,
  disabled: boolean,
  users: ReadonlyArray<Pick<UserRecord, 'username' | 'role' | 'disabled'>>,
): string | null {
  if (!disabled || target.disabled) return null;
  if (target.username === actor) return 'you cannot disable your own account';
  if (target.role !== 'admin') return null;
  const otherActiveAdmins = users.filter((u) => u.role === 'admin' && !u.disabled && u.username !== target.username);
  return otherActiveAdmins.length === 0 ? 'the last active administrator cannot be disabled' : null;
}

/**
 * Why `actor` may not give `target` the role `role`, or null: nobody changes their own role
 * (an admin demoting themselves by mistake), and the last active administrator keeps the role.
 */
export function roleRefusal(
  actor: string,
  target: Pick<UserRecord, 'username' | 'role' | 'disabled'>,
  role: UserRecord['role'],
  users: ReadonlyArray<Pick<UserRecord, 'username' | 'role' | 'disabled'>>,
): string | null {
  if (role === target.role) return null;
  if (target.username === actor) return 'you cannot change your own role';
  if (target.role !== 'admin' || target.disabled) return null;
  const otherActiveAdmins = users.filter((u) => u.role === 'admin' && !u.disabled && u.username !== target.username);
  return otherActiveAdmins.length === 0 ? 'the last active administrator must stay an administrator' : null;
}

/** A chain check as the console shows it. */
export function chainReport(check: ChainCheck): { ok: boolean; records?: number; firstBroken?: { id: number; reason: string } } {
  return check.intact ? { ok: true, records: check.count } : { ok: false, firstBroken: { id: check.brokenAtId, reason: check.reason } };
}

/** A date, or a date and time with a zone (what the console's time pickers send as UTC). */
const ISO_TIME = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$' } as const;

const searchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', minLength: 1, maxLength: 64 },
    action: { type: 'string', pattern: '^[a-z][a-z0-9._-]{0,63}$' },
    since: ISO_TIME,
    until: ISO_TIME,
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$' },
  },
} as const;

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', pattern: USERNAME_PATTERN } },
} as const;

const patchUserBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { disabled: { type: 'boolean' }, role: { type: 'string', enum: ['admin', 'security', 'viewer'] } },
} as const;

type SearchQuery = AuditFilter & { limit?: string; cursor?: string };

/** Routes the web console needs beyond the base API: audit search and verification, user state, server identity. */
export function adminExtraRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: SearchQuery }>(
      '/audit/search',
      {
        // The same records GET /audit shows security staff, filtered: security watches the admins.
        config: { access: 'security', summary: 'The audit trail filtered by actor, action and time, newest first' },
        schema: { querystring: searchQuery },
      },
      async (request) => {
        const { limit: rawLimit, cursor, ...filter } = request.query;
        const limit = Math.min(Math.max(Number(rawLimit ?? 100), 1), 1000);
        for (const name of ['since', 'until'] as const) {
          const value = filter[name];
          if (value !== undefined && Number.isNaN(Date.parse(value))) throw badRequest(`${name} is not a valid time: ${value}`);
        }
        const sinceMs = filter.since === undefined ? undefined : Date.parse(filter.since);
        const records: AuditRecord[] = [];
        let before = cursor === undefined ? undefined : Number(cursor);
        let scanned = 0;
        let more = true;
        // Reads newest first, a page at a time, until the answer is full, the scan budget is spent
        // or the records are older than `since` (the trail is appended in time order).
        scan: while (records.length < limit && scanned < AUDIT_SEARCH_SCAN_ROWS) {
          const want = Math.min(AUDIT_PAGE, AUDIT_SEARCH_SCAN_ROWS - scanned);
          const page = await deps.store.listAudit(want, before);
          for (const record of page) {
            scanned += 1;
            before = record.id;
            if (sinceMs !== undefined && Date.parse(record.at) < sinceMs) {
              more = false;
              break scan;
            }
            if (auditMatches(record, filter)) records.push(record);
            if (records.length >= limit) break scan;
          }
          if (page.length < want) {
            more = false;
            break;
          }
        }
        return { records, nextCursor: more && before !== undefined ? String(before) : null, scanned };
      },
    );

    app.get('/audit/verify', { config: { access: 'admin', summary: 'Check the hash chains of the audit trail and the event log' } }, async () => {
      // Both walks read the tables a page at a time (hash-chain.ts), so memory stays flat.
      const auditTrail = chainReport(await deps.store.verifyAuditChain());
      const eventLog = chainReport(await deps.store.verifyEventChain());
      if (!auditTrail.ok || !eventLog.ok) deps.logger.warn('hash chain broken', { auditTrail, eventLog });
      return { auditTrail, eventLog, checkedAt: deps.clock().toISOString() };
    });

    app.patch<{ Params: { username: string }; Body: { disabled?: boolean; role?: UserRecord['role'] } }>(
      '/users/:username',
      {
        config: { access: 'admin', summary: "Change a user's role, or disable or re-enable the user" },
        schema: { params: usernameParams, body: patchUserBody },
      },
      async (request) => {
        const { username } = request.params;
        const user = await deps.store.getUser(username);
        if (!user) throw notFound(`user ${username}`);
        const actor = request.user?.username ?? '';
        const users = await deps.store.listUsers();
        const disabled = request.body.disabled ?? user.disabled;
        const role = request.body.role ?? user.role;
        // Both checks before either change: a request is applied whole or not at all.
        const refusal = disableRefusal(actor, user, disabled, users) ?? roleRefusal(actor, user, role, users);
        if (refusal) throw conflict(refusal);
        if (user.role !== role) {
          await deps.store.setUserRole(username, role);
          // The role applies from the next request; ending the sessions makes the console start afresh.
          await deps.store.deleteSessionsOf(username);
          await audit(deps, request, 'user.role', username, { from: user.role, to: role });
        }
        if (user.disabled !== disabled) {
          await deps.store.setUserDisabled(username, disabled);
          // A disabled account must not keep the sessions it already had.
          if (disabled) await deps.store.deleteSessionsOf(username);
          await audit(deps, request, disabled ? 'user.disable' : 'user.enable', username);
        }
        return { username, role, createdAt: user.createdAt, disabled };
      },
    );

    app.get('/server-info', { config: { access: 'admin', summary: 'The URL and CA fingerprint agents enroll with, and the agent version released with this server' } }, async () => ({
      url: deps.options.publicUrl ?? null,
      caFingerprint256: deps.options.caFingerprint256 ?? null,
      // The console names the agent's package after it (portcullis-agent_<version>_amd64.deb).
      agentVersion: PRODUCT_VERSION,
    }));
  };
}
