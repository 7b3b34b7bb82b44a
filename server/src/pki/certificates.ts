import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { parseHostname, type HostnameSet } from './hostnames.js';

/**
 * The server's X.509 material, built with @peculiar/x509 over Node's WebCrypto and read back with
 * Node's own X509Certificate (OpenSSL), so what we write is checked by the parser TLS will use.
 * No file I/O here: server-identity.ts decides what to create, keep or renew.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Two years: well inside the 825-day ceiling TLS clients enforce for server certificates. */
export const SERVER_CERT_DAYS = 730;
export const CA_YEARS = 10;
/** Agents' clocks drift; a certificate that starts "now" is refused by a PC a few minutes behind. */
const BACKDATE_MS = HOUR_MS;

export interface KeyAndCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM. Never log it. */
  readonly keyPem: string;
}

/** What the server needs to know about a certificate it finds on disk. */
export interface CertificateFacts {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  readonly names: HostnameSet;
  /** SHA-256 of the DER, as openssl prints it: "AB:CD:…". */
  readonly fingerprint256: string;
}

export async function createCertificateAuthority(now: Date): Promise<KeyAndCertificate> {
  const keys = await generateP256();
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Portcullis CA ${randomBytes(3).toString('hex')}`] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathLength 0: this CA signs server certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pem(cert), keyPem: exportPrivateKey(keys.privateKey) };
}

export async function issueServerCertificate(ca: KeyAndCertificate, names: HostnameSet, now: Date): Promise<KeyAndCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign']);
  const keys = await generateP256();
  // A certificate must not outlive its issuer; clients would reject the chain at that date anyway.
  const notAfter = new Date(Math.min(now.getTime() + SERVER_CERT_DAYS * DAY_MS, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [names.dns.find((n) => n !== 'localhost') ?? 'localhost'] }],
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: pem(cert), keyPem: exportPrivateKey(keys.privateKey) };
}

/**
 * Reads one PEM certificate (and only one: a file with two is not ours). Throws a plain Error
 * whose message is safe to show: it never contains key material.
 */
export function readCertificate(certPem: string): { readonly cert: X509Certificate; readonly facts: CertificateFacts } {
  const count = certPem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (count !== 1) throw new Error(`expected one PEM certificate, found ${count}`);
  const cert = new X509Certificate(certPem);
  const parsed = new x509.X509Certificate(certPem);
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const item of san?.names.items ?? []) {
    if (item.type !== 'dns' && item.type !== 'ip') continue;
    const name = parseHostname(item.value);
    if (name.kind === 'dns') dns.add(name.value);
    else if (name.kind === 'ip') ips.add(name.value);
  }
  return {
    cert,
    facts: {
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      isCa: cert.ca,
      names: { dns: [...dns].sort(), ips: [...ips].sort() },
      fingerprint256: cert.fingerprint256,
    },
  };
}

/** Loads a P-256 private key, refusing any other kind. The message never quotes the key. */
export function readP256PrivateKey(keyPem: string): KeyObject {
  const key = parsePrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`expected an ECDSA P-256 key, found ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

export function parsePrivateKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (err) {
    // OpenSSL's reason only, never the input.
    const code = (err as { code?: unknown }).code;
    throw new Error(`not a readable PEM private key${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

async function generateP256(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function exportPrivateKey(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trim()}\n`;
}

/** 128 random bits, positive and without a leading zero byte, as RFC 5280 serials should be. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
