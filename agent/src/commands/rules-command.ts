import { parseRuleFile, printRule, RuleSyntaxError } from '@portcullis/shared';
import { parseArgs } from 'node:util';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, readTextFile, type CommandIo } from './io.js';

export const RULES_HELP = `Usage: portcullis-agent rules --normalize FILE
       portcullis-agent rules --check FILE

Reads a USBGuard rule file (usbguard-rules.conf(5), plus the Portcullis target 'readonly').

  --normalize FILE   print every rule the way usbguard-rule-parser prints it, one per line;
                     comments and blank lines are dropped
  --check FILE       only check the file; print how many rules it holds
  -h, --help         show this help

On the first bad rule, prints FILE:LINE:COLUMN: message to stderr and exits 1.
Exit codes: 0 ok, 1 bad rule, 2 bad command line or unreadable file.
`;

export function rulesCommand(argv: readonly string[], io: CommandIo): number {
  const { values } = withUsageErrors('rules', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        normalize: { type: 'string' },
        check: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(RULES_HELP);
    return Exit.OK;
  }
  const file = values.normalize ?? values.check;
  if (file === undefined || (values.normalize !== undefined && values.check !== undefined)) {
    throw new CommandError('rules: give exactly one of --normalize FILE or --check FILE (see --help)', Exit.USAGE);
  }
  const text = readTextFile(file);
  try {
    const rules = parseRuleFile(text, file);
    if (values.normalize !== undefined) io.stdout(rules.map((r) => printRule(r) + '\n').join(''));
    else io.stdout(`${file}: ${rules.length} rule${rules.length === 1 ? '' : 's'}, all valid\n`);
    return Exit.OK;
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new CommandError(err.formatted, Exit.BAD_INPUT);
    throw err;
  }
}
