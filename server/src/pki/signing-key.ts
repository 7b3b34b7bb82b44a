import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { parsePrivateKey } from './certificates.js';

/**
 * The Ed25519 key the server signs policy versions with (DESIGN.md §2: agents refuse a policy whose
 * signature does not verify). The private key stays inside the closure; only its id and public
 * half leave this module.
 */
export interface PolicySigningKey {
  /** First 16 hex characters of SHA-256 over the 32-byte raw public key. */
  readonly keyId: string;
  /** SPKI PEM, for agents and tools that verify policies. */
  readonly publicKeyPem: string;
  /** Base64 Ed25519 signature of the payload. */
  sign(payload: Uint8Array): string;
  /** False (never a throw) for an unknown key id, a malformed signature or a changed payload. */
  verify(keyId: string, payload: Uint8Array, signatureBase64: string): boolean;
}

/** An Ed25519 signature is 64 bytes: 86 base64 characters and "==". Anything else is refused. */
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Throws a plain Error whose message never contains the key. */
export function loadSigningKey(privateKeyPem: string): PolicySigningKey {
  const privateKey = parsePrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`expected an Ed25519 key, found ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = signingKeyId(publicKey);
  return {
    keyId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (payload) => sign(null, payload, privateKey).toString('base64'),
    verify: (id, payload, signatureBase64) =>
      id === keyId && SIGNATURE_BASE64.test(signatureBase64) && verify(null, payload, publicKey, Buffer.from(signatureBase64, 'base64')),
  };
}

export function signingKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an Ed25519 public key');
  return createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex').slice(0, 16);
}
