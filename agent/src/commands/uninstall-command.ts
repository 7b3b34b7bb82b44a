import { createHash, createHmac } from 'node:crypto';
import { access, readFile, stat } from 'node:fs/promises';
import { hostname, release, type as osType, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkUninstallCode, type UninstallMac } from '@portcullis/shared';
import { ServerLink, type LinkLogger } from '../link/server-link.js';
import { FileSpool } from '../spool/file-spool.js';
import type { NewSpoolEvent, Spool, SpoolLogger } from '../spool/spool.js';
import { SpoolError, SpoolErrorCodes } from '../spool/spool-error.js';
import { LOCK_FILE } from '../spool/spool-lock.js';
import { identityPath, loadIdentity, type AgentIdentity } from '../state/identity-store.js';
import { StateError } from '../state/state-error.js';
import { defaultStateDir, readStatus } from '../state/status-file.js';
import { VERSION } from '../version.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, type CommandIo } from './io.js';
import { isProcessAlive, isRunning } from './status-command.js';

export const CODE_ENV = 'PORTCULLIS_UNINSTALL_CODE';
export const FORCE_ENV = 'PORTCULLIS_FORCE_REMOVE';
/** Removal refused: no valid code, and no forced removal by root. */
export const REFUSED = 4;
/** How long the command tries to get its event acknowledged. */
export const REPORT_TIMEOUT_MS = 10_000;
const MAX_CODE_FILE_BYTES = 1024;

export const UNINSTALL_HELP = `Usage: portcullis-agent uninstall --check [--code-file FILE] [--state DIR]

Tamper protection: the package's removal script runs this first and removes the agent only when
it exits 0. Removal needs this computer's uninstall code, which a Portcullis admin gets from the
console (Computers → the computer → Uninstall code). A code works only for this computer, on the
UTC day it was made and the next; the agent checks it without the network.

Give the code in the ${CODE_ENV} environment variable or in a file, never on
the command line, where other users can read it (ps):

  sudo ${CODE_ENV}=XXXX-XXXX-XXXX apt remove portcullis-agent

  --check           check whether removal may go on (required)
  --code-file FILE  read the code from FILE (readable by its owner only, mode 0600)
  --state DIR       state folder (default ${defaultStateDir()})
  -h, --help        this help

With a valid code, an agent.uninstalled event (medium) is queued and sent to the server, for at
most ${REPORT_TIMEOUT_MS / 1000} s. Root may remove the agent without a code by setting ${FORCE_ENV}=1: an
agent.uninstall event (high) goes to the server first, and the command waits up to ${REPORT_TIMEOUT_MS / 1000} s for
the server's acknowledgement; the removal goes on even when the server cannot be reached.
Either way a running agent service is stopped, so that its spool can carry the event.

Exit codes: 0 removal may go on (also when this computer is not enrolled: nothing to protect);
2 bad command line; ${REFUSED} removal refused.
`;

/** What tests replace: the environment, the clock, who runs it, how the event reaches the server. */
export interface UninstallCommandDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  /** Whether the caller may force a removal: root on Linux (see isPrivileged). */
  readonly privileged?: () => boolean;
  readonly hostname?: () => string;
  /** Which removal command the refusal shows (default: this process's platform). */
  readonly platform?: NodeJS.Platform;
  readonly report?: (request: RemovalReport) => Promise<ReportOutcome>;
}

/** The removal line for the package this platform's agent comes in (the .deb, the .msi). */
function removalCommand(platform: NodeJS.Platform): string {
  return platform === 'win32'
    ? 'msiexec /x portcullis-agent-<version>-x64.msi /qn UNINSTALLCODE=XXXX-XXXX-XXXX (as an administrator)'
    : `sudo ${CODE_ENV}=XXXX-XXXX-XXXX apt remove portcullis-agent`;
}

/**
 * Root on POSIX. Windows has no uid: there the state folder's ACL already limits who can read
 * the identity this command needs, and the installer runs it elevated.
 */
function isPrivileged(): boolean {
  return typeof process.getuid === 'function' ? process.getuid() === 0 : true;
}

/** The agent's side of the code's key: SHA-256 of its secret, the hash the server stores. */
export function agentUninstallMac(secret: string): UninstallMac {
  const key = createHash('sha256').update(secret, 'utf8').digest();
  return (message) => createHmac('sha256', key).update(message, 'utf8').digest();
}

