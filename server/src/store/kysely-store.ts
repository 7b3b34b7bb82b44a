import type { Kysely } from 'kysely';
import type {
  AgentFilter,
  AgentRecord,
  AuditEntry,
  AuditRecord,
  ChainCheck,
  EnrollmentTokenRecord,
  EventQuery,
  EventRecord,
  EventSummary,
  EventSummaryQuery,
  GroupRecord,
  IngestResult,
  NewEvent,
  PolicyVersionRecord,
  SessionRecord,
  Store,
  TriageStatus,
  UsbSeenRecord,
  UsbSighting,
  MailAddressQuery,
  MailAddressRecord,
  MailPolicyRecord,
  UserRecord,
  Role,
} from './store.js';
import type { Database } from './schema.js';
import type { SqlFlavor } from './sql-flavor.js';
import { migrateToLatest } from './migrations.js';
import { AccountsRepo } from './accounts-repo.js';
import { FleetRepo } from './fleet-repo.js';
import { EventsRepo } from './events-repo.js';
import { AuditRepo } from './audit-repo.js';
import { InventoryRepo } from './inventory-repo.js';
import { EventStatsRepo } from './event-stats-repo.js';
import { MailRepo } from './mail-repo.js';
import { utc, utcOrUndefined } from './repo-support.js';

/**
 * The Store over Kysely: one query layer for SQLite and PostgreSQL. The SQL itself lives in one
 * repo per resource; the few places where the back-ends differ are the SqlFlavor's. This facade
 * brings every time to its stored form (see `utc`) on the way in.
 */
