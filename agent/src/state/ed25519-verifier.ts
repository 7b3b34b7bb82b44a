import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { PolicySignatureVerifier } from '@portcullis/shared';
import { StateError } from './state-error.js';

export interface SigningKey {
  readonly keyId: string;
  /** SPKI PEM of the server's Ed25519 policy-signing key. */
  readonly publicKeyPem: string;
}

/**
 * Parses a pinned policy-signing key; throws StateError naming `path` when it is not an Ed25519
 * public key (the PEM is public, but it is still not quoted: it comes from the identity file).
 */
export function parseSigningKey(pem: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new StateError(`"${path}" is not a PEM public key`, path);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StateError(`"${path}" must be an Ed25519 public key (got ${key.asymmetricKeyType ?? 'unknown type'})`, path);
  }
  return key;
}

/**
 * The verifier verifySignedPolicy wants, over the keys pinned at enrollment. It answers false —
 * never throws — for a key id it does not know or a signature node:crypto cannot check, so a
 * bad policy is refused the same way whatever is wrong with it. Bad PEMs throw here, at
 * construction, where they are a configuration error rather than a tampered policy.
 */
export function ed25519Verifier(signingKeys: readonly SigningKey[]): PolicySignatureVerifier {
  const keys = new Map<string, KeyObject>();
  signingKeys.forEach((k, i) => keys.set(k.keyId, parseSigningKey(k.publicKeyPem, `signingKeys[${i}].publicKeyPem`)));
  return (keyId, payload, signature) => {
    const key = keys.get(keyId);
    if (key === undefined) return false;
    try {
      return cryptoVerify(null, payload, key, signature);
    } catch {
      // A malformed signature is a signature that does not verify: the caller reports it so.
      return false;
    }
  };
}
