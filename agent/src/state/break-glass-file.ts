import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIsoTimestamp, type PolicyDocument, type TemporaryException } from '@portcullis/shared';
import { ensureStateDir, writeFileAtomic } from './atomic-file.js';
import { StateError } from './state-error.js';

/**
 * Break-glass: a local administrator (root) restores input devices when a policy locked out the
 * keyboard or mouse and the server cannot be reached to fix it. `portcullis-agent break-glass`
 * writes `<state>/break-glass.json`:
 *
 *     {"reason":"keyboard blocked after policy v12","by":"alice","createdAt":"2026-11-25T10:00:00.000Z",
 *      "until":"2026-11-25T10:30:00.000Z"}
 *
 * While it holds, the service adds one temporary exception in front of the policy, allowing
 * devices whose interfaces are ALL human-interface ones (keyboards, mice): a flash drive that is
 * also a keyboard stays decided by the policy. The service reports it as `agent.break-glass`
 * (high severity) so the security staff see every use.
 */
export interface BreakGlass {
  readonly reason: string;
  readonly by: string;
  readonly createdAt: string;
  readonly until: string;
}

export const BREAK_GLASS_FILE = 'break-glass.json';
/** The `createdAt` of the last break-glass the service reported, so each is reported once. */
export const BREAK_GLASS_REPORTED_FILE = 'break-glass.reported';
export const BREAK_GLASS_EXCEPTION_ID = 'break-glass';
/** Devices made only of HID interfaces: keyboards, mice, presenters. */
export const BREAK_GLASS_RULE = 'allow with-interface match-all { 03:*:* }';
export const MAX_BREAK_GLASS_MINUTES = 24 * 60;
const MAX_FILE_BYTES = 16 * 1024;

export async function writeBreakGlass(stateDir: string, value: BreakGlass): Promise<void> {
  const checked = validateBreakGlass(value, 'the break-glass request');
  await ensureStateDir(stateDir);
  await writeFileAtomic(stateDir, BREAK_GLASS_FILE, `${JSON.stringify(checked)}\n`);
}

/** The break-glass in the state folder, or null when there is none; StateError when it is malformed. */
export async function readBreakGlass(stateDir: string): Promise<BreakGlass | null> {
  const path = join(stateDir, BREAK_GLASS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StateError(`${path} cannot be read: ${(err as Error).message}`);
  }
  if (text.length > MAX_FILE_BYTES) throw new StateError(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return validateBreakGlass(value, path);
}

export function validateBreakGlass(value: unknown, where: string): BreakGlass {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StateError(`${where}: must be a JSON object`);
  const obj = value as Record<string, unknown>;
  const text = (field: string, max: number): string => {
    const v = obj[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f]/.test(v)) {
      throw new StateError(`${where}: "${field}" must be a non-empty single-line string of at most ${max} characters`);
    }
    return v;
  };
  const reason = text('reason', 500);
  const by = text('by', 64);
  const createdAt = text('createdAt', 40);
  const until = text('until', 40);
  const created = parseIsoTimestamp(createdAt);
  const end = parseIsoTimestamp(until);
  if (created === null || end === null) throw new StateError(`${where}: "createdAt" and "until" must be ISO timestamps`);
  if (end <= created || end - created > MAX_BREAK_GLASS_MINUTES * 60_000) {
    throw new StateError(`${where}: "until" must be after "createdAt" and at most ${MAX_BREAK_GLASS_MINUTES} minutes later`);
  }
  return { reason, by, createdAt, until };
}

export async function readReportedBreakGlass(stateDir: string): Promise<string | null> {
  try {
    return (await readFile(join(stateDir, BREAK_GLASS_REPORTED_FILE), 'utf8')).trim().slice(0, 64);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function saveReportedBreakGlass(stateDir: string, createdAt: string): Promise<void> {
  await writeFileAtomic(stateDir, BREAK_GLASS_REPORTED_FILE, `${createdAt}\n`);
}

/**
 * Ends a break-glass early by moving its end to now. The file stays, so a service that was down
 * still reports the break-glass when it starts.
 */
export async function endBreakGlass(stateDir: string, now: Date): Promise<boolean> {
  const current = await readBreakGlass(stateDir);
  if (current === null) return false;
  const created = parseIsoTimestamp(current.createdAt) ?? now.getTime();
  const end = new Date(Math.max(now.getTime(), created + 1));
  if (end.getTime() >= (parseIsoTimestamp(current.until) ?? 0)) return false;
  await writeBreakGlass(stateDir, { ...current, until: end.toISOString() });
  return true;
}

export function breakGlassActive(value: BreakGlass | null, now: Date): boolean {
  if (value === null) return false;
  const end = parseIsoTimestamp(value.until);
  const start = parseIsoTimestamp(value.createdAt);
  // A break-glass dated in the future is a clock problem or a forgery: it does not apply.
  return end !== null && start !== null && start <= now.getTime() + 60_000 && now.getTime() < end;
}

/** The policy with the break-glass exception first, so it wins over the rules and other exceptions. */
export function withBreakGlass(policy: PolicyDocument, value: BreakGlass): PolicyDocument {
  const exception: TemporaryException = {
    id: BREAK_GLASS_EXCEPTION_ID,
    rule: BREAK_GLASS_RULE,
    reason: `break-glass by ${value.by}: ${value.reason}`,
    until: value.until,
    agentId: null,
  };
  return { ...policy, exceptions: [exception, ...policy.exceptions.filter((x) => x.id !== BREAK_GLASS_EXCEPTION_ID)] };
}