export class KyselyStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #flavor: SqlFlavor;
  readonly #accounts: AccountsRepo;
  readonly #fleet: FleetRepo;
  readonly #events: EventsRepo;
  readonly #audit: AuditRepo;
  readonly #inventory: InventoryRepo;
  readonly #eventStats: EventStatsRepo;
  readonly #mail: MailRepo;

  constructor(db: Kysely<Database>, flavor: SqlFlavor) {
    this.#db = db;
    this.#flavor = flavor;
    const ctx = { db, flavor };
    this.#accounts = new AccountsRepo(ctx);
    this.#fleet = new FleetRepo(ctx);
    this.#events = new EventsRepo(ctx);
    this.#audit = new AuditRepo(ctx);
    this.#inventory = new InventoryRepo(ctx);
    this.#eventStats = new EventStatsRepo(ctx);
    this.#mail = new MailRepo(ctx);
  }

  async migrate(): Promise<void> {
    return migrateToLatest(this.#db as Kysely<unknown>, this.#flavor);
  }

  async close(): Promise<void> {
    return this.#db.destroy();
  }

  async createUser(user: Omit<UserRecord, 'createdAt' | 'disabled'>, at: string): Promise<void> {
    return this.#accounts.createUser(user, utc(at, 'at'));
  }
  async getUser(username: string): Promise<UserRecord | undefined> {
    return this.#accounts.getUser(username);
  }
  async listUsers(): Promise<UserRecord[]> {
    return this.#accounts.listUsers();
  }
  async setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    return this.#accounts.setPasswordHash(username, passwordHash);
  }
  async setUserDisabled(username: string, disabled: boolean): Promise<boolean> {
    return this.#accounts.setUserDisabled(username, disabled);
  }
  async setUserRole(username: string, role: Role): Promise<boolean> {
    return this.#accounts.setUserRole(username, role);
  }

  async createSession(session: SessionRecord): Promise<void> {
    return this.#accounts.createSession({ ...session, createdAt: utc(session.createdAt, 'createdAt'), expiresAt: utc(session.expiresAt, 'expiresAt') });
  }
  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.#accounts.getSession(tokenHash);
  }
  async deleteSession(tokenHash: string): Promise<void> {
    return this.#accounts.deleteSession(tokenHash);
  }
  async deleteSessionsOf(username: string): Promise<number> {
    return this.#accounts.deleteSessionsOf(username);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.#accounts.deleteExpiredSessions(utc(now, 'now'));
  }

  async createGroup(group: GroupRecord): Promise<void> {
    return this.#fleet.createGroup({ ...group, createdAt: utc(group.createdAt, 'createdAt') });
  }
  async getGroup(name: string): Promise<GroupRecord | undefined> {
    return this.#fleet.getGroup(name);
  }
  async listGroups(): Promise<GroupRecord[]> {
    return this.#fleet.listGroups();
  }

  async addPolicyVersion(v: PolicyVersionRecord): Promise<boolean> {
    return this.#fleet.addPolicyVersion({ ...v, createdAt: utc(v.createdAt, 'createdAt') });
  }
  async latestPolicy(group: string): Promise<PolicyVersionRecord | undefined> {
    return this.#fleet.latestPolicy(group);
  }
  async getPolicyVersion(group: string, version: number): Promise<PolicyVersionRecord | undefined> {
    return this.#fleet.getPolicyVersion(group, version);
  }
  async listPolicyVersions(group: string): Promise<Array<Omit<PolicyVersionRecord, 'document' | 'signature'>>> {
    return this.#fleet.listPolicyVersions(group);
  }

  async createEnrollmentToken(t: Omit<EnrollmentTokenRecord, 'revokedAt' | 'uses'>): Promise<void> {
    return this.#fleet.createEnrollmentToken({ ...t, createdAt: utc(t.createdAt, 'createdAt'), expiresAt: utc(t.expiresAt, 'expiresAt') });
  }
  async useEnrollmentToken(tokenHash: string, now: string): Promise<EnrollmentTokenRecord | undefined> {
    return this.#fleet.useEnrollmentToken(tokenHash, utc(now, 'now'));
  }
  async revokeEnrollmentToken(id: string, at: string): Promise<boolean> {
    return this.#fleet.revokeEnrollmentToken(id, utc(at, 'at'));
  }
  async listEnrollmentTokens(): Promise<EnrollmentTokenRecord[]> {
    return this.#fleet.listEnrollmentTokens();
  }

  async createAgent(a: Omit<AgentRecord, 'lastSeenAt' | 'appliedVersion' | 'revokedAt'>): Promise<void> {
    return this.#fleet.createAgent({ ...a, enrolledAt: utc(a.enrolledAt, 'enrolledAt') });
  }
  async getAgent(id: string): Promise<AgentRecord | undefined> {
    return this.#fleet.getAgent(id);
  }
  async listAgents(filter: AgentFilter): Promise<AgentRecord[]> {
    return this.#fleet.listAgents(filter);
  }
  async setAgentGroup(id: string, group: string): Promise<boolean> {
    return this.#fleet.setAgentGroup(id, group);
  }
  async revokeAgent(id: string, at: string): Promise<boolean> {
    return this.#fleet.revokeAgent(id, utc(at, 'at'));
  }
  async setAgentApplied(id: string, version: number): Promise<void> {
    return this.#fleet.setAgentApplied(id, version);
  }
  async touchAgent(id: string, at: string): Promise<void> {
    return this.#fleet.touchAgent(id, utc(at, 'at'));
  }

  async setAgentsApplied(updates: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    return this.#fleet.setAgentsApplied(updates);
  }

  async touchAgents(ids: readonly string[], at: string): Promise<void> {
    return this.#fleet.touchAgents(ids, utc(at, 'at'));
  }

  async ingestEvents(agentId: string | null, group: string | null, events: readonly NewEvent[], receivedAt: string): Promise<IngestResult> {
    const normalized = events.map((e) => ({ ...e, occurredAt: utc(e.occurredAt, 'occurredAt') }));
    return this.#events.ingest(agentId, group, normalized, utc(receivedAt, 'receivedAt'));
  }
  async queryEvents(q: EventQuery): Promise<EventRecord[]> {
    const before = q.before && { occurredAt: utc(q.before.occurredAt, 'before.occurredAt'), id: q.before.id };
    return this.#events.query(withUtcRange({ ...q, before }));
  }
  async getEvent(id: number): Promise<EventRecord | undefined> {
    return this.#events.get(id);
  }
  async triageEvent(id: number, status: TriageStatus, comment: string | null): Promise<boolean> {
    return this.#events.triage(id, status, comment);
  }
  async *iterateEvents(q: Omit<EventQuery, 'limit' | 'beforeId' | 'afterId' | 'before' | 'orderBy'>, pageSize?: number): AsyncIterable<EventRecord> {
    yield* this.#events.iterate(withUtcRange(q), pageSize);
  }
  async verifyEventChain(): Promise<ChainCheck> {
    return this.#events.verifyChain();
  }

  async appendAudit(entry: AuditEntry, at: string): Promise<AuditRecord> {
    return this.#audit.append(entry, utc(at, 'at'));
  }
  async listAudit(limit: number, beforeId?: number): Promise<AuditRecord[]> {
    return this.#audit.list(limit, beforeId);
  }
  async verifyAuditChain(): Promise<ChainCheck> {
    return this.#audit.verifyChain();
  }

  async putInventory(agentId: string, inventory: Record<string, unknown>, at: string): Promise<void> {
    return this.#inventory.put(agentId, inventory, utc(at, 'at'));
  }
  async getInventory(agentId: string): Promise<{ inventory: Record<string, unknown>; updatedAt: string } | undefined> {
    return this.#inventory.get(agentId);
  }
  async recordUsbSeen(agentId: string, devices: readonly UsbSighting[], at: string): Promise<void> {
    return this.#inventory.recordUsbSeen(agentId, devices, utc(at, 'at'));
  }
  async listUsbSeen(): Promise<UsbSeenRecord[]> {
    return this.#inventory.listUsbSeen();
  }

  async summarizeEvents(q: EventSummaryQuery): Promise<EventSummary> {
    return this.#eventStats.summarize({ ...q, since: utc(q.since, 'since'), until: utc(q.until, 'until') });
  }

  async createMailAddress(record: MailAddressRecord): Promise<void> {
    return this.#mail.createAddress(mailTimes(record));
  }
  async getMailAddress(address: string): Promise<MailAddressRecord | undefined> {
    return this.#mail.getAddress(address);
  }
  async listMailAddresses(q: MailAddressQuery): Promise<MailAddressRecord[]> {
    return this.#mail.listAddresses(q);
  }
  async updateMailAddress(record: MailAddressRecord): Promise<boolean> {
    return this.#mail.updateAddress(mailTimes(record));
  }
  async deleteMailAddress(address: string): Promise<boolean> {
    return this.#mail.deleteAddress(address);
  }
  async importMailAddresses(records: readonly MailAddressRecord[]): Promise<{ created: number; updated: number; unchanged: number }> {
    return this.#mail.importAddresses(records.map(mailTimes));
  }
  async getMailPolicy(group: string): Promise<MailPolicyRecord | undefined> {
    return this.#mail.getPolicy(group);
  }
  async putMailPolicy(record: MailPolicyRecord): Promise<void> {
    return this.#mail.putPolicy({ ...record, updatedAt: utc(record.updatedAt, 'updatedAt') });
  }
  async listMailPolicies(): Promise<MailPolicyRecord[]> {
    return this.#mail.listPolicies();
  }
}

function withUtcRange<Q extends { since?: string; until?: string }>(q: Q): Q {
  if (q.since === undefined && q.until === undefined) return q;
  return { ...q, since: utcOrUndefined(q.since, 'since'), until: utcOrUndefined(q.until, 'until') };
}

function mailTimes(r: MailAddressRecord): MailAddressRecord {
  return { ...r, createdAt: utc(r.createdAt, 'createdAt'), updatedAt: utc(r.updatedAt, 'updatedAt') };
}
