import { randomBytes, type X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  createCertificateAuthority,
  issueServerCertificate,
  readCertificate,
  readP256PrivateKey,
  type CertificateFacts,
  type KeyAndCertificate,
} from './certificates.js';
import { describeHostnameChange, hostnameSet, InvalidHostnameError, type HostnameSet } from './hostnames.js';
import { PkiError } from './pki-error.js';
import {
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  TEMP_FILE,
  checkNotWritableByOthers,
  checkPrivateFile,
  errnoCode,
  syncDirectory,
  writeFileAtomic,
} from './secure-files.js';
import { generateSigningKeyPem, loadSigningKey, type PolicySigningKey } from './signing-key.js';

/** The files under `<data>/pki/`. The CA and the signing key are what enrolled agents trust. */
export const PKI_FILES = {
  caKey: 'ca.key',
  caCert: 'ca.crt',
  serverKey: 'server.key',
  serverCert: 'server.crt',
  signingKey: 'policy-signing.key',
} as const;

const PRIVATE_FILES: readonly string[] = [PKI_FILES.caKey, PKI_FILES.serverKey, PKI_FILES.signingKey];
/** Never regenerated once they exist: a new CA or signing key would cut off every enrolled agent. */
const IRREPLACEABLE: readonly string[] = [PKI_FILES.caKey, PKI_FILES.caCert, PKI_FILES.signingKey];
const ALL_FILES: readonly string[] = Object.values(PKI_FILES);

/** Renew the server certificate when it has less than this left. */
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
const STAGING_DIR = /^\.pki-staging-(\d+)-[0-9a-f]{8}$/;

export interface ServerIdentityOptions {
  /** Names and addresses agents and browsers use to reach the server; localhost, 127.0.0.1 and ::1 are always added. */
  readonly hostnames: readonly string[];
  readonly now: Date;
}

export interface ServerIdentityStatus {
  readonly ca: 'created' | 'loaded';
  readonly serverCertificate: 'created' | 'loaded' | 'renewed';
  /** Why the server certificate was renewed ("expires 2027-01-02T…", "hostnames changed (…)"). */
  readonly renewalReason: string | null;
}

export interface ServerIdentity {
  readonly caCertPem: string;
  /** The TLS chain: server certificate, then the CA. */
  readonly certPem: string;
  /** The server's TLS private key (PKCS#8 PEM). Not enumerable, so logging or spreading the identity leaves it out. */
  readonly keyPem: string;
  /** SHA-256 of the server certificate's DER, "AB:CD:…" as openssl prints it. */
  readonly fingerprint256: string;
  readonly caFingerprint256: string;
  readonly signingKeyId: string;
  readonly signingPublicKeyPem: string;
  /** Base64 Ed25519 signature with the policy-signing key (a bound function: pass it around freely). */
  readonly sign: (payload: Uint8Array) => string;
  /** False for another key id, a malformed signature or a changed payload; never throws. */
  readonly verify: (keyId: string, payload: Uint8Array, signatureBase64: string) => boolean;
  readonly caExpiresAt: Date;
  readonly certExpiresAt: Date;
  /** The names in the server certificate. */
  readonly hostnames: HostnameSet;
  readonly pkiDir: string;
  readonly status: ServerIdentityStatus;
}

/**
 * Creates the server's identity on first start (a CA, a server certificate it signs, an Ed25519
 * policy-signing key under `<dataDir>/pki/`) and loads it on later starts. Refuses to start, with
 * a PkiError naming the file, when a key is accessible to others or part of the CA / signing key
 * is missing; renews only the server certificate (near expiry, hostnames changed, or unusable).
 */
