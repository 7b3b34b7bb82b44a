/**
 * Reconnect timing for the server link: exponential backoff with full jitter (AWS architecture
 * blog, "Exponential Backoff And Jitter"): thousands of agents that lost the server at the same
 * moment spread their returns over the whole window instead of arriving in waves.
 */

/** A connection that lived this long counts as healthy: the next failure starts over at attempt 0. */
export const STABLE_CONNECTION_MS = 30_000;

/** Past this the exponent only overflows; the cap is reached long before it for any sane base. */
const MAX_EXPONENT = 52;

/**
 * The delay before reconnect attempt `attempt` (0-based): `random() * min(cap, base * 2^attempt)`,
 * so 0 ≤ delay ≤ min(cap, base·2^attempt). `random` returns [0, 1) like Math.random; it is
 * injected so tests are deterministic.
 */
export function nextDelay(attempt: number, random: () => number, baseMs: number, capMs: number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const window = Math.min(capMs, baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return r * window;
}

/** What is known of a connection when it closes. */
export interface ClosedConnection {
  /** How long it was open (0 when it never opened). */
  readonly upMs: number;
  /** Whether the server accepted it with `welcome`. */
  readonly welcomed: boolean;
}

/**
 * The attempt counter after a connection closed: back to 0 when the connection was a real one
 * (the server welcomed it, or it stayed up STABLE_CONNECTION_MS), otherwise one more.
 */
export function attemptAfterClose(attempt: number, closed: ClosedConnection): number {
  if (closed.welcomed || closed.upMs > STABLE_CONNECTION_MS) return 0;
  return attempt + 1;
}
