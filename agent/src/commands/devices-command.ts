import { CompiledPolicy, PortcullisError, RuleSyntaxError, parseRuleFile, type PolicyDocument } from '@portcullis/shared';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { plan, type DeviceDecision } from '../core/planner.js';
import type { UsbDeviceState } from '../platform/device-source.js';
import { SysfsDeviceSource } from '../platform/linux/sysfs-device-source.js';
import { identityPath, loadIdentity } from '../state/identity-store.js';
import { PolicyCache, builtInPolicy, ed25519Verifier } from '../state/policy-cache.js';
import { defaultStateDir } from '../state/status-file.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, type CommandIo } from './io.js';

export const DEVICES_HELP = `Usage: portcullis-agent devices [--state DIR] [--sysfs-root DIR] [--json]

Lists the USB devices present now (root hubs left out): whether each is authorized, and what
the policy in force decides for it, with the rule, exception or reason behind the decision.
The policy is the signed policy cached in the state folder, or the built-in policy when this
computer is not enrolled. Nothing is changed.

  --state DIR        state folder (default ${defaultStateDir()})
  --sysfs-root DIR   where sysfs is mounted (default /sys)
  --json             one JSON object per device and line:
                     {"name":"1-2","label":"USB flash drive","device":{"id":"0781:5567",…},
                      "authorized":true,"decision":{"target":"block","source":"rule","line":9,
                      "rule":"block with-interface one-of { 08:*:* }","exceptionId":null,
                      "reason":"rule at line 9","conditionsNotMet":[]}}
  -h, --help         show this help

"line" is the 1-based line of the deciding rule in the policy's rules.
Exit codes: 0 ok; 1 the state folder or the USB devices cannot be read; 2 bad command line.
`;

export interface DevicesCommandDeps {
  readonly now?: () => Date;
}

/** The policy the service would enforce now, and where it came from. */
interface PolicyInForce {
  readonly policy: PolicyDocument;
  readonly source: 'cache' | 'built-in';
  readonly agentId: string | null;
  /** Why the cached policy was refused, as the service would report it. */
  readonly tampered: string | null;
}

export async function devicesCommand(argv: readonly string[], io: CommandIo, deps: DevicesCommandDeps = {}): Promise<number> {
  const { values } = withUsageErrors('devices', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        state: { type: 'string' },
        'sysfs-root': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(DEVICES_HELP);
    return Exit.OK;
  }
  const stateDir = values.state ?? defaultStateDir();
  const sysfsRoot = values['sysfs-root'] ?? '/sys';

  const inForce = await loadPolicyInForce(stateDir);
  if (inForce.tampered !== null) io.stderr(`devices: warning: the cached policy was refused (${inForce.tampered}); showing the policy the service falls back to\n`);
  let compiled: CompiledPolicy;
  try {
    compiled = new CompiledPolicy(parseRuleFile(inForce.policy.rules, 'policy'), inForce.policy.implicitTarget);
  } catch (err) {
    // A verified policy always parses; this guards against a shared-library mismatch.
    if (err instanceof RuleSyntaxError) throw new CommandError(`devices: the policy in force does not parse: ${err.formatted}`, Exit.BAD_INPUT);
    throw err;
  }
  let states: UsbDeviceState[];
  try {
    states = await new SysfsDeviceSource(sysfsRoot, { hotplug: 'poll' }).scan();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandError(`devices: cannot read the USB devices under ${sysfsRoot}: ${code ?? (err as Error).message}`, Exit.BAD_INPUT);
  }
  const { decisions } = plan({
    devices: states,
    previous: new Map(),
    policy: inForce.policy,
    compiled,
    agentId: inForce.agentId ?? '',
    now: (deps.now ?? (() => new Date()))(),
    phase: 'hotplug',
  });
  const authorized = new Map(states.map((s) => [s.name, s.authorized]));
  const manufacturer = new Map(states.map((s) => [s.name, s.manufacturer]));

  if (values.json) {
    io.stdout(decisions.map((d) => `${JSON.stringify(jsonLine(d, authorized.get(d.name) ?? false))}\n`).join(''));
    return Exit.OK;
  }
  const out = [policyLine(inForce)];
  if (decisions.length === 0) out.push('No USB devices (root hubs aside).\n');
  for (const d of decisions) out.push(block(d, authorized.get(d.name) ?? false, manufacturer.get(d.name) ?? ''));
  io.stdout(out.join('\n'));
  return Exit.OK;
}

async function loadPolicyInForce(stateDir: string): Promise<PolicyInForce> {
  try {
    if (!(await enrolled(stateDir))) return { policy: builtInPolicy(), source: 'built-in', agentId: null, tampered: null };
    const identity = await loadIdentity(stateDir);
    const loaded = await new PolicyCache(stateDir, identity.group).load(ed25519Verifier(identity.signingKeys));
    return { policy: loaded.policy, source: loaded.source, agentId: identity.agentId, tampered: loaded.tampered };
  } catch (err) {
    if (err instanceof PortcullisError) throw new CommandError(`devices: ${err.message}`, Exit.BAD_INPUT);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new CommandError(`devices: cannot read the state folder ${stateDir}: ${code}`, Exit.BAD_INPUT);
    throw err;
  }
}

async function enrolled(stateDir: string): Promise<boolean> {
  try {
    await stat(identityPath(stateDir));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function jsonLine(d: DeviceDecision, authorized: boolean): Record<string, unknown> {
  return {
    name: d.name,
    label: d.label,
    device: d.device,
    authorized,
    decision: {
      target: d.target,
      source: d.source,
      line: d.line,
      rule: d.rule,
      exceptionId: d.exceptionId,
      reason: d.reason,
      conditionsNotMet: d.conditionsNotMet,
    },
  };
}

function policyLine(p: PolicyInForce): string {
  if (p.source === 'cache') return `Policy in force: group ${p.policy.group}, version ${p.policy.version} (signed, cached from the server)\n`;
  const why = p.agentId === null ? 'this computer is not enrolled' : 'no policy received from the server yet';
  return `Policy in force: the built-in policy (${why})\n`;
}

/** One device, for people. Names and serials come from the device itself: control characters are escaped. */
function block(d: DeviceDecision, authorized: boolean, manufacturer: string): string {
  const product = [manufacturer, d.device.name ?? ''].filter((s) => s !== '').join(' ');
  const trace = d.rule === null ? d.reason : `${d.reason}: ${d.rule}`;
  const lines = [
    `${d.name}: ${product === '' ? '(no name)' : visible(product)} — ${d.label}`,
    `  id:             ${d.device.id}`,
    `  serial:         ${d.device.serial === undefined || d.device.serial === '' ? '(none)' : visible(d.device.serial)}`,
    `  interfaces:     ${(d.device.interfaces ?? []).join(' ') || '(none)'}`,
    `  authorized now: ${authorized ? 'yes' : 'no'}`,
    `  decision:       ${d.target}`,
    `  trace:          ${visible(trace)}`,
  ];
  if (d.exceptionId !== null) lines.push(`  exception:      ${visible(d.exceptionId)}`);
  if (d.conditionsNotMet.length > 0) lines.push(`  conditions not met at line${d.conditionsNotMet.length === 1 ? '' : 's'}: ${d.conditionsNotMet.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
