import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new random secret (256 bits), URL-safe, for session tokens, enrollment tokens, agent secrets. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A short random identifier (not a secret). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/**
 * Secrets are stored as SHA-256: they carry 256 bits of entropy, so a slow hash adds nothing,
 * and a stolen database does not give working tokens.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
