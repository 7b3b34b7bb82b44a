import { breakGlassCommand, BREAK_GLASS_HELP } from './commands/break-glass-command.js';
import { devicesCommand, DEVICES_HELP } from './commands/devices-command.js';
import { enrollCommand, ENROLL_HELP } from './commands/enroll-command.js';
import { evalCommand, EVAL_HELP } from './commands/eval-command.js';
import { CommandError, Exit, type CommandIo } from './commands/io.js';
import { rulesCommand, RULES_HELP } from './commands/rules-command.js';
import { runCommand, RUN_HELP } from './commands/run-command.js';
import { statusCommand, STATUS_HELP } from './commands/status-command.js';
import { uninstallCommand, UNINSTALL_HELP } from './commands/uninstall-command.js';
import { VERSION } from './version.js';

export { VERSION };

const HELP = `portcullis-agent ${VERSION} — Portcullis endpoint agent (USB and port control)

Usage: portcullis-agent <command> [options]

Commands:
  run      the agent service: enforce the policy, report to the server (systemd runs it)
  enroll   enroll this computer with a Portcullis server (pins the server's CA)
  status   is the agent service running, connected, on which policy (exit 3: not running)
  devices  the USB devices present now, and what the policy in force decides for each
  break-glass  restore keyboards and mice locked out by a policy (root; reported to the server)
  uninstall    may the agent be removed? checks this PC's uninstall code (the package runs it)
  eval     decide devices (JSON lines) against a USBGuard rule file
  rules    check or normalize a USBGuard rule file

Run 'portcullis-agent <command> --help' for a command's options.
Options: -h, --help   this help;  -V, --version   print the version
`;

/** A command returns its exit code; a long-running one (the service) resolves it when it stops. */
type Command = (argv: readonly string[], io: CommandIo) => number | Promise<number>;

/** Every command, by name; `run` below awaits whatever a command returns. */
const COMMANDS: Readonly<Record<string, { run: Command; help: string }>> = {
  run: { run: (argv, io) => runCommand(argv, io), help: RUN_HELP },
  enroll: { run: (argv, io) => enrollCommand(argv, io), help: ENROLL_HELP },
  status: { run: (argv, io) => statusCommand(argv, io), help: STATUS_HELP },
  devices: { run: (argv, io) => devicesCommand(argv, io), help: DEVICES_HELP },
  'break-glass': { run: (argv, io) => breakGlassCommand(argv, io), help: BREAK_GLASS_HELP },
  uninstall: { run: (argv, io) => uninstallCommand(argv, io), help: UNINSTALL_HELP },
  eval: { run: (argv, io) => evalCommand(argv, io, () => new Date()), help: EVAL_HELP },
  rules: { run: rulesCommand, help: RULES_HELP },
};

/**
 * The agent's command line. Returns the exit code; never lets a stack trace reach the user:
 * expected failures are one line on stderr, anything else is reported as an internal error.
 */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout(HELP);
    return name === undefined ? Exit.USAGE : Exit.OK;
  }
  if (name === '-V' || name === '--version') {
    io.stdout(`${VERSION}\n`);
    return Exit.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`portcullis-agent: unknown command '${name}' (see --help)\n`);
    return Exit.USAGE;
  }
  try {
    // Awaited here, inside the try, so that an async command's failure is reported like a
    // synchronous one: one line, never a stack trace.
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof CommandError) {
      io.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`portcullis-agent ${name}: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 70;
  }
}
