import { expect } from 'chai';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTER_POLICY_INPUT, buildPolicyDocument, signPolicy, type SignedPolicy } from '@portcullis/shared';
import { run } from '../src/cli.js';
import { enrollCommand, type EnrollCommandDeps } from '../src/commands/enroll-command.js';
import { CommandError } from '../src/commands/io.js';
import { loadIdentity } from '../src/state/identity-store.js';
import { PolicyCache, ed25519Verifier } from '../src/state/policy-cache.js';
import { VERSION } from '../src/version.js';
import { makeTestPki, startFakeEnrollServer, type FakeEnrollServer, type TestPki } from './support/test-pki.js';

const posix = process.platform !== 'win32';
const TOKEN = 'tok_Vb3xQ9rLm2Kp7Wz4Ns8';
const SECRET = 'agent-secret-Hq4Ru8Xn2Lc6Vm0Tz5';
const MACHINE_ID = '4f1c8e0b9d2a47e6a1c35b7d9e0f2a18';
const KEY_ID = 'policy-2026';

function ed25519(): { publicKeyPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}
const SIGNING = ed25519();
const STRANGER = ed25519();

function signedPolicy(group: string, version: number, key: KeyObject = SIGNING.privateKey): SignedPolicy {
  const doc = buildPolicyDocument(STARTER_POLICY_INPUT, { group, version, createdAt: '2026-11-25T10:00:00Z', createdBy: 'admin@ministry' });
  return signPolicy(doc, KEY_ID, (payload) => cryptoSign(null, payload, key));
}

function answer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agentId: 'agt_T3st',
    secret: SECRET,
    group: 'finance',
    serverTime: '2026-11-25T10:00:00.000Z',
    signingKeys: [{ keyId: KEY_ID, publicKeyPem: SIGNING.publicKeyPem }],
    policy: null,
    ...overrides,
  };
}

/** `AB:CD:…`, as the server prints fingerprints. */
function colons(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(':');
}

interface Outcome {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe('enroll command', () => {
  let pki: TestPki;
  let server: FakeEnrollServer;
  let dir: string;
  let state: string;
  let deps: EnrollCommandDeps;

  before(async () => {
    pki = await makeTestPki();
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-enroll-'));
    state = join(dir, 'var', 'lib', 'portcullis-agent');
    writeFileSync(join(dir, 'machine-id'), `${MACHINE_ID}\n`);
    writeFileSync(join(dir, 'os-release'), 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    deps = {
      env: {},
      client: { timeoutMs: 5000 },
      machineId: { systemFiles: [join(dir, 'machine-id')] },
      host: { hostname: () => 'pc-17.ministry.local', osType: () => 'Linux', osRelease: () => '6.1.0-18-amd64', osReleaseFiles: [join(dir, 'os-release')] },
    };
    server = await startFakeEnrollServer({ pki, token: TOKEN, behaviour: { kind: 'enroll', answer: answer() } });
  });

  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the command as `run` does (CommandError → its exit code); no output may ever hold a secret. */
  async function enroll(...argv: string[]): Promise<Outcome> {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s) };
    let code: number;
    try {
      code = await enrollCommand(argv, io, deps);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      err += `${e.message}\n`;
      code = e.exitCode;
    }
    expect(out + err).not.to.include(SECRET);
    expect(out + err).not.to.include(TOKEN);
    return { code, out, err };
  }

  const base = (): string[] => ['--server', server.url, '--token', TOKEN, '--state', state];

  it('enrolls with the CA fingerprint: identity saved, facts sent, one line printed', async () => {
    const r = await enroll(...base(), '--fingerprint', colons(pki.ca.fingerprint));
    expect(r.err).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out).to.include(`Server CA SHA-256 fingerprint: ${colons(pki.ca.fingerprint)} (matches --fingerprint)`);
    expect(r.out).to.include(`Enrolled as agt_T3st in group finance; state in ${state}\n`);
    expect(server.requests).to.deep.equal([
      { token: TOKEN, hostname: 'pc-17.ministry.local', machineId: MACHINE_ID, os: 'Linux 6.1.0-18-amd64 (Debian GNU/Linux 12 (bookworm))', agentVersion: VERSION },
    ]);
    expect(await loadIdentity(state)).to.deep.equal({
      serverUrl: server.url,
      agentId: 'agt_T3st',
      secret: SECRET,
      group: 'finance',
      caCertPem: pki.ca.certPem,
      signingKeys: [{ keyId: KEY_ID, publicKeyPem: SIGNING.publicKeyPem }],
      enrolledAt: '2026-11-25T10:00:00.000Z',
    });
  });

