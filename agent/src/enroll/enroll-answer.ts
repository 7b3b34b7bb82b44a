import { ErrorCodes, PortcullisError, parseIsoTimestamp } from '@portcullis/shared';
import { parseSigningKey, type SigningKey } from '../state/ed25519-verifier.js';

/**
 * The server's 201 answer to `POST /api/v1/enroll`. `policy` is the group's latest signed
 * policy (checked later, against `signingKeys`, by PolicyCache.store), or null when the group
 * has none yet.
 */
export interface EnrollAnswer {
  readonly agentId: string;
  /** Never logged, never printed, never quoted in an error message. */
  readonly secret: string;
  readonly group: string;
  readonly serverTime: string;
  readonly signingKeys: readonly SigningKey[];
  readonly policy: unknown;
}

/** What `POST /api/v1/enroll` sends the server. */
export interface EnrollRequest {
  readonly token: string;
  readonly hostname: string;
  readonly machineId: string;
  readonly os: string;
  readonly agentVersion: string;
}

const UNEXPECTED = 'unexpected answer from the server';
/** Printable ASCII without spaces, as the identity store wants ids and secrets. */
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Parses and checks the body of a 201 answer; anything else throws ErrorCodes.ENROLL
 * "unexpected answer from the server: …", naming the field but never quoting a value (one of
 * them is the secret). Fields the server may add later are ignored. The raw text looks like:
 *
 *     {"agentId":"agt_5Jm0…","secret":"Qm9…","group":"default","serverTime":"2026-11-25T10:00:00.000Z",
 *      "signingKeys":[{"keyId":"policy-2026","publicKeyPem":"-----BEGIN PUBLIC KEY-----\n…"}],
 *      "policy":{"document":{…},"keyId":"policy-2026","signature":"…"}}
 */
export function parseEnrollAnswer(text: string): EnrollAnswer {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, and that text may be the secret.
    throw unexpected('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unexpected('not a JSON object');
  const obj = value as Record<string, unknown>;
  const str = (field: string, rule: string, ok: (s: string) => boolean): string => {
    const v = obj[field];
    if (typeof v !== 'string' || !ok(v)) throw unexpected(`"${field}" ${rule}`);
    return v;
  };
  const agentId = str('agentId', 'must be 1 to 64 printable characters', (s) => s.length <= 64 && TOKEN.test(s));
  const secret = str('secret', 'must be 16 to 1024 printable characters', (s) => s.length >= 16 && s.length <= 1024 && TOKEN.test(s));
  // eslint-disable-next-line no-control-regex
  const group = str('group', 'must be one line of text', (s) => s !== '' && s.length <= 1024 && !/[\x00-\x1f\x7f]/.test(s));
  const serverTime = str('serverTime', 'must be a timestamp', (s) => parseIsoTimestamp(s) !== null);
  const signingKeys = readKeys(obj.signingKeys);
  if (!('policy' in obj) || (obj.policy !== null && (typeof obj.policy !== 'object' || Array.isArray(obj.policy)))) {
    throw unexpected('"policy" must be a signed policy or null');
  }
  return { agentId, secret, group, serverTime, signingKeys, policy: obj.policy };
}

function readKeys(value: unknown): SigningKey[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) throw unexpected('"signingKeys" must be a list of 1 to 16 keys');
  return value.map((k: unknown, i) => {
    const at = `signingKeys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k)) throw unexpected(`"${at}" must be {keyId, publicKeyPem}`);
    const { keyId, publicKeyPem } = k as Record<string, unknown>;
    if (typeof keyId !== 'string' || keyId.length > 128 || !TOKEN.test(keyId)) throw unexpected(`"${at}.keyId" must be 1 to 128 printable characters`);
    if (typeof publicKeyPem !== 'string') throw unexpected(`"${at}.publicKeyPem" must be a PEM string`);
    try {
      parseSigningKey(publicKeyPem, `${at}.publicKeyPem`);
    } catch (err) {
      throw unexpected((err as Error).message);
    }
    return { keyId, publicKeyPem };
  });
}

function unexpected(why: string): PortcullisError {
  return new PortcullisError(ErrorCodes.ENROLL, `${UNEXPECTED}: ${why}`);
}

const MAX_MESSAGE = 300;

/**
 * The message of a non-201 answer, for one line of the command's output. The server's API
 * errors look like
 *
 *     {"error":{"code":"PORTCULLIS_ERR_BAD_REQUEST","message":"invalid request: body/hostname must match pattern …"}}
 *
 * Anything else (a proxy's HTML page) is reported by its status alone. Control characters are
 * flattened, the text is cut to 300 characters, and `hide` (the token) is masked should the
 * server ever echo it.
 */
export function serverErrorMessage(status: number, statusText: string, body: string, hide: string): string {
  let message: string | null = null;
  try {
    const value = JSON.parse(body) as unknown;
    const error = typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
    const m = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
    if (typeof m === 'string' && m.trim() !== '') message = m;
  } catch {
    // Not the API's JSON: the status line says enough.
    message = null;
  }
  const raw = message ?? `HTTP ${status}${statusText === '' ? '' : ` ${statusText}`}`;
  const masked = hide === '' ? raw : raw.split(hide).join('<token>');
  // eslint-disable-next-line no-control-regex
  const line = masked.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim();
  const cut = line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
  return message === null ? cut : `${cut} (HTTP ${status})`;
}
