import { expect } from 'chai';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ensureServerIdentity, PkiError, PKI_FILES, type ServerIdentity } from '../src/pki/index.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const DAY = 86_400_000;
const HOSTNAMES = ['portal.ministry.local', '10.20.0.5'];
const PRIVATE = [PKI_FILES.caKey, PKI_FILES.serverKey, PKI_FILES.signingKey];
const PUBLIC = [PKI_FILES.caCert, PKI_FILES.serverCert];
const posixOnly = process.platform === 'win32' ? it.skip : it;

const mode = (path: string): number => statSync(path).mode & 0o777;
const later = (days: number): Date => new Date(T0.getTime() + days * DAY);

async function refusal(promise: Promise<unknown>): Promise<PkiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(PkiError);
    const e = err as PkiError;
    expect(e.code).to.equal('PORTCULLIS_ERR_PKI');
    expect(e.message, 'no key material in messages').not.to.match(/PRIVATE KEY|BEGIN/);
    return e;
  }
  throw new Error('expected ensureServerIdentity to refuse');
}

describe('pki: server identity', () => {
  let dataDir: string;
  let pki: string;
  const file = (name: string): string => join(pki, name);
  const start = (now = T0, hostnames = HOSTNAMES): Promise<ServerIdentity> => ensureServerIdentity(dataDir, { hostnames, now });

  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'portcullis-pki-')), 'data');
    pki = join(dataDir, 'pki');
  });
  afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

  describe('first start', () => {
    posixOnly('creates the folder 0700, every key 0600 and every certificate 0644', async () => {
      const id = await start();
      expect(id.status).to.deep.equal({ ca: 'created', serverCertificate: 'created', renewalReason: null });
      expect(mode(pki)).to.equal(0o700);
      for (const f of PRIVATE) expect(mode(file(f)), f).to.equal(0o600);
      for (const f of PUBLIC) expect(mode(file(f)), f).to.equal(0o644);
      expect(readdirSync(pki).sort()).to.deep.equal(Object.values(PKI_FILES).sort());
      expect(readdirSync(dataDir), 'no staging folder left').to.deep.equal(['pki']);
    });

    // The mode is set on the open file, so neither a permissive nor a strict umask changes it.
    for (const umask of [0o000, 0o077]) {
      posixOnly(`gives the same modes under umask ${umask.toString(8).padStart(3, '0')}`, async () => {
        const previous = process.umask(umask);
        try {
          await start();
        } finally {
          process.umask(previous);
        }
        expect(mode(pki)).to.equal(0o700);
        for (const f of PRIVATE) expect(mode(file(f)), f).to.equal(0o600);
        for (const f of PUBLIC) expect(mode(file(f)), f).to.equal(0o644);
      });
    }

    it('makes a CA as specified: P-256, 10 years, CA critical, keyCertSign + cRLSign, random CN', async () => {
      const id = await start();
      const ca = new x509.X509Certificate(id.caCertPem);
      expect(ca.subject).to.match(/^CN=Portcullis CA [0-9a-f]{6}$/);
      expect(ca.publicKey.algorithm).to.include({ name: 'ECDSA', namedCurve: 'P-256' });
      expect(ca.notAfter.getUTCFullYear() - T0.getUTCFullYear()).to.equal(10);
      const bc = ca.getExtension(x509.BasicConstraintsExtension);
      expect(bc?.ca).to.equal(true);
      expect(bc?.critical).to.equal(true);
      const ku = ca.getExtension(x509.KeyUsagesExtension);
      expect(ku?.usages).to.equal(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
      expect(new X509Certificate(id.caCertPem).ca).to.equal(true);
      expect(id.caExpiresAt.getTime()).to.equal(ca.notAfter.getTime());
    });

    it('gives every new installation its own CA', async () => {
      const a = await start();
      const b = await ensureServerIdentity(join(dataDir, 'other'), { hostnames: [], now: T0 });
      expect(a.caFingerprint256).not.to.equal(b.caFingerprint256);
      expect(new X509Certificate(a.caCertPem).subject).not.to.equal(new X509Certificate(b.caCertPem).subject);
    });

    it('issues a server certificate the CA verifies, for localhost, 127.0.0.1, ::1 and the configured names', async () => {
      const id = await start();
      const ca = new X509Certificate(id.caCertPem);
      const cert = new X509Certificate(id.certPem); // the first certificate of the chain
      expect(cert.verify(ca.publicKey)).to.equal(true);
      expect(cert.ca).to.equal(false);
      expect(cert.issuer).to.equal(ca.subject);
      expect(cert.checkHost('localhost')).to.equal('localhost');
      expect(cert.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(cert.checkIP('::1')).to.equal('::1');
      expect(cert.checkHost('portal.ministry.local')).to.equal('portal.ministry.local');
      expect(cert.checkIP('10.20.0.5')).to.equal('10.20.0.5');
      expect(cert.checkHost('evil.example')).to.equal(undefined);
      expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']); // EKU serverAuth
      expect(cert.checkPrivateKey(createPrivateKey(id.keyPem))).to.equal(true);
      const parsed = new x509.X509Certificate(id.certPem);
      expect(parsed.publicKey.algorithm).to.include({ name: 'ECDSA', namedCurve: 'P-256' });
      const days = (parsed.notAfter.getTime() - parsed.notBefore.getTime()) / DAY;
      expect(days).to.be.at.most(825).and.at.least(730);
      expect(id.hostnames).to.deep.equal({ dns: ['localhost', 'portal.ministry.local'], ips: ['10.20.0.5', '127.0.0.1', '::1'] });
    });

    it('returns the chain (server, then CA) and openssl-style SHA-256 fingerprints', async () => {
      const id = await start();
      const pems = id.certPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
      expect(pems).to.have.length(2);
      expect(pems[1]?.trim()).to.equal(id.caCertPem.trim());
      const der = new X509Certificate(id.certPem).raw;
      const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
      expect(id.fingerprint256).to.equal(hex.match(/../g)?.join(':'));
      expect(id.fingerprint256).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(id.caFingerprint256).to.equal(new X509Certificate(id.caCertPem).fingerprint256);
    });

    it('keeps the TLS key out of JSON, inspect and object spread', async () => {
      const id = await start();
      expect(id.keyPem).to.match(/^-----BEGIN PRIVATE KEY-----/);
      expect(JSON.stringify(id)).not.to.include('PRIVATE KEY');
      expect(inspect(id, { depth: 5 })).not.to.include('PRIVATE KEY');
      expect({ ...id }).not.to.have.property('keyPem');
    });

    it('refuses a hostname that cannot go in a certificate', async () => {
      const e = await refusal(start(T0, ['bad_name!']));
      expect(e.message).to.include('bad_name!');
      expect(existsSync(pki)).to.equal(false);
    });

    it('refuses a pki folder that holds files that are not ours', async () => {
      mkdirSync(pki, { recursive: true, mode: 0o700 });
      writeFileSync(join(pki, 'notes.txt'), 'hello');
      const e = await refusal(start());
      expect(e.message).to.include('notes.txt');
    });

    it('refuses a data folder that is a file', async () => {
      mkdirSync(join(dataDir, '..'), { recursive: true });
      writeFileSync(dataDir, '');
      expect((await refusal(start())).message).to.match(/cannot create the data folder \((EEXIST|ENOTDIR)\)/);
    });

    it('fills an empty pki folder made beforehand', async () => {
      mkdirSync(pki, { recursive: true, mode: 0o700 });
      const id = await start();
      expect(id.status.ca).to.equal('created');
    });
  });

  describe('later starts', () => {
    it('load the same CA, server certificate and signing key, and rewrite nothing', async () => {
      const first = await start();
      const before = Object.values(PKI_FILES).map((f) => readFileSync(file(f), 'utf8'));
      const second = await start(later(1), [...HOSTNAMES].reverse().map((h) => h.toUpperCase()));
      expect(second.status).to.deep.equal({ ca: 'loaded', serverCertificate: 'loaded', renewalReason: null });
      expect(second.caFingerprint256).to.equal(first.caFingerprint256);
      expect(second.fingerprint256).to.equal(first.fingerprint256);
      expect(second.signingKeyId).to.equal(first.signingKeyId);
      expect(second.keyPem).to.equal(first.keyPem);
      expect(second.certPem).to.equal(first.certPem);
      expect(Object.values(PKI_FILES).map((f) => readFileSync(file(f), 'utf8'))).to.deep.equal(before);
    });

    // Rows: which private key was opened up, and to what mode.
    const TAMPERED: ReadonlyArray<{ file: string; mode: number }> = [
      { file: PKI_FILES.caKey, mode: 0o644 }, // world-readable CA key
      { file: PKI_FILES.serverKey, mode: 0o640 }, // group-readable TLS key
      { file: PKI_FILES.signingKey, mode: 0o604 }, // world-readable policy-signing key
      { file: PKI_FILES.caKey, mode: 0o620 }, // group-writable: someone else could replace it
    ];
    for (const row of TAMPERED) {
      posixOnly(`refuse to start when ${row.file} has mode 0${row.mode.toString(8)}`, async () => {
        await start();
        chmodSync(file(row.file), row.mode);
        const e = await refusal(start(later(1)));
        expect(e.message).to.include(file(row.file));
        expect(e.message).to.include(`mode 0${row.mode.toString(8)}`);
        expect(e.message).to.include(`chmod 600 '${file(row.file)}'`);
        expect(e.path).to.equal(file(row.file));
        expect(mode(file(row.file)), 'the server does not "fix" it silently').to.equal(row.mode);
      });
    }

    posixOnly('refuse to start when a certificate or the folder is writable by others', async () => {
      await start();
      chmodSync(file(PKI_FILES.caCert), 0o666);
      expect((await refusal(start(later(1)))).message).to.include(`chmod 644 '${file(PKI_FILES.caCert)}'`);
      chmodSync(file(PKI_FILES.caCert), 0o644);
      chmodSync(pki, 0o777);
      expect((await refusal(start(later(1)))).message).to.include(`chmod 700 '${pki}'`);
    });

    // Rows: a file the agents depend on goes missing; the CA and signing key are never remade.
    for (const missing of [PKI_FILES.caKey, PKI_FILES.caCert, PKI_FILES.signingKey]) {
      it(`refuse to start when ${missing} is missing, and create nothing`, async () => {
        await start();
        const kept = readdirSync(pki)
          .filter((f) => f !== missing)
          .map((f) => [f, readFileSync(file(f), 'utf8')]);
        rmSync(file(missing));
        const e = await refusal(start(later(1)));
        expect(e.message).to.include(`${missing} missing`);
        expect(e.message).to.include('restore');
        expect(existsSync(file(missing))).to.equal(false);
        expect(readdirSync(pki).map((f) => [f, readFileSync(file(f), 'utf8')])).to.deep.equal(kept);
      });
    }

    it('refuse a CA key that does not belong to the CA certificate', async () => {
      await start();
      const other = await ensureServerIdentity(join(dataDir, 'other'), { hostnames: [], now: T0 });
      writeFileSync(file(PKI_FILES.caKey), readFileSync(join(other.pkiDir, PKI_FILES.caKey)));
      expect((await refusal(start(later(1)))).message).to.include('does not belong to ca.crt');
    });

    it('refuse to start once the CA has expired', async () => {
      await start();
      const e = await refusal(start(later(3653)));
      expect(e.message).to.match(/CA expired on 2036-/);
    });

    it('refuse a signing key that is not Ed25519, without quoting it', async () => {
      await start();
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileSync(file(PKI_FILES.signingKey), rsa);
      expect((await refusal(start(later(1)))).message).to.include('expected an Ed25519 key, found rsa');
      writeFileSync(file(PKI_FILES.signingKey), '-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n');
      expect((await refusal(start(later(1)))).message).to.include('not a readable PEM private key');
    });
  });

  describe('server certificate renewal', () => {
    // Rows: how the stored server certificate differs from what this start wants.
    const RENEWALS: ReadonlyArray<{ name: string; now: Date; hostnames?: string[]; tamper?: (pki: string) => void; reason: RegExp }> = [
      { name: '29 days before expiry', now: later(730 - 29), reason: /^expires 2028-/ }, // inside the 30-day window
      { name: 'a host name added', now: later(10), hostnames: [...HOSTNAMES, 'console.ministry.local'], reason: /added console\.ministry\.local/ },
      { name: 'an address removed', now: later(10), hostnames: ['portal.ministry.local'], reason: /removed 10\.20\.0\.5/ },
      { name: 'server.key deleted', now: later(10), tamper: (d) => rmSync(join(d, PKI_FILES.serverKey)), reason: /server\.key missing/ },
      { name: 'both server files deleted', now: later(10), tamper: (d) => ['server.crt', 'server.key'].forEach((f) => rmSync(join(d, f))), reason: /server\.crt missing/ },
      { name: 'server.crt corrupted', now: later(10), tamper: (d) => writeFileSync(join(d, PKI_FILES.serverCert), 'garbage'), reason: /server\.crt unreadable/ },
      {
        name: 'server.key from another pair (a crash between the two writes)',
        now: later(10),
        tamper: (d) => writeFileSync(join(d, PKI_FILES.serverKey), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' })),
        reason: /server\.key does not match server\.crt/,
      },
    ];
    for (const row of RENEWALS) {
      it(`issues a new server certificate from the same CA: ${row.name}`, async () => {
        const first = await start();
        row.tamper?.(pki);
        const renewed = await start(row.now, row.hostnames ?? HOSTNAMES);
        expect(renewed.status.serverCertificate).to.equal('renewed');
        expect(renewed.status.renewalReason).to.match(row.reason);
        expect(renewed.caFingerprint256).to.equal(first.caFingerprint256);
        expect(renewed.signingKeyId).to.equal(first.signingKeyId);
        expect(renewed.fingerprint256).not.to.equal(first.fingerprint256);
        expect(renewed.keyPem, 'a new key with each certificate').not.to.equal(first.keyPem);
        const cert = new X509Certificate(renewed.certPem);
        expect(cert.verify(new X509Certificate(first.caCertPem).publicKey)).to.equal(true);
        expect(new Date(cert.validTo).getTime()).to.be.greaterThan(row.now.getTime() + 700 * DAY);
        // Written to disk: the next start loads it as it is.
        const again = await start(row.now, row.hostnames ?? HOSTNAMES);
        expect(again.status.serverCertificate).to.equal('loaded');
        expect(again.fingerprint256).to.equal(renewed.fingerprint256);
        if (process.platform !== 'win32') expect([mode(file(PKI_FILES.serverKey)), mode(file(PKI_FILES.serverCert))]).to.deep.equal([0o600, 0o644]);
      });
    }

    it('keeps the certificate 31 days before expiry', async () => {
      const first = await start();
      const id = await start(later(730 - 31));
      expect(id.status.serverCertificate).to.equal('loaded');
      expect(id.fingerprint256).to.equal(first.fingerprint256);
    });

    it('never issues past the CA, and does not renew again at every start near the CA end', async () => {
      await start();
      const nearCaEnd = later(3650 - 20);
      const renewed = await start(nearCaEnd);
      expect(renewed.status.serverCertificate).to.equal('renewed');
      expect(renewed.certExpiresAt.getTime()).to.equal(renewed.caExpiresAt.getTime());
      const next = await start(new Date(nearCaEnd.getTime() + DAY));
      expect(next.status.serverCertificate).to.equal('loaded');
    });

    it('removes a crashed write left over by a process that no longer runs', async () => {
      await start();
      const leftover = file(`${PKI_FILES.serverKey}.2147483646.0badf00d.tmp`);
      writeFileSync(leftover, 'partial', { mode: 0o600 });
      await start(later(1));
      expect(existsSync(leftover)).to.equal(false);
    });
  });

  describe('policy signing key', () => {
    it('signs with Ed25519 under a key id derived from the raw public key', async () => {
      const id = await start();
      const payload = new TextEncoder().encode('{"group":"finance","version":3}');
      const signature = id.sign(payload);
      expect(Buffer.from(signature, 'base64')).to.have.length(64);
      expect(id.verify(id.signingKeyId, payload, signature)).to.equal(true);
      const publicKey = createPublicKey(id.signingPublicKeyPem);
      expect(publicKey.asymmetricKeyType).to.equal('ed25519');
      expect(cryptoVerify(null, payload, publicKey, Buffer.from(signature, 'base64'))).to.equal(true);
      const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
      expect(raw).to.have.length(32);
      expect(id.signingKeyId).to.equal(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    });

    it('works as a detached function (for the API signer)', async () => {
      const { sign, verify, signingKeyId } = await start();
      const payload = Uint8Array.of(1, 2, 3);
      expect(verify(signingKeyId, payload, sign(payload))).to.equal(true);
    });

    // Rows: what is wrong with the (key id, payload, signature) handed to verify.
    const BAD: ReadonlyArray<{ name: string; bad: (keyId: string, payload: Uint8Array, sig: string) => [string, Uint8Array, string] }> = [
      { name: 'another key id', bad: (_k, p, s) => ['0123456789abcdef', p, s] },
      { name: 'a changed payload', bad: (k, p, s) => [k, Uint8Array.from(p, (b, i) => (i === 0 ? b ^ 1 : b)), s] },
      { name: 'a longer payload', bad: (k, p, s) => [k, Uint8Array.of(...p, 0), s] },
      { name: 'a flipped signature bit', bad: (k, p, s) => [k, p, flipBase64(s)] },
      { name: 'a truncated signature', bad: (k, p, s) => [k, p, s.slice(0, 40)] },
      { name: 'not base64 at all', bad: (k, p) => [k, p, '!!not base64!!'] },
      { name: 'an empty signature', bad: (k, p) => [k, p, ''] },
      { name: 'base64 with trailing junk', bad: (k, p, s) => [k, p, `${s}AAAA`] },
    ];
    for (const row of BAD) {
      it(`refuses ${row.name}`, async () => {
        const id = await start();
        const payload = new TextEncoder().encode('policy v1');
        const [keyId, p, sig] = row.bad(id.signingKeyId, payload, id.sign(payload));
        expect(id.verify(keyId, p, sig)).to.equal(false);
      });
    }

    it('refuses a signature made by another installation', async () => {
      const ours = await start();
      const theirs = await ensureServerIdentity(join(dataDir, 'other'), { hostnames: [], now: T0 });
      const payload = Uint8Array.of(7);
      expect(ours.verify(ours.signingKeyId, payload, theirs.sign(payload))).to.equal(false);
    });
  });

  describe('TLS', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

    it('completes a real handshake for clients that trust the CA, and only for them', async () => {
      // TLS checks validity against the real clock, so this identity is made for now.
      const id = await start(new Date());
      server = createServer({ cert: id.certPem, key: id.keyPem }, (_req, res) => res.end('portcullis'));
      await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;

      const get = (options: { ca?: string; servername?: string }) =>
        new Promise<string>((done, fail) => {
          const req = request({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => done(body));
          });
          req.on('error', fail);
          req.end();
        });

      expect(await get({ ca: id.caCertPem })).to.equal('portcullis');
      expect(await get({ ca: id.caCertPem, servername: 'localhost' })).to.equal('portcullis');
      const untrusted = await get({}).then(
        () => 'connected',
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect(untrusted).to.be.oneOf(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
      const other = await ensureServerIdentity(join(dataDir, 'other'), { hostnames: [], now: new Date() });
      const wrongCa = await get({ ca: other.caCertPem }).then(
        () => 'connected',
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect(wrongCa).not.to.equal('connected');
    });
  });
});

function flipBase64(signature: string): string {
  const bytes = Buffer.from(signature, 'base64');
  bytes[10] = (bytes[10] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}
