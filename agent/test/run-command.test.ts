import { expect } from 'chai';
import { parseRunArgs, runCommand, type ProcessHooks } from '../src/commands/run-command.js';
import { CommandError } from '../src/commands/io.js';
import type { LinuxAgentOptions, RunningAgent } from '../src/main.js';

function usage(argv: string[]): CommandError {
  try {
    parseRunArgs(argv, false);
  } catch (err) {
    return err as CommandError;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('portcullis-agent run: options', () => {
  it('defaults to the real /sys and /dev, kernel uevents, and port control on', () => {
    const o = parseRunArgs([], false);
    expect(o).to.deep.include({ sysfsRoot: '/sys', devRoot: '/dev', hotplug: 'udevadm', rescanMs: 5000, pollMs: 1000, ports: true, fakeDevNodes: false, logToStderr: false, inventory: true, mailRoot: '/', mailEgress: true });
    expect(o.stateDir).to.equal('/var/lib/portcullis');
  });

  const rows: Array<[string, string[], Partial<LinuxAgentOptions>]> = [
    // A fake tree: polling (udevadm would report the real bus), faster polling, and no port
    // control, since the ports would be switched in the real /dev from fake facts.
    ['a fake sysfs tree alone', ['--sysfs-root', '/tmp/fake'], { sysfsRoot: '/tmp/fake', hotplug: 'poll', pollMs: 200, ports: false }],
    // Both fake: ports are controlled in the fake /dev, whose nodes are regular files.
    ['a fake sysfs tree and /dev', ['--sysfs-root', '/tmp/fake', '--dev-root', '/tmp/dev'], { ports: true, fakeDevNodes: true }],
    // A fake /dev with the real sysfs is the same mix the other way round.
    ['a fake /dev alone', ['--dev-root', '/tmp/dev'], { ports: false }],
    ['explicit timings', ['--rescan-ms', '750', '--poll-ms', '25'], { rescanMs: 750, pollMs: 25 }],
    ['no inventory, logs on stderr', ['--no-inventory', '--log-stderr', '--log-level', 'debug'], { inventory: false, logToStderr: true, logLevel: 'debug' }],
    // Mail accounts from a fake tree (its etc/passwd and homes); the firewall left alone.
    ['a fake mail tree, no egress guard', ['--mail-root', '/tmp/home-tree', '--no-mail-egress'], { mailRoot: '/tmp/home-tree', mailEgress: false }],
  ];
  for (const [name, argv, expected] of rows) {
    it(`reads ${name}`, () => {
      expect(parseRunArgs(argv, false)).to.deep.include(expected);
    });
  }

  const bad: Array<[string, string[], RegExp]> = [
    // A typo must not start the service with a default it did not ask for.
    ['an unknown option', ['--rescan', '5'], /unknown|Unknown/],
    ['a rescan interval that is not a number', ['--rescan-ms', '5s'], /--rescan-ms must be a whole number/],
    // Rescanning every millisecond would burn a core.
    ['a rescan interval below 100 ms', ['--rescan-ms', '5'], /between 100/],
    ['an unknown hotplug source', ['--hotplug', 'netlink'], /--hotplug must be udevadm or poll/],
    ['an unknown log level', ['--log-level', 'verbose'], /--log-level/],
    ['a positional argument', ['now'], /unexpected|Unexpected|positional/],
  ];
  for (const [name, argv, message] of bad) {
    it(`refuses ${name} as a usage error`, () => {
      const err = usage(argv);
      expect(err).to.be.instanceOf(CommandError);
      expect(err.exitCode).to.equal(2);
      expect(err.message).to.match(message);
    });
  }
});

describe('portcullis-agent run: the process around the service', () => {
  it('sets umask 077, starts the agent, and stops it cleanly on SIGTERM with exit 0', async () => {
    const handlers = new Map<string, () => void>();
    const umasks: number[] = [];
    const hooks: ProcessHooks = { onSignal: (s, h) => void handlers.set(s, h), setUmask: (m) => void umasks.push(m), stderrIsTty: false };
    const stops: string[] = [];
    let started: LinuxAgentOptions | undefined;
    const start = async (options: LinuxAgentOptions): Promise<RunningAgent> => {
      started = options;
      return { service: undefined as never, logger: undefined as never, stop: async (reason: string) => void stops.push(reason) };
    };
    const out: string[] = [];
    const exit = runCommand(['--state', '/tmp/x', '--sysfs-root', '/tmp/fake'], { stdout: (s) => void out.push(s), stderr: (s) => void out.push(s) }, start, hooks);
    await new Promise((r) => setTimeout(r, 10));
    expect(umasks).to.deep.equal([0o077]);
    expect(started?.stateDir).to.equal('/tmp/x');
    handlers.get('SIGTERM')?.();
    handlers.get('SIGINT')?.();
    expect(await exit).to.equal(0);
    expect(stops, 'stopped once, for the first signal').to.deep.equal(['signal SIGTERM']);
  });

  it('reports an agent that cannot start in one line, exit 1', async () => {
    const hooks: ProcessHooks = { onSignal: () => undefined, setUmask: () => undefined, stderrIsTty: false };
    try {
      await runCommand([], { stdout: () => undefined, stderr: () => undefined }, async () => Promise.reject(new Error('identity.json is readable by others')), hooks);
      expect.fail('expected a failure');
    } catch (err) {
      expect((err as CommandError).exitCode).to.equal(1);
      expect((err as Error).message).to.equal('run: the agent could not start: identity.json is readable by others');
    }
  });
});
