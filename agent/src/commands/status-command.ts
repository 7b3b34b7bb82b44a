import { PortcullisError } from '@portcullis/shared';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { STATUS_FILE, defaultStateDir, readStatus, type AgentStatus } from '../state/status-file.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, type CommandIo } from './io.js';

/** systemctl's exit code for an inactive unit, so scripts can treat both alike. */
export const NOT_RUNNING = 3;
/** The service rewrites its status every few seconds; one older than this is a dead service's. */
export const STALE_AFTER_MS = 60_000;

export const STATUS_HELP = `Usage: portcullis-agent status [--state DIR] [--json]

Shows whether the agent service is running and what it last reported: the server connection,
this computer's identity, the policy in force, events waiting to be sent, the last event and
the USB devices present.

  --state DIR   state folder (default ${defaultStateDir()})
  --json        print the service's last status as one JSON object, plus "running"
  -h, --help    show this help

The service counts as running when its process is alive and it updated ${STATUS_FILE} in the
last ${STALE_AFTER_MS / 1000} seconds.
Exit codes: 0 running; 1 the status file cannot be read or is malformed; 2 bad command line;
${NOT_RUNNING} not running (as systemctl status answers for an inactive service).
`;

/** The clock and the process check; tests pass their own. */
export interface StatusCommandDeps {
  readonly now?: () => Date;
  readonly isAlive?: (pid: number) => boolean;
}

/** Signal 0 checks a process exists without touching it; EPERM means it exists but is not ours. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Running = the process is alive and its status is fresh. Both, because a pid is reused after a
 * crash, and a fresh file alone may be from a process that just died. A status from the future
 * beyond the same margin (the clock was set back) is not taken as fresh either.
 */
export function isRunning(status: AgentStatus, now: Date, isAlive: (pid: number) => boolean): boolean {
  const age = now.getTime() - Date.parse(status.updatedAt);
  return Math.abs(age) < STALE_AFTER_MS && isAlive(status.pid);
}

export async function statusCommand(argv: readonly string[], io: CommandIo, deps: StatusCommandDeps = {}): Promise<number> {
  const { values } = withUsageErrors('status', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        state: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(STATUS_HELP);
    return Exit.OK;
  }
  const stateDir = values.state ?? defaultStateDir();
  let status: AgentStatus | null;
  try {
    status = await readStatus(stateDir);
  } catch (err) {
    if (err instanceof PortcullisError) throw new CommandError(`status: ${err.message}`, Exit.BAD_INPUT);
    throw err;
  }
  const now = (deps.now ?? (() => new Date()))();
  if (status === null) {
    const line = `portcullis-agent is not running (no ${join(stateDir, STATUS_FILE)}: the service has not run with this state folder)\n`;
    if (values.json) io.stderr(line);
    else io.stdout(line);
    return NOT_RUNNING;
  }
  const running = isRunning(status, now, deps.isAlive ?? isProcessAlive);
  if (values.json) {
    io.stdout(`${JSON.stringify({ ...status, running })}\n`);
  } else {
    io.stdout(running ? summary(status, now) : notRunning(status, now, deps.isAlive ?? isProcessAlive));
  }
  return running ? Exit.OK : NOT_RUNNING;
}

function summary(s: AgentStatus, now: Date): string {
  const server =
    s.serverUrl === null
      ? 'not enrolled (run portcullis-agent enroll)'
      : `${s.serverUrl}, ${s.connected ? 'connected' : `not connected (${s.lastConnectedAt === null ? 'never connected' : `last connected ${s.lastConnectedAt}`})`}`;
  const source = s.policy.source === 'cache' ? 'signed, from the server' : 'built-in default';
  const waiting = `${s.spool.depth} event${s.spool.depth === 1 ? '' : 's'} waiting (${s.spool.bytes} bytes)`;
  const lastEvent = s.lastEvent === null ? 'none' : `#${s.lastEvent.seq} ${s.lastEvent.type} at ${s.lastEvent.at}`;
  return [
    `portcullis-agent is running (pid ${s.pid}, since ${s.startedAt})`,
    `  server:      ${server}`,
    `  agent id:    ${s.agentId ?? 'none'}`,
    `  policy:      group ${s.policy.group}, version ${s.policy.version} (${source})`,
    `  spool:       ${waiting}; last seq ${s.spool.lastSeq}, acknowledged ${s.spool.ackedSeq}`,
    `  last event:  ${lastEvent}`,
    `  USB devices: ${s.devices}`,
    `  updated:     ${ago(now.getTime() - Date.parse(s.updatedAt))}`,
    '',
  ].join('\n');
}

function notRunning(s: AgentStatus, now: Date, isAlive: (pid: number) => boolean): string {
  const age = now.getTime() - Date.parse(s.updatedAt);
  const why = isAlive(s.pid)
    ? `process ${s.pid} exists, but its status was last updated ${ago(age)}`
    : `process ${s.pid} is gone; it last wrote its status ${ago(age)}, at ${s.updatedAt}`;
  return `portcullis-agent is not running (${why})\n`;
}

function ago(ms: number): string {
  if (ms < 0) return `${Math.round(-ms / 1000)} s in the future (clock changed?)`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}