export async function uninstallCommand(argv: readonly string[], io: CommandIo, deps: UninstallCommandDeps = {}): Promise<number> {
  if (argv.some((a) => a === '--code' || a.startsWith('--code='))) {
    throw new CommandError(
      `uninstall: the code is not taken on the command line, where other users can read it (ps); set ${CODE_ENV} or use --code-file FILE`,
      Exit.USAGE,
    );
  }
  const { values } = withUsageErrors('uninstall', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        check: { type: 'boolean' },
        'code-file': { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(UNINSTALL_HELP);
    return Exit.OK;
  }
  if (!values.check) throw new CommandError('uninstall: --check is required: the package manager removes the agent, this command says whether it may (see --help)', Exit.USAGE);
  const env = deps.env ?? process.env;
  const force = readForce(env[FORCE_ENV]);
  const input = await readCode(env[CODE_ENV], values['code-file']);
  const stateDir = resolve(values.state ?? defaultStateDir());
  const host = (deps.hostname ?? hostname)();
  const refusal = `removal of the Portcullis agent needs an uninstall code: ask a Portcullis admin for this PC's code (console: Computers → ${host} → Uninstall code) and run: ${removalCommand(deps.platform ?? process.platform)}`;

  const loaded = await loadIdentityIfEnrolled(stateDir);
  if (loaded === null) {
    io.stdout(`portcullis-agent uninstall: this computer is not enrolled (no ${identityPath(stateDir)}): nothing to protect, removal may go on\n`);
    return Exit.OK;
  }
  const privileged = (deps.privileged ?? isPrivileged)();
  const now = (deps.now ?? (() => new Date()))();
  const report = deps.report ?? reportRemoval;
  const common = { user: localUser(env), agentVersion: VERSION, via: env.DPKG_MAINTSCRIPT_NAME !== undefined ? 'dpkg' : 'command' };

  if (loaded instanceof StateError) {
    // Without the identity the code cannot be checked, nor the server told: only root may go on.
    if (force && privileged) {
      io.stderr(`portcullis-agent uninstall: forced removal; the server cannot be told: ${loaded.message}\n`);
      return Exit.OK;
    }
    throw new CommandError(`uninstall: ${loaded.message}\nthe uninstall code cannot be checked without it (run as root); ${refusal}`, REFUSED);
  }
  const identity = loaded;

  let rejected: { reason: string; message: string } | null = null;
  if (input !== null) {
    const checked = checkUninstallCode(agentUninstallMac(identity.secret), identity.agentId, input, now);
    if (checked.ok) {
      io.stdout(`portcullis-agent uninstall: the uninstall code is valid (made for ${checked.day}, UTC): removal may go on\n`);
      const event: NewSpoolEvent = { type: 'agent.uninstalled', severity: 'medium', occurredAt: now.toISOString(), data: { method: 'code', codeDay: checked.day, ...common } };
      describeOutcome(await safely(report, { stateDir, identity, event, timeoutMs: REPORT_TIMEOUT_MS }), event.type, io);
      return Exit.OK;
    }
    rejected = { reason: checked.reason, message: checked.message };
  }

  if (force) {
    if (!privileged) throw new CommandError(`uninstall: ${FORCE_ENV}=1 is for root only; ${refusal}`, REFUSED);
    if (rejected !== null) io.stderr(`portcullis-agent uninstall: ${rejected.message}; going on because ${FORCE_ENV}=1\n`);
    io.stderr(`portcullis-agent uninstall: forced removal by root: telling the server first (up to ${REPORT_TIMEOUT_MS / 1000} s)\n`);
    const data = { method: 'forced', ...common, ...(rejected === null ? {} : { codeRejected: rejected.reason }) };
    const event: NewSpoolEvent = { type: 'agent.uninstall', severity: 'high', occurredAt: now.toISOString(), data };
    describeOutcome(await safely(report, { stateDir, identity, event, timeoutMs: REPORT_TIMEOUT_MS }), event.type, io);
    return Exit.OK;
  }
  throw new CommandError(rejected === null ? refusal : `uninstall: ${rejected.message}\n${refusal}`, REFUSED);
}

/** `1` forces, absent or empty does not; anything else is a typo that must not pass silently. */
function readForce(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (value === '1') return true;
  throw new CommandError(`uninstall: ${FORCE_ENV} must be 1 to force a removal, or unset`, Exit.USAGE);
}

/** The code from the environment or a file (exactly one); null when neither gives one. */
async function readCode(fromEnv: string | undefined, file: string | undefined): Promise<string | null> {
  const envCode = fromEnv === undefined || fromEnv.trim() === '' ? null : fromEnv;
  if (file === undefined) return envCode;
  if (envCode !== null) throw new CommandError(`uninstall: give the code either in ${CODE_ENV} or with --code-file, not both`, Exit.USAGE);
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CommandError(`uninstall: ${file}: not a regular file`, Exit.USAGE);
    // POSIX permission bits mean nothing on Windows; there the file's ACL protects it.
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new CommandError(`uninstall: ${file} has mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}: a code file must be readable by its owner only (chmod 600 ${file})`, Exit.USAGE);
    }
    if (st.size > MAX_CODE_FILE_BYTES) throw new CommandError(`uninstall: ${file} is ${st.size} bytes; a code file holds one code`, Exit.USAGE);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(`uninstall: ${file}: cannot read the code file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, Exit.USAGE);
  }
  if (text.trim() === '') throw new CommandError(`uninstall: ${file} is empty: it must hold the uninstall code`, Exit.USAGE);
  return text;
}

/** null: not enrolled; a StateError: enrolled, but the identity cannot be read or is damaged. */
async function loadIdentityIfEnrolled(stateDir: string): Promise<AgentIdentity | StateError | null> {
  try {
    await access(identityPath(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Anything else (a folder root alone may enter) is reported by loadIdentity with the path.
  }
  try {
    return await loadIdentity(stateDir);
  } catch (err) {
    if (err instanceof StateError) return err;
    throw err;
  }
}

/** Who removes it: the sudo caller when run through sudo, else the login. */
function localUser(env: NodeJS.ProcessEnv): string {
  const name = env.SUDO_USER ?? env.LOGNAME ?? safeUsername();
  return name.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 64) || 'unknown';
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch (err) {
    // A uid with no passwd entry (containers): the event still says something.
    return `unknown (${(err as Error).message.slice(0, 40)})`;
  }
}

/** Reporting is best effort: its failure is told, and never turns an allowed removal into a refused one. */
async function safely(report: (r: RemovalReport) => Promise<ReportOutcome>, request: RemovalReport): Promise<ReportOutcome> {
  try {
    return await report(request);
  } catch (err) {
    return { seq: null, acked: false, stoppedPid: null, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** Says plainly whether the server has the event: for a forced removal that is the audit trail. */
function describeOutcome(outcome: ReportOutcome, type: string, io: CommandIo): void {
  if (outcome.stoppedPid !== null) {
    io.stdout(`portcullis-agent uninstall: stopped the agent service (pid ${outcome.stoppedPid}) to send the event; the removal stops it anyway (if nothing is removed: systemctl start portcullis-agent)\n`);
  }
  if (outcome.seq === null) {
    io.stderr(`portcullis-agent uninstall: the ${type} event could not be queued (${outcome.detail ?? 'no reason given'}): the server will not hear of this removal\n`);
  } else if (outcome.acked) {
    io.stdout(`portcullis-agent uninstall: the server acknowledged the ${type} event (#${outcome.seq})\n`);
  } else {
    io.stderr(
      `portcullis-agent uninstall: the server did not acknowledge the ${type} event (#${outcome.seq}) within ${REPORT_TIMEOUT_MS / 1000} s` +
        `${outcome.detail === null ? '' : ` (${outcome.detail})`}: it stays in the spool, which is deleted with the agent, so the server may never receive it\n`,
    );
  }
}

// ---- telling the server -------------------------------------------------------------------

/** The spool's folder in the state folder, as main.ts lays it out. */
const SPOOL_DIR = 'spool';
const POLL_MS = 50;

export interface RemovalReport {
  readonly stateDir: string;
  readonly identity: AgentIdentity;
  readonly event: NewSpoolEvent;
  readonly timeoutMs: number;
}

export interface ReportOutcome {
  /** The event's seq in the spool; null when it could not be queued. */
  readonly seq: number | null;
  readonly acked: boolean;
  /** The agent service this command stopped to take over its spool. */
  readonly stoppedPid: number | null;
  /** Why the event was not queued or not acknowledged: the last thing the spool or link reported. */
  readonly detail: string | null;
}

/** What tests replace: the connection to the server, and how a running service is stopped. */
export interface ReportHooks {
  readonly connect: (identity: AgentIdentity, spool: Spool, logger: LinkLogger) => { start(): void; stop(): Promise<void> };
  readonly stopService: (pid: number) => void;
}

const NODE_HOOKS: ReportHooks = {
  connect: (identity, spool, logger) => {
    const url = new URL(identity.serverUrl);
    url.protocol = 'wss:';
    url.pathname = '/agent';
    return new ServerLink({
      url: url.href,
      agentId: identity.agentId,
      secret: identity.secret,
      caCertPem: identity.caCertPem,
      spool,
      // This connection enforces nothing, so it claims no policy version.
      hello: () => ({ agentVersion: VERSION, hostname: hostname().slice(0, 253) || 'unknown', os: `${osType()} ${release()}`.slice(0, 200), appliedVersion: null, spoolDepth: spool.depth() }),
      clock: () => performance.now(),
      random: Math.random,
      // Seconds to work with, not the service's minutes.
      backoff: { baseMs: 250, capMs: 2000 },
      heartbeatMs: 5000,
      logger,
      // Policies and commands are the service's business; this connection only delivers events.
      onMessage: () => undefined,
    });
  },
  stopService: (pid) => process.kill(pid, 'SIGTERM'),
};

/**
 * Queues the event in the agent's spool and lets one server link deliver the spool until the
 * server acknowledges the event or the time is up. The spool and not a side channel: the event
 * then takes the next seq after everything the agent queued, never one the service used, and the
 * server's ack of it means it holds every event before it too.
 * A running service holds the spool (spool.lock): it is asked to stop (SIGTERM), as the removal
 * would do next anyway; it queues its own agent.stopping and releases the spool.
 */
export async function reportRemoval(request: RemovalReport, hooks: ReportHooks = NODE_HOOKS): Promise<ReportOutcome> {
  const deadline = performance.now() + request.timeoutMs;
  const last: { detail: string | null } = { detail: null };
  const logger: LinkLogger & SpoolLogger = {
    info: () => undefined,
    warn: (message, meta) => {
      last.detail = typeof meta?.error === 'string' ? `${message}: ${meta.error}` : message;
    },
  };
  const opened = await openSpool(request.stateDir, deadline, logger, hooks);
  if (opened.spool === null) return { seq: null, acked: false, stoppedPid: opened.stoppedPid, detail: opened.detail };
  const spool = opened.spool;
  let seq: number | null = null;
  let acked = false;
  try {
    seq = (await spool.append([request.event]))[0]?.seq ?? null;
    if (seq !== null) {
      const link = hooks.connect(request.identity, spool, logger);
      link.start();
      try {
        for (;;) {
          acked = spool.stats().ackedSeq >= seq;
          if (acked || performance.now() >= deadline) break;
          await sleep(POLL_MS);
        }
      } finally {
        await link.stop();
      }
    }
  } catch (err) {
    last.detail = (err as Error).message;
  } finally {
    await spool.close().catch((err: unknown) => {
      last.detail = `the spool did not close cleanly: ${(err as Error).message}`;
    });
  }
  return { seq, acked, stoppedPid: opened.stoppedPid, detail: acked ? null : last.detail };
}

async function openSpool(
  stateDir: string,
  deadline: number,
  logger: SpoolLogger,
  hooks: ReportHooks,
): Promise<{ spool: FileSpool | null; stoppedPid: number | null; detail: string | null }> {
  const dir = join(stateDir, SPOOL_DIR);
  let stoppedPid: number | null = null;
  for (;;) {
    try {
      return { spool: await FileSpool.open(dir, { logger, clock: () => new Date() }), stoppedPid, detail: null };
    } catch (err) {
      if (!(err instanceof SpoolError) || err.code !== SpoolErrorCodes.LOCKED) return { spool: null, stoppedPid, detail: (err as Error).message };
      if (stoppedPid === null) {
        const pid = await spoolHeldByService(stateDir, dir).catch((whoErr: unknown) => {
          logger.warn('cannot tell which process holds the spool', { error: (whoErr as Error).message });
          return null;
        });
        if (pid !== null) {
          try {
            hooks.stopService(pid);
          } catch (stopErr) {
            // ESRCH: it ended meanwhile, and its lock is taken over at the next try.
            if ((stopErr as NodeJS.ErrnoException).code !== 'ESRCH') {
              return { spool: null, stoppedPid, detail: `the agent service (pid ${pid}) holds the spool and could not be stopped: ${(stopErr as Error).message}` };
            }
          }
          stoppedPid = pid;
        }
      }
      if (performance.now() >= deadline) {
        const why = stoppedPid === null ? '' : '; the agent service was asked to stop and did not release it in time';
        return { spool: null, stoppedPid, detail: `${err.message}${why}` };
      }
      await sleep(100);
    }
  }
}

/**
 * The agent service's pid when it is what holds the spool: its status file says it runs, and the
 * spool's lock names the same process. Anything less is not a reason to signal a process.
 */
async function spoolHeldByService(stateDir: string, spoolDir: string): Promise<number | null> {
  const status = await readStatus(stateDir);
  if (status === null || !isRunning(status, new Date(), isProcessAlive)) return null;
  const lock = await readFile(join(spoolDir, LOCK_FILE), 'utf8');
  const holder = Number.parseInt(lock.split(' ')[0] ?? '', 10);
  return holder === status.pid ? holder : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
