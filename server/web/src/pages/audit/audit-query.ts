/** Pure helpers of the audit page: the filter in the URL and the query sent to the server. */

export interface AuditFilterForm {
  readonly actor: string;
  readonly action: string;
  /** `datetime-local` values (local time, no zone), or '' */
  readonly since: string;
  readonly until: string;
}

export const EMPTY_FILTER: AuditFilterForm = { actor: '', action: '', since: '', until: '' };

/** The filter kept in the page's hash (`#/audit?actor=alice&since=2026-11-25T10:00`). */
export function filterFromQuery(query: URLSearchParams): AuditFilterForm {
  return { actor: query.get('actor') ?? '', action: query.get('action') ?? '', since: query.get('since') ?? '', until: query.get('until') ?? '' };
}

/** A `datetime-local` value read as local time, as an ISO instant; undefined when empty or unreadable. */
export function localToIso(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The path and query of GET /audit/search for a filter and an optional cursor. */
export function auditSearchPath(filter: AuditFilterForm, limit: number, cursor?: string): string {
  const params = new URLSearchParams();
  const actor = filter.actor.trim();
  const action = filter.action.trim().toLowerCase();
  if (actor) params.set('actor', actor);
  if (action) params.set('action', action);
  const since = localToIso(filter.since);
  const until = localToIso(filter.until);
  if (since) params.set('since', since);
  if (until) params.set('until', until);
  params.set('limit', String(limit));
  if (cursor) params.set('cursor', cursor);
  return `/audit/search?${params.toString()}`;
}

/** An audit record's details as short `key: value` pairs for the table (nested values as JSON). */
export function detailPairs(details: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

/** The actions the server records today, offered as suggestions in the action filter. */
export const KNOWN_ACTIONS = [
  'agent', 'agent.command', 'agent.move', 'agent.revoke',
  'event', 'event.export', 'event.triage',
  'group.create', 'policy.save',
  'token', 'token.create', 'token.revoke',
  'user', 'user.create', 'user.password', 'user.disable', 'user.enable',
] as const;
