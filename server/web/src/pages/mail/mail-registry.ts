/**
 * Pure helpers of the mail address registry: the filter in the page URL
 * (`#/mail?group=finance&state=active&q=ali`), the API path of one page of addresses, logins as
 * typed, the add form's checks, the CSV import's outcome and the counters of /mail/stats.
 */
import { msg, msgN, type Msg } from '../../i18n/i18n.js';
import { domainProblem } from './mail-policy-form.js';

export const ADDRESS_STATES = ['active', 'suspended', 'retired'] as const;
export type AddressState = (typeof ADDRESS_STATES)[number];

/** As the API sends it: `{"address":"ali.aliyev@mincom.gov.az","owner":"Ali Aliyev","group":"finance",…}`. */
export interface MailAddress {
  readonly address: string;
  readonly owner: string;
  readonly group: string;
  /** SASL logins allowed to send as the address; none means any login. */
  readonly logins: readonly string[];
  readonly state: string;
  readonly notes: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface AddressPage {
  readonly addresses: readonly MailAddress[];
  /** The `after` of the next page, or null on the last one. */
  readonly next: string | null;
}

export const isAddressState = (v: unknown): v is AddressState => typeof v === 'string' && (ADDRESS_STATES as readonly string[]).includes(v);

export interface RegistryFilter {
  readonly group?: string;
  readonly state?: AddressState;
  readonly q?: string;
}

/** Rows per page; the API's default too. */
export const PAGE_SIZE = 100;

/** Reads the filter from the page URL; a state the server does not know is dropped rather than sent. */
export function registryFilterFromQuery(query: URLSearchParams): RegistryFilter {
  const text = (name: string, max: number): string | undefined => {
    const v = query.get(name)?.trim();
    return v ? v.slice(0, max) : undefined;
  };
  const state = query.get('state');
  return { group: text('group', 64), state: isAddressState(state) ? state : undefined, q: text('q', 200) };
}

/** The filter as page-URL parameters (for routeHref), with the page's other parameters kept. */
export function registryQuery(f: RegistryFilter, keep: URLSearchParams): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.fromEntries(keep.entries());
  out.group = f.group;
  out.state = f.state;
  out.q = f.q;
  return out;
}

/** GET /mail/addresses for one page: `after` is the last address of the page before. */
export function addressesPath(f: RegistryFilter, after: string | undefined, limit = PAGE_SIZE): string {
  const p = new URLSearchParams();
  if (f.group) p.set('group', f.group);
  if (f.state) p.set('state', f.state);
  if (f.q) p.set('q', f.q);
  p.set('limit', String(limit));
  if (after !== undefined) p.set('after', after);
  return `/mail/addresses?${p.toString()}`;
}

/** `/mail/addresses/ali%40mincom.gov.az`: one address in the path. */
export function addressPath(address: string): string {
  return `/mail/addresses/${encodeURIComponent(address)}`;
}

/** Logins as typed, "ali.aliyev, a.aliyev  ali": split at commas and white space (as the server's CSV import does), repeats dropped. */
export function parseLogins(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((l) => l !== ''))];
}

export function loginsText(logins: readonly string[]): string {
  return logins.join(' ');
}

export interface AddressDraft {
  readonly address: string;
  readonly owner: string;
  readonly group: string;
  readonly logins: string;
  readonly state: AddressState;
  readonly notes: string;
}

/** The local part the registry takes (server/src/mail/mail-address.ts): dot-atoms, no quoting. */
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * The POST body of a new address, or why it cannot be sent. The address is lower-cased (the
 * registry's key is); its local part and domain must be what the registry takes; the owner must
 * be named. The server checks the group and everything else.
 */
export function newAddressBody(d: AddressDraft): { body: Record<string, unknown>; problem: null } | { body: null; problem: Msg } {
  const address = d.address.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at <= 0 || local.length > 64 || !LOCAL_PART.test(local) || domainProblem(address.slice(at + 1)) !== null) {
    return { body: null, problem: msg('mail.problem.address', { address: d.address.trim() }) };
  }
  const owner = d.owner.trim();
  if (owner === '') return { body: null, problem: msg('mail.problem.owner') };
  return { body: { address, owner, group: d.group, logins: parseLogins(d.logins), state: d.state, notes: d.notes.trim() }, problem: null };
}

/**
 * The PATCH body of an inline edit: only what differs from the stored record. The state is a
 * string: a state a newer server sends stays as it is unless the admin picks another.
 */
