import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { parseEvolutionSources, type EvolutionSourceFile } from './evolution-sources.js';
import { parseGoaAccounts } from './goa-accounts.js';
import { HomeFileReader } from './home-file-reader.js';
import { parsePasswd, type LocalUser } from './local-users.js';
import { sortAndDedupe, type MailAccount, type MailParseResult } from './mail-account.js';
import {
  EVOLUTION_SOURCES,
  GOA_ACCOUNTS_FILE,
  GOA_FOLDER,
  PREFS_JS,
  PROFILES_INI,
  SOURCE_SUFFIX,
  THUNDERBIRD_ROOTS,
  type MailWatchTargets,
} from './mail-watch-paths.js';
import { parseThunderbirdPrefs } from './thunderbird-prefs.js';
import { parseThunderbirdProfiles } from './thunderbird-profiles.js';

export type MailAccountDiscoveryResult = {
  /** Sorted and without duplicates, at most `maxAccounts`. */
  readonly accounts: MailAccount[];
  /** Every account found, before the cap. */
  readonly total: number;
  /** What could not be read, each naming its file; never a line of one. */
  readonly problems: string[];
  /** Where the watcher should look for changes. */
  readonly watchTargets: MailWatchTargets;
};

export interface MailAccountDiscoveryOptions {
  /** Where the filesystem starts: `/` on a PC, a fake tree in tests. Paths reported are as seen from it. */
  readonly root?: string;
  /** Default 200. */
  readonly maxAccounts?: number;
}

export const DEFAULT_MAX_MAIL_ACCOUNTS = 200;
/** Problems kept per discovery; the rest are counted. */
const MAX_PROBLEMS = 50;
/** A sources folder holds some tens of files; past this it is not Evolution's. */
const MAX_EVOLUTION_FILES = 500;

/**
 * Finds the mail accounts configured for each person with a home on this Linux PC (see
 * parsePasswd for who counts): Thunderbird in its four install flavours, Evolution and GNOME
 * Online Accounts. Every file is read through HomeFileReader, which refuses what a user could
 * use to make the root agent read elsewhere. Fails soft: an unreadable file or a broken one is a
 * problem and the rest is still read; only an unreadable `/etc/passwd` rejects.
 */
export class MailAccountDiscovery {
  private readonly root: string;
  private readonly maxAccounts: number;

  constructor(options: MailAccountDiscoveryOptions = {}) {
    this.root = resolve(options.root ?? '/');
    this.maxAccounts = options.maxAccounts ?? DEFAULT_MAX_MAIL_ACCOUNTS;
    if (!Number.isInteger(this.maxAccounts) || this.maxAccounts < 1) {
      throw new RangeError(`maxAccounts must be a positive integer (got ${this.maxAccounts})`);
    }
  }

