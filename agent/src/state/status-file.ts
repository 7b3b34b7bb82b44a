import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIsoTimestamp } from '@portcullis/shared';
import { ensureStateDir, writeFileAtomic } from './atomic-file.js';
import { StateError } from './state-error.js';

/**
 * What the running service last said about itself, as `<state>/status.json`; the service
 * rewrites it every few seconds and on changes, and `portcullis-agent status` reads it:
 *
 *     {"pid":4242,"startedAt":"2026-11-25T08:00:00.000Z","updatedAt":"2026-11-25T10:00:05.000Z",
 *      "agentId":"agt_5Jm0","serverUrl":"https://portcullis.example:8443","connected":true,
 *      "lastConnectedAt":"2026-11-25T08:00:01.000Z",
 *      "policy":{"group":"default","version":7,"source":"cache"},
 *      "spool":{"depth":0,"lastSeq":120,"ackedSeq":120,"bytes":0},
 *      "lastEvent":{"seq":120,"type":"device.blocked","at":"2026-11-25T09:59:58.000Z"},"devices":4}
 */
export interface AgentStatus {
  readonly pid: number;
  readonly startedAt: string; // ISO
  readonly updatedAt: string; // ISO
  readonly agentId: string | null; // null when not enrolled (running on the built-in policy)
  readonly serverUrl: string | null;
  readonly connected: boolean;
  readonly lastConnectedAt: string | null;
  readonly policy: { readonly group: string; readonly version: number; readonly source: 'cache' | 'built-in' };
  readonly spool: { readonly depth: number; readonly lastSeq: number; readonly ackedSeq: number; readonly bytes: number };
  readonly lastEvent: { readonly seq: number; readonly type: string; readonly at: string } | null;
  readonly devices: number; // USB devices present (root hubs excluded)
}

export const STATUS_FILE = 'status.json';

const MAX_FILE_BYTES = 64 * 1024;
const MAX_TEXT = 1024;

/**
 * Where the agent keeps its state when no `--state DIR` is given: root-owned and 0700, since
 * the identity holds the agent's secret.
 */
export function defaultStateDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return join(env.ProgramData ?? 'C:\\ProgramData', 'Portcullis', 'agent');
  return '/var/lib/portcullis';
}

/** Writes the status atomically (a reader never sees half a file), 0600; a malformed status throws StateError. */
export async function writeStatus(stateDir: string, status: AgentStatus): Promise<void> {
  const checked = validateStatus(status, 'the status');
  await ensureStateDir(stateDir);
  await writeFileAtomic(stateDir, STATUS_FILE, `${JSON.stringify(checked)}\n`);
}

/**
 * The last status the service wrote, or null when there is none (it never ran with this state
 * folder). A file that is not a valid status throws StateError naming the first bad field.
 */
export async function readStatus(stateDir: string): Promise<AgentStatus | null> {
  const path = join(stateDir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new StateError(`cannot read ${path}: ${code ?? (err as Error).message}${code === 'EACCES' ? ' (run as root)' : ''}`);
  }
  if (text.length > MAX_FILE_BYTES) throw new StateError(`${path} is larger than any status (${text.length} characters)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return validateStatus(value, path);
}

/**
 * Checks every field and returns a status with exactly the known ones: fields a later version
 * may add are dropped rather than refused, so an older `status` still reads a newer file.
 */
export function validateStatus(value: unknown, where: string): AgentStatus {
  const bad = (field: string, rule: string): StateError => new StateError(`${where}: "${field}" ${rule}`, field);
  const obj = record(value, () => new StateError(`${where} must be a JSON object`));
  const count = (o: Record<string, unknown>, field: string, path = field): number => {
    const v = o[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(path, 'must be a whole number ≥ 0');
    return v;
  };
  const time = (o: Record<string, unknown>, field: string, path = field): string => {
    const v = o[field];
    if (typeof v !== 'string' || parseIsoTimestamp(v) === null) throw bad(path, 'must be a timestamp such as 2026-11-25T10:00:00Z');
    return v;
  };
  const text = (o: Record<string, unknown>, field: string, path = field): string => {
    const v = o[field];
    // eslint-disable-next-line no-control-regex
    if (typeof v !== 'string' || v === '' || v.length > MAX_TEXT || /[\x00-\x1f\x7f]/.test(v)) throw bad(path, `must be one line of 1 to ${MAX_TEXT} characters`);
    return v;
  };
  const orNull = <T>(field: string, read: () => T): T | null => (obj[field] === null ? null : read());

  const pid = count(obj, 'pid');
  if (pid === 0) throw bad('pid', 'must be a process id (≥ 1)');
  const startedAt = time(obj, 'startedAt');
  const updatedAt = time(obj, 'updatedAt');
  const agentId = orNull('agentId', () => text(obj, 'agentId'));
  const serverUrl = orNull('serverUrl', () => text(obj, 'serverUrl'));
  if (typeof obj.connected !== 'boolean') throw bad('connected', 'must be true or false');
  const connected = obj.connected;
  const lastConnectedAt = orNull('lastConnectedAt', () => time(obj, 'lastConnectedAt'));

  const p = record(obj.policy, () => bad('policy', 'must be {group, version, source}'));
  const source: AgentStatus['policy']['source'] | null = p.source === 'cache' ? 'cache' : p.source === 'built-in' ? 'built-in' : null;
  if (source === null) throw bad('policy.source', 'must be "cache" or "built-in"');
  const policy = { group: text(p, 'group', 'policy.group'), version: count(p, 'version', 'policy.version'), source };

  const s = record(obj.spool, () => bad('spool', 'must be {depth, lastSeq, ackedSeq, bytes}'));
  const spool = {
    depth: count(s, 'depth', 'spool.depth'),
    lastSeq: count(s, 'lastSeq', 'spool.lastSeq'),
    ackedSeq: count(s, 'ackedSeq', 'spool.ackedSeq'),
    bytes: count(s, 'bytes', 'spool.bytes'),
  };
  if (spool.ackedSeq > spool.lastSeq) throw bad('spool.ackedSeq', 'must not be past spool.lastSeq');

  const lastEvent = orNull('lastEvent', () => {
    const e = record(obj.lastEvent, () => bad('lastEvent', 'must be {seq, type, at} or null'));
    return { seq: count(e, 'seq', 'lastEvent.seq'), type: text(e, 'type', 'lastEvent.type'), at: time(e, 'at', 'lastEvent.at') };
  });
  const devices = count(obj, 'devices');
  return { pid, startedAt, updatedAt, agentId, serverUrl, connected, lastConnectedAt, policy, spool, lastEvent, devices };
}

function record(value: unknown, error: () => StateError): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw error();
  return value as Record<string, unknown>;
}
