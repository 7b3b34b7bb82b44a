import { parseKeyFile } from './key-file.js';

/** One profile folder `profiles.ini` names, its path as written. */
export type ThunderbirdProfileRef = {
  /** Relative to the folder holding `profiles.ini` when `isRelative`, else absolute. */
  readonly path: string;
  readonly isRelative: boolean;
};

export type ThunderbirdProfilesResult = { readonly profiles: ThunderbirdProfileRef[]; readonly problems: string[] };

const ABSOLUTE = /^(?:\/|[A-Za-z]:[\\/]|\\\\)/;

/**
 * Reads Thunderbird's `profiles.ini` (in `~/.thunderbird`, and the Snap, Flatpak and old Debian
 * folders) into the profile folders it names:
 *
 *     [Install6F193CCC56814779]
 *     Default=k2f7w1qz.default-release
 *     Locked=1
 *
 *     [Profile1]
 *     Name=work
 *     IsRelative=0
 *     Path=/home/ahmed/Mail/tb-work
 *
 *     [Profile0]
 *     Name=default-release
 *     IsRelative=1
 *     Path=k2f7w1qz.default-release
 *     Default=1
 *
 *     [General]
 *     StartWithLastProfile=1
 *     Version=2
 *
 * `IsRelative=1` paths are relative to the folder of the file, `IsRelative=0` ones absolute; a
 * profile without `IsRelative` is read by the shape of its path. An `[Install…]` section's
 * `Default` usually repeats a profile's path; one that names a folder no `[Profile…]` section
 * lists is still a profile Thunderbird opens, so it is returned too. Paths are returned as
 * written, in file order, duplicates removed: the caller resolves them and decides what it may
 * read.
 */
export function parseThunderbirdProfiles(text: string): ThunderbirdProfilesResult {
  const { groups, problems } = parseKeyFile(text, { escapes: false });
  const profiles: ThunderbirdProfileRef[] = [];
  const seen = new Set<string>();
  const add = (path: string, isRelative: boolean): void => {
    const key = `${isRelative ? 'r' : 'a'}:${path}`;
    if (seen.has(key)) return;
    seen.add(key);
    profiles.push({ path, isRelative });
  };
  const installDefaults: string[] = [];
  for (const [name, keys] of groups) {
    if (/^Profile\d+$/.test(name)) {
      const path = keys.get('Path') ?? '';
      if (path === '') {
        problems.push(`[${name}] has no Path`);
        continue;
      }
      const flag = keys.get('IsRelative');
      if (flag !== undefined && flag !== '0' && flag !== '1') problems.push(`[${name}] has an IsRelative that is neither 0 nor 1`);
      add(path, flag === '1' || (flag !== '0' && !ABSOLUTE.test(path)));
    } else if (/^Install[0-9A-Fa-f]+$/.test(name)) {
      const path = keys.get('Default');
      if (path !== undefined && path !== '') installDefaults.push(path);
    }
  }
  // After the profiles, so a Default repeating a profile's path is the duplicate dropped.
  for (const path of installDefaults) add(path, !ABSOLUTE.test(path));
  return { profiles, problems };
}
