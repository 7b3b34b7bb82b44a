import { execFile } from 'node:child_process';
import type { InstalledPackage, SoftwareSource } from './inventory-model.js';

export interface SoftwareList {
  readonly source: SoftwareSource;
  /** Sorted by name, then version; exact duplicates removed. */
  readonly packages: readonly InstalledPackage[];
  /** Lines of the tool's output that did not read as a package. */
  readonly skipped: number;
}

/** Lists the installed packages: `{source: 'none'}` when the PC has no package manager it knows. */
export interface SoftwareLister {
  list(): Promise<SoftwareList>;
}

/**
 * dpkg's status column is asked for because `dpkg-query -W` also lists packages that are removed
 * but whose configuration files remain (`rc`), which are not installed software.
 */
export const DPKG_QUERY_ARGS = ['-W', '-f', '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'] as const;
export const RPM_QUERY_ARGS = ['-qa', '--qf', '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'] as const;

const MAX_FIELD_CHARS = 200;
const NO_SPACE = /^\S+$/;
/** Desired state, current state, optional error flag: `ii`, `rc`, `iU`, `hiR`. */
const DPKG_STATUS = /^[uihrp][ncHUFWti][R ]?$/;

/**
 * Reads the package list `dpkg-query` or `rpm` prints: one package a line, tab-separated name and
 * version, and for dpkg a third column, the status abbreviation (desired state, current state,
 * error flag):
 *
 *     adduser	3.134	ii
 *     libc6	2.36-9+deb12u4	ii
 *     old-tool	1.0-1	rc
 *
 * or from rpm:
 *
 *     bash	5.2.15-5.fc39
 *     gpg-pubkey	18b8e74c-62f2920f
 *
 * A package whose current state is `n` (not installed) or `c` (only its configuration files
 * remain) is left out. Lines that do not read as a package (no tab, empty or spaced fields, more
 * than three columns, fields over 200 characters) are skipped and counted, not fatal: one odd
 * line must not cost the whole list.
 */
export function parsePackageList(text: string): { packages: InstalledPackage[]; skipped: number } {
  const packages: InstalledPackage[] = [];
  let skipped = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    const [name, version, status, ...extra] = line.split('\t');
    const state = status?.trim();
    // Known to dpkg but not installed: such a line often has no version, and is no error.
    if (state !== undefined && DPKG_STATUS.test(state) && (state[1] === 'n' || state[1] === 'c')) continue;
    if (!isField(name) || !isField(version) || extra.length > 0 || (state !== undefined && !DPKG_STATUS.test(state))) {
      skipped++;
      continue;
    }
    packages.push({ name, version });
  }
  packages.sort(comparePackages);
  const unique = packages.filter((p, i) => i === 0 || comparePackages(p, packages[i - 1] as InstalledPackage) !== 0);
  return { packages: unique, skipped };
}

function isField(value: string | undefined): value is string {
  return value !== undefined && value.length > 0 && value.length <= MAX_FIELD_CHARS && NO_SPACE.test(value);
}

/** Code-unit order, not locale order: the same list sorts the same on every agent. */
export function comparePackages(a: InstalledPackage, b: InstalledPackage): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return 0;
}

/** What running a tool came to: its output, the tool is not installed, or it failed (why). */
export type RunResult =
  | { readonly status: 'ok'; readonly stdout: string }
  | { readonly status: 'missing' }
  | { readonly status: 'failed'; readonly message: string };

export type CommandRunner = (file: string, args: readonly string[], options: { readonly timeoutMs: number }) => Promise<RunResult>;

/** Room for a 200k-package list (about 40 bytes a line) with margin. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Runs a tool without a shell; never rejects. A timed-out tool is killed. */
export const execFileRunner: CommandRunner = (file, args, { timeoutMs }) =>
  new Promise((resolve) => {
    const env = { ...process.env, LC_ALL: 'C' };
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, env, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ status: 'ok', stdout });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') resolve({ status: 'missing' });
      else if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') resolve({ status: 'failed', message: `${file} printed more than ${MAX_OUTPUT_BYTES} bytes` });
      else if (error.killed) resolve({ status: 'failed', message: `${file} timed out after ${timeoutMs} ms` });
      else {
        const firstLine = stderr.split('\n', 1)[0]?.trim() ?? '';
        resolve({ status: 'failed', message: `${file} exited with status ${String(code)}${firstLine ? `: ${firstLine}` : ''}` });
      }
    });
  });

export interface PackageManagerListerOptions {
  readonly run?: CommandRunner;
  /** Per tool; below the collector's own timeout so the child is killed, not orphaned. */
  readonly timeoutMs?: number;
}

export const DEFAULT_LISTER_TIMEOUT_MS = 15_000;

/**
 * Installed software from dpkg, else rpm. dpkg is tried first; rpm when dpkg-query is missing or
 * fails (a Fedora box may carry dpkg with an empty database). Neither installed (Windows, Alpine)
 * is an answer, `source: 'none'`; a tool that is there but fails is an error the collector
 * reports in the section.
 */
export class PackageManagerSoftwareLister implements SoftwareLister {
  private readonly run: CommandRunner;
  private readonly timeoutMs: number;

  constructor(options: PackageManagerListerOptions = {}) {
    this.run = options.run ?? execFileRunner;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_LISTER_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`software lister timeoutMs must be a positive integer (got ${this.timeoutMs})`);
    }
  }

  async list(): Promise<SoftwareList> {
    const dpkg = await this.run('dpkg-query', DPKG_QUERY_ARGS, { timeoutMs: this.timeoutMs });
    if (dpkg.status === 'ok') return { source: 'dpkg', ...parsePackageList(dpkg.stdout) };
    const rpm = await this.run('rpm', RPM_QUERY_ARGS, { timeoutMs: this.timeoutMs });
    if (rpm.status === 'ok') return { source: 'rpm', ...parsePackageList(rpm.stdout) };
    if (dpkg.status === 'missing' && rpm.status === 'missing') return { source: 'none', packages: [], skipped: 0 };
    const failures = [dpkg, rpm].flatMap((r) => (r.status === 'failed' ? [r.message] : []));
    throw new Error(`could not list installed packages: ${failures.join('; ')}`);
  }
}
