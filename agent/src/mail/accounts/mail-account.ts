/**
 * The mail accounts configured on a PC, one model for every client the agent reads. Only what
 * the server needs to judge an address and a mail server is kept: the address, the name shown,
 * the servers. Passwords, OAuth tokens and user names for servers are never part of it: the
 * parsers copy named fields into it and nothing else, so a secret next to them in a file has no
 * way in.
 */

export const MAIL_CLIENTS = ['thunderbird', 'evolution', 'goa', 'outlook'] as const;
export type MailClient = (typeof MAIL_CLIENTS)[number];

export type IncomingServer = {
  /** Lower-case: `imap`, `pop3`, `ews`, `jmap`… as the client names it, mapped where they differ. */
  readonly protocol: string;
  readonly host: string;
  readonly port?: number;
};

export type OutgoingServer = { readonly host: string; readonly port?: number };

export type MailAccount = {
  readonly client: MailClient;
  /** The local account (login name) whose configuration holds it. */
  readonly user: string;
  /** Lower-cased. */
  readonly address: string;
  readonly displayName?: string;
  readonly incoming?: IncomingServer;
  readonly outgoing?: OutgoingServer;
  /** The file it was read from, as a path on the PC (or a registry key for Outlook). */
  readonly source: string;
};

/** What a parser read: the accounts it could, and what it could not read, said without quoting the file. */
export type MailParseResult = { readonly accounts: MailAccount[]; readonly problems: string[] };

/** Who and where an account was found, given to every parser. */
export type MailSourceContext = { readonly user: string; readonly source: string };

/** Configuration files are a few KB; anything near this is not one, and is skipped unread. */
export const MAX_MAIL_FILE_BYTES = 4 * 1024 * 1024;

/** The longest address SMTP carries (RFC 5321 path limit); the server drops longer ones too. */
const MAX_ADDRESS_CHARS = 254;
const MAX_HOST_CHARS = 253;
const MAX_NAME_CHARS = 256;
const MAX_SOURCE_CHARS = 1024;
/** No whitespace, no control characters, no angle brackets: one bare address, one `@`. */
const ADDRESS = /^[^\s@<>"(),;:\\[\]\u0000-\u001f\u007f]+@[^\s@<>"(),;:\\[\]\u0000-\u001f\u007f]+$/u;
const HOST = /^[a-z0-9._\-:[\]]+$/;
const PROTOCOL = /^[a-z0-9][a-z0-9-]{0,31}$/;
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** An address lower-cased and trimmed, or undefined when the text is not one bare address. */
export function normalizeAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const address = value.trim().toLowerCase();
  if (address.length === 0 || address.length > MAX_ADDRESS_CHARS || !ADDRESS.test(address)) return undefined;
  return address;
}

/** A host name or address literal, lower-cased; undefined when empty or not one. */
export function normalizeHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const host = value.trim().toLowerCase();
  if (host.length === 0 || host.length > MAX_HOST_CHARS || !HOST.test(host)) return undefined;
  return host;
}

/** A TCP port from a number or decimal text; undefined for anything else, 0 included. */
export function normalizePort(value: string | number | undefined): number | undefined {
  const port = typeof value === 'string' ? (/^\s*\d{1,5}\s*$/.test(value) ? Number(value) : NaN) : value;
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

export function normalizeProtocol(value: string | undefined): string | undefined {
  const protocol = value?.trim().toLowerCase();
  return protocol !== undefined && PROTOCOL.test(protocol) ? protocol : undefined;
}

/** Free text (a display name): control characters removed, trimmed, bounded; undefined when empty. */
export function cleanName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(CONTROL, ' ').trim();
  if (text.length === 0) return undefined;
  return text.length > MAX_NAME_CHARS ? text.slice(0, MAX_NAME_CHARS) : text;
}

/** `host:port` as several clients write it (GOA `ImapHost=mail.example.dz:1143`). */
export function splitHostPort(value: string | undefined): { host?: string; port?: number } {
  const text = value?.trim() ?? '';
  const match = /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const host = normalizeHost(match ? match[1] : text);
  const port = match ? normalizePort(match[2]) : undefined;
  return { ...(host === undefined ? {} : { host }), ...(port === undefined ? {} : { port }) };
}

export interface AccountFields {
  readonly address: string | undefined;
  readonly displayName?: string | undefined;
  readonly incoming?: { protocol: string | undefined; host: string | undefined; port?: number | undefined } | undefined;
  readonly outgoing?: { host: string | undefined; port?: number | undefined } | undefined;
}

/**
 * Builds one account from what a parser read, every field checked; undefined when the address is
 * not one. A server without a valid host is left out rather than reported half.
 */
export function makeAccount(client: MailClient, context: MailSourceContext, fields: AccountFields): MailAccount | undefined {
  const address = normalizeAddress(fields.address);
  if (address === undefined) return undefined;
  const displayName = cleanName(fields.displayName);
  const inHost = normalizeHost(fields.incoming?.host);
  const inProtocol = normalizeProtocol(fields.incoming?.protocol);
  const inPort = normalizePort(fields.incoming?.port);
  const outHost = normalizeHost(fields.outgoing?.host);
  const outPort = normalizePort(fields.outgoing?.port);
  const source = context.source.length > MAX_SOURCE_CHARS ? context.source.slice(0, MAX_SOURCE_CHARS) : context.source;
  return {
    client,
    user: context.user,
    address,
    ...(displayName === undefined ? {} : { displayName }),
    ...(inHost === undefined || inProtocol === undefined
      ? {}
      : { incoming: { protocol: inProtocol, host: inHost, ...(inPort === undefined ? {} : { port: inPort }) } }),
    ...(outHost === undefined ? {} : { outgoing: { host: outHost, ...(outPort === undefined ? {} : { port: outPort }) } }),
    source,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Code-unit order (the same on every agent): user, client, address, then the rest. */
export function compareAccounts(a: MailAccount, b: MailAccount): number {
  return (
    compareText(a.user, b.user) ||
    compareText(a.client, b.client) ||
    compareText(a.address, b.address) ||
    compareText(a.incoming?.host ?? '', b.incoming?.host ?? '') ||
    compareText(a.outgoing?.host ?? '', b.outgoing?.host ?? '') ||
    compareText(a.source, b.source)
  );
}

/** The same account seen twice (a profile listed twice, one file read via two paths) counts once. */
function identityKey(account: MailAccount): string {
  const { client, user, address, displayName, incoming, outgoing } = account;
  return JSON.stringify([client, user, address, displayName ?? null, incoming ?? null, outgoing ?? null]);
}

/** Sorted, duplicates removed (the first source in sorted order is kept). */
export function sortAndDedupe(accounts: readonly MailAccount[]): MailAccount[] {
  const sorted = [...accounts].sort(compareAccounts);
  const seen = new Set<string>();
  return sorted.filter((account) => {
    const key = identityKey(account);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
