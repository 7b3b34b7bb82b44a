import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  POLICY_LIMITS,
  STARTER_POLICY_INPUT,
  buildPolicyDocument,
  verifySignedPolicy,
  type PolicyDocument,
  type PolicySignatureVerifier,
  type SignedPolicy,
} from '@portcullis/shared';
import { ensureStateDir, writeFileAtomic } from './atomic-file.js';

export { ed25519Verifier } from './ed25519-verifier.js';

export const POLICY_FILE = 'policy.json';
export const GOOD_POLICY_FILE = 'policy.json.good';

/** A signed policy file is one WebSocket frame's worth; anything much bigger is not ours. */
const MAX_FILE_BYTES = POLICY_LIMITS.maxDocumentBytes + 64 * 1024;
const BUILT_IN_CREATED_AT = '1970-01-01T00:00:00Z';

export interface LoadedPolicy {
  readonly policy: PolicyDocument;
  /** The signed form in force, or null for the built-in default. */
  readonly signed: SignedPolicy | null;
  readonly source: 'cache' | 'built-in';
  /** Why policy.json was refused (report it as policy.tampered), or null when it was fine or absent. */
  readonly tampered: string | null;
}

export type StoreResult =
  | { readonly ok: true; readonly policy: PolicyDocument }
  | { readonly ok: false; readonly reason: string };

/**
 * The safe default an agent enforces before any policy has arrived: the starter rules (hubs,
 * keyboards and mice only). Version 0 is below every version the server signs (they start at
 * 1), so the first real policy always replaces it; buildPolicyDocument validates everything
 * else, and only the version is set afterwards because the document parser requires ≥ 1.
 */
export function builtInPolicy(group = 'default'): PolicyDocument {
  const doc = buildPolicyDocument(STARTER_POLICY_INPUT, { group, version: 1, createdAt: BUILT_IN_CREATED_AT, createdBy: 'built-in' });
  return { ...doc, version: 0 };
}

/**
 * The signed policy cached in the state folder: `policy.json` is the policy in force,
 * `policy.json.good` a copy of it kept on every successful store, so that a damaged or
 * tampered policy.json falls back to the last policy that verified rather than to nothing.
 * Both hold a SignedPolicy exactly as the server sent it; nothing unsigned is ever enforced
 * from disk.
 */
export class PolicyCache {
  /** `group` is the agent's group from its identity; a cached policy for another group is refused. */
  constructor(
    private readonly stateDir: string,
    private readonly group: string | null = null,
  ) {}

  async load(verify: PolicySignatureVerifier): Promise<LoadedPolicy> {
    const main = await this.read(POLICY_FILE, verify);
    const good = await this.read(GOOD_POLICY_FILE, verify);
    if (main.kind === 'ok') {
      // Store writes policy.json before the good copy, so the good copy is never newer unless
      // someone put an older signed policy back in place of policy.json.
      if (good.kind === 'ok' && good.doc.version > main.doc.version) {
        return this.fallback(good, `${POLICY_FILE} holds version ${main.doc.version}, older than the last good version ${good.doc.version}`);
      }
      return { policy: main.doc, signed: main.signed, source: 'cache', tampered: null };
    }
    if (main.kind === 'missing') {
      if (good.kind === 'ok') return this.fallback(good, `${POLICY_FILE} is missing but a last good copy exists`);
      return { policy: builtInPolicy(this.group ?? 'default'), signed: null, source: 'built-in', tampered: null };
    }
    return this.fallback(good, main.reason);
  }

  /**
   * Verifies a signed policy from the server and, if it may replace the one in force, writes it
   * (policy.json, then the good copy). Refused, with the reason, when the signature fails, the
   * group is not ours, or the version is lower than `currentVersion` (a replayed older policy
   * carries a valid signature too). The same version again is accepted: a re-delivery.
   */
  async store(signed: unknown, currentVersion: number, expectedGroup: string, verify: PolicySignatureVerifier): Promise<StoreResult> {
    let doc: PolicyDocument;
    try {
      doc = verifySignedPolicy(signed, verify);
    } catch (err) {
      return { ok: false, reason: `refused: ${(err as Error).message}` };
    }
    if (doc.group !== expectedGroup) {
      return { ok: false, reason: `refused: the policy is for group "${doc.group}", this agent is in group "${expectedGroup}"` };
    }
    if (doc.version < currentVersion) {
      return { ok: false, reason: `refused: version ${doc.version} is older than version ${currentVersion} in force (a replayed policy)` };
    }
    const s = signed as SignedPolicy;
    const text = `${JSON.stringify({ document: s.document, keyId: s.keyId, signature: s.signature })}\n`;
    await ensureStateDir(this.stateDir);
    await writeFileAtomic(this.stateDir, POLICY_FILE, text);
    await writeFileAtomic(this.stateDir, GOOD_POLICY_FILE, text);
    return { ok: true, policy: doc };
  }

  private fallback(good: ReadResult, reason: string): LoadedPolicy {
    if (good.kind === 'ok') return { policy: good.doc, signed: good.signed, source: 'cache', tampered: reason };
    return { policy: builtInPolicy(this.group ?? 'default'), signed: null, source: 'built-in', tampered: reason };
  }

  private async read(name: string, verify: PolicySignatureVerifier): Promise<ReadResult> {
    const path = join(this.stateDir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'bad', reason: `${name} cannot be read: ${(err as Error).message}` };
    }
    if (text.length > MAX_FILE_BYTES) return { kind: 'bad', reason: `${name} is larger than any signed policy (${text.length} characters)` };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'bad', reason: `${name} is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
    }
    let doc: PolicyDocument;
    try {
      doc = verifySignedPolicy(value, verify);
    } catch (err) {
      return { kind: 'bad', reason: `${name} fails verification: ${(err as Error).message}` };
    }
    if (this.group !== null && doc.group !== this.group) {
      return { kind: 'bad', reason: `${name} is signed for group "${doc.group}", this agent is in group "${this.group}"` };
    }
    // verifySignedPolicy returned, so the wrapper is a well-formed SignedPolicy; it is kept as
    // read, since its signature is over the document exactly as received.
    return { kind: 'ok', doc, signed: value as SignedPolicy };
  }
}

type ReadResult =
  | { readonly kind: 'ok'; readonly doc: PolicyDocument; readonly signed: SignedPolicy }
  | { readonly kind: 'missing' }
  | { readonly kind: 'bad'; readonly reason: string };
