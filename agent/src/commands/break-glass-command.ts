import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CompiledPolicy, parseRule, prepareDevice, type Device } from '@portcullis/shared';
import type { UsbDeviceState } from '../platform/device-source.js';
import { SysfsDeviceSource } from '../platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../platform/linux/sysfs-enforcer.js';
import { BREAK_GLASS_RULE, MAX_BREAK_GLASS_MINUTES, endBreakGlass, writeBreakGlass } from '../state/break-glass-file.js';
import { defaultStateDir, readStatus } from '../state/status-file.js';
import { isProcessAlive, isRunning } from './status-command.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, type CommandIo } from './io.js';

export const BREAK_GLASS_HELP = `Usage: portcullis-agent break-glass --reason TEXT [--minutes N] [--state DIR] [--sysfs-root DIR]
       portcullis-agent break-glass --end [--state DIR]

Restores keyboards and mice when a policy locked them out and the server cannot fix it: every
device made only of human-interface (HID) interfaces is authorized now, and the agent service
keeps allowing such devices for N minutes (default 30, at most ${MAX_BREAK_GLASS_MINUTES}). A device that mixes
HID with anything else (a flash drive that is also a keyboard) is left to the policy.
Every use is reported to the server as an agent.break-glass event (high severity), with the
reason and the local user. Needs root: the state folder is root's.

  --reason TEXT      why (required; goes into the event)
  --minutes N        how long the service keeps allowing HID devices (default 30)
  --end              end a break-glass early; the policy applies again at the next rescan
  --state DIR        state folder (default ${defaultStateDir()})
  --sysfs-root DIR   where sysfs is mounted (default /sys)
  -h, --help         this help
`;

export interface BreakGlassDeps {
  readonly now?: () => Date;
  readonly user?: () => string;
  /** How long to let a running service allow the devices before doing it here (default 3 s). */
  readonly serviceWaitMs?: number;
}

/** The same test the service's break-glass exception applies. */
const HID_ONLY = new CompiledPolicy([parseRule(BREAK_GLASS_RULE)]);

function isHidOnly(device: Device, now: Date): boolean {
  const decision = HID_ONLY.decide(prepareDevice(device), { now });
  return !decision.implicit && decision.target === 'allow';
}

/** Who ran it: the sudo caller when run through sudo, else the account. */
function localUser(): string {
  return process.env.SUDO_USER ?? userInfo().username;
}

export async function breakGlassCommand(argv: readonly string[], io: CommandIo, deps: BreakGlassDeps = {}): Promise<number> {
  const { values } = withUsageErrors('break-glass', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        reason: { type: 'string' },
        minutes: { type: 'string' },
        end: { type: 'boolean' },
        state: { type: 'string' },
        'sysfs-root': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(BREAK_GLASS_HELP);
    return Exit.OK;
  }
  const stateDir = resolve(values.state ?? defaultStateDir());
  if (values.end) {
    const ended = await endBreakGlass(stateDir, (deps.now ?? (() => new Date()))()).catch((err: unknown) => {
      throw new CommandError(`break-glass: ${(err as Error).message}`, Exit.BAD_INPUT);
    });
    io.stdout(ended ? 'break-glass ended; the agent applies the policy again\n' : 'no break-glass in force\n');
    return Exit.OK;
  }
  const reason = values.reason?.trim() ?? '';
  if (reason === '') throw new CommandError('break-glass: --reason is required (it goes into the audit event)', Exit.USAGE);
  const minutesText = values.minutes ?? '30';
  if (!/^\d+$/.test(minutesText) || Number(minutesText) < 1 || Number(minutesText) > MAX_BREAK_GLASS_MINUTES) {
    throw new CommandError(`break-glass: --minutes must be a whole number from 1 to ${MAX_BREAK_GLASS_MINUTES}`, Exit.USAGE);
  }
  const now = (deps.now ?? (() => new Date()))();
  const until = new Date(now.getTime() + Number(minutesText) * 60_000);
  try {
    await writeBreakGlass(stateDir, { reason: reason.replace(/[\u0000-\u001f]+/g, ' ').slice(0, 500), by: (deps.user ?? localUser)().slice(0, 64) || 'unknown', createdAt: now.toISOString(), until: until.toISOString() });
  } catch (err) {
    throw new CommandError(`break-glass: cannot write to ${stateDir}: ${(err as Error).message} (run as root)`, Exit.BAD_INPUT);
  }

  // A running service sees the file at once and allows the devices itself (so its remembered
  // decisions agree); whatever is still off after a moment is authorized here, since the service
  // may be the thing that is stuck.
  const sysfsRoot = resolve(values['sysfs-root'] ?? '/sys');
  const source = new SysfsDeviceSource(sysfsRoot, { hotplug: 'poll' });
  const waiting = async (): Promise<UsbDeviceState[]> => {
    const all = await source.scan().catch((err: unknown) => {
      throw new CommandError(`break-glass: cannot read USB devices under ${sysfsRoot}: ${(err as Error).message}`, Exit.BAD_INPUT);
    });
    return all.filter((x) => !x.rootHub && !x.authorized && x.problem === undefined && isHidOnly(x.device, now));
  };
  let devices = await waiting();
  const status = await readStatus(stateDir).catch(() => null);
  if (devices.length > 0 && status !== null && isRunning(status, new Date(), isProcessAlive)) {
    const deadline = Date.now() + (deps.serviceWaitMs ?? 3000);
    while (devices.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      devices = await waiting();
    }
  }
  const enforcer = new SysfsEnforcer(sysfsRoot);
  let failed = 0;
  for (const d of devices) {
    try {
      await enforcer.authorize(d.name);
      io.stdout(`authorized ${d.name} ${d.device.id} ${d.device.name ?? ''}\n`);
    } catch (err) {
      failed++;
      io.stderr(`break-glass: ${d.name}: ${(err as Error).message}\n`);
    }
  }
  io.stdout(`break-glass until ${until.toISOString()}: keyboards and mice are allowed; the agent reports it to the server\n`);
  return failed > 0 ? Exit.BAD_INPUT : Exit.OK;
}
