import { makeAccount, normalizeAddress, type MailAccount, type MailParseResult } from './mail-account.js';

/** A value of a `.reg` export: REG_SZ text, a REG_DWORD, or raw bytes of `hex(type):` (REG_BINARY is 3). */
export type RegValue =
  | { readonly type: 'sz'; readonly text: string }
  | { readonly type: 'dword'; readonly value: number }
  | { readonly type: 'hex'; readonly kind: number; readonly bytes: Uint8Array };

export type RegKey = { readonly path: string; readonly values: ReadonlyMap<string, RegValue> };
export type RegExportResult = { readonly keys: RegKey[]; readonly problems: string[] };

const HEADER = 'Windows Registry Editor Version 5.00';
const VALUE_LINE = /^(?:"((?:[^"\\]|\\.)*)"|(@))\s*=\s*(.*)$/s;
const MAX_LINES_LISTED = 5;

/**
 * The text of a `.reg` file: `reg export` writes UTF-16LE with a byte-order mark; a file saved
 * as UTF-8 (or the old ANSI `REGEDIT4`) is read as UTF-8.
 */
export function decodeRegExport(bytes: Uint8Array): string {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes.length > 1 && bytes[0] !== 0 && bytes[1] === 0);
  return new TextDecoder(utf16 ? 'utf-16le' : 'utf-8').decode(bytes);
}

/**
 * Parses the text of a `reg export` of a user's Outlook `Profiles` key:
 *
 *     Windows Registry Editor Version 5.00
 *
 *     [HKEY_USERS\S-1-5-21-…-1104\Software\Microsoft\Office\16.0\Outlook\Profiles\Outlook\9375CFF0413111d3B88A00104B2A6676\00000002]
 *     "Account Name"=hex:61,00,68,00,6d,00,65,00,64,00,2e,00,62,00,65,00,6e,00,61,00,\
 *       6c,00,69,00,40,00,69,00,6e,00,74,00,65,00,72,00,69,00,65,00,75,00,72,00,2e,\
 *       00,67,00,6f,00,76,00,2e,00,64,00,7a,00,00,00
 *     "IMAP Port"=dword:000003e1
 *     "New Signature"="Ministère"
 *     @="default value"
 *
 * A value continues on the next line after a trailing backslash. `[-key]` (a deletion) and
 * `"name"=-` are not values and are skipped. A line that reads as none of these is reported by
 * number and skipped; the rest is read.
 */
export function parseRegExport(text: string): RegExportResult {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const firstLine = lines.findIndex((l) => l.trim() !== '');
  if (firstLine < 0 || lines[firstLine]?.trim() !== HEADER) {
    return { keys: [], problems: [`not a registry export (the first line is not "${HEADER}")`] };
  }
  const keys: RegKey[] = [];
  const bad: number[] = [];
  let current: Map<string, RegValue> | undefined;
  for (let i = firstLine + 1; i < lines.length; i++) {
    const number = i + 1;
    let line = (lines[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < lines.length && !line.startsWith('[')) line = line.slice(0, -1) + (lines[++i] as string).trim();
    if (line === '' || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const path = /^\[([^\]]+)\]$/.exec(line)?.[1];
      if (path === undefined) bad.push(number);
      current = path === undefined || path.startsWith('-') ? undefined : new Map<string, RegValue>();
      if (current && path) keys.push({ path, values: current });
      continue;
    }
    const match = VALUE_LINE.exec(line);
    if (!match) {
      bad.push(number);
      continue;
    }
    const name = match[2] === '@' ? '' : unescapeRegString(match[1] as string);
    const raw = (match[3] as string).trim();
    if (raw === '-') continue;
    const value = parseRegValue(raw);
    if (value === undefined) bad.push(number);
    else current?.set(name, value);
  }
  const problems: string[] = [];
  if (bad.length > 0) {
    const more = bad.length > MAX_LINES_LISTED ? ` and ${bad.length - MAX_LINES_LISTED} more` : '';
    problems.push(`unreadable line${bad.length === 1 ? '' : 's'} ${bad.slice(0, MAX_LINES_LISTED).join(', ')}${more} skipped`);
  }
  return { keys, problems };
}

