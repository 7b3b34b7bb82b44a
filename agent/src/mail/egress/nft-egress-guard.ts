import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { NFT_FAMILY, NFT_TABLE, renderMailEgressRemoval, renderMailEgressRuleset, type RulesetOptions } from './nft-ruleset.js';

/** What one `nft` run gave back. */
export interface NftResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `nft` with these arguments, `stdin` piped in when given. Resolves with the exit status;
 * rejects only when nft could not run at all (NftUnavailableError) or did not finish in time.
 */
export type NftRunner = (args: readonly string[], stdin?: string) => Promise<NftResult>;

/** nft is not installed (or not where we looked): the guard cannot be in force. */
export class NftUnavailableError extends Error {
  constructor(readonly path: string) {
    super(`nft not found at ${path} (install the nftables package)`);
    this.name = 'NftUnavailableError';
  }
}

/** Where distributions install nft; the first that exists is used (a fixed path: no PATH lookup as root). */
export const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'] as const;

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

export async function findNft(candidates: readonly string[] = NFT_CANDIDATES): Promise<string | null> {
  for (const path of candidates) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return null;
}

/**
 * The real runner: spawns nft (no shell) with a small fixed environment (LC_ALL=C keeps its
 * messages in English for the logs and the absent-table check), kills it after the timeout.
 */
export function spawnNftRunner(options: { nftPath?: string; timeoutMs?: number } = {}): NftRunner {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Found once; not finding it is not remembered, so installing nftables later is picked up.
  let found = options.nftPath ?? null;
  return async (args, stdin) => {
    found ??= await findNft();
    const path = found;
    if (path === null) throw new NftUnavailableError(NFT_CANDIDATES.join(' or '));
    return new Promise<NftResult>((resolve, reject) => {
      const child = spawn(path, [...args], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`nft ${args.join(' ')} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT' ? new NftUnavailableError(path) : error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal !== null ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      // A failed spawn closes stdin under us; the error is reported by 'error' above.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
  };
}

/**
 * The guard's table in the kernel, through nft: load (one atomic `nft -f -`), read back, remove.
 * Every write is checked by reading the table back; a failure throws with nft's own message.
 */
export class NftEgressGuard {
  constructor(
    private readonly run: NftRunner,
    private readonly options: RulesetOptions = {},
  ) {}

  /** The table as nft prints it, or null when it is not loaded. */
  async listing(): Promise<string | null> {
    const result = await this.run(['list', 'table', NFT_FAMILY, NFT_TABLE]);
    if (result.code === 0) return result.stdout;
    // nft's message for a table that does not exist (errno ENOENT), stable across 0.9 and 1.x.
    if (/No such file or directory/.test(result.stderr)) return null;
    throw nftFailed('listing the mail egress table', result);
  }

  /** Loads the ruleset for these servers and returns the table read back. */
  async apply(servers: readonly string[]): Promise<string> {
    const result = await this.run(['-f', '-'], renderMailEgressRuleset(servers, this.options));
    if (result.code !== 0) throw nftFailed('loading the mail egress table', result);
    const listing = await this.listing();
    if (listing === null || !/hook output/.test(listing) || !/reject with tcp reset/.test(listing)) {
      throw new Error(`the mail egress table is not in place after loading it (read back: ${listing === null ? 'no table' : 'incomplete'})`);
    }
    return listing;
  }

  /** Removes the table; false when there was none. */
  async remove(): Promise<boolean> {
    if ((await this.listing()) === null) return false;
    const result = await this.run(['-f', '-'], renderMailEgressRemoval());
    if (result.code !== 0) throw nftFailed('removing the mail egress table', result);
    if ((await this.listing()) !== null) throw new Error('the mail egress table is still loaded after removing it');
    return true;
  }
}

/**
 * Takes the guard out of the kernel: for the uninstaller (packaging), never for a plain stop,
 * since the table must keep enforcing while the agent is down. True when a table was removed.
 */
export async function removeMailEgress(options: { run?: NftRunner } = {}): Promise<boolean> {
  return new NftEgressGuard(options.run ?? spawnNftRunner()).remove();
}

function nftFailed(what: string, result: NftResult): Error {
  const detail = result.stderr.trim().split('\n').slice(0, 6).join(' | ').slice(0, 800);
  return new Error(`${what} failed (nft exit ${result.code})${detail ? `: ${detail}` : ''}`);
}
