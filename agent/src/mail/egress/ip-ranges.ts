import { familyBits, formatIpAddress, parseIpPrefix, prefixRange, type IpFamily } from '@portcullis/shared';

/**
 * Address ranges for the firewall back-ends: the approved servers as merged ranges (nftables
 * refuses overlapping elements in an interval set: 10.0.0.0/8 with 10.1.0.0/16 is "conflicting
 * intervals"), and their complement (Windows Firewall, where block beats allow, can only be told
 * what to block). Pure bigint arithmetic.
 */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

export interface RangesByFamily {
  readonly v4: readonly IpRange[];
  readonly v6: readonly IpRange[];
}

/**
 * The servers of a validated policy as sorted, merged ranges per family. A server that does not
 * parse (impossible after the policy parser) is a programming error, not something to skip.
 */
export function serverRanges(servers: readonly string[]): RangesByFamily {
  const ranges = servers.map((server) => {
    const parsed = parseIpPrefix(server);
    if (!parsed.ok) throw new Error(`mail egress server ${JSON.stringify(server)}: ${parsed.reason}`);
    return { family: parsed.value.family, ...prefixRange(parsed.value) };
  });
  return {
    v4: mergeRanges(ranges.filter((r) => r.family === 4)),
    v6: mergeRanges(ranges.filter((r) => r.family === 6)),
  };
}

/** Sorted, with overlapping and adjacent ranges joined (all of one family). */
export function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: IpRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.first <= last.last + 1n) {
      if (range.last > last.last) merged[merged.length - 1] = { ...last, last: range.last };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** Every address of the family not in `merged` (sorted and merged, as mergeRanges returns). */
export function complementRanges(family: IpFamily, merged: readonly IpRange[]): IpRange[] {
  const max = (1n << BigInt(familyBits(family))) - 1n;
  const gaps: IpRange[] = [];
  let next = 0n;
  for (const range of merged) {
    if (range.first > next) gaps.push({ family, first: next, last: range.first - 1n });
    next = range.last + 1n;
  }
  if (next <= max) gaps.push({ family, first: next, last: max });
  return gaps;
}

/** `first-last`, or the address alone when the range holds one. */
export function formatRange(range: IpRange): string {
  const first = formatIpAddress({ family: range.family, value: range.first });
  if (range.first === range.last) return first;
  return `${first}-${formatIpAddress({ family: range.family, value: range.last })}`;
}

/**
 * The fewest CIDR prefixes that cover exactly the range, as text (`10.0.0.0/8`, a single
 * address bare): how nft prints interval elements, so the loaded set reads like the policy.
 */
export function rangePrefixes(range: IpRange): string[] {
  const bits = familyBits(range.family);
  const prefixes: string[] = [];
  let start = range.first;
  while (start <= range.last) {
    // The largest block that starts at `start` (alignment) and ends inside the range.
    let size = 0;
    while (size < bits && (start & ((1n << BigInt(size + 1)) - 1n)) === 0n && start + (1n << BigInt(size + 1)) - 1n <= range.last) size++;
    const address = formatIpAddress({ family: range.family, value: start });
    prefixes.push(size === 0 ? address : `${address}/${bits - size}`);
    start += 1n << BigInt(size);
  }
  return prefixes;
}
