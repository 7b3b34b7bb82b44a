import { canonicalJson } from '@portcullis/shared';
import type { UsbSeenRecord, UsbSighting } from './store.js';
import { chunks, guarded, parseJsonObject, ROWS_PER_INSERT, type StoreContext } from './repo-support.js';

/** Each agent's latest inventory snapshot and the USB devices ever seen per agent. */
export class InventoryRepo {
  constructor(private readonly ctx: StoreContext) {}

  /** Replaces the snapshot unless the stored one is newer (a late, older report changes nothing). */
  async put(agentId: string, inventory: Record<string, unknown>, at: string): Promise<void> {
    const text = canonicalJson(inventory);
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db
          .insertInto('inventory')
          .values({ agent_id: agentId, inventory: text, updated_at: at })
          .onConflict((oc) => oc.column('agent_id').doUpdateSet({ inventory: text, updated_at: at }).where('inventory.updated_at', '<=', at))
          .execute(),
      { missingReference: `agent ${agentId} does not exist` },
    );
  }

  async get(agentId: string): Promise<{ inventory: Record<string, unknown>; updatedAt: string } | undefined> {
    const row = await this.ctx.db.selectFrom('inventory').select(['inventory', 'updated_at']).where('agent_id', '=', agentId).executeTakeFirst();
    return row && { inventory: parseJsonObject(row.inventory), updatedAt: row.updated_at };
  }

  /**
   * Upserts one row per (key, agent): first_seen_at stays, last_seen_at and the device move
   * (never back: a sighting older than the stored one changes nothing).
   * A key repeated in one call keeps its last device (one statement may not touch a row twice).
   */
  async recordUsbSeen(agentId: string, devices: readonly UsbSighting[], at: string): Promise<void> {
    const byKey = new Map(devices.map((d) => [d.key, d.device]));
    const rows = [...byKey].map(([key, device]) => ({ key, agent_id: agentId, device: canonicalJson(device), first_seen_at: at, last_seen_at: at }));
    if (rows.length === 0) return;
    await guarded(
      this.ctx.flavor,
      () =>
        this.ctx.db.transaction().execute(async (trx) => {
          for (const chunk of chunks(rows, ROWS_PER_INSERT)) {
            await trx
              .insertInto('usb_seen')
              .values(chunk)
              .onConflict((oc) =>
                oc
                  .columns(['key', 'agent_id'])
                  .doUpdateSet((eb) => ({ device: eb.ref('excluded.device'), last_seen_at: eb.ref('excluded.last_seen_at') }))
                  .where('usb_seen.last_seen_at', '<=', at),
              )
              .execute();
          }
        }),
      { missingReference: `agent ${agentId} does not exist` },
    );
  }

  /** Most recently seen first. */
  async listUsbSeen(): Promise<UsbSeenRecord[]> {
    const rows = await this.ctx.db.selectFrom('usb_seen').selectAll().orderBy('last_seen_at', 'desc').orderBy('key').orderBy('agent_id').execute();
    return rows.map((r) => ({ key: r.key, agentId: r.agent_id, device: parseJsonObject(r.device), firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at }));
  }
}
