/**
 * Byte strings: JS strings whose every UTF-16 unit is one byte (0..255). USBGuard compares and
 * prints rule strings as bytes, so Portcullis keeps them that way: `"\xc3\xa9"` and a raw `é`
 * in a UTF-8 rule file are the same two bytes, and both print as `"\xc3\xa9"`.
 */

const encoder = new TextEncoder();

/** UTF-8 encodes a Unicode string into a byte string (ASCII passes through unchanged). */
export function toByteString(text: string): string {
  // Fast path: almost every device attribute is plain ASCII.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  const bytes = encoder.encode(text);
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

const HEX = '0123456789abcdef';

/**
 * Escapes a byte string the way USBGuard's `escapeString` does: `"` and `\` get a backslash,
 * printable ASCII (0x20..0x7e) stays, every other byte becomes lower-case `\xHH`.
 */
export function escapeByteString(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) out += bytes[i];
    else out += '\\x' + HEX[(c >> 4) & 0xf] + HEX[c & 0xf];
  }
  return out;
}

/** Decodes a byte string as UTF-8 for people (invalid sequences become U+FFFD). */
export function byteStringToText(bytes: string): string {
  const arr = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) arr[i] = bytes.charCodeAt(i) & 0xff;
  return new TextDecoder().decode(arr);
}
