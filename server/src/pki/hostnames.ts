import { ErrorCodes } from '@portcullis/shared';
import { isIP } from 'node:net';

/** The names every server certificate carries, so local tools and a local console always work. */
export const ALWAYS_INCLUDED_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** The subject alternative names of a server certificate, each list sorted and without duplicates. */
export interface HostnameSet {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

export type ParsedHostname = { readonly kind: 'dns' | 'ip'; readonly value: string } | { readonly kind: 'invalid'; readonly problem: string };

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Reads one entry of a hostnames list (`portal.ministry.local`, `10.0.0.5`, `::1`, `[fe80::1]`)
 * into its canonical form: DNS names lower-case without a trailing dot, IP addresses as the
 * WHATWG URL parser prints them (`0:0::1` → `::1`), so a list read back from a certificate compares
 * equal to the configured one.
 */
export function parseHostname(raw: string): ParsedHostname {
  const text = raw.trim();
  if (text === '') return { kind: 'invalid', problem: 'empty hostname' };
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (unbracketed.includes('%')) return { kind: 'invalid', problem: `"${raw}": IPv6 zone ids cannot go in a certificate` };
  const ipVersion = isIP(unbracketed);
  if (ipVersion !== 0) return { kind: 'ip', value: canonicalIp(unbracketed, ipVersion) };
  if (unbracketed !== text) return { kind: 'invalid', problem: `"${raw}": not an IPv6 address` };
  const name = text.toLowerCase().replace(/\.$/, '');
  if (name.startsWith('*.')) return { kind: 'invalid', problem: `"${raw}": wildcard names are not supported; list each name` };
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    return { kind: 'invalid', problem: `"${raw}": not a DNS name or IP address` };
  }
  // `10.1` or `1.2.3.999` would be read as (broken) IPv4 by browsers and TLS clients alike.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return { kind: 'invalid', problem: `"${raw}": not a valid IP address, and a DNS name cannot end in a number` };
  }
  return { kind: 'dns', value: name };
}

function canonicalIp(ip: string, version: number): string {
  const host = new URL(version === 6 ? `http://[${ip}]/` : `http://${ip}/`).hostname;
  return version === 6 ? host.slice(1, -1) : host;
}

/** Thrown by hostnameSet for an entry that cannot go into a certificate. */
export class InvalidHostnameError extends Error {
  readonly code = ErrorCodes.PKI;
  constructor(readonly problem: string) {
    super(`invalid hostname ${problem}`);
    this.name = 'InvalidHostnameError';
  }
}

/** The configured names plus the always-included local ones, canonical, sorted, de-duplicated. */
export function hostnameSet(hostnames: readonly string[]): HostnameSet {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const raw of [...ALWAYS_INCLUDED_HOSTNAMES, ...hostnames]) {
    const parsed = parseHostname(raw);
    if (parsed.kind === 'invalid') throw new InvalidHostnameError(parsed.problem);
    (parsed.kind === 'dns' ? dns : ips).add(parsed.value);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

/** What changed between two sets, for the renewal reason ("added a.example; removed 10.0.0.5"). */
export function describeHostnameChange(before: HostnameSet, after: HostnameSet): string | null {
  const was = new Set([...before.dns, ...before.ips]);
  const now = new Set([...after.dns, ...after.ips]);
  const added = [...now].filter((n) => !was.has(n));
  const removed = [...was].filter((n) => !now.has(n));
  if (added.length === 0 && removed.length === 0) return null;
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  return `hostnames changed (${parts.join('; ')})`;
}
