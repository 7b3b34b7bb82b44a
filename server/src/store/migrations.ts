import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';
import { GENESIS_HASH } from './hash-chain.js';

/**
 * The schema's history, in code (no migration files to ship or find at run time). Append new
 * migrations with the next number; never edit one that has shipped.
 */
function migrations(flavor: SqlFlavor): Record<string, Migration> {
  return {
    '001_initial': { up: (db) => createInitialSchema(db, flavor) },
    // Time-window queries page by (occurred_at, id). SQLite's occurred_at index already ends in
    // the rowid (= id), and every extra index costs ingest, so only PostgreSQL gets this one.
    '002_events_occurred_id': {
      up: async (db) => {
        if (flavor.kind === 'postgres') await db.schema.createIndex('events_occurred_at_id').on('events').columns(['occurred_at', 'id']).execute();
      },
    },
    // Why a policy changed, kept beside the version (not in the signed document: agents need not
    // carry it). Versions saved before this have no comment; they read as ''.
    '003_policy_version_comment': {
      up: async (db) => {
        await db.schema.alterTable('policy_versions').addColumn('comment', 'text', (c) => c.notNull().defaultTo('')).execute();
      },
    },
    // Email address control (DESIGN.md §5): the address registry and each group's mail policy.
    '004_mail': { up: (db) => createMailTables(db) },
  };
}

/** Applies every pending migration; a database already up to date is left as it is. */
export async function migrateToLatest(db: Kysely<unknown>, flavor: SqlFlavor): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(flavor) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'the migrator';
    throw new Error(`database migration failed at ${failed}: ${String(error)}`, { cause: error });
  }
}

const TIME = 'text';
const JSON_TEXT = 'text';
const HASH = 'text';

// The schema is the same on both back-ends except for the chained ids' type (see SqlFlavor).
async function createInitialSchema(db: Kysely<any>, flavor: SqlFlavor): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'security', 'viewer')`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled in (0, 1)`))
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().references('users.username').onDelete('cascade'))
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('expires_at', TIME, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('policy_versions')
    .addColumn('group', 'text', (c) => c.notNull().references('groups.name'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_versions_pk', ['group', 'version'])
    .execute();

  await db.schema
    .createTable('enrollment_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('group', 'text', (c) => c.notNull().references('groups.name'))
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', TIME, (c) => c.notNull())
    .addColumn('revoked_at', TIME)
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('group', 'text', (c) => c.notNull().references('groups.name'))
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('machine_id', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('agent_version', 'text', (c) => c.notNull())
    .addColumn('enrolled_at', TIME, (c) => c.notNull())
    .addColumn('last_seen_at', TIME)
    .addColumn('applied_version', 'integer')
    .addColumn('revoked_at', TIME)
    .execute();
  await db.schema.createIndex('agents_group').on('agents').column('group').execute();
  await db.schema.createIndex('agents_machine_id').on('agents').column('machine_id').execute();

  await db.schema
    .createTable('events')
    .addColumn('id', flavor.idType, (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.references('agents.id'))
    .addColumn('group', 'text')
    .addColumn('seq', 'bigint', (c) => c.check(sql`seq >= 1`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity in ('info', 'low', 'medium', 'high', 'critical')`))
    .addColumn('occurred_at', TIME, (c) => c.notNull())
    .addColumn('received_at', TIME, (c) => c.notNull())
    .addColumn('data', JSON_TEXT, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('new').check(sql`status in ('new', 'acknowledged', 'resolved', 'false-positive')`))
    .addColumn('comment', 'text')
    .addColumn('prev_hash', HASH, (c) => c.notNull())
    .addColumn('hash', HASH, (c) => c.notNull())
    // Idempotent ingest; also the index the ack walk and duplicate checks read.
    .addUniqueConstraint('events_agent_seq', ['agent_id', 'seq'])
    .execute();
  // Each filter with the id, so "newest first where type = ?" reads the index backwards and stops.
  for (const column of ['type', 'severity', 'group', 'status', 'agent_id']) {
    await db.schema.createIndex(`events_${column}_id`).on('events').columns([column, 'id']).execute();
  }
  await db.schema.createIndex('events_occurred_at').on('events').column('occurred_at').execute();

  await db.schema
    .createTable('agent_seq')
    .addColumn('agent_id', 'text', (c) => c.primaryKey().references('agents.id'))
    .addColumn('acked_seq', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit')
    .addColumn('id', flavor.idType, (c) => c.primaryKey())
    .addColumn('at', TIME, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('details', JSON_TEXT, (c) => c.notNull())
    .addColumn('prev_hash', HASH, (c) => c.notNull())
    .addColumn('hash', HASH, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('chain_head')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_id', 'bigint', (c) => c.notNull())
    .addColumn('hash', HASH, (c) => c.notNull())
    .execute();
  await db
    .insertInto('chain_head')
    .values([
      { name: 'events', last_id: 0, hash: GENESIS_HASH },
      { name: 'audit', last_id: 0, hash: GENESIS_HASH },
    ])
    .execute();

  await db.schema
    .createTable('inventory')
    .addColumn('agent_id', 'text', (c) => c.primaryKey().references('agents.id'))
    .addColumn('inventory', JSON_TEXT, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('usb_seen')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('device', JSON_TEXT, (c) => c.notNull())
    .addColumn('first_seen_at', TIME, (c) => c.notNull())
    .addColumn('last_seen_at', TIME, (c) => c.notNull())
    .addPrimaryKeyConstraint('usb_seen_pk', ['key', 'agent_id'])
    .execute();
  await db.schema.createIndex('usb_seen_agent_id').on('usb_seen').column('agent_id').execute();
}

async function createMailTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mail_addresses')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('group', 'text', (c) => c.notNull().references('groups.name'))
    .addColumn('logins', JSON_TEXT, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'suspended', 'retired')`))
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_addresses_group').on('mail_addresses').columns(['group', 'address']).execute();

  await db.schema
    .createTable('mail_policies')
    .addColumn('group', 'text', (c) => c.primaryKey().references('groups.name'))
    .addColumn('policy', JSON_TEXT, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();
}
