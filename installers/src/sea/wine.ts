import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR } from './layout.js';
import { toolEnv } from './sea-blob.js';

const execFileAsync = promisify(execFile);

export interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Debian's wine64 package installs its loader outside PATH unless the `wine` package is there too. */
const FALLBACK_DIR = '/usr/lib/wine';

async function findTool(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), FALLBACK_DIR];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    }
  }
  throw new Error(`${name} not found in PATH nor in ${FALLBACK_DIR} (apt-get install wine64)`);
}

/**
 * A wine prefix set to Windows 10, kept under installers/.cache/wineprefix/<wine version> so that
 * only the first run pays for creating it (20-60 s). Programs' output is redirected to files, not
 * pipes: wine's console handling mangles a pipe's output.
 */
export class Wine {
  private constructor(
    readonly wine64: string,
    readonly wineserver: string,
    readonly version: string,
    readonly prefix: string,
  ) {}

  static async open(cacheDir: string = CACHE_DIR): Promise<Wine> {
    const wine64 = await findTool('wine64');
    const wineserver = await findTool('wineserver');
    const { stdout } = await execFileAsync(wine64, ['--version'], { env: toolEnv(), timeout: 30_000 });
    const version = stdout.trim();
    const prefix = join(cacheDir, 'wineprefix', version.replace(/[^A-Za-z0-9.-]+/g, '_'));
    const wine = new Wine(wine64, wineserver, version, prefix);
    await wine.ensurePrefix();
    return wine;
  }

  env(): NodeJS.ProcessEnv {
    const { DISPLAY: _noDisplay, ...rest } = toolEnv();
    // No Mono or Gecko: creating a prefix would otherwise try to download and install them.
    return { ...rest, WINEPREFIX: this.prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  }

  private async ensurePrefix(): Promise<void> {
    const marker = join(this.prefix, '.portcullis-win10');
    try {
      await access(marker);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await mkdir(this.prefix, { recursive: true, mode: 0o700 });
    const set = await this.run('winecfg', ['-v', 'win10'], { timeoutMs: 180_000 });
    if (set.code !== 0) throw new Error(`wine64 winecfg -v win10 exited with ${set.code}: ${set.stderr.trim()}`);
    await writeFile(marker, `${this.version}\n`);
  }

  /** A Linux path as the Windows program sees it (wine maps / to drive Z:). */
  windowsPath(path: string): string {
    return `Z:${path.replaceAll('/', '\\')}`;
  }

  /** Runs a Windows program (a path, or a builtin such as winecfg) to completion. */
  async run(program: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<WineResult> {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-wine-'));
    const out = await open(join(dir, 'stdout'), 'w');
    const err = await open(join(dir, 'stderr'), 'w');
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(this.wine64, [program, ...args], { cwd: options.cwd, env: this.env(), stdio: ['ignore', out.fd, err.fd] });
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`wine64 ${program} ${args.join(' ')}: no exit after ${options.timeoutMs ?? 120_000} ms`));
        }, options.timeoutMs ?? 120_000);
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      return { code, stdout: await readFile(join(dir, 'stdout'), 'utf8'), stderr: await readFile(join(dir, 'stderr'), 'utf8') };
    } finally {
      await out.close();
      await err.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stops this prefix's wineserver and every Windows process it still runs. */
  async stop(): Promise<void> {
    await execFileAsync(this.wineserver, ['-k'], { env: this.env(), timeout: 60_000 }).catch((e: { code?: number }) => {
      // wineserver -k exits 1 when no server runs for the prefix: nothing left to stop.
      if (e.code !== 1) throw e;
    });
  }
}
