import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { LinuxAgentOptions, RunningAgent } from '../main.js';
import { defaultStateDir } from '../state/status-file.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, type CommandIo } from './io.js';

export const RUN_HELP = `Usage: portcullis-agent run [options]

Runs the agent service in the foreground (systemd runs it so): enforces the USB and port policy,
keeps the server informed, and keeps enforcing the cached policy when the server is away.
Stops cleanly on SIGTERM or SIGINT.

Options:
  --state DIR        state folder (default /var/lib/portcullis)
  --sysfs-root DIR   sysfs tree (default /sys); a fake tree for tests and demos
  --dev-root DIR     device nodes (default /dev); give it with --sysfs-root to control ports in a fake tree
  --rescan-ms N      full rescan interval in ms (default 5000)
  --hotplug MODE     udevadm (kernel uevents, default on /sys) or poll (default with --sysfs-root)
  --poll-ms N        sysfs polling interval when polling (default 1000, 200 with --sysfs-root)
  --no-inventory     do not collect the hardware/software inventory
  --mail-root DIR    where the users' mail client profiles are found (/etc/passwd and the homes
                     under it; default /); a fake tree for tests and demos
  --no-mail-egress   leave the firewall alone even when the policy asks for the mail egress guard
  --log-level LEVEL  error, warn, info (default) or debug
  --log-stderr       log to stderr too (default when stderr is a terminal)
  -h, --help         this help
`;

type Start = (options: LinuxAgentOptions) => Promise<RunningAgent>;

/** What the run command needs from the process (tests pass fakes). */
export interface ProcessHooks {
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  setUmask(mask: number): void;
  stderrIsTty: boolean;
}

const NODE_PROCESS: ProcessHooks = {
  onSignal: (signal, handler) => process.on(signal, handler),
  setUmask: (mask) => process.umask(mask),
  stderrIsTty: process.stderr.isTTY === true,
};

export function parseRunArgs(argv: readonly string[], stderrIsTty: boolean): LinuxAgentOptions {
  const { values } = withUsageErrors('run', () =>
    parseArgs({
      args: [...argv],
      options: {
        state: { type: 'string' },
        'sysfs-root': { type: 'string' },
        'dev-root': { type: 'string' },
        'rescan-ms': { type: 'string' },
        hotplug: { type: 'string' },
        'poll-ms': { type: 'string' },
        'no-inventory': { type: 'boolean' },
        'mail-root': { type: 'string' },
        'no-mail-egress': { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-stderr': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }),
  );
  const fakeSysfs = values['sysfs-root'] !== undefined && resolve(values['sysfs-root']) !== '/sys';
  const fakeDev = values['dev-root'] !== undefined && resolve(values['dev-root']) !== '/dev';
  const hotplug = values.hotplug ?? (fakeSysfs ? 'poll' : 'udevadm');
  if (hotplug !== 'udevadm' && hotplug !== 'poll') throw new CommandError(`run: --hotplug must be udevadm or poll, not "${hotplug}"`, Exit.USAGE);
  const logLevel = values['log-level'] ?? 'info';
  if (logLevel !== 'error' && logLevel !== 'warn' && logLevel !== 'info' && logLevel !== 'debug') {
    throw new CommandError(`run: --log-level must be error, warn, info or debug, not "${logLevel}"`, Exit.USAGE);
  }
  return {
    stateDir: resolve(values.state ?? defaultStateDir()),
    sysfsRoot: resolve(values['sysfs-root'] ?? '/sys'),
    devRoot: resolve(values['dev-root'] ?? '/dev'),
    rescanMs: integer(values['rescan-ms'], '--rescan-ms', 5000, 100, 3_600_000),
    hotplug,
    pollMs: integer(values['poll-ms'], '--poll-ms', fakeSysfs ? 200 : 1000, 10, 60_000),
    // A fake sysfs with the real /dev (or the reverse) would switch real ports from fake facts.
    ports: fakeSysfs === fakeDev,
    fakeDevNodes: fakeDev,
    logToStderr: values['log-stderr'] === true || stderrIsTty,
    logLevel,
    inventory: values['no-inventory'] !== true,
    mailRoot: resolve(values['mail-root'] ?? '/'),
    mailEgress: values['no-mail-egress'] !== true,
  };
}

function integer(text: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new CommandError(`run: ${flag} must be a whole number of milliseconds, not "${text}"`, Exit.USAGE);
  const n = Number(text);
  if (n < min || n > max) throw new CommandError(`run: ${flag} must be between ${min} and ${max}`, Exit.USAGE);
  return n;
}

/**
 * `portcullis-agent run`: starts the service and resolves with the exit code once a signal
 * stopped it. Everything the service creates is owner-only (umask 077).
 */
export async function runCommand(argv: readonly string[], io: CommandIo, start?: Start, hooks: ProcessHooks = NODE_PROCESS): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(RUN_HELP);
    return Exit.OK;
  }
  const options = parseRunArgs(argv, hooks.stderrIsTty);
  hooks.setUmask(0o077);
  const startAgent = start ?? (await import('../main.js')).startLinuxAgent;
  let agent: RunningAgent;
  try {
    agent = await startAgent(options);
  } catch (err) {
    throw new CommandError(`run: the agent could not start: ${err instanceof Error ? err.message : String(err)}`, Exit.BAD_INPUT);
  }
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      agent
        .stop(`signal ${signal}`)
        .then(() => resolveExit(Exit.OK))
        .catch((err: unknown) => {
          io.stderr(`portcullis-agent run: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
          resolveExit(Exit.BAD_INPUT);
        });
    };
    hooks.onSignal('SIGTERM', () => stop('SIGTERM'));
    hooks.onSignal('SIGINT', () => stop('SIGINT'));
  });
}
