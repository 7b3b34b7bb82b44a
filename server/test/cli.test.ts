import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { hashSecret } from '../src/auth/secrets.js';
import { verifyPassword } from '../src/auth/passwords.js';
import type { CliIo } from '../src/cli-support.js';
import { runServerCli, VERSION } from '../src/cli.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the CLI in process with buffers for stdout/stderr and `stdin` as what --password-stdin reads. */
async function cli(argv: readonly string[], stdin = ''): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    env: {},
    readStdin: () => stdin,
  };
  const code = await runServerCli(argv, io);
  return { code, out, err };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

async function withStore<T>(dir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openSqliteStore(join(dir, 'portcullis.db'));
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Changes the database behind the server's back, as an attacker with the file would. */
function tamper(dir: string, sql: string): void {
  const db = new BetterSqlite3(join(dir, 'portcullis.db'));
  try {
    expect(db.prepare(sql).run().changes).to.equal(1);
  } finally {
    db.close();
  }
}

describe('portcullis-server CLI', function () {
  this.timeout(20_000);
  let dir = '';
  const data = () => ['--data', dir];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('help and usage errors', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      it(`${argv.join(' ')} prints the usage and exits 0`, async () => {
        const run = await cli(argv);
        expect(run.code).to.equal(0);
        expect(run.out).to.include('Usage: portcullis-server <command>');
        for (const command of ['start', 'migrate', 'user add', 'user passwd', 'token create', 'verify-log']) expect(run.out).to.include(command);
      });
    }

    it('--version prints the version', async () => {
      expect(await cli(['--version'])).to.deep.equal({ code: 0, out: `${VERSION}\n`, err: '' });
    });

    it('no command prints the usage and exits 2', async () => {
      const run = await cli([]);
      expect(run.code).to.equal(2);
      expect(run.out + run.err).to.include('Usage: portcullis-server <command>');
    });

    for (const command of ['start', 'migrate', 'user add', 'user passwd', 'token create', 'verify-log']) {
      it(`${command} --help prints its usage and exits 0 (without touching the data folder)`, async () => {
        const run = await cli([...command.split(' '), '--help', '--data', join(dir, 'never-created')]);
        expect(run.code).to.equal(0);
        expect(run.out).to.include(`Usage: portcullis-server ${command}`);
        expect(run.err).to.equal('');
        let missing = false;
        await stat(join(dir, 'never-created')).catch(() => (missing = true));
        expect(missing).to.equal(true);
      });
    }

    it('an unknown command exits 2 naming it, and only it', async () => {
      const run = await cli(['frobnicate', '--data', dir]);
      expect(run.code).to.equal(2);
      expect(run.out).to.equal('');
      expect(lines(run.err)).to.have.length(1);
      expect(run.err).to.include(`unknown command 'frobnicate'`);
    });

    it('`user` and `token` alone name their subcommands', async () => {
      for (const [group, subs] of [
        ['user', ['user add', 'user passwd']],
        ['token', ['token create']],
      ] as const) {
        const bare = await cli([group]);
        expect(bare.code, group).to.equal(2);
        for (const sub of subs) expect(bare.out + bare.err, group).to.include(sub);
        const help = await cli([group, '--help']);
        expect(help.code, `${group} --help`).to.equal(0);
        for (const sub of subs) expect(help.out, `${group} --help`).to.include(sub);
      }
    });

    it('an unknown option exits 2 with one line', async () => {
      const run = await cli(['migrate', '--lisen', '127.0.0.1:1', ...data()]);
      expect(run.code).to.equal(2);
      expect(lines(run.err)).to.deep.equal(['migrate: unknown option --lisen (see --help)']);
    });

    it('start with a bad --listen exits 2 with one line', async () => {
      const run = await cli(['start', '--listen', 'nonsense', ...data()]);
      expect(run.code).to.equal(2);
      expect(lines(run.err)).to.deep.equal(['--listen: expected HOST:PORT, got "nonsense"']);
    });
  });

  describe('migrate and users', () => {
    it('migrate creates the database and exits 0; again is harmless', async () => {
      for (let i = 0; i < 2; i++) {
        const run = await cli(['migrate', ...data()]);
        expect(run).to.deep.equal({ code: 0, out: 'database schema is up to date\n', err: '' });
      }
      expect((await stat(join(dir, 'portcullis.db'))).isFile()).to.equal(true);
    });

    it('user add prints a generated password once; the user has it and the role', async () => {
      const run = await cli(['user', 'add', 'alice', '--role', 'security', ...data()]);
      expect(run.code, run.err).to.equal(0);
      const password = /^password: (\S+)$/m.exec(run.out)?.[1] ?? '';
      expect(password).to.have.length.of.at.least(12);
      expect(run.out.split(password)).to.have.length(2);
      const user = await withStore(dir, (s) => s.getUser('alice'));
      expect(user?.role).to.equal('security');
      expect(await verifyPassword(password, user?.passwordHash ?? '')).to.equal(true);
      const audit = await withStore(dir, (s) => s.listAudit(10));
      expect(audit.some((a) => a.action === 'user.create' && a.target === 'alice' && a.actor === 'cli')).to.equal(true);
    });

    // One row per malformed `user add`: all are usage errors (2), stopped before the database. The
    // message names the option at fault, as ConfigProblem.message promises ("--listen: …").
    const usageErrors: Array<{ name: string; argv: string[]; says: RegExp }> = [
      { name: 'a role that does not exist', argv: ['bob', '--role', 'root'], says: /^user add: --role: expected one of admin, security, viewer/ },
      { name: 'no role', argv: ['bob'], says: /^user add: --role: required/ },
      { name: 'no name', argv: ['--role', 'viewer'], says: /user name/ },
      { name: 'two names', argv: ['bob', 'carol', '--role', 'viewer'], says: /one user name/ },
      { name: 'an upper-case name', argv: ['Bob', '--role', 'viewer'], says: /lower-case/ },
    ];
    for (const row of usageErrors) {
      it(`user add with ${row.name} exits 2`, async () => {
        const run = await cli(['user', 'add', ...row.argv, ...data()]);
        expect(run.code).to.equal(2);
        expect(run.err).to.match(row.says);
        expect(lines(run.err)).to.have.length(1);
      });
    }

    it('user add of an existing user exits 1 and changes nothing', async () => {
      const before = await withStore(dir, (s) => s.getUser('alice'));
      const run = await cli(['user', 'add', 'alice', '--role', 'admin', ...data()]);
      expect(run.code).to.equal(1);
      expect(run.err).to.include('alice already exists');
      expect(run.out).not.to.include('password');
      expect(await withStore(dir, (s) => s.getUser('alice'))).to.deep.equal(before);
    });

    it('--password-stdin refuses a weak password with 2 and creates nothing', async () => {
      const run = await cli(['user', 'add', 'bob', '--role', 'viewer', '--password-stdin', ...data()], 'short\n');
      expect(run.code).to.equal(2);
      expect(run.err).to.match(/password must be at least 12 characters/);
      expect(await withStore(dir, (s) => s.getUser('bob'))).to.equal(undefined);
    });

    it('--password-stdin takes a good password (without its newline) and prints none', async () => {
      const password = 'a-long-enough-passphrase';
      const run = await cli(['user', 'add', 'bob', '--role', 'viewer', '--password-stdin', ...data()], `${password}\n`);
      expect(run.code, run.err).to.equal(0);
      expect(run.out).to.equal('created user bob (viewer)\n');
      const user = await withStore(dir, (s) => s.getUser('bob'));
      expect(await verifyPassword(password, user?.passwordHash ?? '')).to.equal(true);
    });

    it('user passwd sets a new generated password; the old one stops working', async () => {
      const run = await cli(['user', 'passwd', 'bob', ...data()]);
      expect(run.code, run.err).to.equal(0);
      const password = /^password: (\S+)$/m.exec(run.out)?.[1] ?? '';
      const user = await withStore(dir, (s) => s.getUser('bob'));
      expect(await verifyPassword(password, user?.passwordHash ?? '')).to.equal(true);
      expect(await verifyPassword('a-long-enough-passphrase', user?.passwordHash ?? '')).to.equal(false);
    });

    it('user passwd of an unknown user exits 1', async () => {
      const run = await cli(['user', 'passwd', 'nobody', ...data()]);
      expect(run.code).to.equal(1);
      expect(run.err).to.include('no user nobody');
      expect(run.out).to.equal('');
    });
  });

  describe('enrollment tokens', () => {
    before(async () => {
      await withStore(dir, (s) => s.createGroup({ name: 'default', description: '', createdAt: new Date().toISOString() }));
    });

    it('token create --group default prints the token alone on the last line', async () => {
      const run = await cli(['token', 'create', '--group', 'default', ...data()]);
      expect(run.code, run.err).to.equal(0);
      const token = lines(run.out).at(-1) ?? '';
      expect(token).to.match(/^pct_[A-Za-z0-9_-]{43}$/);
      const stored = await withStore(dir, (s) => s.listEnrollmentTokens());
      const mine = stored.find((t) => t.tokenHash === hashSecret(token));
      expect(mine?.group).to.equal('default');
      const lifetime = Date.parse(mine?.expiresAt ?? '') - Date.parse(mine?.createdAt ?? '');
      expect(lifetime).to.equal(7 * 86_400_000);
    });

    // One row per refused `token create`, with the exit code and what the message must say.
    const refusals: Array<{ name: string; argv: string[]; code: number; says: RegExp }> = [
      { name: 'an unknown group', argv: ['--group', 'nope'], code: 1, says: /group nope not found/ },
      { name: 'a lifetime over 90 days', argv: ['--group', 'default', '--expires', '400d'], code: 1, says: /at most 90 days/ },
      { name: 'a malformed lifetime', argv: ['--group', 'default', '--expires', 'soon'], code: 1, says: /30m, 24h or 7d/ },
      { name: 'no group', argv: [], code: 2, says: /^token create: --group: required/ },
    ];
    for (const row of refusals) {
      it(`token create with ${row.name} exits ${row.code} with a clear message`, async () => {
        const run = await cli(['token', 'create', ...row.argv, ...data()]);
        expect(run.code).to.equal(row.code);
        expect(run.out).to.equal('');
        expect(lines(run.err)).to.have.length(1);
        expect(run.err).to.match(row.says);
        expect(run.err).not.to.match(/internal error|\n\s+at /);
      });
    }
  });

  describe('verify-log', () => {
    let fresh = '';
    before(async () => {
      fresh = await mkdtemp(join(tmpdir(), 'portcullis-cli-log-'));
    });
    after(async () => {
      await rm(fresh, { recursive: true, force: true });
    });

    it('on a fresh database both chains are intact', async () => {
      const run = await cli(['verify-log', '--data', fresh]);
      expect(run).to.deep.equal({ code: 0, out: 'event log: intact (0 records)\naudit trail: intact (0 records)\n', err: '' });
    });

    it('with records in both chains, still intact', async () => {
      expect((await cli(['user', 'add', 'carol', '--role', 'viewer', '--data', fresh])).code).to.equal(0);
      await withStore(fresh, (s) =>
        s.ingestEvents(null, null, [{ seq: null, type: 'server.test', severity: 'info', occurredAt: new Date().toISOString(), data: { n: 1 } }], new Date().toISOString()),
      );
      const run = await cli(['verify-log', '--data', fresh]);
      expect(run.code).to.equal(0);
      expect(run.out).to.equal('event log: intact (1 records)\naudit trail: intact (1 records)\n');
    });

    it('an event changed in the file is caught: exit 1, BROKEN at record 1', async () => {
      tamper(fresh, `UPDATE events SET data = '{"n":2}' WHERE id = 1`);
      const run = await cli(['verify-log', '--data', fresh]);
      expect(run.code).to.equal(1);
      expect(lines(run.out)[0]).to.match(/^event log: BROKEN at record 1: /);
      expect(lines(run.out)[1]).to.equal('audit trail: intact (1 records)');
    });

    it('an audit record changed in the file is caught too', async () => {
      tamper(fresh, `UPDATE audit SET actor = 'someone-else' WHERE id = 1`);
      const run = await cli(['verify-log', '--data', fresh]);
      expect(run.code).to.equal(1);
      expect(lines(run.out)[1]).to.match(/^audit trail: BROKEN at record 1: /);
    });
  });

  describe('the installed binary', () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'portcullis-server.js');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));

    it('--help exits 0 with the usage', () => {
      const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include('Usage: portcullis-server <command>');
    });

    it('start --listen nonsense exits 2 with one line and no stack trace', () => {
      const result = spawnSync(process.execPath, [bin, 'start', '--listen', 'nonsense', '--data', join(dir, 'bin')], { encoding: 'utf8', env });
      expect(result.status).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(lines(result.stderr)).to.deep.equal(['--listen: expected HOST:PORT, got "nonsense"']);
    });
  });
});
