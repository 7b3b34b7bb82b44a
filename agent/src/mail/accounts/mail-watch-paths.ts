import { isAbsolute, relative, sep } from 'node:path';

/*
 * Where mail clients keep their account configuration in a home, and which paths under a home
 * the watcher has to see to notice a new account. Pure: paths in, answers out.
 */

/** Thunderbird's folders: the deb/tarball one, the old Debian one, the Snap and the Flatpak. */
export const THUNDERBIRD_ROOTS = [
  ['.thunderbird'],
  ['.mozilla-thunderbird'],
  ['snap', 'thunderbird', 'common', '.thunderbird'],
  ['.var', 'app', 'org.mozilla.Thunderbird', '.thunderbird'],
] as const;
export const EVOLUTION_SOURCES = ['.config', 'evolution', 'sources'] as const;
export const GOA_FOLDER = ['.config', 'goa-1.0'] as const;
export const GOA_ACCOUNTS_FILE = 'accounts.conf';
export const PROFILES_INI = 'profiles.ini';
export const PREFS_JS = 'prefs.js';
export const SOURCE_SUFFIX = '.source';

/**
 * The filesystem paths to watch: the homes; the Thunderbird profile folders read (some lie outside
 * the Thunderbird folders); and every client folder that exists. The folders are handed to the
 * watcher explicitly because a folder created in the same instant as its parent (a first start of
 * Thunderbird makes `.thunderbird/`, the profile and its prefs.js at once) can escape a watch that
 * only follows the parent.
 */
export type MailWatchTargets = {
  readonly homes: readonly string[];
  readonly profileDirs: readonly string[];
  readonly folders: readonly string[];
};

/** True when `prefix` is the start of `path`, segment by segment. */
function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

/** True when `path` leads towards `target` or is it. */
function leadsTo(path: readonly string[], target: readonly string[]): boolean {
  return startsWith(target, path);
}

/**
 * Whether a path inside a home (given as its segments below the home) can bear on the mail
 * accounts: the folders leading to a client's folder (so a client installed later is seen), a
 * Thunderbird folder's `profiles.ini` and profile folders with their `prefs.js`, Evolution's
 * `*.source` files, GOA's `accounts.conf`. Everything else (mail stores, caches) is not watched.
 */
export function isRelevantInHome(segments: readonly string[]): boolean {
  for (const root of THUNDERBIRD_ROOTS) {
    if (leadsTo(segments, root)) return true;
    if (startsWith(segments, root)) {
      const below = segments.length - root.length;
      // `profiles.ini` or a profile folder, then the profile's prefs.js.
      return below === 1 || (below === 2 && segments[segments.length - 1] === PREFS_JS);
    }
  }
  if (leadsTo(segments, EVOLUTION_SOURCES)) return true;
  if (startsWith(segments, EVOLUTION_SOURCES)) return segments.length === EVOLUTION_SOURCES.length + 1 && (segments.at(-1) ?? '').endsWith(SOURCE_SUFFIX);
  if (leadsTo(segments, GOA_FOLDER)) return true;
  if (startsWith(segments, GOA_FOLDER)) return segments.length === GOA_FOLDER.length + 1 && segments.at(-1) === GOA_ACCOUNTS_FILE;
  return false;
}

function segmentsBelow(base: string, path: string): string[] | undefined {
  const rel = relative(base, path);
  if (rel === '') return [];
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep);
}

/** Whether the watcher should look at `path` (an absolute filesystem path, as chokidar gives it). */
export function isRelevantPath(path: string, targets: MailWatchTargets): boolean {
  for (const dir of targets.profileDirs) {
    const below = segmentsBelow(dir, path);
    if (below !== undefined && (below.length === 0 || (below.length === 1 && below[0] === PREFS_JS))) return true;
  }
  for (const home of targets.homes) {
    const below = segmentsBelow(home, path);
    if (below !== undefined && isRelevantInHome(below)) return true;
  }
  return false;
}