export async function ensureServerIdentity(dataDir: string, opts: ServerIdentityOptions): Promise<ServerIdentity> {
  const names = wantedNames(opts.hostnames);
  const root = resolve(dataDir);
  const pkiDir = join(root, 'pki');
  try {
    await mkdir(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    throw new PkiError(`${root}: cannot create the data folder (${errnoCode(err)})`, root);
  }
  await removeLeftovers(root, pkiDir);

  const found = await listPkiDir(pkiDir);
  if (found !== null && found.others.length > 0 && found.ours.size === 0) {
    throw new PkiError(
      `${pkiDir}: holds files that are not a Portcullis identity (${found.others.join(', ')}); refusing to start. Move them away or use another data folder`,
      pkiDir,
    );
  }
  if (found === null || found.ours.size === 0) {
    const created = await createIdentity(root, pkiDir, names, opts.now);
    if (created !== null) return created;
  }
  return loadIdentity(pkiDir, names, opts.now);
}

function wantedNames(hostnames: readonly string[]): HostnameSet {
  try {
    return hostnameSet(hostnames);
  } catch (err) {
    if (err instanceof InvalidHostnameError) throw new PkiError(`hostnames: ${err.problem}`);
    throw err;
  }
}

/**
 * First start: everything is built in a private staging folder and renamed to `pki/` in one step,
 * so a crash leaves either no identity or a whole one (never a CA key without its certificate).
 * Returns null when another process created `pki/` meanwhile; the caller then loads that one.
 */
async function createIdentity(root: string, pkiDir: string, names: HostnameSet, now: Date): Promise<ServerIdentity | null> {
  const ca = await createCertificateAuthority(now);
  const server = await issueServerCertificate(ca, names, now);
  const signingKeyPem = generateSigningKeyPem();

  const staging = join(root, `.pki-staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { mode: PRIVATE_DIR_MODE });
  let placed = false;
  try {
    await chmod(staging, PRIVATE_DIR_MODE); // the umask may have narrowed it; never widened
    await writeFileAtomic(join(staging, PKI_FILES.signingKey), signingKeyPem, PRIVATE_FILE_MODE);
    await writeFileAtomic(join(staging, PKI_FILES.caKey), ca.keyPem, PRIVATE_FILE_MODE);
    await writeFileAtomic(join(staging, PKI_FILES.caCert), ca.certPem, PUBLIC_FILE_MODE);
    await writeFileAtomic(join(staging, PKI_FILES.serverKey), server.keyPem, PRIVATE_FILE_MODE);
    await writeFileAtomic(join(staging, PKI_FILES.serverCert), server.certPem, PUBLIC_FILE_MODE);
    await rmdir(pkiDir).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    try {
      await rename(staging, pkiDir);
    } catch (err) {
      if (['ENOTEMPTY', 'EEXIST', 'EPERM'].includes(errnoCode(err))) return null;
      throw err;
    }
    placed = true;
    await syncDirectory(root);
  } finally {
    if (!placed) await rm(staging, { recursive: true, force: true });
  }
  const caFacts = readCertificate(ca.certPem).facts;
  const serverFacts = readCertificate(server.certPem).facts;
  return buildIdentity({
    pkiDir,
    ca,
    caFacts,
    server,
    serverFacts,
    signer: loadSigningKey(signingKeyPem),
    status: { ca: 'created', serverCertificate: 'created', renewalReason: null },
  });
}

async function loadIdentity(pkiDir: string, names: HostnameSet, now: Date): Promise<ServerIdentity> {
  await checkNotWritableByOthers(pkiDir, 'folder');
  const found = (await listPkiDir(pkiDir)) ?? { ours: new Set<string>(), others: [] };
  const missing = IRREPLACEABLE.filter((f) => !found.ours.has(f));
  if (missing.length > 0) {
    const present = ALL_FILES.filter((f) => found.ours.has(f));
    throw new PkiError(
      `${pkiDir}: ${missing.join(', ')} missing while ${present.join(', ')} exist; refusing to start. ` +
        'A new CA or policy-signing key would cut off every enrolled agent: restore the missing file from a backup. ' +
        `Only if no agent was ever enrolled, move ${pkiDir} away to start afresh`,
      pkiDir,
    );
  }
  for (const file of ALL_FILES) {
    if (!found.ours.has(file)) continue;
    const path = join(pkiDir, file);
    if (PRIVATE_FILES.includes(file)) await checkPrivateFile(path);
    else await checkNotWritableByOthers(path, 'file');
  }

  const caPath = join(pkiDir, PKI_FILES.caCert);
  const ca: KeyAndCertificate = { certPem: await readText(caPath), keyPem: await readText(join(pkiDir, PKI_FILES.caKey)) };
  const { cert: caCert, facts: caFacts } = refuseOnError(caPath, () => readCertificate(ca.certPem));
  const caKey = refuseOnError(join(pkiDir, PKI_FILES.caKey), () => readP256PrivateKey(ca.keyPem));
  if (!caFacts.isCa || !caCert.verify(caCert.publicKey)) {
    throw new PkiError(`${caPath}: not a self-signed CA certificate; refusing to start`, caPath);
  }
  if (!caCert.checkPrivateKey(caKey)) {
    throw new PkiError(`${join(pkiDir, PKI_FILES.caKey)}: does not belong to ${PKI_FILES.caCert}; refusing to start. Restore the pair from a backup`, pkiDir);
  }
  if (caFacts.notAfter.getTime() <= now.getTime()) {
    throw new PkiError(
      `${caPath}: the CA expired on ${caFacts.notAfter.toISOString()}; agents reject every certificate it signs. ` +
        `Move ${pkiDir} away to create a new CA, then enroll the agents again`,
      caPath,
    );
  }

  const signingPath = join(pkiDir, PKI_FILES.signingKey);
  const signingPem = await readText(signingPath);
  const signer = refuseOnError(signingPath, () => loadSigningKey(signingPem));

  const existing = await readServerCertificate(pkiDir, found.ours, caCert);
  const reason = 'problem' in existing ? existing.problem : renewalReason(existing.facts, caFacts, names, now);
  if (reason === null && !('problem' in existing)) {
    return buildIdentity({
      pkiDir,
      ca,
      caFacts,
      server: existing.pair,
      serverFacts: existing.facts,
      signer,
      status: { ca: 'loaded', serverCertificate: 'loaded', renewalReason: null },
    });
  }
  const server = await issueServerCertificate(ca, names, now);
  // Key first: a crash between the two writes leaves a key that does not match the certificate,
  // which the next start detects and repairs by issuing again.
  await writeFileAtomic(join(pkiDir, PKI_FILES.serverKey), server.keyPem, PRIVATE_FILE_MODE);
  await writeFileAtomic(join(pkiDir, PKI_FILES.serverCert), server.certPem, PUBLIC_FILE_MODE);
  return buildIdentity({
    pkiDir,
    ca,
    caFacts,
    server,
    serverFacts: readCertificate(server.certPem).facts,
    signer,
    status: { ca: 'loaded', serverCertificate: 'renewed', renewalReason: reason },
  });
}

type ExistingServerCertificate = { readonly pair: KeyAndCertificate; readonly facts: CertificateFacts } | { readonly problem: string };

/**
 * The server certificate is derived material: when it is missing, unreadable, not ours or not
 * matching its key, the server issues a new one from the CA (and says why) instead of refusing.
 */
async function readServerCertificate(pkiDir: string, present: ReadonlySet<string>, caCert: X509Certificate): Promise<ExistingServerCertificate> {
  for (const file of [PKI_FILES.serverCert, PKI_FILES.serverKey]) {
    if (!present.has(file)) return { problem: `${file} missing` };
  }
  const pair: KeyAndCertificate = {
    certPem: await readText(join(pkiDir, PKI_FILES.serverCert)),
    keyPem: await readText(join(pkiDir, PKI_FILES.serverKey)),
  };
  let parsed: ReturnType<typeof readCertificate>;
  try {
    parsed = readCertificate(pair.certPem);
  } catch (err) {
    return { problem: `${PKI_FILES.serverCert} unreadable (${safeMessage(err)})` };
  }
  let key: ReturnType<typeof readP256PrivateKey>;
  try {
    key = readP256PrivateKey(pair.keyPem);
  } catch (err) {
    return { problem: `${PKI_FILES.serverKey} unreadable (${safeMessage(err)})` };
  }
  if (parsed.cert.issuer !== caCert.subject || !parsed.cert.verify(caCert.publicKey)) {
    return { problem: `${PKI_FILES.serverCert} was not issued by this CA` };
  }
  if (!parsed.cert.checkPrivateKey(key)) return { problem: `${PKI_FILES.serverKey} does not match ${PKI_FILES.serverCert}` };
  return { pair, facts: parsed.facts };
}

function renewalReason(cert: CertificateFacts, ca: CertificateFacts, names: HostnameSet, now: Date): string | null {
  if (now.getTime() < cert.notBefore.getTime()) return `not valid until ${cert.notBefore.toISOString()}`;
  const expiresSoon = cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS;
  // A certificate already cut at the CA's end cannot get longer; renewing it would loop at every start.
  if (expiresSoon && cert.notAfter.getTime() < ca.notAfter.getTime()) return `expires ${cert.notAfter.toISOString()}`;
  return describeHostnameChange(cert.names, names);
}

interface IdentityParts {
  readonly pkiDir: string;
  readonly ca: KeyAndCertificate;
  readonly caFacts: CertificateFacts;
  readonly server: KeyAndCertificate;
  readonly serverFacts: CertificateFacts;
  readonly signer: PolicySigningKey;
  readonly status: ServerIdentityStatus;
}

function buildIdentity(p: IdentityParts): ServerIdentity {
  const identity = {
    caCertPem: p.ca.certPem,
    certPem: `${p.server.certPem.trim()}\n${p.ca.certPem.trim()}\n`,
    fingerprint256: p.serverFacts.fingerprint256,
    caFingerprint256: p.caFacts.fingerprint256,
    signingKeyId: p.signer.keyId,
    signingPublicKeyPem: p.signer.publicKeyPem,
    sign: p.signer.sign,
    verify: p.signer.verify,
    caExpiresAt: p.caFacts.notAfter,
    certExpiresAt: p.serverFacts.notAfter,
    hostnames: p.serverFacts.names,
    pkiDir: p.pkiDir,
    status: p.status,
  };
  Object.defineProperty(identity, 'keyPem', { value: p.server.keyPem, enumerable: false, writable: false });
  return identity as typeof identity & { readonly keyPem: string };
}

async function listPkiDir(pkiDir: string): Promise<{ ours: Set<string>; others: string[] } | null> {
  let entries: string[];
  try {
    entries = await readdir(pkiDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw new PkiError(`${pkiDir}: cannot read (${errnoCode(err)}); refusing to start`, pkiDir);
  }
  const ours = new Set(entries.filter((e) => ALL_FILES.includes(e)));
  return { ours, others: entries.filter((e) => !ours.has(e)).sort() };
}

/** Crash left-overs of ours hold private keys: remove them unless their process still runs. */
async function removeLeftovers(root: string, pkiDir: string): Promise<void> {
  for (const entry of await readdir(root)) {
    const pid = STAGING_DIR.exec(entry)?.[1];
    if (pid !== undefined && !processRuns(Number(pid))) await rm(join(root, entry), { recursive: true, force: true });
  }
  let entries: string[];
  try {
    entries = await readdir(pkiDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new PkiError(`${pkiDir}: cannot read (${errnoCode(err)}); refusing to start`, pkiDir);
  }
  for (const entry of entries) {
    const pid = TEMP_FILE.exec(entry)?.[1];
    if (pid !== undefined && ALL_FILES.includes(entry.replace(TEMP_FILE, '')) && !processRuns(Number(pid))) {
      await rm(join(pkiDir, entry), { force: true });
    }
  }
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new PkiError(`${path}: cannot read (${errnoCode(err)}); refusing to start`, path);
  }
}

function refuseOnError<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new PkiError(`${path}: ${safeMessage(err)}; refusing to start`, path);
  }
}

/** First line only; the readers used here (certificates.ts, signing-key.ts) never put key material in a message. */
function safeMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? err.name : 'unreadable';
}
