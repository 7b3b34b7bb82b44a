import { ErrorCodes } from '@portcullis/shared';
/**
 * The server's storage port. One implementation (KyselyStore) serves SQLite (embedded default)
 * and PostgreSQL with the same schema, migrations and queries; the contract tests in
 * test/store.test.ts run every case against both.
 *
 * Times are ISO-8601 strings at this boundary; the store keeps and returns them in
 * toISOString's UTC form (`2026-11-25T10:00:00.000Z`), so it may return a time written
 * differently from how it was given, and refuses one that does not parse. Secrets never
 * reach the store in clear: passwords arrive as scrypt hashes, tokens and agent secrets as
 * SHA-256 hex of their random value.
 */

export type Role = 'admin' | 'security' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'security', 'viewer'];

export interface UserRecord {
  readonly username: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface SessionRecord {
  readonly tokenHash: string;
  readonly username: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface GroupRecord {
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
}

/** One signed version of a group's policy; `document` is the canonical JSON that was signed. */
export interface PolicyVersionRecord {
  readonly group: string;
  readonly version: number;
  readonly document: string;
  readonly signature: string;
  readonly keyId: string;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Why it was saved, as the admin wrote it; not part of the signed document. */
  readonly comment: string;
}

export interface EnrollmentTokenRecord {
  readonly id: string;
  readonly tokenHash: string;
  readonly group: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly uses: number;
}

export interface AgentRecord {
  readonly id: string;
  readonly secretHash: string;
  readonly group: string;
  readonly hostname: string;
  readonly machineId: string;
  readonly os: string;
  readonly agentVersion: string;
  readonly enrolledAt: string;
  readonly lastSeenAt: string | null;
  readonly appliedVersion: number | null;
  readonly revokedAt: string | null;
}

export interface AgentFilter {
  readonly group?: string;
  readonly hostname?: string;
  readonly machineId?: string;
  readonly includeRevoked?: boolean;
}

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type TriageStatus = 'new' | 'acknowledged' | 'resolved' | 'false-positive';

/** An event as an agent (or the server itself) reports it, before storage. */
export interface NewEvent {
  /** The agent's own sequence number (1, 2, 3…); unique per agent. Server events use null. */
  readonly seq: number | null;
  readonly type: string;
  readonly severity: Severity;
  /** When it happened, per the reporter. */
  readonly occurredAt: string;
  /** Free-form facts (device, decision trace, …) as a JSON object. */
  readonly data: Record<string, unknown>;
}

export interface EventRecord extends NewEvent {
  /** Store-assigned, increasing with insertion order. */
  readonly id: number;
  readonly agentId: string | null;
  readonly group: string | null;
  readonly receivedAt: string;
  readonly status: TriageStatus;
  readonly comment: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

export interface IngestResult {
  /** How many events of the batch were new (duplicates by agent + seq are not stored twice). */
  readonly stored: number;
  /** The highest n such that every seq 1..n of this agent is stored (what the server acks). */
  readonly ackedSeq: number;
}

export interface EventQuery {
  readonly type?: string;
  readonly severity?: Severity;
  readonly agentId?: string;
  readonly group?: string;
  readonly status?: TriageStatus;
  readonly since?: string;
  readonly until?: string;
  /** Substring search in the event's data (case-insensitive). */
  readonly q?: string;
  readonly limit: number;
  /**
   * Newest first by arrival (`id`, the default), or by when events happened (`occurredAt`, what a
   * time window wants: it then reads the occurred_at index instead of sorting the window).
   */
  readonly orderBy?: 'id' | 'occurredAt';
  /** Keyset cursor for `id` order: return events with id < beforeId. */
  readonly beforeId?: number;
  /** Bounds a scan in `id` order: only events with id > afterId are read (a substring search page). */
  readonly afterId?: number;
  /** Keyset cursor for `occurredAt` order: events before this (occurredAt, id) pair. */
  readonly before?: { readonly occurredAt: string; readonly id: number };
}

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Result of walking a hash chain: intact, or the first record whose link is broken. */
export type ChainCheck = { readonly intact: true; readonly count: number } | { readonly intact: false; readonly brokenAtId: number; readonly reason: string };

export interface Store {
  migrate(): Promise<void>;
  close(): Promise<void>;

  createUser(user: Omit<UserRecord, 'createdAt' | 'disabled'>, at: string): Promise<void>;
  getUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  setPasswordHash(username: string, passwordHash: string): Promise<boolean>;
  /** Disables (or re-enables) a user's login; false when there is no such user. */
  setUserDisabled(username: string, disabled: boolean): Promise<boolean>;
  /** Gives a user another role; false when there is no such user. */
  setUserRole(username: string, role: Role): Promise<boolean>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(tokenHash: string): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteExpiredSessions(now: string): Promise<number>;
  /** Ends every session of a user (password changed, account disabled); returns how many. */
  deleteSessionsOf(username: string): Promise<number>;

  createGroup(group: GroupRecord): Promise<void>;
  getGroup(name: string): Promise<GroupRecord | undefined>;
  listGroups(): Promise<GroupRecord[]>;

  /**
   * Stores a version of the group's policy. The caller picks `version` (latest + 1) because the
   * signed document carries it; returns false, storing nothing, when that version already exists
   * (a concurrent save won; the caller re-reads and retries or reports a conflict).
   */
  addPolicyVersion(v: PolicyVersionRecord): Promise<boolean>;
  latestPolicy(group: string): Promise<PolicyVersionRecord | undefined>;
  getPolicyVersion(group: string, version: number): Promise<PolicyVersionRecord | undefined>;
  listPolicyVersions(group: string): Promise<Array<Omit<PolicyVersionRecord, 'document' | 'signature'>>>;

  createEnrollmentToken(t: Omit<EnrollmentTokenRecord, 'revokedAt' | 'uses'>): Promise<void>;
  /** The token if it exists, is not revoked and has not expired at `now`; counts one use. */
  useEnrollmentToken(tokenHash: string, now: string): Promise<EnrollmentTokenRecord | undefined>;
  revokeEnrollmentToken(id: string, at: string): Promise<boolean>;
  listEnrollmentTokens(): Promise<EnrollmentTokenRecord[]>;

  createAgent(a: Omit<AgentRecord, 'lastSeenAt' | 'appliedVersion' | 'revokedAt'>): Promise<void>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(filter: AgentFilter): Promise<AgentRecord[]>;
  setAgentGroup(id: string, group: string): Promise<boolean>;
  revokeAgent(id: string, at: string): Promise<boolean>;
  setAgentApplied(id: string, version: number): Promise<void>;
  touchAgent(id: string, at: string): Promise<void>;
  /** Many agents' applied versions in one transaction. */
  setAgentsApplied(updates: ReadonlyArray<{ id: string; version: number }>): Promise<void>;
  /** One last-seen time for many agents in as few writes as possible. */
  touchAgents(ids: readonly string[], at: string): Promise<void>;

  /**
   * Stores a batch in one transaction, idempotently on (agent, seq), extending the event hash
   * chain; returns what to ack. `agentId` null is the server's own events (seq must be null).
   */
  ingestEvents(agentId: string | null, group: string | null, events: readonly NewEvent[], receivedAt: string): Promise<IngestResult>;
  queryEvents(q: EventQuery): Promise<EventRecord[]>;
  getEvent(id: number): Promise<EventRecord | undefined>;
  /** Triage lives beside the chained record (status and comment are not part of the hash). */
  triageEvent(id: number, status: TriageStatus, comment: string | null): Promise<boolean>;
  /** Every event oldest first, in pages, for export and verification without loading all. */
  iterateEvents(q: Omit<EventQuery, 'limit' | 'beforeId' | 'afterId' | 'before' | 'orderBy'>, pageSize?: number): AsyncIterable<EventRecord>;
  verifyEventChain(): Promise<ChainCheck>;

  appendAudit(entry: AuditEntry, at: string): Promise<AuditRecord>;
  listAudit(limit: number, beforeId?: number): Promise<AuditRecord[]>;
  verifyAuditChain(): Promise<ChainCheck>;

  /** Replaces the agent's current inventory (a full snapshot, as a JSON object). */
  putInventory(agentId: string, inventory: Record<string, unknown>, at: string): Promise<void>;
  getInventory(agentId: string): Promise<{ inventory: Record<string, unknown>; updatedAt: string } | undefined>;
  /** Records USB devices seen on an agent: first/last seen per (device key, agent). */
  recordUsbSeen(agentId: string, devices: readonly UsbSighting[], at: string): Promise<void>;
  listUsbSeen(): Promise<UsbSeenRecord[]>;

  /** Counts of the events of some types in an occurred_at window: per UTC day, top agents, top devices. */
  summarizeEvents(q: EventSummaryQuery): Promise<EventSummary>;

  /** Adds an address to the registry; CONFLICT when it exists, NOT_FOUND when its group does not. */
  createMailAddress(record: MailAddressRecord): Promise<void>;
  getMailAddress(address: string): Promise<MailAddressRecord | undefined>;
  /** By address, in pages (`after` = the last address of the previous page). */
  listMailAddresses(q: MailAddressQuery): Promise<MailAddressRecord[]>;
  /** Replaces the record of an existing address (createdAt stays); false when there is none. */
  updateMailAddress(record: MailAddressRecord): Promise<boolean>;
  deleteMailAddress(address: string): Promise<boolean>;
  /**
   * Creates or updates many addresses in one transaction (a CSV import): all or nothing. A row
   * equal to the stored one (ignoring times) is left alone and counted as unchanged.
   */
  importMailAddresses(records: readonly MailAddressRecord[]): Promise<{ created: number; updated: number; unchanged: number }>;

  getMailPolicy(group: string): Promise<MailPolicyRecord | undefined>;
  /** Sets a group's mail policy; NOT_FOUND when the group does not exist. */
  putMailPolicy(record: MailPolicyRecord): Promise<void>;
  listMailPolicies(): Promise<MailPolicyRecord[]>;
}

export type MailAddressState = 'active' | 'suspended' | 'retired';
export const MAIL_ADDRESS_STATES: readonly MailAddressState[] = ['active', 'suspended', 'retired'];

/** One of the ministry's email addresses (DESIGN.md §5). */
export interface MailAddressRecord {
  /** Lower-case `local@domain`. */
  readonly address: string;
  /** The person (or office) it belongs to. */
  readonly owner: string;
  readonly group: string;
  /** SASL logins that may send as this address; empty: any login (or none). */
  readonly logins: readonly string[];
  readonly state: MailAddressState;
  readonly notes: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MailAddressQuery {
  readonly group?: string;
  readonly state?: MailAddressState;
  /** Case-insensitive substring of the address or the owner. */
  readonly q?: string;
  /** Addresses after this one (keyset paging). */
  readonly after?: string;
  readonly limit: number;
}

/** A group's mail policy; `policy` is the JSON the API validated (server/src/mail/mail-policy.ts). */
export interface MailPolicyRecord {
  readonly group: string;
  readonly policy: Record<string, unknown>;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface EventSummaryQuery {
  /** occurred_at, inclusive. */
  readonly since: string;
  /** occurred_at, exclusive. */
  readonly until: string;
  readonly types: readonly string[];
  /** How many agents and devices the top lists hold at most. */
  readonly top: number;
}

export interface EventSummary {
  /** Days with at least one event, oldest first; `day` is the UTC date `2026-11-25`. */
  readonly byDay: ReadonlyArray<{ readonly day: string; readonly count: number }>;
  /** Agents with the most events, most first (server events, with no agent, are left out). */
  readonly topAgents: ReadonlyArray<{ readonly agentId: string; readonly count: number }>;
  /** By the event data's `device.id` and `device.name`, most first; `label` is one of the labels seen. */
  readonly topDevices: ReadonlyArray<{ readonly id: string; readonly name: string; readonly label: string; readonly count: number }>;
}

/** A device as the agent reported it (DESIGN.md §6 device JSON) with a stable key. */
export interface UsbSighting {
  /** USBGuard hash when known, else id + serial + name. */
  readonly key: string;
  readonly device: Record<string, unknown>;
}

export interface UsbSeenRecord {
  readonly key: string;
  readonly agentId: string;
  readonly device: Record<string, unknown>;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
}

/**
 * Stable codes for what the store refuses, so the API can map them to a status (409, 404, 400)
 * without parsing driver messages. Driver and connection failures pass through unchanged.
 */
export const StoreErrorCodes = {
  /** A record with the same key already exists (user, group, token, agent, session). */
  CONFLICT: ErrorCodes.STORE_CONFLICT,
  /** A record this one refers to does not exist (e.g. a policy version for an unknown group). */
  NOT_FOUND: ErrorCodes.STORE_NOT_FOUND,
  /** The call breaks the port's contract (e.g. an agent event without a seq). */
  INVALID: ErrorCodes.STORE_INVALID,
  /** The database URL names no supported back-end. */
  DATABASE_URL: ErrorCodes.DATABASE_URL,
} as const;

export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes];

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
