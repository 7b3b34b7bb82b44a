/** Pure helpers of the tokens page: expiry choices and the ready install command. */

/** The expiry presets the page offers, as the server's `expiresIn` durations. */
export const EXPIRY_PRESETS = ['1h', '1d', '7d', '30d'] as const;
export type ExpiryPreset = (typeof EXPIRY_PRESETS)[number];

/** The server refuses tokens that live longer (token-routes.ts). */
export const MAX_TOKEN_DAYS = 90;

const HOUR_MS = 3_600_000;

/**
 * The `expiresIn` for a token that should expire at `until` (a date picked in the form, local
 * time), rounded up to whole hours so it never expires before the chosen moment; null when that
 * moment is not in the future or lies beyond the server's limit.
 */
export function expiresInUntil(until: Date, now: Date): string | null {
  const ms = until.getTime() - now.getTime();
  if (!Number.isFinite(ms) || ms <= 0) return null;
  const hours = Math.ceil(ms / HOUR_MS);
  if (hours > MAX_TOKEN_DAYS * 24) return null;
  return `${hours}h`;
}

/** Single-quotes a word for a POSIX shell when it holds anything but plainly safe characters. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The line an admin pastes on the PC to enroll it (agent/src/commands/enroll-command.ts). It runs
 * as root through sudo, with the token as sudo's own variable assignment (a variable set before
 * `sudo` would be dropped by sudo's env_reset), so it stays out of the agent's argv.
 */
export function installCommand(token: string, serverUrl: string, caFingerprint: string | null): string {
  const parts = ['sudo', `PORTCULLIS_ENROLL_TOKEN=${shellQuote(token)}`, 'portcullis-agent', 'enroll', '--server', shellQuote(serverUrl.replace(/\/+$/, ''))];
  if (caFingerprint) parts.push('--fingerprint', shellQuote(caFingerprint));
  return parts.join(' ');
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(t: { expiresAt: string; revokedAt: string | null }, now: Date): TokenState {
  if (t.revokedAt !== null) return 'revoked';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
}
