import type { Target } from '../rules/ast.js';
import { canonicalJson } from './canonical-json.js';
import { MAIL_EGRESS_OFF, readExceptions, readMailEgress, readPorts, readPresentDevices, readRuleText, readTarget } from './policy-fields.js';
import { readPolicyDocument } from './policy-document-parser.js';
import {
  POLICY_LIMITS,
  POLICY_SCHEMA,
  COMPOSITE_DEVICE_MODES,
  PORT_CLASSES,
  PolicyInvalidError,
  type CompositeDeviceMode,
  type MailEgressPolicy,
  type PolicyDocument,
  type PolicyError,
  type PortPolicy,
  type PresentDevicePolicy,
  type TemporaryException,
} from './policy-model.js';
import { Issues, own, readEnum, readObject, utf8Length } from './shape-checks.js';

/**
 * What an admin PUTs for a group; everything but the rules has a safe default:
 *
 *     {"rules":"allow id 1d6b:*\nallow with-interface equals { 03:*:* }","ports":{"bluetooth":"allow"},
 *      "mailEgress":{"mode":"enforce","servers":["10.1.0.0/16"]}}
 */
export interface PolicyInput {
  readonly rules: string;
  readonly implicitTarget?: Target;
  readonly presentDevices?: PresentDevicePolicy;
  readonly compositeDevices?: CompositeDeviceMode;
  readonly ports?: Partial<PortPolicy>;
  /** `servers` may be left out (none approved) and written in any address syntax; it comes back canonical. */
  readonly mailEgress?: { readonly mode: MailEgressPolicy['mode']; readonly servers?: readonly string[] };
  readonly exceptions?: readonly TemporaryException[];
}

/** A validated input with the defaults filled in. */
export interface NormalizedPolicyInput {
  readonly rules: string;
  readonly implicitTarget: Target;
  readonly presentDevices: PresentDevicePolicy;
  readonly compositeDevices: CompositeDeviceMode;
  readonly ports: PortPolicy;
  readonly mailEgress: MailEgressPolicy;
  readonly exceptions: readonly TemporaryException[];
}

export type PolicyInputValidation =
  | { readonly ok: true; readonly input: NormalizedPolicyInput }
  | { readonly ok: false; readonly errors: PolicyError[] };

