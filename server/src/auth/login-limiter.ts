/**
 * Login rate limiting: after `maxFailures` failed logins for one username or one client address
 * within `windowMs`, further attempts are refused until the window has passed. Counting both keys
 * stops guessing one account from many addresses and many accounts from one address.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly maxKeys = 100_000,
  ) {}

  /** Milliseconds to wait before the next attempt, or 0 when allowed. */
  retryAfterMs(keys: readonly string[], nowMs: number): number {
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, nowMs);
      if (recent.length >= this.maxFailures) wait = Math.max(wait, (recent[0] as number) + this.windowMs - nowMs);
    }
    return wait;
  }

  /**
   * Checks and, when allowed, counts one attempt in a single synchronous step, so guesses sent
   * in parallel cannot all pass the check before the first failure is recorded. Returns the
   * milliseconds to wait (the attempt was not counted) or 0 (counted; call succeed() if it works).
   */
  attempt(keys: readonly string[], nowMs: number): number {
    const wait = this.retryAfterMs(keys, nowMs);
    if (wait === 0) this.fail(keys, nowMs);
    return wait;
  }

  fail(keys: readonly string[], nowMs: number): void {
    if (this.failures.size > this.maxKeys) this.prune(nowMs);
    for (const key of keys) this.failures.set(key, [...this.recent(key, nowMs), nowMs]);
  }

  /** Clears one key after a good login: the username's, never the address's (an attacker's own
   * account must not reset the count for the address they guess from). */
  succeed(key: string): void {
    this.failures.delete(key);
  }

  /** Takes back one counted attempt of `key` made at `atMs` (a good login from that address). */
  forgive(key: string, atMs: number): void {
    const times = this.failures.get(key);
    const i = times?.lastIndexOf(atMs) ?? -1;
    if (times && i >= 0) times.splice(i, 1);
  }

  private recent(key: string, nowMs: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
  }

  private prune(nowMs: number): void {
    for (const [key, times] of this.failures) {
      if (!times.some((t) => t > nowMs - this.windowMs)) this.failures.delete(key);
    }
  }
}
