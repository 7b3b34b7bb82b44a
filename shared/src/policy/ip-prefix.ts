/**
 * IPv4 and IPv6 addresses and CIDR prefixes, as an admin writes them in a policy and as the
 * kernel prints them in a log line:
 *
 *     10.1.2.3    10.1.0.0/16    2001:DB8::25    2001:db8:0:0::/64
 *     fd00:0000:0000:0000:0000:0000:0000:0099     (the kernel's %pI6: every group, four digits)
 *
 * Pure arithmetic on bigints, no node:net: shared/ also runs in the console. Strict where a
 * lenient reading would be a guess: IPv4 is four decimal bytes without leading zeros (`010` is
 * octal to inet_aton and decimal to others), no zone ids (`fe80::1%eth0` names an interface of
 * one computer), and an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is refused with a pointer
 * to the IPv4 form, since packets to that server travel as IPv4 and the IPv6 entry would never
 * match them.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** The address as an unsigned 32-bit (IPv4) or 128-bit (IPv6) integer. */
  readonly value: bigint;
}

export interface IpPrefix extends IpAddress {
  /** Prefix length: 0..32 for IPv4, 0..128 for IPv6; a single address has the full length. */
  readonly length: number;
}

export type IpParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** The first and last address a prefix covers. */
export function prefixRange(prefix: IpPrefix): { first: bigint; last: bigint } {
  const hostBits = BigInt(familyBits(prefix.family) - prefix.length);
  const first = (prefix.value >> hostBits) << hostBits;
  return { first, last: first + (1n << hostBits) - 1n };
}

/** An address or a CIDR prefix; host bits must be clear (`10.1.2.3/16` is a typo or a misunderstanding). */
export function parseIpPrefix(text: string): IpParse<IpPrefix> {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIpAddress(addressText);
  if (!address.ok) return address;
  const { family, value } = address.value;
  const bits = familyBits(family);
  if (slash < 0) return { ok: true, value: { family, value, length: bits } };
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return { ok: false, reason: `"/${lengthText}" is not a prefix length (a number such as /24)` };
  const length = Number(lengthText);
  if (length > bits) return { ok: false, reason: `prefix length /${length} is too long for IPv${family} (at most /${bits})` };
  const prefix: IpPrefix = { family, value, length };
  const { first } = prefixRange(prefix);
  if (first !== value) {
    const network = formatIpPrefix({ family, value: first, length });
    return { ok: false, reason: `${text} has host bits set: the network is ${network}` };
  }
  return { ok: true, value: prefix };
}

export function parseIpAddress(text: string): IpParse<IpAddress> {
  if (text.includes('%')) return { ok: false, reason: `"${text}" has a zone id (%…), which only means something on one computer` };
  if (text.includes(':')) return parseIpv6(text);
  if (/^[0-9.]+$/.test(text)) return parseIpv4(text);
  return { ok: false, reason: `"${text}" is not an IPv4 or IPv6 address` };
}

/** The canonical text: IPv4 dotted decimal, IPv6 per RFC 5952 (lower case, longest zero run as `::`). */
export function formatIpAddress(address: IpAddress): string {
  return address.family === 4 ? formatIpv4(address.value) : formatIpv6(address.value);
}

/** A prefix as it is written back: the bare address for a single address, `network/length` otherwise. */
export function formatIpPrefix(prefix: IpPrefix): string {
  const address = formatIpAddress(prefix);
  return prefix.length === familyBits(prefix.family) ? address : `${address}/${prefix.length}`;
}

function parseIpv4(text: string): IpParse<IpAddress> {
  const value = ipv4Value(text);
  return typeof value === 'string' ? { ok: false, reason: value } : { ok: true, value: { family: 4, value } };
}

/** The address, or why it is not one. */
function ipv4Value(text: string): bigint | string {
  const parts = text.split('.');
  if (parts.length !== 4) return `"${text}" is not an IPv4 address (four numbers 0-255 separated by dots)`;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return `"${text}" is not an IPv4 address (four numbers 0-255 separated by dots)`;
    if (part.length > 1 && part.startsWith('0')) return `"${text}": ${part} has a leading zero, which some programs read as octal`;
    const byte = Number(part);
    if (byte > 255) return `"${text}": ${part} is not an IPv4 byte (0-255)`;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

function parseIpv6(text: string): IpParse<IpAddress> {
  const bad = (why: string): IpParse<IpAddress> => ({ ok: false, reason: `"${text}" is not an IPv6 address (${why})` });
  const halves = text.split('::');
  if (halves.length > 2) return bad('"::" may appear only once');
  const groups: bigint[][] = [];
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h] as string;
    const parts = half === '' ? [] : half.split(':');
    const values: bigint[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (part.includes('.')) {
        // An embedded IPv4 address, allowed only as the last 32 bits.
        if (h !== halves.length - 1 || i !== parts.length - 1) return bad('an IPv4 part may only end the address');
        const v4 = ipv4Value(part);
        if (typeof v4 === 'string') return bad(`its IPv4 part: ${v4}`);
        values.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        values.push(BigInt(`0x${part}`));
      } else {
        return bad(part === '' ? 'an empty group' : `"${part}" is not a group of 1 to 4 hex digits`);
      }
    }
    groups.push(values);
  }
  const head = groups[0] ?? [];
  const tail = groups[1] ?? [];
  const compressed = halves.length === 2;
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return bad(compressed ? 'too many groups around "::"' : `${count} groups instead of 8`);
  const all = [...head, ...Array<bigint>(8 - count).fill(0n), ...tail];
  const value = all.reduce((acc, group) => (acc << 16n) | group, 0n);
  if (value >> 32n === 0xffffn) return { ok: false, reason: `"${text}" is an IPv4-mapped address; write the IPv4 address ${formatIpv4(value & 0xffffffffn)}` };
  return { ok: true, value: { family: 6, value } };
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => (value >> BigInt((7 - i) * 16)) & 0xffffn);
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: bigint[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
