import { readFile } from 'node:fs/promises';
import { hostname as osHostname, release as osRelease, type as osType } from 'node:os';

/** What the server's enroll route accepts (server/src/api/routes/enroll-routes.ts). */
export const HOSTNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const HOSTNAME_MAX = 253;
export const OS_MAX = 128;

/** The facts about this computer the server records at enrollment. */
export interface HostFacts {
  readonly hostname: string;
  readonly os: string;
}

/** Where the facts come from; tests pass their own. */
export interface HostFactSources {
  readonly hostname?: () => string;
  readonly osType?: () => string;
  readonly osRelease?: () => string;
  /** Files to read PRETTY_NAME from, first found wins. */
  readonly osReleaseFiles?: readonly string[];
}

const OS_RELEASE_FILES = ['/etc/os-release', '/usr/lib/os-release'];

export async function hostFacts(sources: HostFactSources = {}): Promise<HostFacts> {
  const prettyName = await readPrettyName(sources.osReleaseFiles ?? OS_RELEASE_FILES);
  return {
    hostname: enrollHostname((sources.hostname ?? osHostname)()),
    os: osDescription((sources.osType ?? osType)(), (sources.osRelease ?? osRelease)(), prettyName),
  };
}

/**
 * The host name as the server accepts it. A full name that already fits is kept
 * (`pc-17.ministry.local`); otherwise only the part before the first dot is used, with every
 * character the server refuses turned into `-` (`Γραφείο 3.local` → `3`, `my pc` → `my-pc`),
 * since a name that identifies the PC to admins beats an enrollment that fails on a detail.
 */
export function enrollHostname(raw: string): string {
  if (raw.length <= HOSTNAME_MAX && HOSTNAME_PATTERN.test(raw)) return raw;
  const first = raw.split('.')[0] ?? '';
  const cleaned = first
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, HOSTNAME_MAX);
  return cleaned === '' ? 'unnamed-host' : cleaned;
}

/** `Linux 6.1.0-18-amd64 (Debian GNU/Linux 12 (bookworm))`, at most 128 characters, one line. */
export function osDescription(type: string, release: string, prettyName: string | null): string {
  const base = `${type} ${release}`.trim();
  const text = prettyName === null ? base : `${base} (${prettyName})`;
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return (oneLine === '' ? 'unknown' : oneLine).slice(0, OS_MAX);
}

/**
 * PRETTY_NAME from an os-release(5) file, unquoted, or null when it has none:
 *
 *     PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
 *     NAME="Debian GNU/Linux"
 *     VERSION_ID="12"
 */
export function parsePrettyName(text: string): string | null {
  for (const line of text.split('\n')) {
    const m = /^\s*PRETTY_NAME=(.*)$/.exec(line);
    if (!m) continue;
    let value = (m[1] ?? '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      // Shell-style escapes inside double quotes, as os-release(5) allows.
      if (quote === '"') value = value.replace(/\\([\\"$`])/g, '$1');
    }
    return value === '' ? null : value;
  }
  return null;
}

async function readPrettyName(files: readonly string[]): Promise<string | null> {
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      // A missing os-release (Windows, minimal images) only makes the description shorter.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return null;
    }
    return parsePrettyName(text.slice(0, 64 * 1024));
  }
  return null;
}
