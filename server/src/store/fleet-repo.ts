import type { Selectable } from 'kysely';
import type { AgentsTable, EnrollmentTokensTable, GroupsTable, PolicyVersionsTable } from './schema.js';
import type { AgentFilter, AgentRecord, EnrollmentTokenRecord, GroupRecord, PolicyVersionRecord } from './store.js';
import { changedRows, guarded, type StoreContext } from './repo-support.js';

/** Groups, their signed policy versions, enrollment tokens and enrolled agents. */
export class FleetRepo {
  constructor(private readonly ctx: StoreContext) {}

  async createGroup(group: GroupRecord): Promise<void> {
    await guarded(
      this.ctx.flavor,
      () => this.ctx.db.insertInto('groups').values({ name: group.name, description: group.description, created_at: group.createdAt }).execute(),
      { duplicate: `group ${group.name} already exists` },
    );
  }

  async getGroup(name: string): Promise<GroupRecord | undefined> {
    const row = await this.ctx.db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toGroup(row);
  }

  async listGroups(): Promise<GroupRecord[]> {
    const rows = await this.ctx.db.selectFrom('groups').selectAll().orderBy('name').execute();
    return rows.map(toGroup);
  }

  /**
   * The version is the caller's (the signed document carries it); the primary key settles a
   * race: the first save of (group, version) wins, the others store nothing and get false.
   */
  async addPolicyVersion(v: PolicyVersionRecord): Promise<boolean> {
    const result = await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('policy_versions')
          .values({
            group: v.group,
            version: v.version,
            document: v.document,
            signature: v.signature,
            key_id: v.keyId,
            created_at: v.createdAt,
            created_by: v.createdBy,
            comment: v.comment,
          })
          .onConflict((oc) => oc.columns(['group', 'version']).doNothing())
          .executeTakeFirst(),
      { missingReference: `group ${v.group} does not exist` },
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async latestPolicy(group: string): Promise<PolicyVersionRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('policy_versions')
      .selectAll()
      .where('group', '=', group)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toPolicyVersion(row);
  }

