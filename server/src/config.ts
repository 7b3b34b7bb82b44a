import { ErrorCodes } from '@portcullis/shared';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseHostname } from './pki/hostnames.js';

/**
 * The server's settings: command-line flags, then PORTCULLIS_* environment variables, then a JSON
 * config file, then defaults (the first that gives a value wins). Every value given is checked,
 * even one a higher source overrides, and every problem is reported at once, one line each.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ListenAddress {
  /** Without brackets: `127.0.0.1`, `::1`, `0.0.0.0`, `portal.ministry.local`. */
  readonly host: string;
  /** 0 asks the OS for any free port (tests). */
  readonly port: number;
}

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly url: string; /** Absolute, or `:memory:`. */ readonly path: string }
  | { readonly kind: 'postgres'; /** May hold a password: log it through describeConfig only. */ readonly url: string };

export interface ServerConfig {
  readonly listen: ListenAddress;
  /** Absolute. Holds the SQLite database (by default) and `pki/`. */
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** Extra names for the server certificate: configured ones, the listen host and publicUrl's host. */
  readonly hostnames: readonly string[];
  readonly logLevel: LogLevel;
  /** An agent with no contact for this long is shown as silent. */
  readonly agentSilentAfterSeconds: number;
  readonly sessionTtlHours: number;
  /** Where people and agents reach the server (`https://portal.ministry.local:8443`, no trailing slash). */
  readonly publicUrl: string;
  /** Absolute path of the config file read, if any. */
  readonly configFile: string | null;
  /**
   * Where the Postfix policy delegation service listens (`check_policy_service inet:HOST:PORT`);
   * null when turned off (`off`). Loopback by default: the protocol has no authentication.
   */
  readonly mailPolicyListen: ListenAddress | null;
  /** Things to log at start-up that do not stop the server. */
  readonly warnings: readonly string[];
}

export const DEFAULTS = {
  listen: '127.0.0.1:8443',
  mailPolicyListen: '127.0.0.1:10040',
  data: 'data',
  sqliteFile: 'portcullis.db',
  logLevel: 'info',
  agentSilentAfterSeconds: 300,
  sessionTtlHours: 12,
} as const;

export interface ConfigProblem {
  /** The flag, variable or file key at fault: `--listen`, `PORTCULLIS_LISTEN`, `server.json: listen`. */
  readonly option: string;
  /** The whole line for people: `--listen: expected HOST:PORT, got "8443"`. */
  readonly message: string;
}

/** Code ErrorCodes.CONFIG. The message has one line per problem. */
export class ConfigError extends Error {
  readonly code = ErrorCodes.CONFIG;

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'ConfigError';
  }

  get option(): string {
    return this.problems[0]?.option ?? '';
  }
}

/** A command's own options, in node:util parseArgs form. */
export type CommandOptions = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }>>;

type OptionValue<C> = C extends { type: 'boolean' }
  ? C extends { multiple: true } ? boolean[] : boolean
  : C extends { multiple: true } ? string[] : string;
export type CommandValues<O extends CommandOptions> = { -readonly [K in keyof O]?: OptionValue<O[K]> };

export type ParsedServerArgs<O extends CommandOptions> =
  | { readonly help: true; readonly values: CommandValues<O>; readonly positionals: readonly string[] }
  | { readonly help: false; readonly values: CommandValues<O>; readonly positionals: readonly string[]; readonly config: ServerConfig };

export interface ParseServerArgsOptions {
  readonly cwd?: string;
  /** Whether the command takes bare arguments (`user add alice`). Default false. */
  readonly allowPositionals?: boolean;
}

const LOCATION_OPTIONS = { data: { type: 'string' }, database: { type: 'string' }, config: { type: 'string' } } as const;

/** Options every server command takes: where its data, database and config file are, and help. */
export const COMMON_OPTIONS = { ...LOCATION_OPTIONS, help: { type: 'boolean', short: 'h' } } as const satisfies CommandOptions;