/** Fail closed: a port class nobody decided about is blocked. */
export const DEFAULT_PORT_POLICY: PortPolicy = Object.freeze({ serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' });
export const DEFAULT_IMPLICIT_TARGET: Target = 'block';
export const DEFAULT_PRESENT_DEVICES: PresentDevicePolicy = 'apply-policy';
/** USBGuard's behaviour: a composite device is decided as one unit. */
export const DEFAULT_COMPOSITE_DEVICES: CompositeDeviceMode = 'whole-device';
/** Mail traffic is left alone until an admin lists the approved servers and switches the guard on. */
export const DEFAULT_MAIL_EGRESS: MailEgressPolicy = MAIL_EGRESS_OFF;

const INPUT_FIELDS = ['rules', 'implicitTarget', 'presentDevices', 'compositeDevices', 'ports', 'mailEgress', 'exceptions'] as const;
const SERVER_FIELDS: ReadonlySet<string> = new Set(['schema', 'group', 'version', 'createdAt', 'createdBy']);

/**
 * Room left for the fields the server adds (group and createdBy up to 1 KiB each, twice that
 * once JSON escapes quotes and backslashes; schema, version, createdAt, key names), so an input
 * that passes here always makes a document that fits in a frame.
 */
const SERVER_FIELDS_ALLOWANCE = 5 * 1024;

/**
 * Validates an admin's policy input. Every problem is reported, with its path and, for rule
 * syntax errors, line and column. Unknown fields are errors, with a suggestion for near misses
 * ("did you mean implicitTarget?"); the server-managed fields (group, version, …) are refused
 * with a note that the server sets them.
 */
export function validatePolicyInput(value: unknown): PolicyInputValidation {
  const issues = new Issues();
  const obj = readObject(value, '', issues, {
    what: 'a policy',
    required: ['rules'],
    optional: INPUT_FIELDS,
    unknownHint: (key) => (SERVER_FIELDS.has(key) ? `"${key}" is set by the server; leave it out` : undefined),
  });
  if (!obj) return { ok: false, errors: issues.list };
  const given = (key: (typeof INPUT_FIELDS)[number]): boolean => Object.hasOwn(obj, key);
  const rules = readRuleText(own(obj, 'rules'), 'rules', issues);
  const implicitTarget = given('implicitTarget') ? readTarget(obj.implicitTarget, 'implicitTarget', issues) : DEFAULT_IMPLICIT_TARGET;
  const presentDevices = given('presentDevices')
    ? readPresentDevices(obj.presentDevices, 'presentDevices', issues)
    : DEFAULT_PRESENT_DEVICES;
  const compositeDevices = given('compositeDevices')
    ? readEnum(obj.compositeDevices, 'compositeDevices', issues, COMPOSITE_DEVICE_MODES)
    : DEFAULT_COMPOSITE_DEVICES;
  const ports = given('ports') ? readPorts(obj.ports, 'ports', issues, 'partial') : {};
  const mailEgress = given('mailEgress') ? readMailEgress(obj.mailEgress, 'mailEgress', issues, 'input') : DEFAULT_MAIL_EGRESS;
  const exceptions = given('exceptions') ? readExceptions(obj.exceptions, 'exceptions', issues) : [];
  if (
    !issues.empty || rules === undefined || implicitTarget === undefined || presentDevices === undefined ||
    compositeDevices === undefined || ports === undefined || mailEgress === undefined || exceptions === undefined
  ) {
    return { ok: false, errors: issues.list };
  }
  const input: NormalizedPolicyInput = {
    rules,
    implicitTarget,
    presentDevices,
    compositeDevices,
    ports: Object.fromEntries(PORT_CLASSES.map((p) => [p, ports[p] ?? DEFAULT_PORT_POLICY[p]])) as unknown as PortPolicy,
    mailEgress,
    exceptions,
  };
  const size = utf8Length(canonicalJson(input));
  const limit = POLICY_LIMITS.maxDocumentBytes - SERVER_FIELDS_ALLOWANCE;
  if (size > limit) {
    issues.add('', `the policy is ${size} bytes as JSON; at most ${limit} fit in the one message that carries it to the agents — shorten the rules or the exceptions`);
    return { ok: false, errors: issues.list };
  }
  return { ok: true, input };
}

export interface PolicyMeta {
  readonly group: string;
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

/**
 * The document the server stores and signs. The result is validated exactly as an agent will
 * validate it (rules, exceptions, limits, meta), so a hand-assembled input — say, a stored
 * policy with one more exception — cannot produce a document every agent would refuse; throws
 * PolicyInvalidError instead.
 */
export function buildPolicyDocument(input: NormalizedPolicyInput, meta: PolicyMeta): PolicyDocument {
  const candidate = {
    schema: POLICY_SCHEMA,
    group: meta.group,
    version: meta.version,
    rules: input.rules,
    implicitTarget: input.implicitTarget,
    presentDevices: input.presentDevices,
    compositeDevices: input.compositeDevices,
    ports: input.ports,
    mailEgress: input.mailEgress,
    exceptions: input.exceptions,
    createdAt: meta.createdAt,
    createdBy: meta.createdBy,
  };
  const issues = new Issues();
  const doc = readPolicyDocument(candidate, '', issues);
  if (!doc) throw new PolicyInvalidError('cannot build the policy document', issues.list, issues.summary());
  const size = utf8Length(canonicalJson(doc));
  if (size > POLICY_LIMITS.maxDocumentBytes) {
    issues.add('', `the document is ${size} bytes as JSON; at most ${POLICY_LIMITS.maxDocumentBytes} fit in one message to the agents`);
    throw new PolicyInvalidError('cannot build the policy document', issues.list, issues.summary());
  }
  return doc;
}
