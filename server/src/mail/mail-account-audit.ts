import type { NewEvent } from '../store/store.js';
import { domainOf, inDomains } from './mail-address.js';
import type { MailSnapshot } from './mail-decider.js';

/**
 * Judges the mail accounts an agent found on its PC (inventory section `mail`, see
 * agent/src/mail/accounts) against the registry: an address outside the allowed domains, or in
 * them but not registered and active, is unapproved. The allowed domains are the PC's group's
 * internal domains, or, when its group has none, every group's ("ours"); with none configured at
 * all nothing is judged (a fresh install must not flag every account).
 */

export interface ReportedAccount {
  readonly address: string;
  readonly user: string;
  readonly client: string;
}

export type UnapprovedReason = 'domain-not-allowed' | 'not-registered' | 'inactive';

export function reportedAccounts(inventory: Record<string, unknown> | undefined): ReportedAccount[] {
  const section = inventory?.mail;
  if (typeof section !== 'object' || section === null) return [];
  const accounts = (section as { accounts?: unknown }).accounts;
  if (!Array.isArray(accounts)) return [];
  const out: ReportedAccount[] = [];
  for (const a of accounts.slice(0, 1000)) {
    if (typeof a !== 'object' || a === null) continue;
    const { address, user, client } = a as Record<string, unknown>;
    if (typeof address !== 'string' || address.length > 254) continue;
    out.push({ address: address.toLowerCase(), user: typeof user === 'string' ? user.slice(0, 64) : '', client: typeof client === 'string' ? client.slice(0, 32) : '' });
  }
  return out;
}

export function judgeAccount(address: string, group: string, snapshot: MailSnapshot): UnapprovedReason | null {
  const own = snapshot.policies.get(group)?.internalSet;
  const allowed = own !== undefined && own.size > 0 ? own : snapshot.ownDomains;
  if (allowed.size === 0) return null;
  if (!inDomains(domainOf(address), allowed)) return 'domain-not-allowed';
  const registered = snapshot.senders.get(address);
  if (registered === undefined) return 'not-registered';
  return registered.state === 'active' ? null : 'inactive';
}

/**
 * The events for accounts that are unapproved now and were not reported in the previous
 * inventory (same address, user and client), so a daily inventory does not repeat them.
 */
export function unapprovedAccountEvents(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  group: string,
  snapshot: MailSnapshot,
  now: string,
): NewEvent[] {
  const key = (a: ReportedAccount) => `${a.address}\u0000${a.user}\u0000${a.client}`;
  const known = new Set(reportedAccounts(before).map(key));
  const events: NewEvent[] = [];
  const seen = new Set<string>();
  for (const account of reportedAccounts(after)) {
    const k = key(account);
    if (known.has(k) || seen.has(k)) continue;
    seen.add(k);
    const reason = judgeAccount(account.address, group, snapshot);
    if (reason === null) continue;
    events.push({ seq: null, type: 'mail.account.unapproved', severity: 'medium', occurredAt: now, data: { ...account, reason } });
  }
  return events;
}