function unescapeRegString(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

function parseRegValue(raw: string): RegValue | undefined {
  const sz = /^"((?:[^"\\]|\\.)*)"$/s.exec(raw);
  if (sz) return { type: 'sz', text: unescapeRegString(sz[1] as string) };
  const dword = /^dword:([0-9A-Fa-f]{8})$/.exec(raw);
  if (dword) return { type: 'dword', value: parseInt(dword[1] as string, 16) };
  const hex = /^hex(?:\(([0-9A-Fa-f]{1,8})\))?:\s*((?:[0-9A-Fa-f]{2}(?:\s*,\s*[0-9A-Fa-f]{2})*)?)\s*,?$/.exec(raw);
  if (!hex) return undefined;
  const kind = hex[1] === undefined ? 3 : parseInt(hex[1], 16);
  const digits = hex[2] === '' || hex[2] === undefined ? [] : hex[2].split(',').map((b) => parseInt(b.trim(), 16));
  return { type: 'hex', kind, bytes: Uint8Array.from(digits) };
}

/** Text of REG_SZ, or of REG_BINARY / REG_SZ / REG_EXPAND_SZ bytes: UTF-16LE up to the NUL. */
function textOf(value: RegValue | undefined): string | undefined {
  if (value === undefined || value.type === 'dword') return undefined;
  if (value.type === 'sz') return value.text;
  if (![1, 2, 3].includes(value.kind) || value.bytes.length % 2 !== 0) return undefined;
  const text = new TextDecoder('utf-16le').decode(value.bytes);
  const nul = text.indexOf('\u0000');
  return nul < 0 ? text : text.slice(0, nul);
}

/** A REG_DWORD, or four REG_BINARY bytes little-endian. */
function numberOf(value: RegValue | undefined): number | undefined {
  if (value?.type === 'dword') return value.value;
  if (value?.type === 'hex' && value.bytes.length === 4) return new DataView(value.bytes.buffer, value.bytes.byteOffset, 4).getUint32(0, true);
  return undefined;
}

/** The key of one mail account: `…\Profiles\<profile>\9375CFF0413111d3B88A00104B2A6676\<8 hex digits>`. */
const ACCOUNT_KEY = /\\Profiles\\[^\\]+\\9375CFF0413111d3B88A00104B2A6676\\[0-9A-Fa-f]{8}$/i;

/**
 * Outlook's mail accounts from an export of `HKEY_USERS\<SID>\Software\Microsoft\Office\<15.0|16.0>\Outlook\Profiles`
 * (see parseRegExport for the format). Each account is one subkey of the mail-account key
 * `9375CFF0413111d3B88A00104B2A6676` of a profile; its strings are REG_BINARY UTF-16LE (REG_SZ in
 * some versions), its ports DWORDs. The address is `Email`, else `Account Name` when it is one
 * (Exchange accounts are named by their address and list no server). A missing port is Outlook's
 * default for the protocol and its SSL setting. Keys without an address (a data file, the address
 * book) are not accounts. Password values (`IMAP Password`…, DPAPI blobs) are never read. Each
 * account's `source` is its registry key.
 */
export function parseOutlookProfiles(text: string, user: string): MailParseResult {
  const { keys, problems } = parseRegExport(text);
  const accounts: MailAccount[] = [];
  for (const key of keys) {
    if (!ACCOUNT_KEY.test(key.path)) continue;
    const v = key.values;
    const email = textOf(v.get('Email'));
    const accountName = textOf(v.get('Account Name'));
    const address = normalizeAddress(email) !== undefined ? email : normalizeAddress(accountName) !== undefined ? accountName : undefined;
    if (address === undefined) {
      if (email !== undefined && email !== '') problems.push(`account key ${key.path.split('\\').pop() ?? ''} has an Email that is not an address`);
      continue;
    }
    const on = (name: string): boolean => (numberOf(v.get(name)) ?? 0) !== 0;
    const imap = textOf(v.get('IMAP Server'));
    const pop3 = textOf(v.get('POP3 Server'));
    const incoming =
      imap !== undefined
        ? { protocol: 'imap', host: imap, port: numberOf(v.get('IMAP Port')) ?? (on('IMAP Use SSL') ? 993 : 143) }
        : pop3 !== undefined
          ? { protocol: 'pop3', host: pop3, port: numberOf(v.get('POP3 Port')) ?? (on('POP3 Use SSL') ? 995 : 110) }
          : undefined;
    const smtp = textOf(v.get('SMTP Server'));
    const smtpSsl = on('SMTP Use SSL') || numberOf(v.get('SMTP Secure Connection')) === 1;
    const made = makeAccount('outlook', { user, source: key.path }, {
      address,
      displayName: textOf(v.get('Display Name')),
      incoming,
      outgoing: smtp === undefined ? undefined : { host: smtp, port: numberOf(v.get('SMTP Port')) ?? (smtpSsl ? 465 : 25) },
    });
    if (made) accounts.push(made);
  }
  return { accounts, problems };
}
