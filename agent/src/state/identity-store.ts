import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIsoTimestamp } from '@portcullis/shared';
import { STATE_FILE_MODE, ensureStateDir, writeFileAtomic } from './atomic-file.js';
import { parseSigningKey, type SigningKey } from './ed25519-verifier.js';
import { StateError } from './state-error.js';

/**
 * Who this agent is and whom it trusts, written by `enroll`, as `<state>/identity.json`:
 *
 *     {"serverUrl":"https://portcullis.example:8443","agentId":"a-7f3c","secret":"…","group":"default",
 *      "caCertPem":"-----BEGIN CERTIFICATE-----\n…","signingKeys":[{"keyId":"policy-2026",
 *      "publicKeyPem":"-----BEGIN PUBLIC KEY-----\n…"}],"enrolledAt":"2026-11-25T10:00:00Z"}
 */
export interface AgentIdentity {
  readonly serverUrl: string;
  readonly agentId: string;
  /** Authenticates the agent to the server: never logged, never in an error message. */
  readonly secret: string;
  readonly group: string;
  /** The server CA the agent pins for TLS. */
  readonly caCertPem: string;
  /** Every key the server may sign policies with (more than one while a key is rotated). */
  readonly signingKeys: readonly SigningKey[];
  readonly enrolledAt: string;
}

export const IDENTITY_FILE = 'identity.json';

const FIELDS = ['serverUrl', 'agentId', 'secret', 'group', 'caCertPem', 'signingKeys', 'enrolledAt'] as const;
const MAX_FILE_BYTES = 256 * 1024;
/** Printable ASCII without spaces; the same alphabet as a policy key id. */
const TOKEN = /^[\x21-\x7e]+$/;
const CERT_PEM = /^(?:-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?)+$/;

export function identityPath(stateDir: string): string {
  return join(stateDir, IDENTITY_FILE);
}

/** Validates, then writes the identity atomically, owner-only, creating the state folder 0700. */
export async function saveIdentity(stateDir: string, identity: AgentIdentity): Promise<void> {
  const checked = validateIdentity(identity);
  await ensureStateDir(stateDir);
  await writeFileAtomic(stateDir, IDENTITY_FILE, `${JSON.stringify(checked, null, 2)}\n`);
}

/**
 * Reads and strictly validates the identity. Throws StateError (PORTCULLIS_ERR_STATE_INVALID)
 * naming the field at fault; refuses a file group or others can read, since it holds the secret.
 */
export async function loadIdentity(stateDir: string): Promise<AgentIdentity> {
  const path = identityPath(stateDir);
  let mode: number;
  let size: number;
  try {
    ({ mode, size } = await stat(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StateError(`${path} does not exist: this computer is not enrolled (run portcullis-agent enroll)`);
    }
    throw new StateError(`cannot read ${path}: ${(err as Error).message}`);
  }
  // POSIX permission bits mean nothing on Windows; the state folder's ACL protects it there.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new StateError(
      `${path} has mode ${octal}: it holds the agent's secret and must be readable by its owner only; fix it with: chmod ${STATE_FILE_MODE.toString(8)} ${path}`,
    );
  }
  if (size > MAX_FILE_BYTES) throw new StateError(`${path} is ${size} bytes; an identity is at most ${MAX_FILE_BYTES}`);
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, which may be the secret: say only where.
    throw new StateError(`${path} is not valid JSON`);
  }
  return validateIdentity(value, path);
}

/** The identity, checked field by field; throws StateError naming the first bad field. */
export function validateIdentity(value: unknown, where = 'the identity'): AgentIdentity {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StateError(`${where} must be a JSON object`);
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    // A key is text from the file too: name it only when it cannot be a secret (those are ≥ 16).
    const name = /^[A-Za-z][A-Za-z0-9_]{0,14}$/.test(unknown) ? unknown : null;
    throw new StateError(`${where}: unknown field ${name === null ? '(name not shown)' : `"${name}"`}`, name);
  }
  const bad = (field: string, rule: string): StateError => new StateError(`${where}: "${field}" ${rule}`, field);
  const text = (field: (typeof FIELDS)[number], rule: string, ok: (s: string) => boolean): string => {
    const v = obj[field];
    if (typeof v !== 'string' || !ok(v)) throw bad(field, rule);
    return v;
  };
  const serverUrl = text('serverUrl', 'must be an https:// URL, e.g. https://portcullis.example:8443', isHttpsUrl);
  const agentId = text('agentId', 'must be 1 to 64 printable ASCII characters without spaces', (s) => s.length <= 64 && TOKEN.test(s));
  const secret = text('secret', 'must be 16 to 1024 printable ASCII characters without spaces', (s) => s.length >= 16 && s.length <= 1024 && TOKEN.test(s));
  const group = text('group', 'must be a group name: one line of 1 to 1024 bytes', isGroupName);
  const caCertPem = text('caCertPem', 'must be the server CA certificate in PEM ("-----BEGIN CERTIFICATE-----…")', (s) => s.length <= 64 * 1024 && CERT_PEM.test(s));
  const enrolledAt = text('enrolledAt', 'must be a timestamp such as 2026-11-25T10:00:00Z', (s) => parseIsoTimestamp(s) !== null);
  const signingKeys = readSigningKeys(obj.signingKeys, where);
  return { serverUrl, agentId, secret, group, caCertPem, signingKeys, enrolledAt };
}

function readSigningKeys(value: unknown, where: string): SigningKey[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) {
    throw new StateError(`${where}: "signingKeys" must be a list of 1 to 16 {keyId, publicKeyPem}`, 'signingKeys');
  }
  const seen = new Set<string>();
  return value.map((k: unknown, i) => {
    const at = `signingKeys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k)) throw new StateError(`${where}: "${at}" must be {keyId, publicKeyPem}`, at);
    const { keyId, publicKeyPem, ...rest } = k as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new StateError(`${where}: "${at}" has fields other than keyId and publicKeyPem`, at);
    if (typeof keyId !== 'string' || keyId.length > 128 || !TOKEN.test(keyId)) {
      throw new StateError(`${where}: "${at}.keyId" must be 1 to 128 printable ASCII characters without spaces`, `${at}.keyId`);
    }
    if (seen.has(keyId)) throw new StateError(`${where}: "${at}.keyId" repeats an earlier key id`, `${at}.keyId`);
    seen.add(keyId);
    if (typeof publicKeyPem !== 'string') throw new StateError(`${where}: "${at}.publicKeyPem" must be a PEM string`, `${at}.publicKeyPem`);
    parseSigningKey(publicKeyPem, `${at}.publicKeyPem`);
    return { keyId, publicKeyPem };
  });
}

function isHttpsUrl(s: string): boolean {
  if (s.length > 2048) return false;
  try {
    const url = new URL(s);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    // Not a URL at all: the caller reports the field.
    return false;
  }
}

function isGroupName(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length > 0 && Buffer.byteLength(s, 'utf8') <= 1024 && !/[\x00-\x1f\x7f]/.test(s);
}
