import { parseDomain } from './mail-address.js';

/**
 * A group's mail policy (DESIGN.md §5), as `PUT /api/v1/groups/{group}/mail-policy` takes it:
 *
 *     {"internalDomains": ["mincom.gov.az"], "externalMode": "deny-list", "externalDomains": ["gmail.com"],
 *      "maxExternalBytes": 10485760, "maxMessagesPerHour": 200, "maxExternalRecipientsPerHour": 100}
 *
 * A limit of 0 means none. A domain covers its subdomains.
 */
export interface MailPolicy {
  /** Recipients in these domains are internal; every other recipient is external. */
  readonly internalDomains: readonly string[];
  /** `allow-list`: external mail only to externalDomains; `deny-list`: to any but those. */
  readonly externalMode: 'allow-list' | 'deny-list';
  readonly externalDomains: readonly string[];
  /** Largest message (bytes) that may go to an external recipient. */
  readonly maxExternalBytes: number;
  readonly maxMessagesPerHour: number;
  readonly maxExternalRecipientsPerHour: number;
  readonly maxMessagesPerDay: number;
  readonly maxExternalRecipientsPerDay: number;
}

export const EXTERNAL_MODES = ['allow-list', 'deny-list'] as const;

/** A group nobody set a policy for: every recipient is external, none refused, no limits. */
export const DEFAULT_MAIL_POLICY: MailPolicy = {
  internalDomains: [],
  externalMode: 'deny-list',
  externalDomains: [],
  maxExternalBytes: 0,
  maxMessagesPerHour: 0,
  maxExternalRecipientsPerHour: 0,
  maxMessagesPerDay: 0,
  maxExternalRecipientsPerDay: 0,
};

const MAX_DOMAINS = 1000;
const LIMIT = { type: 'integer', minimum: 0, maximum: 1_000_000_000 } as const;
const DOMAIN_LIST = { type: 'array', maxItems: MAX_DOMAINS, items: { type: 'string', minLength: 1, maxLength: 253 } } as const;

/** The body's JSON schema (shapes and ranges); `normalizeMailPolicy` then checks the domains. */
export const MAIL_POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['internalDomains', 'externalMode', 'externalDomains', 'maxExternalBytes', 'maxMessagesPerHour', 'maxExternalRecipientsPerHour'],
  properties: {
    internalDomains: DOMAIN_LIST,
    externalMode: { type: 'string', enum: EXTERNAL_MODES },
    externalDomains: DOMAIN_LIST,
    maxExternalBytes: LIMIT,
    maxMessagesPerHour: LIMIT,
    maxExternalRecipientsPerHour: LIMIT,
    maxMessagesPerDay: LIMIT,
    maxExternalRecipientsPerDay: LIMIT,
  },
} as const;

export type MailPolicyInput = Omit<MailPolicy, 'maxMessagesPerDay' | 'maxExternalRecipientsPerDay'> &
  Partial<Pick<MailPolicy, 'maxMessagesPerDay' | 'maxExternalRecipientsPerDay'>>;

/**
 * Lower-cases and de-duplicates the domains, fills the optional limits, and lists every problem
 * (a bad domain, a domain both internal and external) so the admin fixes them in one go.
 */
export function normalizeMailPolicy(input: MailPolicyInput): { ok: true; policy: MailPolicy } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const domains = (field: 'internalDomains' | 'externalDomains'): string[] => {
    const out = new Set<string>();
    input[field].forEach((text, i) => {
      const parsed = parseDomain(text);
      if (parsed.ok) out.add(parsed.value);
      else problems.push(`${field}[${i}]: ${parsed.problem}`);
    });
    return [...out].sort();
  };
  const internalDomains = domains('internalDomains');
  const externalDomains = domains('externalDomains');
  const both = internalDomains.filter((d) => externalDomains.includes(d));
  if (both.length > 0) problems.push(`${both.join(', ')} cannot be both internal and external`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    policy: {
      internalDomains,
      externalMode: input.externalMode,
      externalDomains,
      maxExternalBytes: input.maxExternalBytes,
      maxMessagesPerHour: input.maxMessagesPerHour,
      maxExternalRecipientsPerHour: input.maxExternalRecipientsPerHour,
      maxMessagesPerDay: input.maxMessagesPerDay ?? 0,
      maxExternalRecipientsPerDay: input.maxExternalRecipientsPerDay ?? 0,
    },
  };
}

/** A stored policy back in shape; a record the store holds was validated on the way in. */
export function storedMailPolicy(json: Record<string, unknown>): MailPolicy {
  return { ...DEFAULT_MAIL_POLICY, ...(json as Partial<MailPolicy>) };
}
