import type { BlockedAttempt } from './kmsg-parser.js';

/**
 * Which refused connections become events. A mail client retries a refused server every few
 * seconds, for hours; one event per (destination, port, uid) per window is what security staff
 * need, with how many attempts the window swallowed. Pure: time comes in as `nowMs`.
 *
 * The kernel already limits the log to about one line a second (nft-ruleset.ts), so at most
 * that many keys arrive; the map is bounded anyway, dropping the stalest key first.
 */
export class BlockedAttemptFilter {
  private readonly seen = new Map<string, { reportedAt: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 1024,
  ) {}

  /**
   * Whether to report this attempt and, if so, how many attempts at the same key were
   * swallowed since the last report (`repeats`).
   */
  take(attempt: BlockedAttempt, nowMs: number): { report: true; repeats: number } | { report: false } {
    const key = `${attempt.destination}|${attempt.port}|${attempt.uid ?? '-'}`;
    const entry = this.seen.get(key);
    if (entry !== undefined && nowMs - entry.reportedAt < this.windowMs) {
      entry.suppressed++;
      return { report: false };
    }
    const repeats = entry?.suppressed ?? 0;
    // Re-inserting moves the key to the end: the Map's order is then oldest report first.
    this.seen.delete(key);
    this.seen.set(key, { reportedAt: nowMs, suppressed: 0 });
    this.evict(nowMs);
    return { report: true, repeats };
  }

  private evict(nowMs: number): void {
    for (const [key, entry] of this.seen) {
      if (this.seen.size <= this.maxKeys && nowMs - entry.reportedAt < this.windowMs) return;
      // Past its window: a new attempt would be reported anyway (only its repeat count is lost).
      this.seen.delete(key);
    }
  }
}