export function editBody(before: MailAddress, d: Omit<AddressDraft, 'address' | 'state'> & { readonly state: string }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const owner = d.owner.trim();
  const notes = d.notes.trim();
  const logins = parseLogins(d.logins);
  if (owner !== before.owner) out.owner = owner;
  if (d.group !== before.group) out.group = d.group;
  if (loginsText(logins) !== loginsText(before.logins)) out.logins = logins;
  if (d.state !== before.state) out.state = d.state;
  if (notes !== before.notes) out.notes = notes;
  return out;
}

export interface ImportCounts {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface LineError {
  readonly line: number;
  readonly message: string;
}

/** What the page says after an import: a summary and, for a refused file, its bad lines. */
export interface ImportOutcome {
  readonly ok: boolean;
  readonly summary: Msg;
  readonly lines: readonly Msg[];
}

export function importDone(counts: ImportCounts): ImportOutcome {
  return { ok: true, summary: msg('mail.csv.done', { created: counts.created, updated: counts.updated, unchanged: counts.unchanged }), lines: [] };
}

/**
 * A refused import, from the error's details: `{"errors":[{"line":3,"message":"unknown group x"}]}`.
 * Entries that are not a line and a message are skipped; with none left, the server's message
 * is shown. Either way the page says nothing was stored (the server stores all or nothing).
 */
export function importRefused(serverMessage: string, details: unknown): ImportOutcome {
  const raw = typeof details === 'object' && details !== null ? (details as { errors?: unknown }).errors : undefined;
  const errors: LineError[] = Array.isArray(raw)
    ? raw.filter((e): e is LineError => typeof e === 'object' && e !== null && Number.isInteger((e as LineError).line) && typeof (e as LineError).message === 'string')
    : [];
  if (errors.length === 0) return { ok: false, summary: msg('mail.csv.refused', { message: serverMessage }), lines: [] };
  // One line may have several problems: the summary counts lines, the list shows each problem.
  return {
    ok: false,
    summary: msgN('mail.csv.failed', new Set(errors.map((e) => e.line)).size),
    lines: [...errors].sort((a, b) => a.line - b.line).map((e) => msg('mail.csv.line', { line: e.line, message: e.message })),
  };
}

export const MAIL_RULES = ['sender-unregistered', 'sender-inactive', 'login-mismatch', 'external-domain', 'size', 'rate'] as const;
export type MailRule = (typeof MAIL_RULES)[number];
export const isMailRule = (v: unknown): v is MailRule => typeof v === 'string' && (MAIL_RULES as readonly string[]).includes(v);

/**
 * GET /mail/stats: `{"enabled":true,"since":"…","decisions":12,"allowed":9,"rejected":{"size":1,"rate":2}}`;
 * with the policy service off, `enabled` is false and `since` null.
 */
export interface MailStats {
  readonly enabled?: boolean;
  readonly since: string | null;
  readonly decisions: number;
  readonly allowed: number;
  readonly rejected: Readonly<Record<string, number>>;
}

export interface StatCard {
  /** For the test id: `decisions`, `allowed`, `rejected`, or a rule. */
  readonly key: string;
  /** A message, or a rule name shown as sent (a newer server's rule). */
  readonly label: Msg | string;
  readonly value: number;
  /** Refusals are coloured only when there are some. */
  readonly tone: 'bad' | undefined;
}

/** The counters as cards: the totals, then each rule (the known ones in order, then any other). */
export function statCards(s: MailStats): StatCard[] {
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const rejected = Object.entries(s.rejected ?? {});
  const total = rejected.reduce((sum, [, n]) => sum + count(n), 0);
  const known = MAIL_RULES.map((r) => [r, count(s.rejected?.[r])] as const);
  const others = rejected.filter(([r]) => !isMailRule(r)).map(([r, n]) => [r, count(n)] as const);
  return [
    { key: 'decisions', label: msg('mail.stats.decisions'), value: count(s.decisions), tone: undefined },
    { key: 'allowed', label: msg('mail.stats.allowed'), value: count(s.allowed), tone: undefined },
    { key: 'rejected', label: msg('mail.stats.rejected'), value: total, tone: total > 0 ? 'bad' : undefined },
    ...[...known, ...others].map(([rule, n]) => ({
      key: rule,
      label: isMailRule(rule) ? msg(`mail.rule.${rule}`) : rule,
      value: n,
      tone: n > 0 ? ('bad' as const) : undefined,
    })),
  ];
}