  it('enrolls with the server certificate fingerprint, in any accepted spelling, and still pins the CA', async () => {
    const spelled = `SHA256:${pki.leaf.fingerprint.replace(/(..)/g, '$1 ').trim()}`;
    const r = await enroll(...base(), '--fingerprint', spelled);
    expect(r.code).to.equal(0);
    expect(r.out).to.include('issued the server certificate that matches --fingerprint');
    expect((await loadIdentity(state)).caCertPem).to.equal(pki.ca.certPem);
  });

  it('enrolls with --yes and no fingerprint (trust on first use), printing both fingerprints', async () => {
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(0);
    expect(r.out).to.include(`Server CA SHA-256 fingerprint: ${colons(pki.ca.fingerprint)}\n`);
    expect(r.out).to.include(`Server certificate SHA-256 fingerprint: ${colons(pki.leaf.fingerprint)}\n`);
    expect(r.out).to.include('Trusting this CA on first use (--yes)');
    expect(existsSync(join(state, 'identity.json'))).to.equal(true);
  });

  it('stops with exit 2 without --fingerprint or --yes, having printed the fingerprint and written nothing', async () => {
    const r = await enroll(...base());
    expect(r.code).to.equal(2);
    expect(r.out).to.include(`Server CA SHA-256 fingerprint: ${colons(pki.ca.fingerprint)}`);
    expect(r.err).to.include('portcullis-server start').and.include('--fingerprint').and.include('--yes');
    expect(existsSync(state)).to.equal(false);
    expect(server.requests).to.deep.equal([]);
  });

  it('refuses a fingerprint that matches neither certificate (exit 1), showing expected and got, writing nothing', async () => {
    const wrong = 'ab'.repeat(32);
    const r = await enroll(...base(), '--fingerprint', wrong);
    expect(r.code).to.equal(1);
    expect(r.err).to.include(`expected:                    ${colons(wrong)}`);
    expect(r.err).to.include(`got, server CA:              ${colons(pki.ca.fingerprint)}`);
    expect(r.err).to.include(`got, server certificate:     ${colons(pki.leaf.fingerprint)}`);
    expect(existsSync(state)).to.equal(false);
    expect(server.requests).to.deep.equal([]);
  });

