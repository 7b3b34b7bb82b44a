import { MAIL_PORTS } from '@portcullis/shared';
import { rangePrefixes, serverRanges, type IpRange } from './ip-ranges.js';

/** The agent's own table; nothing else in the ruleset is touched. */
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'portcullis_mail';

/** What the kernel writes before each refused connection's log line (kmsg-parser.ts reads it back). */
export const NFT_LOG_PREFIX = 'portcullis-mail-egress: ';

/**
 * At most one log line a second (bursts of 20) for the whole guard: a client retrying in a
 * loop must not flood the kernel log, and the agent dedupes what gets through per destination.
 * The refusal itself is never rate-limited: it is a separate rule after the log.
 */
const LOG_LIMIT = 'limit rate 1/second burst 20 packets';

export interface RulesetOptions {
  /**
   * Traffic that leaves through `lo` (a local MTA, the computer's own addresses) is never
   * refused. Only the network-namespace test turns this off, to stand two "servers" on lo.
   */
  readonly allowLoopback?: boolean;
}

/**
 * The whole table as `nft -f` reads it. It starts by creating the table empty and deleting it:
 * `nft -f` runs a file as one transaction, so the old table is replaced by the new one
 * atomically (never a moment without the guard, never half a guard), and the create keeps the
 * delete from failing when no table is loaded yet.
 *
 * The output hook sees the packets this computer sends. A packet to a mail port whose
 * destination is not an approved server jumps to `refuse`, which logs it (rate-limited, with
 * the socket owner's uid: `flags skuid`) and answers with a TCP reset, so the client fails at
 * once with ECONNREFUSED instead of hanging until it times out. An `accept` here does not
 * override another table's drop, and a drop elsewhere is final: the table only ever narrows.
 */
export function renderMailEgressRuleset(servers: readonly string[], options: RulesetOptions = {}): string {
  const ranges = serverRanges(servers);
  const ports = [...MAIL_PORTS].sort((a, b) => a - b).join(', ');
  const lines = [
    '# Portcullis mail egress guard, loaded by portcullis-agent from the signed policy; local edits are replaced.',
    `table ${NFT_FAMILY} ${NFT_TABLE} {}`,
    `delete table ${NFT_FAMILY} ${NFT_TABLE}`,
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    '\tset mail_ports {',
    '\t\ttype inet_service',
    `\t\telements = { ${ports} }`,
    '\t}',
    ...renderSet('approved_v4', 'ipv4_addr', ranges.v4),
    ...renderSet('approved_v6', 'ipv6_addr', ranges.v6),
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    ...(options.allowLoopback === false ? [] : ['\t\toifname "lo" accept']),
    '\t\ttcp dport @mail_ports ip daddr != @approved_v4 goto refuse',
    '\t\ttcp dport @mail_ports ip6 daddr != @approved_v6 goto refuse',
    '\t}',
    '\tchain refuse {',
    `\t\t${LOG_LIMIT} log prefix "${NFT_LOG_PREFIX}" level warn flags skuid`,
    '\t\treject with tcp reset',
    '\t}',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** Removes the table if it is there (the create makes the delete safe when it is not). */
export function renderMailEgressRemoval(): string {
  return `table ${NFT_FAMILY} ${NFT_TABLE} {}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
}

function renderSet(name: string, type: string, ranges: readonly IpRange[]): string[] {
  const elements = ranges.flatMap(rangePrefixes);
  return [
    `\tset ${name} {`,
    `\t\ttype ${type}`,
    '\t\tflags interval',
    // An empty set has no elements line: `elements = { }` is a syntax error.
    ...(elements.length > 0 ? [`\t\telements = { ${elements.join(', ')} }`] : []),
    '\t}',
  ];
}
