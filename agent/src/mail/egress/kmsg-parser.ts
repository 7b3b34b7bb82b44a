import { formatIpAddress, parseIpAddress } from '@portcullis/shared';
import { NFT_LOG_PREFIX } from './nft-ruleset.js';

/**
 * Parser for the kernel log records the guard's `log` statement writes, as /dev/kmsg gives them
 * (Documentation/ABI/testing/dev-kmsg): a header `level,seq,usec,flags[,more];`, the message,
 * and optional continuation lines that start with a space (device properties, ignored):
 *
 *     4,337,1159291966,-;portcullis-mail-egress: IN= OUT=eth0 SRC=192.0.2.2 DST=198.51.100.99 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=32003 DF PROTO=TCP SPT=54378 DPT=587 WINDOW=65280 RES=0x00 SYN URGP=0 UID=0 GID=0
 *     4,338,1159303578,-;portcullis-mail-egress: IN= OUT=eth0 SRC=fd00:0000:0000:0000:0000:0000:0000:0002 DST=fd00:0000:0000:0000:0000:0000:0000:0099 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=872543 PROTO=TCP SPT=53086 DPT=587 WINDOW=64320 RES=0x00 SYN URGP=0 UID=0 GID=0
 *
 * (recorded on Linux 6.18). The message after the prefix is the kernel's nf_log_syslog format:
 * KEY=value fields and bare flags (DF, SYN) separated by spaces, IPv6 addresses with every group
 * written out (`%pI6`); `log flags skuid` adds UID= and GID= of the socket's owner, absent when
 * the packet has no socket with a file (a kernel-made packet). The first occurrence of a key
 * wins: an ICMP error would carry the offending packet's fields again inside brackets.
 */

export interface KmsgRecord {
  /** Syslog severity, 0 (emerg) to 7 (debug). */
  readonly level: number;
  readonly facility: number;
  readonly seq: number;
  /** Microseconds since boot (CLOCK_MONOTONIC). */
  readonly usec: number;
  readonly message: string;
}

/** A refused connection, from one log record of the guard. */
export interface BlockedAttempt {
  /** Canonical (RFC 5952 for IPv6). */
  readonly destination: string;
  readonly port: number;
  readonly source: string;
  /** The owner of the socket that tried, or null when the kernel did not say. */
  readonly uid: number | null;
  /** The interface the packet would have left by (`eth0`). */
  readonly outInterface: string;
}

const HEADER = /^(\d{1,10}),(\d{1,20}),(\d{1,20}),[^;]*;/;

/** One /dev/kmsg record's first line, or null for anything else (a continuation line, garbage). */
export function parseKmsgRecord(line: string): KmsgRecord | null {
  const m = HEADER.exec(line);
  if (!m) return null;
  const prefix = Number(m[1]);
  const seq = Number(m[2]);
  const usec = Number(m[3]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(usec)) return null;
  return { level: prefix & 7, facility: prefix >> 3, seq, usec, message: line.slice(m[0].length).replace(/\n$/, '') };
}

/**
 * The guard's log message (starting with NFT_LOG_PREFIX) as an attempt, or null when the
 * message is someone else's or lacks what an attempt needs (a TCP destination and port).
 */
export function parseBlockedAttempt(message: string): BlockedAttempt | null {
  if (!message.startsWith(NFT_LOG_PREFIX)) return null;
  const fields = new Map<string, string>();
  for (const token of message.slice(NFT_LOG_PREFIX.length).split(' ')) {
    const eq = token.indexOf('=');
    if (eq <= 0) continue;
    const key = token.slice(0, eq);
    if (!fields.has(key)) fields.set(key, token.slice(eq + 1));
  }
  if (fields.get('PROTO') !== 'TCP') return null;
  const destination = address(fields.get('DST'));
  const source = address(fields.get('SRC'));
  const port = integer(fields.get('DPT'), 1, 65535);
  if (destination === null || source === null || port === null) return null;
  const uidText = fields.get('UID');
  const uid = uidText === undefined ? null : integer(uidText, 0, 0xffffffff);
  if (uidText !== undefined && uid === null) return null;
  return { destination, port, source, uid, outInterface: (fields.get('OUT') ?? '').slice(0, 16) };
}

function address(text: string | undefined): string | null {
  if (text === undefined) return null;
  const parsed = parseIpAddress(text);
  return parsed.ok ? formatIpAddress(parsed.value) : null;
}

function integer(text: string | undefined, min: number, max: number): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}
