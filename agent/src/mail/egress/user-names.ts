import { execFile } from 'node:child_process';

/** The login name of a uid, or undefined when it cannot be told. */
export type UserLookup = (uid: number) => Promise<string | undefined>;

/**
 * The name field of a passwd entry, as `getent passwd 1000` prints it:
 *
 *     ayan:x:1000:1000:Ayan Aliyeva,,,:/home/ayan:/bin/bash
 *
 * Only when the entry is for that uid; a name with characters no login uses is refused (it goes
 * into events that people read).
 */
export function passwdName(line: string, uid: number): string | undefined {
  const fields = line.trim().split(':');
  if (fields.length < 7 || fields[2] !== String(uid)) return undefined;
  const name = fields[0] ?? '';
  return /^[A-Za-z0-9_.][A-Za-z0-9_.@$-]{0,63}$/.test(name) ? name : undefined;
}

export type GetentRunner = (uid: number) => Promise<string>;

const runGetent: GetentRunner = (uid) =>
  new Promise((resolve, reject) => {
    execFile('/usr/bin/getent', ['passwd', String(uid)], { timeout: 2000, maxBuffer: 64 * 1024, env: { LC_ALL: 'C' } }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });

/**
 * Names through NSS (`getent`), so domain accounts (SSSD, winbind) resolve as well as local ones,
 * which /etc/passwd alone would not. Cached per uid for `ttlMs`; a failed lookup is cached too,
 * and yields undefined: the event carries the uid either way.
 */
export function getentUserLookup(options: { run?: GetentRunner; ttlMs?: number; now?: () => number } = {}): UserLookup {
  const run = options.run ?? runGetent;
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const now = options.now ?? (() => performance.now());
  const cache = new Map<number, { name: string | undefined; at: number }>();
  return async (uid) => {
    const hit = cache.get(uid);
    if (hit !== undefined && now() - hit.at < ttlMs) return hit.name;
    let name: string | undefined;
    try {
      name = passwdName(await run(uid), uid);
    } catch {
      // getent exits 2 for an unknown uid; any failure leaves the event with the uid alone.
      name = undefined;
    }
    if (cache.size >= 1024) cache.clear();
    cache.set(uid, { name, at: now() });
    return name;
  };
}