  const malformed: ReadonlyArray<{ name: string; value: string }> = [
    // One digit short: a copy-paste that lost a character must not pass.
    { name: '63 hex digits', value: 'a'.repeat(63) },
    { name: 'a letter that is not hex', value: `${'a'.repeat(63)}g` },
    // OpenSSH-style base64 is another format altogether.
    { name: 'base64', value: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' },
    { name: 'empty', value: '' },
  ];
  for (const row of malformed) {
    it(`rejects a malformed fingerprint (${row.name}) as a usage error before connecting`, async () => {
      const r = await enroll(...base(), '--fingerprint', row.value);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(/^enroll: a SHA-256 fingerprint is 64 hex digits/);
      expect(server.requests).to.deep.equal([]);
    });
  }

  it('reports a refused token (401) in the words of the server, exit 1, nothing written', async () => {
    const r = await enroll('--server', server.url, '--token', 'tok_not-the-right-one', '--state', state, '--fingerprint', pki.ca.fingerprint);
    expect(r.code).to.equal(1);
    expect(r.err).to.equal('enroll: enrollment token invalid, expired or revoked\n');
    expect(existsSync(join(state, 'identity.json'))).to.equal(false);
  });

  const garbage: ReadonlyArray<{ name: string; body: string; why: string }> = [
    { name: 'HTML', body: '<html>It works!</html>', why: 'not JSON' },
    { name: 'a JSON list', body: '[1,2]', why: 'not a JSON object' },
    { name: 'a numeric agent id', body: JSON.stringify(answer({ agentId: 42 })), why: '"agentId"' },
    { name: 'no secret', body: JSON.stringify(answer({ secret: undefined })), why: '"secret"' },
    { name: 'a short secret', body: JSON.stringify(answer({ secret: 'short' })), why: '"secret"' },
    { name: 'no signing keys', body: JSON.stringify(answer({ signingKeys: [] })), why: '"signingKeys"' },
    { name: 'an RSA signing key', body: JSON.stringify(answer({ signingKeys: [{ keyId: 'k', publicKeyPem: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }] })), why: 'Ed25519' },
    { name: 'a policy that is a string', body: JSON.stringify(answer({ policy: 'allow all' })), why: '"policy"' },
    { name: 'no server time', body: JSON.stringify(answer({ serverTime: 'yesterday' })), why: '"serverTime"' },
  ];
  for (const row of garbage) {
    it(`refuses an answer that is ${row.name} (exit 1, "unexpected answer from the server")`, async () => {
      server.behaviour = { kind: 'raw', status: 201, body: row.body };
      const r = await enroll(...base(), '--yes');
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/^enroll: unexpected answer from the server: /);
      expect(r.err).to.include(row.why);
      expect(existsSync(join(state, 'identity.json'))).to.equal(false);
    });
  }

  it('stops reading a 5 MB answer at 1 MiB', async () => {
    server.behaviour = { kind: 'huge', bytes: 5 * 1024 * 1024 };
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(`enroll: unexpected answer from the server: larger than ${1024 * 1024} bytes\n`);
  });

  it('gives up on a server that never answers, after the timeout', async () => {
    server.behaviour = { kind: 'hang' };
    deps = { ...deps, client: { timeoutMs: 300 } };
    const started = Date.now();
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(`enroll: no answer from ${new URL(server.url).host} within 300 ms\n`);
    expect(Date.now() - started).to.be.below(4000);
  });

  it("passes on the server's error message, on one line, cut to 300 characters", async () => {
    const message = `invalid request: body/hostname must match pattern\n${'x'.repeat(400)}`;
    server.behaviour = { kind: 'raw', status: 400, body: JSON.stringify({ error: { code: 'PORTCULLIS_ERR_BAD_REQUEST', message } }) };
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(1);
    const line = r.err.split('\n').find((l) => l.startsWith('enroll: '));
    expect(r.err.trimEnd().split('\n')).to.have.length(1);
    expect(line).to.match(/^enroll: the server refused the enrollment: invalid request: body\/hostname must match pattern x+… \(HTTP 400\)$/);
    expect(line?.replace(/^enroll: the server refused the enrollment: /, '').replace(/ \(HTTP 400\)$/, '')).to.have.length(300);
  });

  it('reports an answer that is not the API\'s JSON by its status', async () => {
    server.behaviour = { kind: 'raw', status: 502, body: '<h1>Bad Gateway</h1>', contentType: 'text/html' };
    const r = await enroll(...base(), '--yes');
    expect(r.err).to.equal('enroll: the server refused the enrollment: HTTP 502 Bad Gateway\n');
  });

