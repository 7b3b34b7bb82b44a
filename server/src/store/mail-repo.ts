import type { Selectable } from 'kysely';
import { canonicalJson } from '@portcullis/shared';
import type { MailAddressesTable, MailPoliciesTable } from './schema.js';
import type { MailAddressQuery, MailAddressRecord, MailAddressState, MailPolicyRecord } from './store.js';
import { changedRows, guarded, parseJsonObject, type StoreContext } from './repo-support.js';

/** The address registry and the groups' mail policies (DESIGN.md §5). */
export class MailRepo {
  constructor(private readonly ctx: StoreContext) {}

  async createAddress(r: MailAddressRecord): Promise<void> {
    await guarded(this.ctx.flavor, () => this.ctx.db.insertInto('mail_addresses').values(toRow(r)).execute(), {
      duplicate: `mail address ${r.address} is already registered`,
      missingReference: `group ${r.group} does not exist`,
    });
  }

  async getAddress(address: string): Promise<MailAddressRecord | undefined> {
    const row = await this.ctx.db.selectFrom('mail_addresses').selectAll().where('address', '=', address).executeTakeFirst();
    return row && toAddress(row);
  }

  async listAddresses(q: MailAddressQuery): Promise<MailAddressRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('mail_addresses')
      .selectAll()
      .$if(q.group !== undefined, (qb) => qb.where('group', '=', q.group ?? ''))
      .$if(q.state !== undefined, (qb) => qb.where('state', '=', q.state ?? 'active'))
      .$if(q.after !== undefined, (qb) => qb.where('address', '>', q.after ?? ''))
      .$if(q.q !== undefined && q.q !== '', (qb) =>
        qb.where((eb) =>
          eb.or([this.ctx.flavor.containsIgnoringCase(eb.ref('address'), q.q ?? ''), this.ctx.flavor.containsIgnoringCase(eb.ref('owner'), q.q ?? '')]),
        ),
      )
      .orderBy('address')
      .limit(q.limit)
      .execute();
    return rows.map(toAddress);
  }

  async updateAddress(r: MailAddressRecord): Promise<boolean> {
    const { address: _key, created_at: _created, ...changes } = toRow(r);
    const result = await guarded(
      this.ctx.flavor,
      () => this.ctx.db.updateTable('mail_addresses').set(changes).where('address', '=', r.address).executeTakeFirst(),
      { missingReference: `group ${r.group} does not exist` },
    );
    return changedRows(result) > 0;
  }

  async deleteAddress(address: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('mail_addresses').where('address', '=', address).executeTakeFirst();
    return changedRows(result) > 0;
  }

  async importAddresses(records: readonly MailAddressRecord[]): Promise<{ created: number; updated: number; unchanged: number }> {
    const counts = { created: 0, updated: 0, unchanged: 0 };
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db.transaction().execute(async (trx) => {
          for (const r of records) {
            const stored = await trx.selectFrom('mail_addresses').selectAll().where('address', '=', r.address).executeTakeFirst();
            const row = toRow(r);
            if (stored === undefined) {
              await trx.insertInto('mail_addresses').values(row).execute();
              counts.created++;
            } else if (sameContent(stored, row)) {
              counts.unchanged++;
            } else {
              const { address: _key, created_at: _created, ...changes } = row;
              await trx.updateTable('mail_addresses').set(changes).where('address', '=', r.address).execute();
              counts.updated++;
            }
          }
        }),
      { missingReference: 'a row names a group that does not exist' },
    );
    return counts;
  }

  async getPolicy(group: string): Promise<MailPolicyRecord | undefined> {
    const row = await this.ctx.db.selectFrom('mail_policies').selectAll().where('group', '=', group).executeTakeFirst();
    return row && toPolicy(row);
  }

  async putPolicy(r: MailPolicyRecord): Promise<void> {
    const values = { group: r.group, policy: canonicalJson(r.policy), updated_at: r.updatedAt, updated_by: r.updatedBy };
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('mail_policies')
          .values(values)
          .onConflict((oc) => oc.column('group').doUpdateSet({ policy: values.policy, updated_at: values.updated_at, updated_by: values.updated_by }))
          .execute(),
      { missingReference: `group ${r.group} does not exist` },
    );
  }

  async listPolicies(): Promise<MailPolicyRecord[]> {
    const rows = await this.ctx.db.selectFrom('mail_policies').selectAll().orderBy('group').execute();
    return rows.map(toPolicy);
  }
}

function toRow(r: MailAddressRecord): Selectable<MailAddressesTable> {
  return {
    address: r.address,
    owner: r.owner,
    group: r.group,
    logins: JSON.stringify(r.logins),
    state: r.state,
    notes: r.notes,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function sameContent(a: Selectable<MailAddressesTable>, b: Selectable<MailAddressesTable>): boolean {
  return a.owner === b.owner && a.group === b.group && a.logins === b.logins && a.state === b.state && a.notes === b.notes;
}

function toAddress(row: Selectable<MailAddressesTable>): MailAddressRecord {
  return {
    address: row.address,
    owner: row.owner,
    group: row.group,
    logins: JSON.parse(row.logins) as string[],
    state: row.state as MailAddressState,
    notes: row.notes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toPolicy(row: Selectable<MailPoliciesTable>): MailPolicyRecord {
  return { group: row.group, policy: parseJsonObject(row.policy), updatedAt: row.updated_at, updatedBy: row.updated_by };
}
