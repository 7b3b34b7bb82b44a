import { evalCommand, EVAL_HELP } from './commands/eval-command.js';
import { CommandError, Exit, type CommandIo } from './commands/io.js';
import { rulesCommand, RULES_HELP } from './commands/rules-command.js';

export const VERSION = '0.1.0';

const HELP = `portcullis-agent ${VERSION} — Portcullis endpoint agent (USB and port control)

Usage: portcullis-agent <command> [options]

Commands:
  eval    decide devices (JSON lines) against a USBGuard rule file
  rules   check or normalize a USBGuard rule file

Run 'portcullis-agent <command> --help' for a command's options.
Options: -h, --help   this help;  -V, --version   print the version
`;

type Command = (argv: readonly string[], io: CommandIo) => number;

const COMMANDS: Readonly<Record<string, { run: Command; help: string }>> = {
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
    return command.run(rest, io);
  } catch (err) {
    if (err instanceof CommandError) {
      io.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`portcullis-agent ${name}: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 70;
  }
}
