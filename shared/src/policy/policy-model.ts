import { ErrorCodes, PortcullisError } from '../errors.js';
import type { Target } from '../rules/ast.js';
import { parseIsoTimestamp } from './iso-timestamp.js';
import { type Issue, formatIssue } from './shape-checks.js';

/**
 * What a group of computers is told to enforce. The server stores one per group and version,
 * signs it (policy-signing.ts), and every agent in the group caches and enforces the last one
 * whose signature verified. Field names are the JSON names; the document is the JSON.
 */
export interface PolicyDocument {
  /** Bumped only when the meaning of a field changes; agents refuse schemas they do not know. */
  readonly schema: typeof POLICY_SCHEMA;
  readonly group: string;
  /** Increases with every change to the group's policy; agents never go back to a lower one. */
  readonly version: number;
  /** USBGuard rule text, comments and blank lines kept so rule traces point at the admin's lines. */
  readonly rules: string;
  /** Applies when no rule matches. */
  readonly implicitTarget: Target;
  readonly presentDevices: PresentDevicePolicy;
  /**
   * How a `block` of a composite device is enforced. Documents signed before this field existed
   * lack it; the parser reads them as `whole-device` (see policy-document-parser.ts).
   */
  readonly compositeDevices: CompositeDeviceMode;
  readonly ports: PortPolicy;
  /**
   * Which mail servers the computers may reach on the mail ports. Documents signed before this
   * field existed lack it; the parser reads them as `{"mode":"off","servers":[]}`.
   */
  readonly mailEgress: MailEgressPolicy;
  readonly exceptions: readonly TemporaryException[];
  readonly createdAt: string;
  readonly createdBy: string;
}

export const POLICY_SCHEMA = 1;

/**
 * What to do with devices already plugged in when the agent starts; the names and meanings
 * are USBGuard's PresentDevicePolicy: `apply-policy` evaluates the rules as for a new device,
 * `allow` / `block` treat every present device so, `keep` leaves each as the OS has it.
 */
export const PRESENT_DEVICE_POLICIES = ['apply-policy', 'allow', 'block', 'keep'] as const;
export type PresentDevicePolicy = (typeof PRESENT_DEVICE_POLICIES)[number];

/**
 * How a composite device (several interfaces: a keyboard+storage gadget, a headset with a
 * vendor interface) is decided when the exceptions and rules `block` it as a whole:
 *  - `whole-device` (USBGuard's behaviour, the default): the device stays off, every interface;
 *  - `per-interface`: each distinct interface type (`cc:ss:pp`) is evaluated alone, through the
 *    exceptions and then the rules, and the device is authorized with only the types that come
 *    out `allow` switched on (a gadget's keyboard works, its storage stays off). When no type is
 *    allowed the whole-device block stands.
 * Only `block` is split: a whole-device `reject`, `allow` or `readonly` applies to the device as
 * one unit. So an admin who wants a combination kept out altogether, whichever halves are
 * allowed alone, rejects it before the rules that allow its parts:
 *
 *     reject with-interface all-of { 03:*:* 08:*:* }
 *     allow with-interface equals { 03:*:* }
 *     block with-interface one-of { 08:*:* }
 */
export const COMPOSITE_DEVICE_MODES = ['whole-device', 'per-interface'] as const;
export type CompositeDeviceMode = (typeof COMPOSITE_DEVICE_MODES)[number];

/** The non-USB port classes the agent controls. */
export const PORT_CLASSES = ['serial', 'parallel', 'bluetooth', 'optical'] as const;
export type PortClass = (typeof PORT_CLASSES)[number];

/**
 * `readonly` lets a port class be read but not written to: an optical drive reads discs but does
 * not burn them. A class with no read-only form on a platform is enforced as `block` (fail closed).
 */
export const PORT_ACTIONS = ['allow', 'block', 'readonly'] as const;
export type PortAction = (typeof PORT_ACTIONS)[number];

export type PortPolicy = { readonly [K in PortClass]: PortAction };

