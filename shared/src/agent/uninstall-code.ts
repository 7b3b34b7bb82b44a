import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * Uninstall codes (tamper protection, issue 7). The server gives an admin a short code that lets
 * one PC's agent be removed; the agent checks it with no network. Both sides derive it alike:
 *
 *     code(day) = Crockford base32 of the first 60 bits of
 *                 HMAC-SHA256(key, "portcullis-uninstall:v1:agt_7f3c:2026-11-25")
 *     shown as  7K3M-Q9XA-2B4D
 *
 * `key` is the 32 bytes of SHA-256 of the agent's secret: the hash the server keeps for the agent
 * (server/src/auth/secrets.ts hashSecret, hex-decoded), which the agent computes from the secret
 * in its identity file. So the server needs no secret it does not already hold, and a code opens
 * one PC only. shared/ has no crypto (it stays pure): the caller passes the MAC, bound to the key.
 *
 * A code is valid on the UTC day it was made and the next, so one made late in the evening still
 * works the next morning; a leaked code opens one PC for at most two days.
 */
export type UninstallMac = (message: string) => Uint8Array;

/** 60 bits in 12 characters of Crockford's base32 (no I, L, O, U: nothing to misread). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 12;
const DAY_MS = 86_400_000;
/**
 * An agent whose clock is a little behind the server's still takes a code made just after
 * midnight: it also accepts the code of the day its clock reaches within this margin.
 */
export const UNINSTALL_CLOCK_MARGIN_MS = 3_600_000;
/** How far back a code is recognised as this PC's but expired (a clearer answer than "wrong"). */
const EXPIRED_LOOKBACK_DAYS = 7;

export interface IssuedUninstallCode {
  /** `XXXX-XXXX-XXXX`. */
  readonly code: string;
  /** The UTC day the code was made for (`2026-11-25`). */
  readonly day: string;
  /** When the agent stops accepting it: the end of the next UTC day (ISO, UTC). */
  readonly validUntil: string;
}

export type UninstallCodeCheck =
  | { readonly ok: true; readonly day: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' | 'wrong'; readonly message: string };

export type ParsedUninstallCode = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly message: string };

/** The UTC calendar day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new PortcullisError(ErrorCodes.INTERNAL, 'utcDay needs a valid date');
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** The text the MAC is computed over: versioned, so a later scheme can never collide with this one. */
export function uninstallCodeMessage(agentId: string, day: string): string {
  return `portcullis-uninstall:v1:${agentId}:${day}`;
}

/** The code of one agent for one UTC day. */
export function uninstallCodeFor(mac: UninstallMac, agentId: string, day: string): string {
  const digest = mac(uninstallCodeMessage(agentId, day));
  if (digest.length < 8) throw new PortcullisError(ErrorCodes.INTERNAL, `the uninstall code MAC gave ${digest.length} bytes; HMAC-SHA256 gives 32`);
  let chars = '';
  for (let c = 0; c < CODE_CHARS; c++) {
    let value = 0;
    for (let b = c * 5; b < c * 5 + 5; b++) value = (value << 1) | (((digest[b >> 3] as number) >> (7 - (b & 7))) & 1);
    chars += ALPHABET[value];
  }
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** The code the server hands out now, with its day and the instant it stops working. */
export function issueUninstallCode(mac: UninstallMac, agentId: string, now: Date): IssuedUninstallCode {
  const day = utcDay(now);
  return { code: uninstallCodeFor(mac, agentId, day), day, validUntil: new Date(dayStart(day) + 2 * DAY_MS).toISOString() };
}

/**
 * Reads a code as a person types it: `7k3m-q9xa-2b4d`, `7K3M Q9XA 2B4D`, `7K3MQ9XA2B4D`. Case,
 * spaces and dashes do not matter, and O, I, L read as 0, 1, 1 (Crockford). The canonical form is
 * the one `uninstallCodeFor` prints. Error messages never repeat the code.
 */
export function parseUninstallCode(input: string): ParsedUninstallCode {
  const compact = input.replace(/[\s-]+/g, '').toUpperCase();
  if (compact === '') return { ok: false, message: 'the uninstall code is empty' };
  let chars = '';
  for (const [i, ch] of [...compact].entries()) {
    const mapped = ch === 'O' ? '0' : ch === 'I' || ch === 'L' ? '1' : ch;
    if (!ALPHABET.includes(mapped)) {
      const shown = /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      return { ok: false, message: `the uninstall code has ${shown} at character ${i + 1}: a code is letters and digits like 7K3M-Q9XA-2B4D` };
    }
    chars += mapped;
  }
  if (chars.length !== CODE_CHARS) {
    return { ok: false, message: `the uninstall code has ${chars.length} letters and digits; a code has ${CODE_CHARS}, like 7K3M-Q9XA-2B4D` };
  }
  return { ok: true, code: `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}` };
}

/**
 * The agent's check: is `input` this agent's code for a day that is still valid at `now` (its
 * own clock)? Accepts today's and yesterday's code, and tomorrow's within the clock margin. A
 * code of the last week is answered as expired, anything else as wrong.
 */
export function checkUninstallCode(mac: UninstallMac, agentId: string, input: string, now: Date): UninstallCodeCheck {
  const parsed = parseUninstallCode(input);
  if (!parsed.ok) return { ok: false, reason: 'malformed', message: parsed.message };
  const today = utcDay(now);
  const valid = [...new Set([utcDay(new Date(now.getTime() + UNINSTALL_CLOCK_MARGIN_MS)), today, addDays(today, -1)])];
  // Every candidate is computed and compared, matched or not: the time taken says nothing.
  let matched: string | null = null;
  for (const day of valid) if (sameText(uninstallCodeFor(mac, agentId, day), parsed.code) && matched === null) matched = day;
  if (matched !== null) return { ok: true, day: matched };
  for (let back = 2; back < 2 + EXPIRED_LOOKBACK_DAYS; back++) {
    const day = addDays(today, -back);
    if (sameText(uninstallCodeFor(mac, agentId, day), parsed.code)) {
      const until = new Date(dayStart(day) + 2 * DAY_MS).toISOString();
      return { ok: false, reason: 'expired', message: `this uninstall code was made on ${day} and expired at ${until}: ask for a new one` };
    }
  }
  return {
    ok: false,
    reason: 'wrong',
    message: `this is not the uninstall code of this computer (agent ${agentId}) for ${today} UTC by this computer's clock`,
  };
}

/** Compares two strings in time that depends only on their lengths. */
export function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

function dayStart(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new PortcullisError(ErrorCodes.INTERNAL, `not a UTC day: ${day.slice(0, 32)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function addDays(day: string, n: number): string {
  return utcDay(new Date(dayStart(day) + n * DAY_MS));
}
