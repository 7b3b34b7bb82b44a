import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The agent's real command line, as installed (test/dist/e2e/support → agent/bin). */
export const AGENT_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'agent', 'bin', 'portcullis-agent.js');

/**
 * PORTCULLIS_AGENT_BIN names a packaged agent (the single-file binary) to run directly instead of
 * node + AGENT_BIN: the installers' tests run this suite against what ships.
 */
function agentCommand(args: readonly string[]): [string, string[]] {
  const packaged = process.env.PORTCULLIS_AGENT_BIN;
  return packaged ? [packaged, [...args]] : [process.execPath, [AGENT_BIN, ...args]];
}

/** A clean environment: the service must not depend on (or honour) the caller's NODE_OPTIONS. */
function agentEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...rest } = process.env;
  return { ...rest, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one agent command to completion. */
export function agentCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = agentCommand(args);
    const child = spawn(command, commandArgs, { env: agentEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `portcullis-agent run`; its stderr is kept for failure messages. */
export class AgentProcess {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    const [command, commandArgs] = agentCommand(['run', ...args]);
    this.child = spawn(command, commandArgs, { env: agentEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-20_000);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  kill9(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

export interface StatusFile {
  pid: number;
  connected: boolean;
  policy: { group: string; version: number; source: string };
  spool: { depth: number; lastSeq: number; ackedSeq: number };
  lastEvent: { seq: number; type: string } | null;
  devices: number;
}

export async function readStatusFile(stateDir: string): Promise<StatusFile | null> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'status.json'), 'utf8')) as StatusFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // A status file is replaced atomically; anything else is a real failure.
    throw err;
  }
}