  it('reports a server that is not listening with the cause', async () => {
    const port = await freePort();
    const r = await enroll('--server', `https://127.0.0.1:${port}`, '--token', TOKEN, '--state', state, '--yes');
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(`enroll: cannot connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  const badUrls: ReadonlyArray<{ name: string; url: string; says: string }> = [
    // The token and the secret would cross the network in clear text.
    { name: 'http://', url: 'http://127.0.0.1:8443', says: 'must start with https://' },
    { name: 'a path', url: 'https://portcullis.example:8443/api', says: 'no path' },
    { name: 'a query', url: 'https://portcullis.example:8443/?x=1', says: 'no path, query' },
    { name: 'credentials', url: 'https://admin:pw@portcullis.example', says: 'user name or password' },
    { name: 'no URL at all', url: 'portcullis.example', says: 'not a URL' },
  ];
  for (const row of badUrls) {
    it(`refuses a server address with ${row.name} (exit 2, through the CLI)`, async () => {
      let err = '';
      const code = await run(['enroll', '--server', row.url, '--token', TOKEN, '--state', state], { stdout: () => undefined, stderr: (s) => (err += s) });
      expect(code).to.equal(2);
      expect(err).to.include(row.says);
      expect(err.trimEnd().split('\n')).to.have.length(1);
    });
  }

  it('refuses to replace an existing identity without --force, and replaces it with --force', async () => {
    expect((await enroll(...base(), '--yes')).code).to.equal(0);
    const before = readFileSync(join(state, 'identity.json'), 'utf8');
    server.behaviour = { kind: 'enroll', answer: answer({ agentId: 'agt_Second', group: 'default' }) };

    const refused = await enroll(...base(), '--yes');
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include('already enrolled').and.include('--force');
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).to.equal(before);
    expect(server.requests).to.have.length(1);

    const forced = await enroll(...base(), '--yes', '--force');
    expect(forced.code).to.equal(0);
    expect((await loadIdentity(state)).agentId).to.equal('agt_Second');
  });

  it('creates the state folder 0700 and the identity 0600, with nothing else but what it needs', async function () {
    if (!posix) this.skip();
    expect((await enroll(...base(), '--yes')).code).to.equal(0);
    expect(statSync(state).mode & 0o777).to.equal(0o700);
    expect(statSync(join(state, 'identity.json')).mode & 0o777).to.equal(0o600);
    expect(readdirSync(state)).to.deep.equal(['identity.json']);
  });

  it('never prints the secret or the token, and keeps the secret only in identity.json', async () => {
    server.behaviour = { kind: 'enroll', answer: answer({ policy: signedPolicy('finance', 3) }) };
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(0);
    expect(r.out + r.err).not.to.include(SECRET);
    for (const name of readdirSync(state)) {
      const text = readFileSync(join(state, name), 'utf8');
      expect(text.includes(SECRET), name).to.equal(name === 'identity.json');
      expect(text).not.to.include(TOKEN);
    }
  });

  it("stores the group's signed policy from the answer, and it verifies with the pinned keys", async () => {
    server.behaviour = { kind: 'enroll', answer: answer({ policy: signedPolicy('finance', 3) }) };
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(0);
    expect(r.out).to.include('Policy version 3 of group finance verified and stored.');
    const identity = await loadIdentity(state);
    const loaded = await new PolicyCache(state, identity.group).load(ed25519Verifier(identity.signingKeys));
    expect(loaded).to.deep.include({ source: 'cache', tampered: null });
    expect(loaded.policy.version).to.equal(3);
  });

  it('enrolls but refuses, and says so, a policy signed by a key the server did not pin', async () => {
    server.behaviour = { kind: 'enroll', answer: answer({ policy: signedPolicy('finance', 3, STRANGER.privateKey) }) };
    const r = await enroll(...base(), '--yes');
    expect(r.code).to.equal(0);
    expect(r.err).to.match(/^enroll: warning: the group's policy from the server was refused: .*built-in policy/);
    expect(readdirSync(state)).to.deep.equal(['identity.json']);
  });

  it('reads the token from --token-file or PORTCULLIS_ENROLL_TOKEN', async () => {
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const viaFile = await enroll('--server', server.url, '--token-file', join(dir, 'token'), '--state', state, '--yes');
    expect(viaFile.code).to.equal(0);
    deps = { ...deps, env: { PORTCULLIS_ENROLL_TOKEN: TOKEN } };
    const viaEnv = await enroll('--server', server.url, '--state', state, '--yes', '--force');
    expect(viaEnv.code).to.equal(0);
    expect(server.requests.map((b) => (b as { token: string }).token)).to.deep.equal([TOKEN, TOKEN]);
  });

  const tokenMistakes: ReadonlyArray<{ name: string; argv: () => string[]; env?: Record<string, string>; says: string }> = [
    { name: 'no token at all', argv: () => [], says: 'give the enrollment token with' },
    // Two sources could disagree; the user must say which one is meant.
    { name: '--token and the environment', argv: () => ['--token', TOKEN], env: { PORTCULLIS_ENROLL_TOKEN: TOKEN }, says: 'one way only (got --token and PORTCULLIS_ENROLL_TOKEN)' },
    { name: 'a token with a space', argv: () => ['--token', 'tok with space'], says: 'must be 8 to 128 printable characters' },
    { name: 'a token too short', argv: () => ['--token', 'tok'], says: 'must be 8 to 128 printable characters' },
    { name: 'a token file that does not exist', argv: () => ['--token-file', join(dir, 'nope')], says: 'cannot read file (ENOENT)' },
  ];
  for (const row of tokenMistakes) {
    it(`refuses ${row.name} as a usage error`, async () => {
      deps = { ...deps, env: row.env ?? {} };
      const r = await enroll('--server', server.url, '--state', state, '--yes', ...row.argv());
      expect(r.code).to.equal(2);
      expect(r.err).to.include(row.says);
      expect(server.requests).to.deep.equal([]);
    });
  }

  it('makes up a machine id once, 0600, when the system has none, and sends the same one again', async () => {
    deps = { ...deps, machineId: { systemFiles: [join(dir, 'no-such-machine-id')] } };
    expect((await enroll(...base(), '--yes')).code).to.equal(0);
    const kept = readFileSync(join(state, 'machine-id'), 'utf8').trim();
    expect(kept).to.match(/^[0-9a-f]{32}$/);
    if (posix) expect(statSync(join(state, 'machine-id')).mode & 0o777).to.equal(0o600);
    expect((await enroll(...base(), '--yes', '--force')).code).to.equal(0);
    expect(server.requests.map((b) => (b as { machineId: string }).machineId)).to.deep.equal([kept, kept]);
  });

  describe('against a server whose certificates do not fit', () => {
    let other: TestPki;
    let odd: FakeEnrollServer | undefined;
    before(async () => {
      other = await makeTestPki(['DNS:elsewhere.example'], 'Another CA');
    });
    afterEach(async () => {
      await odd?.close();
      odd = undefined;
    });

    it('refuses a chain whose CA did not issue the server certificate, even when the certificate is pinned', async () => {
      odd = await startFakeEnrollServer({ pki, token: TOKEN, behaviour: { kind: 'enroll', answer: answer() }, chain: pki.leaf.certPem + other.ca.certPem });
      const r = await enroll('--server', odd.url, '--token', TOKEN, '--state', state, '--fingerprint', pki.leaf.fingerprint);
      expect(r.code).to.equal(1);
      expect(r.err).to.include('not a self-signed CA');
      expect(odd.requests).to.deep.equal([]);
      expect(existsSync(state)).to.equal(false);
    });

    it('checks the host name when it sends the token: a pinned CA with a certificate for another name fails', async () => {
      odd = await startFakeEnrollServer({ pki: other, token: TOKEN, behaviour: { kind: 'enroll', answer: answer() } });
      const r = await enroll('--server', odd.url, '--token', TOKEN, '--state', state, '--fingerprint', other.ca.fingerprint);
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/^enroll: cannot enroll at 127\.0\.0\.1:\d+: .*(IP|altnames).*ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(odd.requests).to.deep.equal([]);
      expect(existsSync(join(state, 'identity.json'))).to.equal(false);
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
