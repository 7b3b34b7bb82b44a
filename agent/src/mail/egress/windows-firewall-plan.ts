import { MAIL_PORTS, type IpFamily } from '@portcullis/shared';
import { complementRanges, formatRange, serverRanges } from './ip-ranges.js';

/**
 * The mail egress guard on Windows, as a plan of PowerShell commands (NetSecurity module) that
 * tests read without a Windows machine.
 *
 * Windows Firewall evaluates block rules before allow rules, whatever their order: "block the
 * mail ports, allow the approved servers" would block everything. So the plan blocks the
 * complement: every address except the approved servers (and loopback, for a local MTA), on
 * the mail ports, outbound.
 *
 * PowerShell's New-NetFirewallRule rather than `netsh advfirewall`: it takes the address list as
 * an array (netsh takes one comma-joined string), tags our rules with a group so one command
 * finds and removes all of them, and fails with an error object instead of localized text.
 *
 * Applying: the new rules are added under names that carry a fingerprint of their ranges, then
 * the group's other rules (the previous plan's) are removed, so the guard is never down between
 * the two steps. Re-applying the same plan adds nothing new and removes nothing.
 */
export interface WindowsFirewallPlan {
  /** Run in order; each is one PowerShell command. */
  readonly apply: readonly string[];
  /** Removes every rule of ours (uninstall, or the policy turned the guard off). */
  readonly remove: readonly string[];
  /** The ranges blocked on the mail ports, per family (empty when everything is approved). */
  readonly blocked: { readonly v4: readonly string[]; readonly v6: readonly string[] };
}

export const WINDOWS_RULE_GROUP = 'Portcullis mail egress';
const RULE_NAME_PREFIX = 'Portcullis-MailEgress';

/** Loopback stays reachable, as on Linux (Windows Firewall does not filter it either; this says so explicitly). */
const LOOPBACK = ['127.0.0.0/8', '::1'];

export interface WindowsPlanOptions {
  readonly allowLoopback?: boolean;
}

export function planWindowsMailEgress(servers: readonly string[], options: WindowsPlanOptions = {}): WindowsFirewallPlan {
  const allowed = serverRanges([...servers, ...(options.allowLoopback === false ? [] : LOOPBACK)]);
  const blocked = {
    v4: complementRanges(4, allowed.v4).map(formatRange),
    v6: complementRanges(6, allowed.v6).map(formatRange),
  };
  const tag = fingerprint(`${blocked.v4.join(',')}|${blocked.v6.join(',')}`);
  const apply = (['v4', 'v6'] as const)
    .filter((family) => blocked[family].length > 0)
    .map((family) => newRule(`${RULE_NAME_PREFIX}-${tag}-IP${family}`, family === 'v4' ? 4 : 6, blocked[family]));
  apply.push(
    `Get-NetFirewallRule -Group ${quote(WINDOWS_RULE_GROUP)} -ErrorAction SilentlyContinue | ` +
      `Where-Object { $_.Name -notlike ${quote(`${RULE_NAME_PREFIX}-${tag}-*`)} } | Remove-NetFirewallRule`,
  );
  return { apply, remove: [removeAll()], blocked };
}

/** The commands that take the guard off Windows (the uninstaller runs them). */
export function windowsMailEgressRemoval(): string[] {
  return [removeAll()];
}

function newRule(name: string, family: IpFamily, ranges: readonly string[]): string {
  const ports = [...MAIL_PORTS].sort((a, b) => a - b).join(',');
  return [
    'New-NetFirewallRule',
    `-Name ${quote(name)}`,
    `-DisplayName ${quote(`${WINDOWS_RULE_GROUP} (IPv${family})`)}`,
    `-Group ${quote(WINDOWS_RULE_GROUP)}`,
    '-Direction Outbound -Action Block -Protocol TCP',
    `-RemotePort ${ports}`,
    `-RemoteAddress ${ranges.map(quote).join(',')}`,
    '-Profile Any -Enabled True',
  ].join(' ');
}

function removeAll(): string {
  return `Remove-NetFirewallRule -Group ${quote(WINDOWS_RULE_GROUP)} -ErrorAction SilentlyContinue`;
}

/** A PowerShell single-quoted string (the values are generated, but quoting stays right anyway). */
function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** FNV-1a, 32 bits, hex: short, stable names for one set of ranges. Not a security measure. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
