import { ErrorCodes, PortcullisError } from '@portcullis/shared';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fetchServerChain, matchPin, parseServerUrl, postEnroll, type EnrollClientOptions, type ServerChain } from '../enroll/enroll-client.js';
import { formatFingerprint, normalizeFingerprint } from '../enroll/fingerprint.js';
import { hostFacts, type HostFactSources } from '../enroll/host-facts.js';
import { identityPath, saveIdentity } from '../state/identity-store.js';
import { machineId, type MachineIdOptions } from '../state/machine-id.js';
import { GOOD_POLICY_FILE, POLICY_FILE, PolicyCache, ed25519Verifier } from '../state/policy-cache.js';
import { defaultStateDir } from '../state/status-file.js';
import { VERSION } from '../version.js';
import { withUsageErrors } from './args.js';
import { CommandError, Exit, readTextFile, type CommandIo } from './io.js';

export const TOKEN_ENV = 'PORTCULLIS_ENROLL_TOKEN';

export const ENROLL_HELP = `Usage: portcullis-agent enroll --server https://HOST:PORT --token-file FILE [--fingerprint SHA256 | --yes]
                              [--state DIR] [--force]

Enrolls this computer with a Portcullis server: checks the server's certificate against the
fingerprint you give, sends an enrollment token, and keeps what the server issues (agent id,
secret, the server's CA, the policy-signing keys and the group's policy) in the state folder.

  --server URL          the server, https://host[:port] (nothing after the port)
  --token-file FILE     read the enrollment token (from portcullis-server token create) from FILE
  --token TOKEN         the token itself. Other users of this computer can read a command line
                        (ps, /proc): prefer --token-file or the ${TOKEN_ENV} environment
                        variable. Give the token exactly one of these three ways.
  --fingerprint SHA256  the SHA-256 fingerprint of the server's CA certificate (or of its own
                        certificate) as printed by portcullis-server start, e.g. 3F:A2:…:9C;
                        colons, spaces, case and a SHA256: prefix do not matter
  --yes                 without --fingerprint: trust the CA the server presents now (trust on
                        first use). Without either, enroll prints the fingerprints and stops.
  --state DIR           state folder (default ${defaultStateDir()})
  --force               enroll again, replacing this computer's identity (the server revokes the
                        old one) and dropping the policy cached under it
  -h, --help            show this help

Exit codes: 0 enrolled; 1 enrollment refused or failed (no identity is written); 2 bad command line,
or neither --fingerprint nor --yes given.
`;

/** What tests replace: the environment, the network limits, where host facts come from. */
export interface EnrollCommandDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly client?: EnrollClientOptions;
  readonly machineId?: MachineIdOptions;
  readonly host?: HostFactSources;
}

/** Enrollment tokens as the server issues them (base64url) and accepts them (8 to 128 characters). */
const TOKEN = /^[\x21-\x7e]{8,128}$/;

export async function enrollCommand(argv: readonly string[], io: CommandIo, deps: EnrollCommandDeps = {}): Promise<number> {
  const { values } = withUsageErrors('enroll', () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        fingerprint: { type: 'string' },
        yes: { type: 'boolean' },
        state: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.stdout(ENROLL_HELP);
    return Exit.OK;
  }
  if (values.server === undefined) throw new CommandError('enroll: --server https://HOST:PORT is required (see --help)', Exit.USAGE);
  const server = usage(() => parseServerUrl(values.server as string));
  const pin = values.fingerprint === undefined ? null : usage(() => normalizeFingerprint(values.fingerprint as string));
  const token = readToken(values.token, values['token-file'], (deps.env ?? process.env)[TOKEN_ENV]);
  const stateDir = values.state ?? defaultStateDir();

  try {
    if (!values.force && (await exists(identityPath(stateDir)))) {
      throw new CommandError(`enroll: this computer is already enrolled (${identityPath(stateDir)}); to enroll it again, replacing that identity, add --force`, Exit.BAD_INPUT);
    }
    const chain = await fetchServerChain(server, deps.client);
    trustChain(chain, pin, values.yes === true, io);

    const facts = await hostFacts(deps.host);
    const id = await machineId(stateDir, deps.machineId);
    const answer = await postEnroll(server, chain.ca.toString(), { token, hostname: facts.hostname, machineId: id, os: facts.os, agentVersion: VERSION }, deps.client);

    const identity = {
      serverUrl: server.origin,
      agentId: answer.agentId,
      secret: answer.secret,
      group: answer.group,
      caCertPem: chain.ca.toString(),
      signingKeys: answer.signingKeys,
      enrolledAt: answer.serverTime,
    };
    await saveIdentity(stateDir, identity);
    // A policy cached before this enrollment was signed for another identity (maybe another
    // group or key): the service would refuse it as tampered, so it goes now, quietly.
    for (const name of [POLICY_FILE, GOOD_POLICY_FILE]) await unlink(join(stateDir, name)).catch(ignoreMissing);
    io.stdout(`Enrolled as ${answer.agentId} in group ${answer.group}; state in ${stateDir}\n`);
    if (answer.policy === null) {
      io.stdout(`The group has no policy yet: the agent enforces its built-in policy until the server sends one.\n`);
    } else {
      const stored = await new PolicyCache(stateDir, answer.group).store(answer.policy, 0, answer.group, ed25519Verifier(answer.signingKeys));
      if (stored.ok) io.stdout(`Policy version ${stored.policy.version} of group ${stored.policy.group} verified and stored.\n`);
      else io.stderr(`enroll: warning: the group's policy from the server was ${stored.reason}; the agent enforces its built-in policy until the server sends a valid one\n`);
    }
    return Exit.OK;
  } catch (err) {
    throw asCommandError(err, stateDir);
  }
}

