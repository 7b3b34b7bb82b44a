import { ErrorCodes, PortcullisError } from '../errors.js';
import { base64Decode, base64Encode } from './base64-codec.js';
import { canonicalJson } from './canonical-json.js';
import { readPolicyDocument } from './policy-document-parser.js';
import { PolicyInvalidError, type PolicyDocument } from './policy-model.js';
import { Issues, field, isPlainObject, kindOf, readObject, readText } from './shape-checks.js';

/**
 * The signed form of a policy, as the server sends it and the agent caches it:
 *
 *     {"document":{"schema":1,"group":"default","version":7,…},"keyId":"policy-2026",
 *      "signature":"3q2+7w…=="}
 *
 * The signature is Ed25519 over policySigningPayload(document). The crypto lives in server and
 * agent (node:crypto); this module fixes the bytes signed and the checks around them.
 */
export interface SignedPolicy {
  /** As signed: never enforce from here, enforce what verifySignedPolicy returns. */
  readonly document: SignedPolicyDocument;
  /** Names the server key that signed, so keys can be rotated while agents trust old and new. */
  readonly keyId: string;
  /** Standard base64 of the 64-byte Ed25519 signature. */
  readonly signature: string;
}

/**
 * A document in its signed form. One signed before `compositeDevices` or `mailEgress` existed
 * lacks the field, and must keep lacking it: the signature is over the document as it was
 * signed. The parsed PolicyDocument (verifySignedPolicy's result) holds the value it is read as.
 */
export type SignedPolicyDocument = Omit<PolicyDocument, LaterField> & Partial<Pick<PolicyDocument, LaterField>>;

/** The fields added after documents were first signed (policy-document-parser.ts reads them when absent). */
type LaterField = 'compositeDevices' | 'mailEgress';

/**
 * Prefixed to the canonical JSON before signing: a signature over a policy can never be passed
 * off as a signature over anything else the same key might sign (an enrollment, a command).
 */
export const POLICY_SIGNING_DOMAIN = 'portcullis-policy-v1\n';

export const ED25519_SIGNATURE_BYTES = 64;

const KEY_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** Checks a signature; must return false (not throw) for a key id it does not know. */
export type PolicySignatureVerifier = (keyId: string, payload: Uint8Array, signature: Uint8Array) => boolean;

/** Produces the Ed25519 signature of the payload with the server's key. */
export type PolicySigner = (payload: Uint8Array) => Uint8Array;

/** UTF-8 of `"portcullis-policy-v1\n" + canonicalJson(doc)`: the exact bytes signed and verified. */
export function policySigningPayload(doc: SignedPolicyDocument): Uint8Array {
  return signingPayload(doc);
}

function signingPayload(doc: unknown): Uint8Array {
  return new TextEncoder().encode(POLICY_SIGNING_DOMAIN + canonicalJson(doc));
}

/** Signs a document for sending and storing; the document must be one buildPolicyDocument made. */
export function signPolicy(document: PolicyDocument, keyId: string, sign: PolicySigner): SignedPolicy {
  if (!KEY_ID_PATTERN.test(keyId)) throw policyInvalid(`keyId must be 1 to 128 printable ASCII characters without spaces`);
  const signature = sign(policySigningPayload(document));
  if (signature.length !== ED25519_SIGNATURE_BYTES) {
    throw signatureInvalid(`the signer returned ${signature.length} bytes; an Ed25519 signature is ${ED25519_SIGNATURE_BYTES}`);
  }
  return { document, keyId, signature: base64Encode(signature) };
}

/**
 * Checks a signed policy from the wire or the agent's cache and returns its document.
 *
 * Order matters: the wrapper's shape is checked, then the signature over the document exactly
 * as received, and only then is the document's content validated (rules parsed and so on), so
 * nothing but a signed document ever reaches the rule parser. Throws PortcullisError
 * SIGNATURE_INVALID (missing, malformed or wrong signature; the verifier threw) or
 * POLICY_INVALID (bad wrapper; PolicyInvalidError for a signed but invalid document).
 *
 * It does not decide whether the document is the right one: the agent must still refuse a
 * document for another group or with a version lower than the one it enforces (a replayed
 * older policy carries a valid signature too).
 */
export function verifySignedPolicy(signed: unknown, verify: PolicySignatureVerifier): PolicyDocument {
  const { document, keyId, signature } = readSignedPolicyShape(signed);
  let payload: Uint8Array;
  try {
    payload = signingPayload(document);
  } catch (err) {
    throw policyInvalid(`the document cannot be serialized for checking: ${messageOf(err)}`);
  }
  let verified: boolean;
  try {
    verified = verify(keyId, payload, signature);
  } catch (err) {
    throw signatureInvalid(`checking the signature with key "${keyId}" failed: ${messageOf(err)}`);
  }
  if (verified !== true) throw signatureInvalid(`the signature does not verify with key "${keyId}"`);
  return readDocumentOrThrow(document);
}

