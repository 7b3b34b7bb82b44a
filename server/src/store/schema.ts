/**
 * Row shapes of the tables migration 001 creates, as Kysely sees them. Column names are the SQL
 * ones (snake_case); the repos map rows to the port's records. Times are ISO-8601 UTC text and
 * JSON is canonical JSON text in both back-ends, so every query reads the same on SQLite and
 * PostgreSQL; booleans are 0/1 integers for the same reason.
 */

export interface UsersTable {
  username: string;
  role: string;
  password_hash: string;
  created_at: string;
  disabled: number;
}

export interface SessionsTable {
  token_hash: string;
  username: string;
  created_at: string;
  expires_at: string;
}

export interface GroupsTable {
  name: string;
  description: string;
  created_at: string;
}

export interface PolicyVersionsTable {
  group: string;
  version: number;
  document: string;
  signature: string;
  key_id: string;
  created_at: string;
  created_by: string;
  /** Why the version was saved; '' for versions from before migration 003. */
  comment: string;
}

export interface EnrollmentTokensTable {
  id: string;
  token_hash: string;
  group: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  revoked_at: string | null;
  uses: number;
}

export interface AgentsTable {
  id: string;
  secret_hash: string;
  group: string;
  hostname: string;
  machine_id: string;
  os: string;
  agent_version: string;
  enrolled_at: string;
  last_seen_at: string | null;
  applied_version: number | null;
  revoked_at: string | null;
}

export interface EventsTable {
  /** Assigned by the store under the chain lock (the hash covers it), not by the database. */
  id: number;
  agent_id: string | null;
  group: string | null;
  seq: number | null;
  type: string;
  severity: string;
  occurred_at: string;
  received_at: string;
  data: string;
  status: string;
  comment: string | null;
  prev_hash: string;
  hash: string;
}

/** Per agent, the highest n such that seqs 1..n are all stored: the ack, kept up to date. */
export interface AgentSeqTable {
  agent_id: string;
  acked_seq: number;
}

export interface AuditTable {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/**
 * The end of each hash chain (`events`, `audit`): the last id and its hash. Appenders lock this
 * row, so chains never fork, and verification compares it with the last row to catch a
 * truncated tail.
 */
export interface ChainHeadTable {
  name: string;
  last_id: number;
  hash: string;
}

export interface InventoryTable {
  agent_id: string;
  inventory: string;
  updated_at: string;
}

export interface UsbSeenTable {
  key: string;
  agent_id: string;
  device: string;
  first_seen_at: string;
  last_seen_at: string;
}

/** The ministry's email addresses (migration 004); `address` is lower-case, logins a JSON list. */
export interface MailAddressesTable {
  address: string;
  owner: string;
  group: string;
  logins: string;
  state: string;
  notes: string;
  created_at: string;
  updated_at: string;
}

/** One mail policy per group (migration 004), as canonical JSON. */
export interface MailPoliciesTable {
  group: string;
  policy: string;
  updated_at: string;
  updated_by: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  groups: GroupsTable;
  policy_versions: PolicyVersionsTable;
  enrollment_tokens: EnrollmentTokensTable;
  agents: AgentsTable;
  events: EventsTable;
  agent_seq: AgentSeqTable;
  audit: AuditTable;
  chain_head: ChainHeadTable;
  inventory: InventoryTable;
  usb_seen: UsbSeenTable;
  mail_addresses: MailAddressesTable;
  mail_policies: MailPoliciesTable;
}

export type ChainName = 'events' | 'audit';
