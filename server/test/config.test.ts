import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, START_OPTIONS, describeConfig, loadConfig, parseServerArgs, redactUrl, type ServerConfig } from '../src/config.js';

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('config', () => {
  let cwd: string;

  /** Writes a config file (mode 0644 unless told) and returns its path relative to cwd. */
  const configFile = (settings: unknown, name = 'server.json', mode = 0o644): string => {
    const path = join(cwd, name);
    writeFileSync(path, typeof settings === 'string' ? settings : JSON.stringify(settings));
    chmodSync(path, mode);
    return name;
  };
  const load = (argv: string[] = [], env: NodeJS.ProcessEnv = {}): ServerConfig => loadConfig(argv, env, { cwd });
  const failure = (argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError => {
    try {
      load(argv, env);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).code).to.equal('PORTCULLIS_ERR_CONFIG');
      return err as ConfigError;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(argv)}`);
  };

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  describe('defaults', () => {
    it('listen on 127.0.0.1:8443 with SQLite in ./data', () => {
      const c = load();
      expect(c.listen).to.deep.equal({ host: '127.0.0.1', port: 8443 });
      expect(c.dataDir).to.equal(join(cwd, 'data'));
      expect(c.database).to.deep.equal({ kind: 'sqlite', url: `sqlite:${join(cwd, 'data', 'portcullis.db')}`, path: join(cwd, 'data', 'portcullis.db') });
      expect(c.logLevel).to.equal('info');
      expect(c.agentSilentAfterSeconds).to.equal(300);
      expect(c.sessionTtlHours).to.equal(12);
      expect(c.publicUrl).to.equal('https://127.0.0.1:8443');
      expect(c.hostnames).to.deep.equal(['127.0.0.1']);
      expect(c.configFile).to.equal(null);
      expect(c.warnings).to.deep.equal([]);
    });

    it('the Postfix policy service on loopback 127.0.0.1:10040', () => {
      expect(load().mailPolicyListen).to.deep.equal({ host: '127.0.0.1', port: 10040 });
    });
  });

  describe('precedence: flags > env > config file > defaults', () => {
    // Each row sets `listen` (and `data`) in some sources; `expected` is what wins.
    const ROWS: ReadonlyArray<{ name: string; flag?: string; env?: string; file?: string; expected: string }> = [
      { name: 'nothing set', expected: '127.0.0.1:8443' }, // the default
      { name: 'file only', file: '10.0.0.1:9000', expected: '10.0.0.1:9000' }, // file beats the default
      { name: 'env and file', env: '10.0.0.2:9001', file: '10.0.0.1:9000', expected: '10.0.0.2:9001' }, // env beats the file
      { name: 'flag and env', flag: '10.0.0.3:9002', env: '10.0.0.2:9001', expected: '10.0.0.3:9002' }, // flag beats env
      { name: 'flag and file', flag: '10.0.0.3:9002', file: '10.0.0.1:9000', expected: '10.0.0.3:9002' }, // flag beats the file
      { name: 'all three', flag: '10.0.0.3:9002', env: '10.0.0.2:9001', file: '10.0.0.1:9000', expected: '10.0.0.3:9002' }, // flag beats all
      { name: 'empty env', env: '', file: '10.0.0.1:9000', expected: '10.0.0.1:9000' }, // an empty variable counts as unset
    ];
    for (const row of ROWS) {
      it(`listen: ${row.name}`, () => {
        const argv = row.flag === undefined ? [] : ['--listen', row.flag];
        const env: NodeJS.ProcessEnv = row.env === undefined ? {} : { PORTCULLIS_LISTEN: row.env };
        if (row.file !== undefined) argv.push('--config', configFile({ listen: row.file }));
        const { host, port } = load(argv, env).listen;
        expect(`${host}:${port}`).to.equal(row.expected);
      });
    }

    // Rows for the other settings: which source sets the value, and the value that results.
    const OTHER: ReadonlyArray<{ name: string; argv?: string[]; env?: NodeJS.ProcessEnv; file?: object; check: (c: ServerConfig, cwd: string) => void }> = [
      // --data beats PORTCULLIS_DATA, relative to the working directory
      { name: 'data from flag', argv: ['--data', 'flagdata'], env: { PORTCULLIS_DATA: '/env/data' }, check: (c, d) => expect(c.dataDir).to.equal(join(d, 'flagdata')) },
      // PORTCULLIS_DATA beats the file
      { name: 'data from env', env: { PORTCULLIS_DATA: '/env/data' }, file: { data: 'filedata' }, check: (c) => expect(c.dataDir).to.equal('/env/data') },
      // a relative path in the config file is relative to the file's folder
      { name: 'data from file', file: { data: 'filedata' }, check: (c, d) => expect(c.dataDir).to.equal(join(d, 'etc', 'filedata')) },
      // --database beats PORTCULLIS_DATABASE_URL
      {
        name: 'database from flag',
        argv: ['--database', 'postgres://a@db1/p'],
        env: { PORTCULLIS_DATABASE_URL: 'postgres://b@db2/p' },
        check: (c) => expect(c.database).to.deep.equal({ kind: 'postgres', url: 'postgres://a@db1/p' }),
      },
      // PORTCULLIS_DATABASE_URL beats the file
      {
        name: 'database from env',
        env: { PORTCULLIS_DATABASE_URL: 'postgresql://b@db2/p' },
        file: { database: 'postgres://c@db3/p' },
        check: (c) => expect(c.database.url).to.equal('postgresql://b@db2/p'),
      },
      // a relative sqlite file is relative to the data folder, wherever that came from
      {
        name: 'sqlite file in the data folder',
        argv: ['--data', '/srv/portcullis'],
        file: { database: 'sqlite:events.db' },
        check: (c) => expect(c.database).to.deep.equal({ kind: 'sqlite', url: 'sqlite:events.db', path: '/srv/portcullis/events.db' }),
      },
      // an absolute sqlite URL is taken as it is
      { name: 'absolute sqlite', argv: ['--database', 'sqlite:///var/db/p.db'], check: (c) => expect(c.database).to.include({ kind: 'sqlite', path: '/var/db/p.db' }) },
      // the in-memory database, for tests
      { name: 'sqlite in memory', env: { PORTCULLIS_DATABASE_URL: 'sqlite::memory:' }, check: (c) => expect(c.database).to.include({ path: ':memory:' }) },
      // PORTCULLIS_LOG_LEVEL beats the file, case-insensitively
      { name: 'log level from env', env: { PORTCULLIS_LOG_LEVEL: 'DEBUG' }, file: { logLevel: 'warn' }, check: (c) => expect(c.logLevel).to.equal('debug') },
      // PORTCULLIS_HOSTNAMES (comma list) beats the file's list
      {
        name: 'hostnames from env',
        env: { PORTCULLIS_HOSTNAMES: ' Portal.Ministry.Local ,10.0.0.5,,' },
        file: { hostnames: ['file.example'] },
        check: (c) => expect(c.hostnames).to.deep.equal(['portal.ministry.local', '10.0.0.5', '127.0.0.1']),
      },
      // file-only settings
      {
        name: 'file-only settings',
        file: { agentSilentAfterSeconds: 900, sessionTtlHours: 8, publicUrl: 'https://portal.ministry.local/' },
        check: (c) => {
          expect([c.agentSilentAfterSeconds, c.sessionTtlHours, c.publicUrl]).to.deep.equal([900, 8, 'https://portal.ministry.local']);
          expect(c.hostnames).to.include('portal.ministry.local'); // publicUrl's host goes into the certificate
        },
      },
      // --config beats PORTCULLIS_CONFIG
      {
        name: 'config file from flag',
        env: { PORTCULLIS_CONFIG: 'missing.json' },
        file: { logLevel: 'error' },
        check: (c) => expect(c.logLevel).to.equal('error'),
      },
    ];
    for (const row of OTHER) {
      it(row.name, () => {
        const argv = [...(row.argv ?? [])];
        if (row.file !== undefined) {
          mkdirSync(join(cwd, 'etc'));
          argv.push('--config', configFile(row.file, join('etc', 'server.json')));
        }
        const c = load(argv, row.env ?? {});
        row.check(c, cwd);
        if (row.file !== undefined) expect(c.configFile).to.equal(join(cwd, 'etc', 'server.json'));
      });
    }

    it('reads the config file named by PORTCULLIS_CONFIG', () => {
      const name = configFile({ listen: '[::1]:9443' });
      const c = load([], { PORTCULLIS_CONFIG: name });
      expect(c.listen).to.deep.equal({ host: '::1', port: 9443 });
      expect(c.publicUrl).to.equal('https://[::1]:9443');
    });
  });

  describe('listen addresses', () => {
    // Rows: a --listen value and the address it gives.
    const GOOD: ReadonlyArray<[string, string, number]> = [
      ['127.0.0.1:8443', '127.0.0.1', 8443], // the default form
      ['[::1]:8443', '::1', 8443], // IPv6 in brackets
      ['[::]:443', '::', 443], // every IPv6 (and usually IPv4) interface
      ['0.0.0.0:8443', '0.0.0.0', 8443], // every IPv4 interface
      ['Portal.Ministry.Local:8443', 'portal.ministry.local', 8443], // a name, lower-cased
      ['127.0.0.1:0', '127.0.0.1', 0], // any free port (tests)
      ['[0:0:0:0:0:0:0:1]:65535', '::1', 65535], // canonical IPv6, top port
    ];
    for (const [text, host, port] of GOOD) {
      it(`accepts ${text}`, () => expect(load(['--listen', text]).listen).to.deep.equal({ host, port }));
    }

    it('puts a specific listen address in the certificate names, and wildcards not', () => {
      expect(load(['--listen', '10.1.2.3:8443']).hostnames).to.deep.equal(['10.1.2.3']);
      const wildcard = load(['--listen', '0.0.0.0:443'], { PORTCULLIS_HOSTNAMES: '10.0.0.9,portal.ministry.local' });
      expect(wildcard.hostnames).to.deep.equal(['10.0.0.9', 'portal.ministry.local']);
      expect(wildcard.publicUrl).to.equal('https://portal.ministry.local');
    });
  });

  describe('mail policy listen address (--mail-policy-listen)', () => {
    // Rows: where the setting comes from and the address it gives (null: the service is off).
    const ROWS: ReadonlyArray<{ name: string; argv?: string[]; env?: NodeJS.ProcessEnv; file?: object; expected: { host: string; port: number } | null }> = [
      { name: 'nothing set', expected: { host: '127.0.0.1', port: 10040 } }, // the default, loopback
      { name: 'a flag HOST:PORT', argv: ['--mail-policy-listen', '10.0.0.7:10041'], expected: { host: '10.0.0.7', port: 10041 } }, // the flag as given
      { name: 'IPv6 loopback', argv: ['--mail-policy-listen', '[::1]:10040'], expected: { host: '::1', port: 10040 } }, // brackets, taken off
      { name: 'a host name', argv: ['--mail-policy-listen', 'Mail-Gw.Ministry.Local:10040'], expected: { host: 'mail-gw.ministry.local', port: 10040 } }, // lower-cased
      { name: 'any free port', argv: ['--mail-policy-listen', '127.0.0.1:0'], expected: { host: '127.0.0.1', port: 0 } }, // tests
      { name: 'off by flag', argv: ['--mail-policy-listen', 'off'], expected: null }, // no service
      { name: 'from the environment', env: { PORTCULLIS_MAIL_POLICY_LISTEN: '0.0.0.0:10040' }, expected: { host: '0.0.0.0', port: 10040 } }, // env when no flag
      { name: 'off by environment', env: { PORTCULLIS_MAIL_POLICY_LISTEN: 'off' }, expected: null }, // env may turn it off
      { name: 'from the config file', file: { mailPolicyListen: '127.0.0.2:10050' }, expected: { host: '127.0.0.2', port: 10050 } }, // the file key
      { name: 'off by config file', file: { mailPolicyListen: 'off' }, expected: null }, // the file may turn it off
      { name: 'flag beats env', argv: ['--mail-policy-listen', '127.0.0.3:1'], env: { PORTCULLIS_MAIL_POLICY_LISTEN: 'off' }, expected: { host: '127.0.0.3', port: 1 } }, // flag first
      { name: 'env off beats the file', env: { PORTCULLIS_MAIL_POLICY_LISTEN: 'off' }, file: { mailPolicyListen: '127.0.0.2:10050' }, expected: null }, // off is a value, not "unset"
      { name: 'empty env', env: { PORTCULLIS_MAIL_POLICY_LISTEN: '' }, file: { mailPolicyListen: '127.0.0.2:10050' }, expected: { host: '127.0.0.2', port: 10050 } }, // empty counts as unset
      { name: 'flag off beats the file', argv: ['--mail-policy-listen', 'off'], file: { mailPolicyListen: '127.0.0.2:10050' }, expected: null }, // off from the top source wins
    ];
    for (const row of ROWS) {
      it(row.name, () => {
        const argv = [...(row.argv ?? [])];
        if (row.file !== undefined) argv.push('--config', configFile(row.file));
        expect(load(argv, row.env ?? {}).mailPolicyListen).to.deep.equal(row.expected);
      });
    }

    // Rows: a bad value and the exact message, which names the flag, variable or key at fault.
    const BAD: ReadonlyArray<{ name: string; argv?: string[]; env?: NodeJS.ProcessEnv; file?: object; option: string; message: string }> = [
      { name: 'a bare port', argv: ['--mail-policy-listen', '10040'], option: '--mail-policy-listen', message: '--mail-policy-listen: expected HOST:PORT, got "10040" (or "off")' },
      { name: 'OFF in capitals', argv: ['--mail-policy-listen', 'OFF'], option: '--mail-policy-listen', message: '--mail-policy-listen: expected HOST:PORT, got "OFF" (or "off")' },
      { name: 'IPv6 without brackets', argv: ['--mail-policy-listen', '::1:10040'], option: '--mail-policy-listen', message: '--mail-policy-listen: IPv6 addresses go in brackets, e.g. [::1]:8443; got "::1:10040" (or "off")' },
      { name: 'port too high', argv: ['--mail-policy-listen', '127.0.0.1:70000'], option: '--mail-policy-listen', message: '--mail-policy-listen: port must be a number from 0 to 65535, got "70000" (or "off")' },
      { name: 'a bad host', argv: ['--mail-policy-listen', 'mail_gw:10040'], option: '--mail-policy-listen', message: '--mail-policy-listen: "mail_gw" is not a host name or IP address (in "mail_gw:10040") (or "off")' },
      { name: 'an empty flag', argv: ['--mail-policy-listen', ''], option: '--mail-policy-listen', message: '--mail-policy-listen: expected HOST:PORT, got "" (or "off")' },
      { name: 'a bad variable', env: { PORTCULLIS_MAIL_POLICY_LISTEN: 'no' }, option: 'PORTCULLIS_MAIL_POLICY_LISTEN', message: 'PORTCULLIS_MAIL_POLICY_LISTEN: expected HOST:PORT, got "no" (or "off")' },
      { name: 'a number in the file', file: { mailPolicyListen: 10040 }, option: 'config.json: mailPolicyListen', message: 'config.json: mailPolicyListen: expected a "HOST:PORT" string, got 10040 (or "off")' },
      { name: 'false in the file', file: { mailPolicyListen: false }, option: 'config.json: mailPolicyListen', message: 'config.json: mailPolicyListen: expected a "HOST:PORT" string, got false (or "off")' },
      { name: 'a misspelt file key', file: { mailPolicyListn: 'off' }, option: 'config.json', message: 'config.json: unknown key "mailPolicyListn" (did you mean "mailPolicyListen"?)' },
      // checked even when the flag wins
      {
        name: 'a bad overridden variable',
        argv: ['--mail-policy-listen', 'off'],
        env: { PORTCULLIS_MAIL_POLICY_LISTEN: '127.0.0.1' },
        option: 'PORTCULLIS_MAIL_POLICY_LISTEN',
        message: 'PORTCULLIS_MAIL_POLICY_LISTEN: expected HOST:PORT, got "127.0.0.1" (or "off")',
      },
    ];
    for (const row of BAD) {
      it(`refuses ${row.name}`, () => {
        const argv = [...(row.argv ?? [])];
        if (row.file !== undefined) argv.push('--config', configFile(row.file, 'config.json'));
        const err = failure(argv, row.env);
        expect(err.option).to.equal(row.option);
        expect(err.problems).to.have.length(1);
        expect(err.message).to.equal(row.message);
      });
    }

    it('shows in the start-up line, as off or HOST:PORT', () => {
      expect(describeConfig(load(['--mail-policy-listen', 'off']))).to.include(' mailPolicyListen=off ');
      expect(describeConfig(load(['--mail-policy-listen', '[::1]:10040']))).to.include(' mailPolicyListen=[::1]:10040 ');
    });

    it('is a start option; other commands refuse the flag but read the variable', () => {
      const r = parseServerArgs('start', ['--mail-policy-listen', 'off'], {}, START_OPTIONS, { cwd });
      expect(r.help === false && r.config.mailPolicyListen).to.equal(null);
      expect(() => parseServerArgs('migrate', ['--mail-policy-listen', 'off'], {}, {}, { cwd })).to.throw('migrate: unknown option --mail-policy-listen (see --help)');
      const m = parseServerArgs('migrate', [], { PORTCULLIS_MAIL_POLICY_LISTEN: '127.0.0.1:1' }, {}, { cwd });
      expect(m.help === false && m.config.mailPolicyListen).to.deep.equal({ host: '127.0.0.1', port: 1 });
    });
  });

  describe('validation: one clear error per problem', () => {
    // Rows: bad input and the exact message it gives; `option` is what ConfigError.option names.
    const ROWS: ReadonlyArray<{ name: string; argv?: string[]; env?: NodeJS.ProcessEnv; file?: unknown; option: string; message: string }> = [
      { name: 'a bare port', argv: ['--listen', '8443'], option: '--listen', message: '--listen: expected HOST:PORT, got "8443"' },
      { name: 'no host', argv: ['--listen', ':8443'], option: '--listen', message: '--listen: expected HOST:PORT, got ":8443"' },
      { name: 'IPv6 without brackets', argv: ['--listen', '::1:8443'], option: '--listen', message: '--listen: IPv6 addresses go in brackets, e.g. [::1]:8443; got "::1:8443"' },
      { name: 'port too high', argv: ['--listen', '127.0.0.1:65536'], option: '--listen', message: '--listen: port must be a number from 0 to 65535, got "65536"' },
      { name: 'port not a number', argv: ['--listen', '127.0.0.1:https'], option: '--listen', message: '--listen: port must be a number from 0 to 65535, got "https"' },
      { name: 'negative port', env: { PORTCULLIS_LISTEN: 'localhost:-1' }, option: 'PORTCULLIS_LISTEN', message: 'PORTCULLIS_LISTEN: port must be a number from 0 to 65535, got "-1"' },
      { name: 'bad host', argv: ['--listen', 'my_host:8443'], option: '--listen', message: '--listen: "my_host" is not a host name or IP address (in "my_host:8443")' },
      { name: 'a name in brackets', argv: ['--listen', '[localhost]:8443'], option: '--listen', message: '--listen: "localhost" is not a host name or IP address (in "[localhost]:8443")' },
      {
        name: 'a MySQL URL',
        argv: ['--database', 'mysql://root:hunter2@db/portcullis'],
        option: '--database',
        message: '--database: expected a sqlite: or postgres:// URL, got "mysql://root:***@db/portcullis"',
      },
      { name: 'a bare file name', env: { PORTCULLIS_DATABASE_URL: 'portcullis.db' }, option: 'PORTCULLIS_DATABASE_URL', message: 'PORTCULLIS_DATABASE_URL: expected a sqlite: or postgres:// URL, got "portcullis.db"' },
      { name: 'sqlite without a file', argv: ['--database', 'sqlite:'], option: '--database', message: '--database: a sqlite: URL needs a file, e.g. sqlite:portcullis.db (relative to the data folder)' },
      { name: 'an unparsable postgres URL', argv: ['--database', 'postgres://u:pw@[bad/db'], option: '--database', message: '--database: not a valid URL: "postgres://u:***@[bad/db"' },
      { name: 'empty data folder', argv: ['--data', ''], option: '--data', message: '--data: expected a folder path, got ""' },
      { name: 'unknown log level', env: { PORTCULLIS_LOG_LEVEL: 'loud' }, option: 'PORTCULLIS_LOG_LEVEL', message: 'PORTCULLIS_LOG_LEVEL: expected one of error, warn, info, http, verbose, debug, silly, got "loud"' },
      { name: 'a bad host name', env: { PORTCULLIS_HOSTNAMES: 'ok.example,bad_name' }, option: 'PORTCULLIS_HOSTNAMES', message: 'PORTCULLIS_HOSTNAMES: "bad_name": not a DNS name or IP address' },
      { name: 'a wildcard host name', env: { PORTCULLIS_HOSTNAMES: '*.ministry.local' }, option: 'PORTCULLIS_HOSTNAMES', message: 'PORTCULLIS_HOSTNAMES: "*.ministry.local": wildcard names are not supported; list each name' },
      { name: 'a missing config file', argv: ['--config', 'nope.json'], option: '--config', message: '--config: cannot read "nope.json" (ENOENT)' },
      { name: 'a config folder', env: { PORTCULLIS_CONFIG: '.' }, option: 'PORTCULLIS_CONFIG', message: 'PORTCULLIS_CONFIG: "." is not a regular file' },
      { name: 'unknown key, with a suggestion', file: { listn: '127.0.0.1:1' }, option: 'config.json', message: 'config.json: unknown key "listn" (did you mean "listen"?)' },
      {
        name: 'unknown key, without one',
        file: { colour: 'blue' },
        option: 'config.json',
        message: 'config.json: unknown key "colour" (known: listen, mailPolicyListen, data, database, hostnames, logLevel, agentSilentAfterSeconds, sessionTtlHours, publicUrl)',
      },
      { name: 'invalid JSON', file: '{"listen": }', option: 'config.json', message: 'config.json: not valid JSON (' },
      { name: 'not an object', file: '["listen"]', option: 'config.json', message: 'config.json: expected a JSON object of settings' },
      { name: 'listen as a number', file: { listen: 8443 }, option: 'config.json: listen', message: 'config.json: listen: expected a "HOST:PORT" string, got 8443' },
      { name: 'hostnames as a string', file: { hostnames: 'a.example' }, option: 'config.json: hostnames', message: 'config.json: hostnames: expected a list of host names, got "a.example"' },
      {
        name: 'fractional seconds',
        file: { agentSilentAfterSeconds: 1.5 },
        option: 'config.json: agentSilentAfterSeconds',
        message: 'config.json: agentSilentAfterSeconds: expected a whole number from 10 to 2592000, got 1.5',
      },
      { name: 'zero session hours', file: { sessionTtlHours: 0 }, option: 'config.json: sessionTtlHours', message: 'config.json: sessionTtlHours: expected a number from 0.25 to 720, got 0' },
      { name: 'plain-HTTP public URL', file: { publicUrl: 'http://portal' }, option: 'config.json: publicUrl', message: 'config.json: publicUrl: must be https:// (the server only speaks TLS), got "http://portal"' },
      { name: 'public URL with a query', file: { publicUrl: 'https://portal/?x=1' }, option: 'config.json: publicUrl', message: 'config.json: publicUrl: must not carry credentials, a query or a fragment, got "https://portal…"' },
      { name: 'unknown flag', argv: ['--lisen', '1'], option: '--lisen', message: 'start: unknown option --lisen (see --help)' },
      { name: 'flag without its value', argv: ['--data'], option: '--data', message: 'start: --data needs a value (see --help)' },
      { name: 'a stray argument', argv: ['now'], option: 'now', message: 'start: unexpected argument "now" (see --help)' },
      // overridden values are still checked: a broken variable is a mistake even when a flag wins
      { name: 'a bad overridden value', argv: ['--listen', '127.0.0.1:1'], env: { PORTCULLIS_LISTEN: 'nope' }, option: 'PORTCULLIS_LISTEN', message: 'PORTCULLIS_LISTEN: expected HOST:PORT, got "nope"' },
    ];
    for (const row of ROWS) {
      it(row.name, () => {
        const argv = [...(row.argv ?? [])];
        if (row.file !== undefined) argv.push('--config', configFile(row.file, 'config.json'));
        const err = failure(argv, row.env);
        expect(err.option).to.equal(row.option);
        expect(err.problems).to.have.length(1);
        if (row.message.endsWith('(')) expect(err.message.startsWith(row.message), err.message).to.equal(true);
        else expect(err.message).to.equal(row.message);
      });
    }

    it('reports every problem at once, one line each', () => {
      const file = configFile({ listn: 'x', sessionTtlHours: -1 }, 'config.json');
      const err = failure(['--config', file, '--listen', '1'], { PORTCULLIS_LOG_LEVEL: 'loud' });
      expect(err.message.split('\n')).to.deep.equal([
        'config.json: unknown key "listn" (did you mean "listen"?)',
        '--listen: expected HOST:PORT, got "1"',
        'PORTCULLIS_LOG_LEVEL: expected one of error, warn, info, http, verbose, debug, silly, got "loud"',
        'config.json: sessionTtlHours: expected a number from 0.25 to 720, got -1',
      ]);
    });
  });

  describe('config file safety', () => {
    posixOnly('refuses a world-writable config file', () => {
      const file = configFile({ database: 'postgres://portcullis:s3cret@db/portcullis' }, 'server.json', 0o666);
      const err = failure(['--config', file]);
      expect(err.message).to.equal(
        `server.json: writable by every user (mode 0666); refusing to use it, since it chooses the database and may hold its password. Fix it with: chmod o-w '${join(cwd, 'server.json')}'`,
      );
      expect(err.message).not.to.include('s3cret');
    });

    posixOnly('accepts a group-writable one, and warns when every user can read a password', () => {
      const file = configFile({ database: 'postgres://portcullis:s3cret@db/portcullis' }, 'server.json', 0o664);
      const c = load(['--config', file]);
      expect(c.warnings).to.deep.equal([`server.json holds a database password and every user can read it; consider: chmod o-r '${join(cwd, 'server.json')}'`]);
      chmodSync(join(cwd, file), 0o640);
      expect(load(['--config', file]).warnings).to.deep.equal([]);
    });
  });

  describe('describeConfig', () => {
    // Rows: a database URL and how the start-up line shows it.
    const REDACTIONS: ReadonlyArray<{ name: string; url: string; shown: string }> = [
      { name: 'the usual form', url: 'postgres://portcullis:s3cret@db/portcullis', shown: 'postgres://portcullis:***@db/portcullis' },
      {
        name: 'encoded, with port and query',
        url: 'postgresql://portcullis:p%40ss@db:5432/portcullis?sslmode=require',
        shown: 'postgresql://portcullis:***@db:5432/portcullis?sslmode=require',
      },
      { name: 'raw @ and : in the password', url: 'postgres://portcullis:s3cret@x:y@db/portcullis', shown: 'postgres://portcullis:***@db/portcullis' },
      { name: "libpq's password parameter", url: 'postgres://db/portcullis?user=portcullis&password=s3cret', shown: 'postgres://db/portcullis?user=portcullis&password=***' },
      { name: 'nothing to hide', url: 'postgres://portcullis@db/portcullis', shown: 'postgres://portcullis@db/portcullis' },
    ];
    for (const { name, url, shown } of REDACTIONS) {
      it(`redacts the password: ${name}`, () => {
        expect(redactUrl(url)).to.equal(shown);
        const line = describeConfig(load(['--database', url]));
        expect(line).to.include(`database=${shown}`);
        expect(line).not.to.match(/s3cret|p%40ss/);
      });
    }

    it('is one line with every setting', () => {
      const file = configFile({ hostnames: ['portal.ministry.local'] });
      const line = describeConfig(load(['--listen', '[::1]:9443', '--data', '/srv/p', '--config', file]));
      expect(line).to.equal(
        'listen=[::1]:9443 mailPolicyListen=127.0.0.1:10040 publicUrl=https://[::1]:9443 data=/srv/p database=sqlite:/srv/p/portcullis.db ' +
          'hostnames=portal.ministry.local,::1 logLevel=info agentSilentAfterSeconds=300 sessionTtlHours=12 ' +
          `config=${join(cwd, 'server.json')}`,
      );
    });
  });

  describe('parseServerArgs (every server command)', () => {
    const TOKEN = { group: { type: 'string' }, days: { type: 'string' } } as const;

    it('takes the common options and the command’s own', () => {
      const r = parseServerArgs('token create', ['--group', 'finance', '--data', 'd', '--database', 'sqlite::memory:'], {}, TOKEN, { cwd });
      expect(r.help).to.equal(false);
      expect(r.values).to.deep.equal({ group: 'finance' });
      if (r.help) return;
      expect(r.config.dataDir).to.equal(join(cwd, 'd'));
      expect(r.config.database).to.include({ kind: 'sqlite', path: ':memory:' });
    });

    it('names the command in an unknown-option error', () => {
      expect(() => parseServerArgs('migrate', ['--x'], {}, {}, { cwd })).to.throw(ConfigError, /^migrate: unknown option --x \(see --help\)$/);
      // --listen belongs to start only
      expect(() => parseServerArgs('verify-log', ['--listen', '1.2.3.4:1'], {}, {}, { cwd })).to.throw('verify-log: unknown option --listen (see --help)');
    });

    it('takes positionals only when the command says so', () => {
      const r = parseServerArgs('user add', ['alice', '--role', 'admin'], {}, { role: { type: 'string' } }, { cwd, allowPositionals: true });
      expect([r.positionals, r.values]).to.deep.equal([['alice'], { role: 'admin' }]);
      expect(() => parseServerArgs('user passwd', ['alice'], {}, {}, { cwd })).to.throw('user passwd: unexpected argument "alice" (see --help)');
    });

    it('answers --help without reading a broken config', () => {
      const broken = configFile('{', 'broken.json');
      const r = parseServerArgs('migrate', ['-h', '--config', broken], {}, {}, { cwd });
      expect(r).to.deep.equal({ help: true, values: {}, positionals: [] });
      expect(() => parseServerArgs('migrate', ['--config', broken], {}, {}, { cwd })).to.throw(/^broken\.json: not valid JSON/);
    });

    it('feeds a command’s --listen into the config (start)', () => {
      const r = parseServerArgs('start', ['--listen', '[::1]:1'], {}, { listen: { type: 'string' } }, { cwd });
      expect(r.help === false && r.config.listen).to.deep.equal({ host: '::1', port: 1 });
    });

    it('refuses a command option that shadows a common one (a programming error)', () => {
      expect(() => parseServerArgs('start', [], {}, { data: { type: 'string' } }, { cwd })).to.throw('start: option --data is already a common server option');
    });
  });
});
