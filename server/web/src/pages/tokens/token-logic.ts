/** Pure helpers of the tokens page: expiry choices and the ready install commands. */
import { debFileName, debInstallCommand, enrollCommand, isDebVersion } from '@portcullis/shared';

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

/** What GET /api/v1/server-info tells the page; null where the server does not know. */
export interface ServerInfo {
  readonly url: string | null;
  readonly caFingerprint256: string | null;
  readonly agentVersion: string | null;
}

/** The two lines shown with a new token; `deb` is null when the server lacks what it needs. */
export interface InstallLines {
  /** Installs the .deb (`file`) and enrolls, in a root shell; needs the CA fingerprint and the agent version. */
  readonly deb: { readonly command: string; readonly file: string } | null;
  /** Enrolls a PC whose agent is already installed. */
  readonly enroll: string;
}

/**
 * The install lines for a new token. `fallbackUrl` (the browser's address) stands in when the
 * server was not told its public URL. Without a fingerprint the package line would only fail
 * on the PC (postinst needs all three values), and without a usable agent version it would name
 * no real file, so then it is not offered.
 */
export function installLines(token: string, info: ServerInfo, fallbackUrl: string): InstallLines {
  const url = info.url ?? fallbackUrl;
  const { caFingerprint256: fingerprint, agentVersion: version } = info;
  const deb = fingerprint && version && isDebVersion(version) ? { command: debInstallCommand(token, url, fingerprint, version), file: debFileName(version) } : null;
  return { deb, enroll: enrollCommand(token, url, info.caFingerprint256) };
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(t: { expiresAt: string; revokedAt: string | null }, now: Date): TokenState {
  if (t.revokedAt !== null) return 'revoked';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
}