/** `portcullis-server start`'s options; `listen` is the one a command may add that feeds the config. */
export const START_OPTIONS = { listen: { type: 'string' }, 'mail-policy-listen': { type: 'string' } } as const satisfies CommandOptions;

/**
 * Parses a server command's arguments strictly: the common options (`--data`, `--database`,
 * `--config`, `-h/--help`) plus the command's own, then resolves the configuration. With --help
 * the config is not read, so help works next to a broken config file. Throws ConfigError, e.g.
 * `migrate: unknown option --lisen (see --help)`.
 */
export function parseServerArgs<const O extends CommandOptions>(
  command: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  commandOptions: O,
  opts: ParseServerArgsOptions = {},
): ParsedServerArgs<O> {
  const clash = Object.keys(commandOptions).find((name) => Object.hasOwn(COMMON_OPTIONS, name));
  if (clash !== undefined) throw new Error(`${command}: option --${clash} is already a common server option`);
  const parsed = parseCommandLine(command, argv, { ...COMMON_OPTIONS, ...commandOptions }, opts.allowPositionals ?? false);
  const values = parsed.values as CommandValues<O> & { data?: string; database?: string; config?: string; help?: boolean; listen?: unknown; 'mail-policy-listen'?: unknown };
  const { data, database, config, help, ...own } = values;
  const result = { values: own as CommandValues<O>, positionals: parsed.positionals };
  if (help === true) return { help: true, ...result };
  const flags: FlagValues = {
    data,
    database,
    config,
    listen: typeof values.listen === 'string' ? values.listen : undefined,
    mailPolicyListen: typeof values['mail-policy-listen'] === 'string' ? values['mail-policy-listen'] : undefined,
  };
  return { help: false, ...result, config: resolveConfig(flags, env, opts.cwd ?? process.cwd()) };
}

/** `portcullis-server start`'s configuration: `--listen`, `--data`, `--database`, `--config`. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, opts: { readonly cwd?: string } = {}): ServerConfig {
  const parsed = parseCommandLine('start', argv, { ...LOCATION_OPTIONS, ...START_OPTIONS }, false);
  const v = parsed.values as { data?: string; database?: string; config?: string; listen?: string; 'mail-policy-listen'?: string };
  const flags = { data: v.data, database: v.database, config: v.config, listen: v.listen, mailPolicyListen: v['mail-policy-listen'] };
  return resolveConfig(flags, env, opts.cwd ?? process.cwd());
}

/** The start-up log line. Database passwords are replaced by `***`. */
export function describeConfig(config: ServerConfig): string {
  const parts = [
    `listen=${formatHostPort(config.listen.host, config.listen.port)}`,
    `mailPolicyListen=${config.mailPolicyListen === null ? 'off' : formatHostPort(config.mailPolicyListen.host, config.mailPolicyListen.port)}`,
    `publicUrl=${config.publicUrl}`,
    `data=${config.dataDir}`,
    `database=${redactUrl(config.database.url)}`,
    `hostnames=${config.hostnames.length > 0 ? config.hostnames.join(',') : '(none)'}`,
    `logLevel=${config.logLevel}`,
    `agentSilentAfterSeconds=${config.agentSilentAfterSeconds}`,
    `sessionTtlHours=${config.sessionTtlHours}`,
  ];
  if (config.configFile !== null) parts.push(`config=${config.configFile}`);
  return parts.join(' ');
}

/** `postgres://portcullis:s3cret@db/portcullis?password=x` → `postgres://portcullis:***@db/portcullis?password=***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):.*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

// ---------------------------------------------------------------------------------------------

interface FlagValues {
  readonly data: string | undefined;
  readonly database: string | undefined;
  readonly config: string | undefined;
  readonly listen: string | undefined;
  readonly mailPolicyListen: string | undefined;
}

const FILE_KEYS = ['listen', 'mailPolicyListen', 'data', 'database', 'hostnames', 'logLevel', 'agentSilentAfterSeconds', 'sessionTtlHours', 'publicUrl'] as const;
type FileKey = (typeof FILE_KEYS)[number];
const MAX_CONFIG_BYTES = 1024 * 1024;
const CHECK_MODES = process.platform !== 'win32';

/** One source's value for a setting, with the name to blame in a message. */
interface Given<T> {
  readonly value: T;
  readonly option: string;
  /** Relative paths in a config file are relative to the file; elsewhere to the working directory. */
  readonly base: string;
}

