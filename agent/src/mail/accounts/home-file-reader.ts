import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { MAX_MAIL_FILE_BYTES } from './mail-account.js';

/** What reading a file of a user's home came to. `problem` never quotes the file. */
export type HomeRead = { readonly kind: 'text'; readonly text: string } | Absent | Problem;

type Absent = { readonly kind: 'absent' };
type Problem = { readonly kind: 'problem'; readonly problem: string };
export type HomeList = { readonly kind: 'names'; readonly names: string[] } | Absent | Problem;
export type FolderCheck = { readonly kind: 'real'; readonly path: string } | Absent | Problem;

function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Reads files of one user's home on behalf of an agent that runs as root, so that the user cannot
 * make it read anything else: a user controls every name under the home and could point
 * `prefs.js` at `/etc/shadow`. A file is read only when
 *
 * - it is not itself a symbolic link (opened with O_NOFOLLOW; O_NONBLOCK so a FIFO cannot hang
 *   the agent) and is a regular file with a single link (a hard link to a file of someone else's
 *   cannot be told from the original; protected_hardlinks stops most, this stops the rest);
 * - the real path of its folder lies inside the real path of the home (symbolic links that stay
 *   in the home are followed: the Debian `~/.mozilla-thunderbird` link, a profile moved aside);
 * - the file opened is the one found at that real path (same device and inode), so swapping a
 *   folder for a link between the check and the open is caught;
 * - it is at most MAX_MAIL_FILE_BYTES (4 MiB), counted while reading, not only by its size.
 */
export class HomeFileReader {
  private constructor(readonly realHome: string) {}

  /** A reader for `home`, or undefined when there is no such folder. */
  static async open(home: string): Promise<HomeFileReader | undefined> {
    let real: string;
    try {
      real = await realpath(home);
    } catch (err) {
      if (ABSENT.has(errnoOf(err))) return undefined;
      throw err;
    }
    const stat = await lstat(real);
    return stat.isDirectory() ? new HomeFileReader(real) : undefined;
  }

  inside(realPath: string): boolean {
    return realPath === this.realHome || realPath.startsWith(this.realHome.endsWith(sep) ? this.realHome : this.realHome + sep);
  }

  /** The real path of a folder when it exists and lies inside the home. */
  async realFolder(path: string): Promise<FolderCheck> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      const code = errnoOf(err);
      return ABSENT.has(code) ? { kind: 'absent' } : { kind: 'problem', problem: `cannot be resolved (${code})` };
    }
    if (!this.inside(real)) return { kind: 'problem', problem: 'lies outside the home: not read' };
    return { kind: 'real', path: real };
  }

  async read(path: string): Promise<HomeRead> {
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = errnoOf(err);
      if (ABSENT.has(code)) return { kind: 'absent' };
      if (code === 'ELOOP') return { kind: 'problem', problem: 'is a symbolic link: not read' };
      return { kind: 'problem', problem: `cannot be opened (${code})` };
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return { kind: 'problem', problem: 'is not a regular file: not read' };
      if (stat.nlink > 1) return { kind: 'problem', problem: 'has more than one hard link: not read' };
      if (stat.size > MAX_MAIL_FILE_BYTES) return tooLarge();
      const folder = await this.realFolder(dirname(path));
      if (folder.kind !== 'real') return folder.kind === 'absent' ? { kind: 'problem', problem: 'changed while being read: not read' } : folder;
      const found = await lstat(join(folder.path, basename(path))).catch((err: unknown) => errnoOf(err));
      if (typeof found === 'string' || found.dev !== stat.dev || found.ino !== stat.ino) return { kind: 'problem', problem: 'changed while being read: not read' };

      // Sized by stat, grown should the file grow meanwhile, never past the cap plus the byte that proves it over.
      let buffer = Buffer.alloc(stat.size + 1);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          if (length > MAX_MAIL_FILE_BYTES) return tooLarge();
          const bigger = Buffer.alloc(Math.min(buffer.length * 2, MAX_MAIL_FILE_BYTES + 1));
          buffer.copy(bigger);
          buffer = bigger;
        }
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length > MAX_MAIL_FILE_BYTES) return tooLarge();
      return { kind: 'text', text: new TextDecoder('utf-8').decode(buffer.subarray(0, length)) };
    } catch (err) {
      return { kind: 'problem', problem: `cannot be read (${errnoOf(err)})` };
    } finally {
      await handle.close();
    }
  }

  /** The names in a folder of the home (its real path checked as for a file's folder). */
  async list(path: string): Promise<HomeList> {
    const folder = await this.realFolder(path);
    if (folder.kind !== 'real') return folder;
    try {
      return { kind: 'names', names: await readdir(folder.path) };
    } catch (err) {
      const code = errnoOf(err);
      return ABSENT.has(code) ? { kind: 'absent' } : { kind: 'problem', problem: `cannot be listed (${code})` };
    }
  }
}

function tooLarge(): HomeRead {
  return { kind: 'problem', problem: `is larger than ${MAX_MAIL_FILE_BYTES / (1024 * 1024)} MiB: not read` };
}