/**
 * The shape of a signed policy without checking the signature: what a message parser can check.
 * The document is validated in full; the signature is decoded and its length checked. The
 * document returned is the validated copy with exactly the fields received, so that handing the
 * result to verifySignedPolicy checks the bytes that were signed: a document signed before
 * `compositeDevices` or `mailEgress` existed comes back without it, not with the default the
 * parser reads.
 */
export function readSignedPolicy(value: unknown, path: string, issues: Issues): SignedPolicy | undefined {
  const obj = readObject(value, path, issues, { what: 'a signed policy', required: ['document', 'keyId', 'signature'] });
  if (!obj) return undefined;
  const keyId = readText(obj.keyId, field(path, 'keyId'), issues, { maxBytes: 128, pattern: KEY_ID_PATTERN, patternHint: 'printable ASCII without spaces' });
  const signature = readSignatureText(obj.signature, field(path, 'signature'), issues);
  const document = readPolicyDocument(obj.document, field(path, 'document'), issues);
  if (keyId === undefined || signature === undefined || document === undefined || Object.keys(obj).length !== 3) return undefined;
  return { document: asSigned(document, obj.document), keyId, signature };
}

/** The parsed document without the later fields the received one (already validated) lacked. */
function asSigned(parsed: PolicyDocument, received: unknown): SignedPolicyDocument {
  const has = (key: LaterField): boolean => isPlainObject(received) && Object.hasOwn(received, key);
  const { compositeDevices, mailEgress, ...signed } = parsed;
  return {
    ...signed,
    ...(has('compositeDevices') ? { compositeDevices } : {}),
    ...(has('mailEgress') ? { mailEgress } : {}),
  };
}

function readSignatureText(value: unknown, path: string, issues: Issues): string | undefined {
  if (typeof value !== 'string') {
    issues.add(path, `must be a base64 Ed25519 signature (got ${kindOf(value)})`);
    return undefined;
  }
  const bytes = decodeSignature(value);
  if (typeof bytes === 'string') {
    issues.add(path, bytes);
    return undefined;
  }
  return value;
}

/** The signature bytes, or why there are none. */
function decodeSignature(text: string): Uint8Array | string {
  if (text.length > 256) return `must be a base64 Ed25519 signature (${ED25519_SIGNATURE_BYTES} bytes), not ${text.length} characters`;
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(text);
  } catch (err) {
    return messageOf(err);
  }
  if (bytes.length !== ED25519_SIGNATURE_BYTES) return `an Ed25519 signature is ${ED25519_SIGNATURE_BYTES} bytes (got ${bytes.length})`;
  return bytes;
}

function readSignedPolicyShape(value: unknown): { document: unknown; keyId: string; signature: Uint8Array } {
  if (!isPlainObject(value)) throw policyInvalid(`a signed policy must be a JSON object (got ${kindOf(value)})`);
  const extra = Object.keys(value).filter((k) => k !== 'document' && k !== 'keyId' && k !== 'signature');
  if (extra.length > 0) throw policyInvalid(`a signed policy has only document, keyId and signature (unknown field "${extra[0]?.slice(0, 64)}")`);
  const { document, keyId, signature } = value;
  if (!Object.hasOwn(value, 'signature') || signature === undefined) throw signatureInvalid('the policy is not signed (no "signature")');
  if (typeof signature !== 'string') throw signatureInvalid(`"signature" must be a base64 string (got ${kindOf(signature)})`);
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) {
    throw policyInvalid('"keyId" must be 1 to 128 printable ASCII characters without spaces');
  }
  if (!isPlainObject(document)) throw policyInvalid(`"document" must be a JSON object (got ${kindOf(document)})`);
  const bytes = decodeSignature(signature);
  if (typeof bytes === 'string') throw signatureInvalid(`"signature": ${bytes}`);
  return { document, keyId, signature: bytes };
}

function readDocumentOrThrow(document: unknown): PolicyDocument {
  const issues = new Issues();
  const doc = readPolicyDocument(document, '', issues);
  if (!doc) throw new PolicyInvalidError('the signed policy document is invalid', issues.list, issues.summary());
  return doc;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function policyInvalid(message: string): PortcullisError {
  return new PortcullisError(ErrorCodes.POLICY_INVALID, message);
}

function signatureInvalid(message: string): PortcullisError {
  return new PortcullisError(ErrorCodes.SIGNATURE_INVALID, message);
}