/**
 * The mail egress guard (DESIGN.md §5): with `enforce`, a computer reaches the mail ports
 * (MAIL_PORTS) only on the approved servers, and attempts elsewhere are refused and reported;
 * traffic to the computer itself (a local MTA) is never touched. `off` leaves mail traffic alone.
 *
 *     {"mode":"enforce","servers":["10.1.2.3","10.1.0.0/16","2001:db8::25"]}
 *
 * Servers are IPv4/IPv6 addresses or CIDR prefixes only, in canonical form (ip-prefix.ts), never
 * host names: a name would be resolved through DNS, and whoever can answer the computer's DNS
 * queries (a poisoned cache, a rogue DHCP server, a hosts file) could then point "the approved
 * server" anywhere, which is the way round the guard it exists to close.
 */
export interface MailEgressPolicy {
  readonly mode: MailEgressMode;
  readonly servers: readonly string[];
}

export const MAIL_EGRESS_MODES = ['off', 'enforce'] as const;
export type MailEgressMode = (typeof MAIL_EGRESS_MODES)[number];

/** SMTP, SMTPS (implicit TLS), submission, POP3, POP3S, IMAP, IMAPS. */
export const MAIL_PORTS = [25, 465, 587, 110, 995, 143, 993] as const;

/**
 * One rule granted for a limited time, e.g. a registered drive for an audit:
 * `{"id":"x-17","rule":"allow id 0781:5567 serial \"4C53\"","reason":"audit","until":"2026-12-01T00:00:00Z","agentId":null}`.
 * Active exceptions are evaluated before the group's rules (see activeExceptions).
 */
export interface TemporaryException {
  readonly id: string;
  /** Exactly one USBGuard rule. */
  readonly rule: string;
  readonly reason: string;
  /** The exception stops applying at this instant. */
  readonly until: string;
  /** The one computer it applies to, or null for every computer in the group. */
  readonly agentId: string | null;
}

export const POLICY_LIMITS = {
  maxRulesBytes: 1024 * 1024,
  maxExceptions: 100,
  /** Approved mail servers (addresses and prefixes) in `mailEgress.servers`. */
  maxMailServers: 64,
  /** Every other string (group, reasons, exception rules, names). */
  maxStringBytes: 1024,
  /** Identifiers (exception ids, agent ids). */
  maxIdBytes: 64,
  /**
   * The whole document as canonical JSON. A signed policy travels to agents in one WebSocket
   * frame of at most 1 MiB, so a document must leave room for the envelope, key id and signature;
   * a bigger one could be stored and signed but never delivered.
   */
  maxDocumentBytes: 1024 * 1024 - 2048,
} as const;

/** One problem in a policy, located for the editor: `rules` line 3 column 7, `ports.serial`, … */
export type PolicyError = Issue;

/** A policy document that failed validation; `errors` lists every problem found. */
export class PolicyInvalidError extends PortcullisError {
  readonly errors: readonly PolicyError[];

  constructor(what: string, errors: readonly PolicyError[], summary: string) {
    super(ErrorCodes.POLICY_INVALID, `${what}: ${summary}`);
    this.name = 'PolicyInvalidError';
    this.errors = errors;
  }
}

/** `path: message`, as one line for logs. */
export function formatPolicyError(error: PolicyError): string {
  return formatIssue(error);
}

/**
 * The exceptions that apply to one computer at `now`, in document order. They take precedence
 * over the group's rules: the agent evaluates them first, then the rules, so a temporary
 * `allow` is not shadowed by a `block with-interface one-of { 08:*:* }` earlier in the rules.
 * An exception whose `until` does not parse (impossible in a validated document) is dropped:
 * failing closed.
 */
export function activeExceptions(doc: Pick<PolicyDocument, 'exceptions'>, now: Date, agentId: string): TemporaryException[] {
  const nowMs = now.getTime();
  return doc.exceptions.filter((x) => {
    if (x.agentId !== null && x.agentId !== agentId) return false;
    const until = parseIsoTimestamp(x.until);
    return until !== null && nowMs < until;
  });
}
