import { readFileSync } from 'node:fs';
import { createTokenWith, type CliIo } from './cli-support.js';
import { ConfigError, parseServerArgs, START_OPTIONS, type CommandOptions, type ServerConfig } from './config.js';
import { hashPassword, passwordProblem } from './auth/passwords.js';
import { newSecret } from './auth/secrets.js';
import { startServer } from './main.js';
import { openConfiguredStore } from './runtime.js';
import { ROLES, type Role, type Store } from './store/store.js';

export const VERSION = '0.1.0';

const COMMON_HELP = `Common options (every command):
  --data DIR        data folder: SQLite database, pki/ (default ./data; PORTCULLIS_DATA)
  --database URL    postgres://user@host:5432/db instead of the SQLite file (PORTCULLIS_DATABASE_URL)
  --config FILE     JSON config file (PORTCULLIS_CONFIG)
  -h, --help        help for the command`;

const HELP = `portcullis-server ${VERSION} — Portcullis central policy server

Usage: portcullis-server <command> [options]

Commands:
  start                          run the server (HTTPS + WSS, default 127.0.0.1:8443)
  migrate                        bring the database schema up to date
  user add NAME --role ROLE      create a user (admin, security or viewer)
  user passwd NAME               set a user's password
  token create --group G         create an agent enrollment token [--expires 7d]
  verify-log                     check the hash chains of the event log and the audit trail

${COMMON_HELP}
`;

interface Command {
  readonly options: CommandOptions;
  readonly positionals?: boolean;
  readonly help: string;
  run(config: ServerConfig, values: Record<string, unknown>, positionals: readonly string[], io: CliIo): Promise<number>;
}

/** A usage error about one option, worded as every config error is: `--role: expected …`. */
function usage(command: string, option: string, text: string): ConfigError {
  return new ConfigError([{ option, message: `${command}: ${option}: ${text}` }]);
}

