import { sql, type RawBuilder } from 'kysely';
import type { EventSummary, EventSummaryQuery } from './store.js';
import type { StoreContext } from './repo-support.js';

/**
 * Aggregates over a time window of the event log for the console's overview: counts per UTC day,
 * per agent and per device. Every query is bounded by `occurred_at` (the events_occurred_at index
 * serves the range) and by a short list of types, so the cost follows the window, not the log.
 */
export class EventStatsRepo {
  constructor(private readonly ctx: StoreContext) {}

  async summarize(q: EventSummaryQuery): Promise<EventSummary> {
    if (q.types.length === 0) return { byDay: [], topAgents: [], topDevices: [] };
    const inWindow = this.ctx.db
      .selectFrom('events')
      .where('occurred_at', '>=', q.since)
      .where('occurred_at', '<', q.until)
      .where('type', 'in', [...q.types]);

    // Stored times are toISOString's form, so the first 10 characters are the UTC day on both back-ends.
    const day = sql<string>`substr(occurred_at, 1, 10)`;
    const byDay = await inWindow.select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy(day).orderBy(day).execute();

    const topAgents = await inWindow
      .where('agent_id', 'is not', null)
      .select(['agent_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('agent_id')
      .orderBy('n', 'desc')
      .orderBy('agent_id')
      .limit(q.top)
      .execute();

    const deviceId = this.jsonText(['device', 'id']);
    const deviceName = this.jsonText(['device', 'name']);
    const label = this.jsonText(['label']);
    const topDevices = await inWindow
      .select([deviceId.as('device_id'), deviceName.as('device_name'), sql<string | null>`max(${label})`.as('label'), (eb) => eb.fn.countAll<number | string>().as('n')])
      .where(deviceId, 'is not', null)
      .groupBy([deviceId, deviceName])
      .orderBy('n', 'desc')
      .orderBy(deviceId)
      .limit(q.top)
      .execute();

    return {
      byDay: byDay.map((r) => ({ day: r.day, count: Number(r.n) })),
      topAgents: topAgents.map((r) => ({ agentId: r.agent_id as string, count: Number(r.n) })),
      topDevices: topDevices.map((r) => ({ id: r.device_id, name: r.device_name ?? '', label: r.label ?? '', count: Number(r.n) })),
    };
  }

  /**
   * A string field of the event's data (JSON text in both back-ends): SQLite's json_extract,
   * PostgreSQL's `#>>` on the text cast to jsonb. The path is a fixed list of plain keys, never input.
   */
  private jsonText(path: readonly string[]): RawBuilder<string> {
    if (this.ctx.flavor.kind === 'sqlite') return sql<string>`json_extract(data, ${sql.lit(`$.${path.join('.')}`)})`;
    return sql<string>`(cast(data as jsonb) #>> ${sql.lit(`{${path.join(',')}}`)})`;
  }
}
