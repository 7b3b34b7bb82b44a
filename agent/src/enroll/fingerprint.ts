import { ErrorCodes, PortcullisError } from '@portcullis/shared';

/**
 * Reads a SHA-256 certificate fingerprint as people copy it, into 64 lowercase hex digits.
 * Accepted: the form `portcullis-server start` and `openssl x509 -fingerprint -sha256` print
 * (`AB:CD:…`, optionally after `SHA256:` or `sha256 Fingerprint=`), the bare hex of
 * `sha256sum`, any case, with colons or spaces between the digits:
 *
 *     SHA256:3F:A2:…:9C      3fa2…9c      3F A2 … 9C
 *
 * Anything else throws (ErrorCodes.ENROLL), because a typo must not turn into "no pin".
 */
export function normalizeFingerprint(text: string): string {
  const bare = text.trim().replace(/^(?:sha-?256(?:\s+fingerprint)?\s*[:=]\s*)/i, '');
  const hex = bare.replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new PortcullisError(
      ErrorCodes.ENROLL,
      `a SHA-256 fingerprint is 64 hex digits, e.g. 3F:A2:…:9C as printed by portcullis-server start (got ${hex.length} hex digit${hex.length === 1 ? '' : 's'}${/[^0-9a-fA-F]/.test(hex) ? ' and other characters' : ''})`,
    );
  }
  return hex.toLowerCase();
}

/** 64 hex digits (or node:crypto's `AB:CD:…`) in the `AB:CD:…` form people compare by eye. */
export function formatFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return (hex.match(/.{2}/g) ?? []).join(':');
}