  async getPolicyVersion(group: string, version: number): Promise<PolicyVersionRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('policy_versions')
      .selectAll()
      .where('group', '=', group)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toPolicyVersion(row);
  }

  /** Newest first. */
  async listPolicyVersions(group: string): Promise<Array<Omit<PolicyVersionRecord, 'document' | 'signature'>>> {
    const rows = await this.ctx.db
      .selectFrom('policy_versions')
      .select(['group', 'version', 'key_id', 'created_at', 'created_by', 'comment'])
      .where('group', '=', group)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({ group: r.group, version: r.version, keyId: r.key_id, createdAt: r.created_at, createdBy: r.created_by, comment: r.comment }));
  }

  async createEnrollmentToken(t: Omit<EnrollmentTokenRecord, 'revokedAt' | 'uses'>): Promise<void> {
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('enrollment_tokens')
          .values({
            id: t.id,
            token_hash: t.tokenHash,
            group: t.group,
            created_at: t.createdAt,
            created_by: t.createdBy,
            expires_at: t.expiresAt,
            revoked_at: null,
            uses: 0,
          })
          .execute(),
      { duplicate: `enrollment token ${t.id} already exists`, missingReference: `group ${t.group} does not exist` },
    );
  }

  /** One statement checks and counts, so two enrollments racing on a token both count. */
  async useEnrollmentToken(tokenHash: string, now: string): Promise<EnrollmentTokenRecord | undefined> {
    const row = await this.ctx.db
      .updateTable('enrollment_tokens')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row && toToken(row);
  }

  /** True when the token exists; revoking twice keeps the first revocation time. */
  async revokeEnrollmentToken(id: string, at: string): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('enrollment_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id)
      .executeTakeFirst();
    return changedRows(result) > 0;
  }

  /** Newest first. */
  async listEnrollmentTokens(): Promise<EnrollmentTokenRecord[]> {
    const rows = await this.ctx.db.selectFrom('enrollment_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toToken);
  }

  async createAgent(a: Omit<AgentRecord, 'lastSeenAt' | 'appliedVersion' | 'revokedAt'>): Promise<void> {
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('agents')
          .values({
            id: a.id,
            secret_hash: a.secretHash,
            group: a.group,
            hostname: a.hostname,
            machine_id: a.machineId,
            os: a.os,
            agent_version: a.agentVersion,
            enrolled_at: a.enrolledAt,
            last_seen_at: null,
            applied_version: null,
            revoked_at: null,
          })
          .execute(),
      { duplicate: `agent ${a.id} already exists`, missingReference: `group ${a.group} does not exist` },
    );
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const row = await this.ctx.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAgent(row);
  }

  /**
   * Ordered by hostname; `hostname` matches a case-insensitive substring, `machineId` exactly;
   * revoked agents only when asked.
   */
  async listAgents(filter: AgentFilter): Promise<AgentRecord[]> {
    const { db, flavor } = this.ctx;
    const rows = await db
      .selectFrom('agents')
      .selectAll()
      .where((eb) => {
        const conditions = [];
        if (filter.group !== undefined) conditions.push(eb('group', '=', filter.group));
        if (filter.hostname !== undefined) conditions.push(flavor.containsIgnoringCase(eb.ref('hostname'), filter.hostname));
        if (filter.machineId !== undefined) conditions.push(eb('machine_id', '=', filter.machineId));
        if (filter.includeRevoked !== true) conditions.push(eb('revoked_at', 'is', null));
        return eb.and(conditions);
      })
      .orderBy('hostname')
      .orderBy('id')
      .execute();
    return rows.map(toAgent);
  }

  async setAgentGroup(id: string, group: string): Promise<boolean> {
    const result = await guarded(
      this.ctx.flavor,
      () => this.ctx.db.updateTable('agents').set({ group }).where('id', '=', id).executeTakeFirst(),
      { missingReference: `group ${group} does not exist` },
    );
    return changedRows(result) > 0;
  }

  /** True when the agent exists; revoking twice keeps the first revocation time. */
  async revokeAgent(id: string, at: string): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('agents')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id)
      .executeTakeFirst();
    return changedRows(result) > 0;
  }

  async setAgentApplied(id: string, version: number): Promise<void> {
    await this.ctx.db.updateTable('agents').set({ applied_version: version }).where('id', '=', id).execute();
  }

  async touchAgent(id: string, at: string): Promise<void> {
    await this.ctx.db.updateTable('agents').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  /** Many `applied` reports in one transaction (a policy push to thousands of agents). */
  async setAgentsApplied(updates: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    if (updates.length === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const u of updates) await trx.updateTable('agents').set({ applied_version: u.version }).where('id', '=', u.id).execute();
    });
  }

  /** One sign-of-life write for many agents (the hub's ping tick). */
  async touchAgents(ids: readonly string[], at: string): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await this.ctx.db.updateTable('agents').set({ last_seen_at: at }).where('id', 'in', chunk).execute();
    }
  }
}

function toGroup(row: Selectable<GroupsTable>): GroupRecord {
  return { name: row.name, description: row.description, createdAt: row.created_at };
}

function toPolicyVersion(row: Selectable<PolicyVersionsTable>): PolicyVersionRecord {
  return {
    group: row.group,
    version: row.version,
    document: row.document,
    signature: row.signature,
    keyId: row.key_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
    comment: row.comment,
  };
}

function toToken(row: Selectable<EnrollmentTokensTable>): EnrollmentTokenRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    group: row.group,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    uses: row.uses,
  };
}

function toAgent(row: Selectable<AgentsTable>): AgentRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    group: row.group,
    hostname: row.hostname,
    machineId: row.machine_id,
    os: row.os,
    agentVersion: row.agent_version,
    enrolledAt: row.enrolled_at,
    lastSeenAt: row.last_seen_at,
    appliedVersion: row.applied_version,
    revokedAt: row.revoked_at,
  };
}