/**
 * Pins the chain: the fingerprint given must name the CA or the server's certificate; with no
 * fingerprint the user must say --yes to trust what was presented. Prints what was seen so the
 * user can compare it with what `portcullis-server start` printed.
 */
function trustChain(chain: ServerChain, pin: string | null, yes: boolean, io: CommandIo): void {
  const ca = formatFingerprint(chain.caFingerprint);
  const leaf = formatFingerprint(chain.leafFingerprint);
  if (pin !== null) {
    const matched = matchPin(chain, pin);
    if (matched === null) {
      throw new CommandError(
        [
          "enroll: the server's certificates do not match --fingerprint; nothing was written.",
          `  expected:                    ${formatFingerprint(pin)}`,
          `  got, server CA:              ${ca}`,
          `  got, server certificate:     ${leaf}`,
          'Check the fingerprint printed by portcullis-server start; a mismatch can also mean that',
          'something between this computer and the server is intercepting the connection.',
        ].join('\n'),
        Exit.BAD_INPUT,
      );
    }
    io.stdout(`Server CA SHA-256 fingerprint: ${ca} (${matched === 'ca' ? 'matches' : 'issued the server certificate that matches'} --fingerprint)\n`);
    return;
  }
  io.stdout(`Server CA SHA-256 fingerprint: ${ca}\nServer certificate SHA-256 fingerprint: ${leaf}\n`);
  if (!yes) {
    throw new CommandError(
      'enroll: no --fingerprint given. Compare the CA fingerprint above with the one printed by portcullis-server start, then run enroll again with --fingerprint FINGERPRINT (or with --yes to trust this CA as it is).',
      Exit.USAGE,
    );
  }
  io.stdout('Trusting this CA on first use (--yes).\n');
}

function readToken(flag: string | undefined, file: string | undefined, env: string | undefined): string {
  const given = [
    flag !== undefined ? '--token' : null,
    file !== undefined ? '--token-file' : null,
    env !== undefined && env !== '' ? TOKEN_ENV : null,
  ].filter((s): s is string => s !== null);
  if (given.length === 0) throw new CommandError(`enroll: give the enrollment token with --token-file FILE, ${TOKEN_ENV} or --token (see --help)`, Exit.USAGE);
  if (given.length > 1) throw new CommandError(`enroll: give the enrollment token one way only (got ${given.join(' and ')})`, Exit.USAGE);
  const raw = (file !== undefined ? readTextFile(file) : (flag ?? env ?? '')).trim();
  if (!TOKEN.test(raw)) {
    // The token is not quoted: it may be almost right, and it is a secret until used.
    throw new CommandError(`enroll: the enrollment token must be 8 to 128 printable characters without spaces, as portcullis-server token create prints it`, Exit.USAGE);
  }
  return raw;
}

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PortcullisError) throw new CommandError(`enroll: ${err.message}`, Exit.USAGE);
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

function asCommandError(err: unknown, stateDir: string): unknown {
  if (err instanceof CommandError) return err;
  if (err instanceof PortcullisError && (err.code === ErrorCodes.ENROLL || err.code === ErrorCodes.STATE_INVALID)) {
    return new CommandError(`enroll: ${err.message}`, Exit.BAD_INPUT);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    const hint = code === 'EACCES' || code === 'EPERM' ? ' (run as root, or pass --state DIR)' : '';
    return new CommandError(`enroll: cannot use the state folder ${stateDir}: ${code}${hint}`, Exit.BAD_INPUT);
  }
  return err;
}