  async discover(): Promise<MailAccountDiscoveryResult> {
    const passwdPath = join(this.root, 'etc', 'passwd');
    let passwd: string;
    try {
      passwd = await readFile(passwdPath, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${this.shown(passwdPath)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const { users, malformed } = parsePasswd(passwd);
    const problems = new Problems();
    if (malformed > 0) problems.add(this.shown(passwdPath), `${malformed} malformed line${malformed === 1 ? '' : 's'} skipped`);

    const found: MailAccount[] = [];
    const homes: string[] = [];
    const watch: WatchLists = { profileDirs: [], folders: [] };
    for (const user of users) {
      const home = join(this.root, user.home);
      let reader: HomeFileReader | undefined;
      try {
        reader = await HomeFileReader.open(home);
      } catch (err) {
        problems.add(user.home, `cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        continue;
      }
      if (reader === undefined || reader.realHome === sep) continue;
      homes.push(home);
      const scan = new HomeScan(this, user, home, reader, problems);
      found.push(...(await scan.thunderbird(watch)), ...(await scan.evolution(watch)), ...(await scan.goa(watch)));
    }
    const accounts = sortAndDedupe(found);
    return {
      accounts: accounts.slice(0, this.maxAccounts),
      total: accounts.length,
      problems: problems.list(),
      watchTargets: { homes, ...watch },
    };
  }

  /** A filesystem path as a path on the PC (the fake root taken off in tests). */
  shown(path: string): string {
    return this.root === sep ? path : `/${relative(this.root, path).split(sep).join('/')}`;
  }

  /** An absolute path written in a file, on this filesystem. */
  onDisk(absolute: string): string {
    return join(this.root, absolute);
  }
}

class Problems {
  private readonly items: string[] = [];
  private dropped = 0;

  add(where: string, problem: string): void {
    if (this.items.length < MAX_PROBLEMS) this.items.push(`${where}: ${problem}`);
    else this.dropped++;
  }

  list(): string[] {
    return this.dropped === 0 ? [...this.items] : [...this.items, `and ${this.dropped} more problems`];
  }
}

type WatchLists = { readonly profileDirs: string[]; readonly folders: string[] };

/** One home's files. */
class HomeScan {
  constructor(
    private readonly discovery: MailAccountDiscovery,
    private readonly user: LocalUser,
    private readonly home: string,
    private readonly reader: HomeFileReader,
    private readonly problems: Problems,
  ) {}

  /** Reads a file; its problems are recorded. Undefined when absent or refused. */
  private async text(path: string): Promise<string | undefined> {
    const read = await this.reader.read(path);
    if (read.kind === 'problem') this.problems.add(this.discovery.shown(path), read.problem);
    return read.kind === 'text' ? read.text : undefined;
  }

  private keep(path: string, result: MailParseResult): MailAccount[] {
    for (const problem of result.problems) this.problems.add(this.discovery.shown(path), problem);
    return result.accounts;
  }

  /** Notes a client folder for the watcher when it exists in the home. */
  private async noteFolder(path: string, watch: WatchLists): Promise<void> {
    if ((await this.reader.realFolder(path)).kind === 'real') watch.folders.push(path);
  }

  async thunderbird(watch: WatchLists): Promise<MailAccount[]> {
    const accounts: MailAccount[] = [];
    const seen = new Set<string>();
    for (const segments of THUNDERBIRD_ROOTS) {
      const root = join(this.home, ...segments);
      await this.noteFolder(root, watch);
      const iniPath = join(root, PROFILES_INI);
      const ini = await this.text(iniPath);
      if (ini === undefined) continue;
      const { profiles, problems } = parseThunderbirdProfiles(ini);
      for (const problem of problems) this.problems.add(this.discovery.shown(iniPath), problem);
      for (const profile of profiles) {
        if (!profile.isRelative && !profile.path.startsWith('/')) {
          this.problems.add(this.discovery.shown(iniPath), 'a profile path is not a Linux path: not read');
          continue;
        }
        const dir = profile.isRelative ? join(root, profile.path) : this.discovery.onDisk(profile.path);
        const real = await this.reader.realFolder(dir);
        if (real.kind === 'problem') this.problems.add(this.discovery.shown(dir), real.problem);
        // A profile listed but deleted is common and no problem; one reached twice is read once.
        if (real.kind !== 'real' || seen.has(real.path)) continue;
        seen.add(real.path);
        watch.profileDirs.push(dir);
        const prefsPath = join(dir, PREFS_JS);
        const prefs = await this.text(prefsPath);
        if (prefs === undefined) continue;
        accounts.push(...this.keep(prefsPath, parseThunderbirdPrefs(prefs, { user: this.user.name, source: this.discovery.shown(prefsPath) })));
      }
    }
    return accounts;
  }

  async evolution(watch: WatchLists): Promise<MailAccount[]> {
    const dir = join(this.home, ...EVOLUTION_SOURCES);
    const listing = await this.reader.list(dir);
    if (listing.kind === 'problem') this.problems.add(this.discovery.shown(dir), listing.problem);
    if (listing.kind !== 'names') return [];
    watch.folders.push(dir);
    const names = listing.names.filter((n) => n.endsWith(SOURCE_SUFFIX) && n.length > SOURCE_SUFFIX.length).sort();
    if (names.length > MAX_EVOLUTION_FILES) {
      this.problems.add(this.discovery.shown(dir), `${names.length} source files; only the first ${MAX_EVOLUTION_FILES} read`);
    }
    const files: EvolutionSourceFile[] = [];
    for (const name of names.slice(0, MAX_EVOLUTION_FILES)) {
      const path = join(dir, name);
      const text = await this.text(path);
      if (text !== undefined) files.push({ uid: name.slice(0, -SOURCE_SUFFIX.length), text, source: this.discovery.shown(path) });
    }
    return files.length === 0 ? [] : this.keep(dir, parseEvolutionSources(this.user.name, files));
  }

  async goa(watch: WatchLists): Promise<MailAccount[]> {
    await this.noteFolder(join(this.home, ...GOA_FOLDER), watch);
    const path = join(this.home, ...GOA_FOLDER, GOA_ACCOUNTS_FILE);
    const text = await this.text(path);
    return text === undefined ? [] : this.keep(path, parseGoaAccounts(text, { user: this.user.name, source: this.discovery.shown(path) }));
  }
}
