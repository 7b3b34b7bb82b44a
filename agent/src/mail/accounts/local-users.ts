/** A local account whose home may hold mail configuration. */
export type LocalUser = { readonly name: string; readonly uid: number; readonly home: string };

/** Below this, accounts are system ones (Debian, Ubuntu, Fedora: `UID_MIN 1000` in login.defs). */
export const FIRST_USER_UID = 1000;
const NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\$?$/;

/**
 * The people of `/etc/passwd` (seven colon-separated fields a line):
 *
 *     root:x:0:0:root:/root:/bin/bash
 *     daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
 *     ahmed:x:1000:1000:Ahmed Benali,,,:/home/ahmed:/bin/bash
 *     nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
 *
 * root and every uid from 1000 up, whatever the shell: a nologin account with a home holding a
 * profile still has mail configured. System accounts below 1000 are left out, so are homes that
 * are not absolute paths or are `/` (never a user's own folder), and NIS `+`/`-` lines. A home
 * shared by several accounts is listed once, for the first. Malformed lines are counted.
 */
export function parsePasswd(text: string): { users: LocalUser[]; malformed: number } {
  const users: LocalUser[] = [];
  const homes = new Set<string>();
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    const [name, , uidText, , , home] = fields;
    if (fields.length !== 7 || name === undefined || !NAME.test(name) || uidText === undefined || !/^\d{1,10}$/.test(uidText) || home === undefined) {
      malformed++;
      continue;
    }
    const uid = Number(uidText);
    if (uid !== 0 && uid < FIRST_USER_UID) continue;
    const clean = home.replace(/\/+$/, '');
    if (!home.startsWith('/') || clean === '' || clean.split('/').includes('..') || homes.has(clean)) continue;
    homes.add(clean);
    users.push({ name, uid, home: clean });
  }
  return { users, malformed };
}
