import { watch, type FSWatcher } from 'chokidar';
import type { MailAccountDiscoveryResult } from './mail-account-discovery.js';
import { isRelevantPath, type MailWatchTargets } from './mail-watch-paths.js';

/** The slice of a logger the watcher uses. */
export interface MailWatcherLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface MailAccountWatcherOptions {
  /** The accounts and where to look; run again after each burst of changes (MailAccountDiscovery.discover fits). */
  readonly discover: () => Promise<Pick<MailAccountDiscoveryResult, 'accounts' | 'total' | 'problems' | 'watchTargets'>>;
  /** Called when, after a burst of changes and `debounceMs` of quiet, the accounts found differ. Must not throw. */
  readonly onChange: () => void;
  readonly logger: MailWatcherLogger;
  /** Default 2 s: Thunderbird writes prefs.js several times when an account is added. */
  readonly debounceMs?: number;
}

export const DEFAULT_MAIL_WATCH_DEBOUNCE_MS = 2_000;

/**
 * Watches the mail configuration of every home so that a new account reaches the inventory within
 * seconds rather than at the next scheduled round. One chokidar watcher over the homes, told by
 * isRelevantPath to look only at the files that hold accounts and the folders leading to them
 * (so `~/.thunderbird` created by a first start is seen, and nothing under the mail stores is
 * watched). Symbolic links are not followed: discovery alone decides what may be read.
 *
 * A change of a file is not yet a change of the accounts: Thunderbird rewrites prefs.js for any
 * preference. So after each burst the watcher runs discovery again (a few small files) and calls
 * onChange only when what it finds differs, sparing a whole inventory round for nothing.
 *
 * Starts on construction and never throws into the caller: failures are logged and the agent
 * runs on without the watch (the scheduled inventory still reports accounts).
 */
export class MailAccountWatcher {
  private readonly options: MailAccountWatcherOptions;
  private readonly debounceMs: number;
  private targets: MailWatchTargets = { homes: [], profileDirs: [], folders: [] };
  /** What the last discovery found, to tell a real change from a rewrite. */
  private fingerprint = '';
  private readonly watched = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private stopWaiting: (() => void) | undefined;
  /** Settles once the first scan is done (or failed); tests wait on it before changing files. */
  readonly ready: Promise<void>;

  constructor(options: MailAccountWatcherOptions) {
    this.options = options;
    this.debounceMs = options.debounceMs ?? DEFAULT_MAIL_WATCH_DEBOUNCE_MS;
    if (!Number.isInteger(this.debounceMs) || this.debounceMs < 0) {
      throw new RangeError(`debounceMs must be a non-negative integer (got ${this.debounceMs})`);
    }
    this.ready = this.start().catch((err: unknown) => {
      this.options.logger.warn('mail account watch could not start; new accounts wait for the next inventory', { error: (err as Error).message });
    });
  }

  private async start(): Promise<void> {
    await this.rediscover();
    if (this.closed) return;
    const initial = this.unwatched();
    const watcher = watch(initial, {
      ignoreInitial: true,
      followSymlinks: false,
      persistent: true,
      ignored: (path: string) => !isRelevantPath(path, this.targets),
    });
    this.watcher = watcher;
    watcher.on('all', () => this.changed());
    watcher.on('error', (err: unknown) => this.options.logger.warn('mail account watch error', { error: err instanceof Error ? err.message : String(err) }));
    // chokidar says ready once the paths it was given are scanned; given none, it never does.
    if (initial.length > 0) {
      await new Promise<void>((resolve) => {
        this.stopWaiting = resolve;
        watcher.once('ready', () => resolve());
      });
    }
    if (this.closed) return;
    this.options.logger.info('watching mail account configuration', { homes: this.targets.homes.length, profileDirs: this.targets.profileDirs.length });
  }

  /** Target paths not watched yet, marked as watched. */
  private unwatched(): string[] {
    const { homes, profileDirs, folders } = this.targets;
    const paths = [...new Set([...homes, ...folders, ...profileDirs])].filter((p) => !this.watched.has(p));
    for (const path of paths) this.watched.add(path);
    return paths;
  }

  private changed(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      void this.recheck();
    }, this.debounceMs);
  }

  /** Runs discovery; true when the accounts (or what could not be read) differ from last time. */
  private async rediscover(): Promise<boolean> {
    const { accounts, total, problems, watchTargets } = await this.options.discover();
    this.targets = watchTargets;
    const fingerprint = JSON.stringify([accounts, total, problems]);
    const changed = fingerprint !== this.fingerprint;
    this.fingerprint = fingerprint;
    return changed;
  }

  private async recheck(): Promise<void> {
    try {
      let changed = await this.rediscover();
      if (this.closed) return;
      // New folders (a profile, a client's first start) are watched from now on; what was written
      // in them before the watch began is caught by reading once more.
      const paths = this.unwatched();
      if (paths.length > 0) {
        this.watcher?.add(paths);
        changed = (await this.rediscover()) || changed;
        if (this.closed) return;
      }
      if (changed) this.options.onChange();
    } catch (err) {
      this.options.logger.warn('mail account watch could not read the accounts again', { error: (err as Error).message });
    }
  }

  /** Stops watching; a start still under way stops where it is. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWaiting?.();
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }
}
