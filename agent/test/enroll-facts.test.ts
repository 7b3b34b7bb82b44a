import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, PortcullisError } from '@portcullis/shared';
import { serverErrorMessage } from '../src/enroll/enroll-answer.js';
import { formatFingerprint, normalizeFingerprint } from '../src/enroll/fingerprint.js';
import { enrollHostname, hostFacts, osDescription, parsePrettyName } from '../src/enroll/host-facts.js';
import { machineId } from '../src/state/machine-id.js';
import { StateError } from '../src/state/state-error.js';

const HEX = '3fa2c1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9c';

describe('enroll: fingerprints', () => {
  const good: ReadonlyArray<{ name: string; text: string }> = [
    { name: 'bare lowercase hex (sha256sum)', text: HEX },
    { name: 'uppercase with colons (portcullis-server start)', text: formatFingerprint(HEX) },
    { name: 'openssl x509 -fingerprint output', text: `sha256 Fingerprint=${formatFingerprint(HEX)}` },
    { name: 'SHA256: prefix', text: `SHA256:${HEX}` },
    { name: 'pairs separated by spaces, with blanks around', text: `  ${HEX.replace(/(..)/g, '$1 ')}  ` },
  ];
  for (const row of good) {
    it(`reads ${row.name}`, () => {
      expect(normalizeFingerprint(row.text)).to.equal(HEX);
    });
  }

  const bad: ReadonlyArray<{ name: string; text: string }> = [
    { name: 'a SHA-1 fingerprint (40 digits)', text: HEX.slice(0, 40) },
    { name: 'one digit too many', text: `${HEX}0` },
    // A dash is not one of the separators people copy: the text is probably something else.
    { name: 'dashes', text: HEX.replace(/(..)(?=.)/g, '$1-') },
    { name: 'a non-hex letter', text: `${HEX.slice(0, 63)}z` },
  ];
  for (const row of bad) {
    it(`refuses ${row.name} with ErrorCodes.ENROLL`, () => {
      let caught: unknown;
      try {
        normalizeFingerprint(row.text);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(PortcullisError);
      expect((caught as PortcullisError).code).to.equal(ErrorCodes.ENROLL);
      expect((caught as Error).message).to.match(/^a SHA-256 fingerprint is 64 hex digits/);
    });
  }

  it('formats 64 hex digits the way people compare them', () => {
    expect(formatFingerprint('0a1b')).to.equal('0A:1B');
    expect(formatFingerprint(HEX).split(':')).to.have.length(32);
  });
});

describe('enroll: host facts', () => {
  const hostnames: ReadonlyArray<{ raw: string; sent: string }> = [
    // A full name the server accepts is kept as it is.
    { raw: 'pc-17.ministry.local', sent: 'pc-17.ministry.local' },
    { raw: 'PC_17', sent: 'PC_17' },
    // Otherwise only the first label, cleaned.
    { raw: 'my pc.ministry.local', sent: 'my-pc' },
    { raw: '-pc17', sent: 'pc17' },
    { raw: 'Γραφείο-3.local', sent: '3' },
    { raw: '', sent: 'unnamed-host' },
    { raw: 'ÄÖÜ', sent: 'unnamed-host' },
    { raw: `${'a'.repeat(300)}`, sent: 'a'.repeat(253) },
  ];
  for (const row of hostnames) {
    it(`sends host name ${JSON.stringify(row.raw.slice(0, 30))} as ${JSON.stringify(row.sent.slice(0, 30))}`, () => {
      const sent = enrollHostname(row.raw);
      expect(sent).to.equal(row.sent);
      expect(sent).to.match(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    });
  }

  it('reads PRETTY_NAME from os-release, quoted or not, and null without it', () => {
    expect(parsePrettyName('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).to.equal('Debian GNU/Linux 12 (bookworm)');
    expect(parsePrettyName("PRETTY_NAME='Alpine Linux v3.19'\n")).to.equal('Alpine Linux v3.19');
    expect(parsePrettyName('PRETTY_NAME=Arch\n')).to.equal('Arch');
    expect(parsePrettyName('PRETTY_NAME="Say \\"hi\\""\n')).to.equal('Say "hi"');
    expect(parsePrettyName('NAME=x\n')).to.equal(null);
  });

  it('describes the OS in at most 128 characters on one line', () => {
    expect(osDescription('Linux', '6.1.0-18-amd64', 'Debian GNU/Linux 12 (bookworm)')).to.equal('Linux 6.1.0-18-amd64 (Debian GNU/Linux 12 (bookworm))');
    expect(osDescription('Windows_NT', '10.0.19045', null)).to.equal('Windows_NT 10.0.19045');
    expect(osDescription('Linux', '6.1', `x\n${'y'.repeat(200)}`)).to.have.length(128).and.not.include('\n');
  });

  it('gathers the facts from the injected sources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-facts-'));
    try {
      writeFileSync(join(dir, 'os-release'), 'PRETTY_NAME="Ubuntu 24.04 LTS"\n');
      const facts = await hostFacts({ hostname: () => 'ws 4', osType: () => 'Linux', osRelease: () => '6.8.0', osReleaseFiles: [join(dir, 'missing'), join(dir, 'os-release')] });
      expect(facts).to.deep.equal({ hostname: 'ws-4', os: 'Linux 6.8.0 (Ubuntu 24.04 LTS)' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('enroll: machine id', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'portcullis-mid-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("uses the system's machine id, the first valid one", async () => {
    writeFileSync(join(dir, 'etc'), '\n'); // systemd before first boot: empty
    writeFileSync(join(dir, 'dbus'), '0123456789abcdef0123456789abcdef\n');
    expect(await machineId(join(dir, 'state'), { systemFiles: [join(dir, 'etc'), join(dir, 'dbus')] })).to.equal('0123456789abcdef0123456789abcdef');
  });

  it('makes one up once, keeps it 0600 in the state folder, and returns it again', async () => {
    const state = join(dir, 'state');
    let made = 0;
    const generate = (): string => {
      made++;
      return 'feedfacefeedfacefeedfacefeedface';
    };
    const first = await machineId(state, { systemFiles: [join(dir, 'none')], generate });
    const second = await machineId(state, { systemFiles: [join(dir, 'none')], generate });
    expect([first, second, made]).to.deep.equal(['feedfacefeedfacefeedfacefeedface', 'feedfacefeedfacefeedfacefeedface', 1]);
    expect(readFileSync(join(state, 'machine-id'), 'utf8')).to.equal('feedfacefeedfacefeedfacefeedface\n');
    if (process.platform !== 'win32') expect(statSync(join(state, 'machine-id')).mode & 0o777).to.equal(0o600);
  });

  it('refuses a damaged machine-id of its own rather than silently becoming another computer', async () => {
    writeFileSync(join(dir, 'machine-id'), 'not an id!\n');
    let caught: unknown;
    try {
      await machineId(dir, { systemFiles: [] });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(StateError);
    expect((caught as Error).message).to.include('does not hold a machine id').and.include('delete it');
  });
});

describe('enroll: server error messages', () => {
  const rows: ReadonlyArray<{ name: string; status: number; text: string; body: string; expected: string }> = [
    { name: 'an API error', status: 400, text: 'Bad Request', body: '{"error":{"code":"X","message":"invalid request: body/os must be string"}}', expected: 'invalid request: body/os must be string (HTTP 400)' },
    // A proxy's page says nothing useful: the status line does.
    { name: 'an HTML page', status: 503, text: 'Service Unavailable', body: '<html>down</html>', expected: 'HTTP 503 Service Unavailable' },
    { name: 'an empty message', status: 500, text: '', body: '{"error":{"message":"  "}}', expected: 'HTTP 500' },
    // Should a server ever echo the token, it is not printed.
    { name: 'an echoed token', status: 400, text: '', body: '{"error":{"message":"token tok_Secret123 is odd"}}', expected: 'token <token> is odd (HTTP 400)' },
    { name: 'control characters', status: 400, text: '', body: '{"error":{"message":"a\\u001b[31m\\nb"}}', expected: 'a [31m b (HTTP 400)' },
  ];
  for (const row of rows) {
    it(`reports ${row.name}`, () => {
      expect(serverErrorMessage(row.status, row.text, row.body, 'tok_Secret123')).to.equal(row.expected);
    });
  }
});
