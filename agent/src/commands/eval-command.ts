import {
  classifyDevice,
  CompiledPolicy,
  parseDevice,
  parseRuleFile,
  prepareDevice,
  PortcullisError,
  RuleSyntaxError,
  TARGETS,
  type EvaluationContext,
  type Device,
  type PreparedDevice,
  type Rule,
  type Target,
} from '@portcullis/shared';
import { parseArgs } from 'node:util';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, readTextFile, type CommandIo } from './io.js';

export const EVAL_HELP = `Usage: portcullis-agent eval --rules FILE --devices FILE [--now ISO-8601] [--implicit TARGET]

Decides each device against a USBGuard rule file, first matching rule wins.

  --rules FILE        rule file (usbguard-rules.conf(5) syntax, plus the target 'readonly')
  --devices FILE      devices as JSON lines, e.g.
                      {"id":"0781:5567","name":"Cruzer","serial":"4C53","interfaces":["08:06:50"]}
  --now ISO-8601      the clock for localtime() conditions (default: now). With an offset
                      (2026-11-25T07:30:00+01:00) local time is taken in that offset; without
                      one, in this machine's time zone.
  --implicit TARGET   target when no rule matches: allow, block, reject or readonly (default block)
  -h, --help          show this help

Prints one JSON line per device, in order:
  {"target":"block","line":3,"implicit":false,"rule":"block with-interface one-of { 08:*:* }",
   "device":"USB flash drive"}
"line" is the 1-based line of the matching rule in the rule file, null for the implicit target.
Exit codes: 0 ok, 1 bad rule or device line (nothing is printed), 2 bad command line or unreadable file.
`;

export function evalCommand(argv: readonly string[], io: CommandIo, clock: () => Date): number {
  const { values } = withUsageErrors('eval', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rules: { type: 'string' },
        devices: { type: 'string' },
        now: { type: 'string' },
        implicit: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(EVAL_HELP);
    return Exit.OK;
  }
  if (values.rules === undefined || values.devices === undefined) {
    throw new CommandError('eval: --rules FILE and --devices FILE are required (see --help)', Exit.USAGE);
  }
  const implicit = parseImplicit(values.implicit);
  const ctx = parseNow(values.now, clock);
  const rulesText = readTextFile(values.rules);
  const devicesText = readTextFile(values.devices);

  let rules: Rule[];
  try {
    rules = parseRuleFile(rulesText, values.rules);
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new CommandError(err.formatted, Exit.BAD_INPUT);
    throw err;
  }
  // Every device line is checked before anything is printed: a consumer never sees half a run.
  const devices = readDevices(devicesText, values.devices);
  const policy = new CompiledPolicy(rules, implicit);
  const out: string[] = [];
  for (const { device, prepared } of devices) {
    const decision = policy.decide(prepared, ctx);
    const line: Record<string, unknown> = {
      target: decision.target,
      line: decision.line,
      implicit: decision.implicit,
      rule: policy.ruleText(decision),
      device: classifyDevice(device).label,
    };
    if (decision.conditionsNotMet.length > 0) line.conditionsNotMet = decision.conditionsNotMet;
    out.push(JSON.stringify(line) + '\n');
  }
  io.stdout(out.join(''));
  return Exit.OK;
}

function parseImplicit(text: string | undefined): Target {
  if (text === undefined) return 'block';
  if ((TARGETS as readonly string[]).includes(text)) return text as Target;
  throw new CommandError(`eval: --implicit must be one of ${TARGETS.join(', ')}, not '${text}'`, Exit.USAGE);
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function parseNow(text: string | undefined, clock: () => Date): EvaluationContext {
  if (text === undefined) return { now: clock() };
  const m = ISO_RE.exec(text);
  const now = new Date(text);
  if (!m || Number.isNaN(now.getTime())) {
    throw new CommandError(`eval: --now must be an ISO-8601 time such as 2026-11-25T07:30:00+01:00, not '${text}'`, Exit.USAGE);
  }
  const zone = m[4];
  if (zone === undefined) return { now };
  if (zone === 'Z') return { now, utcOffsetMinutes: 0 };
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return { now, utcOffsetMinutes: sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) };
}

function readDevices(text: string, file: string): Array<{ device: Device; prepared: PreparedDevice }> {
  const devices: Array<{ device: Device; prepared: PreparedDevice }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new CommandError(`${file}:${i + 1}: not valid JSON (${why})`, Exit.BAD_INPUT);
    }
    try {
      const device = parseDevice(json);
      devices.push({ device, prepared: prepareDevice(device) });
    } catch (err) {
      if (err instanceof PortcullisError) throw new CommandError(`${file}:${i + 1}: ${err.message}`, Exit.BAD_INPUT);
      throw err;
    }
  }
  return devices;
}