type DatabaseSpec = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres' };

class Problems {
  readonly list: ConfigProblem[] = [];
  add(option: string, message: string): void {
    this.list.push({ option, message: `${option}: ${message}` });
  }
}

function parseCommandLine(command: string, argv: readonly string[], options: CommandOptions, allowPositionals: boolean) {
  try {
    return parseArgs({ args: [...argv], options: options as Record<string, { type: 'string' | 'boolean' }>, strict: true, allowPositionals });
  } catch (err) {
    throw new ConfigError([commandLineProblem(command, err)]);
  }
}

/** node:util's messages are long and suggest `--`; ours name the option and point at --help. */
function commandLineProblem(command: string, err: unknown): ConfigProblem {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const name = quoted.split(' ')[0] ?? quoted;
  const say = (option: string, text: string): ConfigProblem => ({ option, message: `${command}: ${text} (see --help)` });
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return say(name, `unknown option ${name}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return say(name, message.includes('argument missing') ? `${name} needs a value` : `${name} takes no value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return say(quoted, `unexpected argument "${quoted}"`);
    default:
      return say('', message.split('\n')[0] ?? message);
  }
}

function resolveConfig(flags: FlagValues, env: NodeJS.ProcessEnv, cwd: string): ServerConfig {
  const problems = new Problems();
  const warnings: string[] = [];
  const fromEnv = (name: string): Given<string> | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : { value, option: name, base: cwd };
  };
  const fromFlag = (name: keyof FlagValues): Given<string> | undefined => {
    const value = flags[name];
    return value === undefined ? undefined : { value, option: `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, base: cwd };
  };

  const configSource = fromFlag('config') ?? fromEnv('PORTCULLIS_CONFIG');
  const file = configSource === undefined ? undefined : readConfigFile(configSource, problems, warnings);

  const listens = [fromFlag('listen'), fromEnv('PORTCULLIS_LISTEN'), file?.get('listen')].map((g) => check(g, problems, parseListen));
  const mailListens = [fromFlag('mailPolicyListen'), fromEnv('PORTCULLIS_MAIL_POLICY_LISTEN'), file?.get('mailPolicyListen')].map((g) =>
    check(g, problems, parseOptionalListen),
  );
  const datas = [fromFlag('data'), fromEnv('PORTCULLIS_DATA'), file?.get('data')].map((g) => check(g, problems, parsePath));
  const databases = [fromFlag('database'), fromEnv('PORTCULLIS_DATABASE_URL'), file?.get('database')].map((g) => check(g, problems, parseDatabase));
  const levels = [fromEnv('PORTCULLIS_LOG_LEVEL'), file?.get('logLevel')].map((g) => check(g, problems, parseLogLevel));
  const envHostnames = fromEnv('PORTCULLIS_HOSTNAMES');
  const hostLists = [envHostnames && { ...envHostnames, value: envHostnames.value.split(',') }, file?.get('hostnames')].map((g) =>
    check(g, problems, parseHostnames),
  );
  const silent = check(file?.get('agentSilentAfterSeconds'), problems, numberIn(10, 30 * 86_400, true));
  const ttl = check(file?.get('sessionTtlHours'), problems, numberIn(0.25, 720, false));
  const publicUrl = check(file?.get('publicUrl'), problems, parsePublicUrl);

  if (problems.list.length > 0) throw new ConfigError(problems.list);

  const listen = first(listens) ?? (parseListen(DEFAULTS.listen, cwd) as ListenAddress);
  const dataDir = first(datas) ?? resolve(cwd, DEFAULTS.data);
  const dbChoice = databases.find((d) => d !== undefined);
  const mailChoice = first(mailListens);
  const database: DatabaseConfig =
    dbChoice === undefined
      ? { kind: 'sqlite', url: `sqlite:${resolve(dataDir, DEFAULTS.sqliteFile)}`, path: resolve(dataDir, DEFAULTS.sqliteFile) }
      : dbChoice.spec.kind === 'postgres'
        ? { kind: 'postgres', url: dbChoice.url }
        : { kind: 'sqlite', url: dbChoice.url, path: dbChoice.spec.file === ':memory:' ? ':memory:' : resolve(dataDir, dbChoice.spec.file) };
  const configured = first(hostLists) ?? [];
  const url = publicUrl ?? defaultPublicUrl(listen, configured);
  const hostnames = unique([...configured, ...certificateNames(listen.host), ...certificateNames(new URL(url).hostname.replace(/^\[|\]$/g, ''))]);

  return {
    listen,
    dataDir,
    database,
    hostnames,
    logLevel: first(levels) ?? DEFAULTS.logLevel,
    agentSilentAfterSeconds: silent ?? DEFAULTS.agentSilentAfterSeconds,
    sessionTtlHours: ttl ?? DEFAULTS.sessionTtlHours,
    publicUrl: url,
    // `off` is a null address, so `??` would put the default back: only "not given" takes it.
    mailPolicyListen: mailChoice === undefined ? (parseListen(DEFAULTS.mailPolicyListen, cwd) as ListenAddress) : mailChoice.address,
    configFile: configSource === undefined ? null : resolve(cwd, configSource.value),
    warnings,
  };
}

type Parser<T> = (value: unknown, base: string) => T | { readonly problem: string };

function check<T>(given: Given<unknown> | undefined, problems: Problems, parse: Parser<T>): T | undefined {
  if (given === undefined) return undefined;
  const result = parse(given.value, given.base);
  if (typeof result === 'object' && result !== null && 'problem' in result) {
    problems.add(given.option, result.problem);
    return undefined;
  }
  return result as T;
}

function first<T>(values: readonly (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Reads and checks the JSON config file; returns its settings by key. */
function readConfigFile(source: Given<string>, problems: Problems, warnings: string[]): Map<FileKey, Given<unknown>> | undefined {
  const shown = source.value; // as the user wrote it, so the message matches their command line
  const path = resolve(source.base, source.value);
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return void problems.add(source.option, `"${shown}" is not a regular file`);
    if (CHECK_MODES && (st.mode & 0o002) !== 0) {
      return void problems.add(
        shown,
        `writable by every user (mode 0${(st.mode & 0o777).toString(8)}); refusing to use it, since it chooses the database ` +
          `and may hold its password. Fix it with: chmod o-w '${path}'`,
      );
    }
    if (st.size > MAX_CONFIG_BYTES) return void problems.add(shown, `larger than ${MAX_CONFIG_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
    if (CHECK_MODES && (st.mode & 0o004) !== 0 && /:\/\/[^/@\s"]*:[^@\s"]+@|password=/i.test(text)) {
      warnings.push(`${shown} holds a database password and every user can read it; consider: chmod o-r '${path}'`);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return void problems.add(source.option, `cannot read "${shown}" (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return void problems.add(shown, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return void problems.add(shown, 'expected a JSON object of settings');
  const settings = new Map<FileKey, Given<unknown>>();
  for (const [key, value] of Object.entries(json)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      const near = FILE_KEYS.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      problems.add(shown, `unknown key "${key}"${near === undefined ? ` (known: ${FILE_KEYS.join(', ')})` : ` (did you mean "${near}"?)`}`);
      continue;
    }
    settings.set(key as FileKey, { value, option: `${shown}: ${key}`, base: dirname(path) });
  }
  return settings;
}

const parseListen: Parser<ListenAddress> = (value) => {
  if (typeof value !== 'string') return { problem: `expected a "HOST:PORT" string, got ${JSON.stringify(value)}` };
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(value);
  const plain = /^([^:[\]]+):([^:]*)$/.exec(value);
  const match = bracketed ?? plain;
  if (match === null) {
    if (!value.includes('[') && (value.match(/:/g)?.length ?? 0) > 1) {
      return { problem: `IPv6 addresses go in brackets, e.g. [::1]:8443; got "${value}"` };
    }
    return { problem: `expected HOST:PORT, got "${value}"` };
  }
  const host = parseHostname(match[1] ?? '');
  if (host.kind === 'invalid' || (bracketed !== null && host.kind !== 'ip') || (bracketed === null && host.value.includes(':'))) {
    return { problem: `"${match[1] ?? ''}" is not a host name or IP address (in "${value}")` };
  }
  const portText = match[2] ?? '';
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) return { problem: `port must be a number from 0 to 65535, got "${portText}"` };
  return { host: host.value, port };
};

/** `off` turns the service off; boxed so that "off" (null) is not mistaken for "not given". */
const parseOptionalListen: Parser<{ readonly address: ListenAddress | null }> = (value, base) => {
  if (value === 'off') return { address: null };
  const parsed = parseListen(value, base);
  return 'problem' in parsed ? { problem: `${parsed.problem} (or "off")` } : { address: parsed };
};

const parsePath: Parser<string> = (value, base) =>
  typeof value === 'string' && value.trim() !== '' ? resolve(base, value) : { problem: `expected a folder path, got ${JSON.stringify(value)}` };

interface DatabaseChoice {
  readonly url: string;
  readonly spec: DatabaseSpec;
}

const parseDatabase: Parser<DatabaseChoice> = (value) => {
  if (typeof value !== 'string') return { problem: `expected a database URL string, got ${JSON.stringify(typeof value)}` };
  if (/^sqlite:/i.test(value)) {
    const file = value.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') return { problem: 'a sqlite: URL needs a file, e.g. sqlite:portcullis.db (relative to the data folder)' };
    return { url: value, spec: { kind: 'sqlite', file } };
  }
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      return { problem: `not a valid URL: "${redactUrl(value)}"` };
    }
    return { url: value, spec: { kind: 'postgres' } };
  }
  return { problem: `expected a sqlite: or postgres:// URL, got "${redactUrl(value)}"` };
};

const parseLogLevel: Parser<LogLevel> = (value) => {
  const level = typeof value === 'string' ? value.toLowerCase() : value;
  return (LOG_LEVELS as readonly unknown[]).includes(level)
    ? (level as LogLevel)
    : { problem: `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}` };
};

const parseHostnames: Parser<string[]> = (value) => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    return { problem: `expected a list of host names, got ${JSON.stringify(value)}` };
  }
  const names: string[] = [];
  for (const raw of value.map((v: string) => v.trim()).filter((v) => v !== '')) {
    const parsed = parseHostname(raw);
    if (parsed.kind === 'invalid') return { problem: parsed.problem };
    names.push(parsed.value);
  }
  return unique(names);
};

function numberIn(min: number, max: number, integer: boolean): Parser<number> {
  return (value) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value))
      ? value
      : { problem: `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}` };
}

const parsePublicUrl: Parser<string> = (value) => {
  let url: URL;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    url = new URL(value);
  } catch {
    return { problem: `expected an https:// URL, got ${JSON.stringify(value)}` };
  }
  if (url.protocol !== 'https:') return { problem: `must be https:// (the server only speaks TLS), got "${value}"` };
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return { problem: `must not carry credentials, a query or a fragment, got "${url.origin}…"` };
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
};

function defaultPublicUrl(listen: ListenAddress, hostnames: readonly string[]): string {
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  const host = wildcard ? (hostnames.find((h) => !h.includes(':') && !/^[0-9.]+$/.test(h)) ?? hostnames[0] ?? 'localhost') : listen.host;
  return `https://${listen.port === 443 ? formatHost(host) : formatHostPort(host, listen.port)}`;
}

/** Names worth putting in the certificate: not wildcard listen addresses. */
function certificateNames(host: string): string[] {
  return host === '0.0.0.0' || host === '::' || host === '' ? [] : [host];
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function formatHostPort(host: string, port: number): string {
  return `${formatHost(host)}:${port}`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
