import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * Standard base64 (RFC 4648 §4, `+` and `/`, `=` padding), as Node.js writes it with
 * `toString('base64')`:
 *
 *     "q83vASNFZ4k="   (the 8 bytes ab cd ef 01 23 45 67 89)
 *
 * shared/ cannot use Node.js buffers, and atob works on "binary strings" and forgives what a signature
 * parser should not, so this is the whole codec. Decoding is strict: no whitespace, no missing
 * or misplaced padding, no URL-safe letters, and the unused bits of the last character must be
 * zero, so every byte string has exactly one accepted encoding.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUES: ReadonlyMap<string, number> = new Map([...ALPHABET].map((c, i) => [c, i]));

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += char(n >> 18) + char(n >> 12) + char(n >> 6) + char(n);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += `${char(n >> 18)}${char(n >> 12)}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${char(n >> 18)}${char(n >> 12)}${char(n >> 6)}=`;
  }
  return out;
}

function char(sextet: number): string {
  return ALPHABET[sextet & 63] as string;
}

/** Throws PortcullisError ENCODING_INVALID, naming the first thing wrong. */
export function base64Decode(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw malformed(`its length ${text.length} is not a multiple of 4`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const dataLength = text.length - padding;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < dataLength; i++) {
    const c = text[i] as string;
    const v = VALUES.get(c);
    if (v === undefined) {
      throw malformed(c === '=' ? `padding "=" in the middle (position ${i})` : `character ${JSON.stringify(c)} at position ${i} is not in the alphabet`);
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw malformed('the unused bits of the last character are not zero');
  return out;
}

function malformed(reason: string): PortcullisError {
  return new PortcullisError(ErrorCodes.ENCODING_INVALID, `not valid base64: ${reason}`);
}