const withStore = async (config: ServerConfig, fn: (store: Store) => Promise<number>): Promise<number> => {
  const store = await openConfiguredStore(config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
};

/** A password from stdin (`--password-stdin`), or a generated one that is printed once. */
async function passwordFor(values: Record<string, unknown>, io: CliIo): Promise<{ password: string; generated: boolean }> {
  if (values['password-stdin'] !== true) return { password: newSecret().slice(0, 24), generated: true };
  const password = io.readStdin().replace(/\r?\n$/, '');
  const problem = passwordProblem(password);
  if (problem) throw usage('password', '--password-stdin', problem);
  return { password, generated: false };
}

const COMMANDS: Readonly<Record<string, Command>> = {
  start: {
    options: START_OPTIONS,
    help:
      `Usage: portcullis-server start [--listen HOST:PORT] [--mail-policy-listen HOST:PORT|off] [options]\n\n` +
      `  --listen HOST:PORT  address to serve HTTPS + WSS on (default 127.0.0.1:8443; PORTCULLIS_LISTEN)\n` +
      `  --mail-policy-listen HOST:PORT|off\n` +
      `                      Postfix policy delegation service (default 127.0.0.1:10040; PORTCULLIS_MAIL_POLICY_LISTEN)\n\n` +
      `${COMMON_HELP}\n`,
    async run(config, _values, _positionals, io) {
      const server = await startServer(config, io.env, (line) => io.stdout(line + '\n'));
      await new Promise<void>((resolve) => {
        const stop = () => {
          io.stdout('shutting down\n');
          void server.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return 0;
    },
  },
  migrate: {
    options: {},
    help: `Usage: portcullis-server migrate [options]\n\n${COMMON_HELP}\n`,
    run: (config, _v, _p, io) =>
      withStore(config, async () => {
        io.stdout('database schema is up to date\n');
        return 0;
      }),
  },
  'user add': {
    options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    positionals: true,
    help: `Usage: portcullis-server user add NAME --role admin|security|viewer [--password-stdin] [options]\n\nWithout --password-stdin a password is generated and printed once.\n\n${COMMON_HELP}\n`,
    async run(config, values, positionals, io) {
      const [name, ...extra] = positionals;
      const role = values.role as string | undefined;
      if (!name || extra.length > 0 || !/^[a-z][a-z0-9._-]{1,63}$/.test(name)) {
        throw usage('user add', 'NAME', 'give one user name: lower-case letters, digits, . _ - (2-64 characters)');
      }
      if (!role) throw usage('user add', '--role', `required: one of ${ROLES.join(', ')}`);
      if (!(ROLES as readonly string[]).includes(role)) throw usage('user add', '--role', `expected one of ${ROLES.join(', ')}, got "${role}"`);
      const { password, generated } = await passwordFor(values, io);
      return withStore(config, async (store) => {
        if (await store.getUser(name)) {
          io.stderr(`user add: user ${name} already exists\n`);
          return 1;
        }
        const at = new Date().toISOString();
        await store.createUser({ username: name, role: role as Role, passwordHash: await hashPassword(password) }, at);
        await store.appendAudit({ actor: 'cli', action: 'user.create', target: name, details: { role } }, at);
        io.stdout(`created user ${name} (${role})\n`);
        if (generated) io.stdout(`password: ${password}\n`);
        return 0;
      });
    },
  },
  'user passwd': {
    options: { 'password-stdin': { type: 'boolean' } },
    positionals: true,
    help: `Usage: portcullis-server user passwd NAME [--password-stdin] [options]\n\nWithout --password-stdin a password is generated and printed once.\n\n${COMMON_HELP}\n`,
    async run(config, values, positionals, io) {
      const [name, ...extra] = positionals;
      if (!name || extra.length > 0) throw usage('user passwd', 'NAME', 'give one user name');
      const { password, generated } = await passwordFor(values, io);
      return withStore(config, async (store) => {
        if (!(await store.setPasswordHash(name, await hashPassword(password)))) {
          io.stderr(`user passwd: no user ${name}\n`);
          return 1;
        }
        await store.deleteSessionsOf(name);
        await store.appendAudit({ actor: 'cli', action: 'user.password', target: name, details: {} }, new Date().toISOString());
        io.stdout(`password of ${name} changed\n`);
        if (generated) io.stdout(`password: ${password}\n`);
        return 0;
      });
    },
  },
  'token create': {
    options: { group: { type: 'string' }, expires: { type: 'string' } },
    help: `Usage: portcullis-server token create --group GROUP [--expires 7d] [options]\n\nPrints the enrollment token on its last line; it is shown only once.\n\n${COMMON_HELP}\n`,
    async run(config, values, _positionals, io) {
      const group = values.group as string | undefined;
      if (!group) throw usage('token create', '--group', 'required: the group the enrolled computers join');
      return withStore(config, (store) => createTokenWith(store, group, (values.expires as string | undefined) ?? '7d', io));
    },
  },
  'verify-log': {
    options: {},
    help: `Usage: portcullis-server verify-log [options]\n\nWalks the hash chains of the event log and the audit trail; exit 0 when both are intact,\n1 with the first broken link otherwise.\n\n${COMMON_HELP}\n`,
    run: (config, _v, _p, io) =>
      withStore(config, async (store) => {
        let code = 0;
        for (const [name, check] of [
          ['event log', await store.verifyEventChain()],
          ['audit trail', await store.verifyAuditChain()],
        ] as const) {
          if (check.intact) io.stdout(`${name}: intact (${check.count} records)\n`);
          else {
            io.stdout(`${name}: BROKEN at record ${check.brokenAtId}: ${check.reason}\n`);
            code = 1;
          }
        }
        return code;
      }),
  },
};

/** The server's command line; returns the exit code and never shows a stack trace. */
export async function runServerCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout(HELP);
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const twoWord = second !== undefined ? `${first} ${second}` : '';
  const name = Object.hasOwn(COMMANDS, twoWord) ? twoWord : first;
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const family = Object.keys(COMMANDS).filter((c) => c.startsWith(`${first} `));
    if (family.length > 0) {
      // `user`, `token`: list the subcommands; --help is a question, anything else a mistake.
      const asked = second === '-h' || second === '--help';
      (asked ? io.stdout : io.stderr)(`${asked ? '' : `portcullis-server: unknown command '${twoWord || first}'\n`}Commands: ${family.join(', ')} (add --help to one for its options)\n`);
      return asked ? 0 : 2;
    }
    io.stderr(`portcullis-server: unknown command '${first}' (see --help)\n`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    const parsed = parseServerArgs(name, rest, io.env, command.options, { allowPositionals: command.positionals ?? false });
    if (parsed.help) {
      io.stdout(command.help);
      return 0;
    }
    return await command.run(parsed.config, parsed.values as Record<string, unknown>, parsed.positionals, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 2;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('PORTCULLIS_ERR_')) {
      io.stderr(`portcullis-server ${name}: ${(err as Error).message}\n`);
      return 1;
    }
    io.stderr(`portcullis-server ${name}: internal error: ${(err as Error).message}\n`);
    return 70;
  }
}

export function processIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    readStdin: () => readFileSync(0, 'utf8'),
  };
}
