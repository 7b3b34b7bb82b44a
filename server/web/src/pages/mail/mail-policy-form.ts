/**
 * The per-group mail policy form: the API's JSON (server mail policy, /groups/:group/mail-policy)
 * to the strings the inputs hold and back, with the checks the page makes before it sends. The
 * server checks again and is the authority; these only catch typing mistakes early, with a
 * message that says how to fix them. Pure: messages are returned as keys and parameters (Msg).
 */
import { msg, type Msg } from '../../i18n/i18n.js';

export const EXTERNAL_MODES = ['allow-list', 'deny-list'] as const;
export type ExternalMode = (typeof EXTERNAL_MODES)[number];

/** As the API sends it, e.g. `{"internalDomains":["mincom.gov.az"],"externalMode":"allow-list",…}`. */
export interface MailPolicy {
  readonly internalDomains: readonly string[];
  readonly externalMode: ExternalMode;
  readonly externalDomains: readonly string[];
  /** 0 = no limit, as every limit below. */
  readonly maxExternalBytes: number;
  readonly maxMessagesPerHour: number;
  readonly maxExternalRecipientsPerHour: number;
  /** Optional: a server that predates them leaves them out (read as 0). */
  readonly maxMessagesPerDay?: number;
  readonly maxExternalRecipientsPerDay?: number;
}

export interface MailPolicyAnswer {
  readonly group: string;
  readonly policy: MailPolicy;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
}

/** What the inputs hold, as typed. */
export interface MailPolicyForm {
  readonly internalDomains: string;
  readonly externalMode: ExternalMode;
  readonly externalDomains: string;
  readonly maxExternalMb: string;
  readonly maxMessagesPerHour: string;
  readonly maxExternalRecipientsPerHour: string;
  readonly maxMessagesPerDay: string;
  readonly maxExternalRecipientsPerDay: string;
}
export type PolicyField = keyof MailPolicyForm;

/** The form's count fields, in the order the page shows them. */
export const COUNT_FIELDS = ['maxMessagesPerHour', 'maxExternalRecipientsPerHour', 'maxMessagesPerDay', 'maxExternalRecipientsPerDay'] as const;

/** Sizes are shown in MiB ("MB" on screen, as mail clients say it): 10 MB = 10485760 bytes. */
export const BYTES_PER_MB = 1_048_576;

export interface FieldProblem {
  readonly field: PolicyField;
  readonly message: Msg;
}

/**
 * A domain as the policy service compares it (server/src/mail/mail-address.ts parseDomain):
 * lower-case labels of letters, digits and inner hyphens, at least two of them, the last not
 * all digits (so `10.0.0.1` is no domain).
 */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?![0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The server's largest limit (MAIL_POLICY_SCHEMA), for sizes and counts alike. */
export const MAX_LIMIT = 1_000_000_000;
/** The largest size the form offers, in MB, so that it stays within MAX_LIMIT bytes. */
export const MAX_MB = Math.floor((MAX_LIMIT / BYTES_PER_MB) * 100) / 100;

/** Why `word` is not a domain the server would take, with the fix when there is an obvious one; null when it is one. */
export function domainProblem(word: string): Msg | null {
  if (DOMAIN.test(word)) return null;
  const lower = word.toLowerCase();
  if (lower !== word && DOMAIN.test(lower)) return msg('mail.policy.domainCase', { domain: word, lower });
  // `@gmail.com` or a whole address `ali@gmail.com` pasted where the domain goes.
  const bare = lower.slice(lower.lastIndexOf('@') + 1);
  if (word.includes('@') && DOMAIN.test(bare)) return msg('mail.policy.domainAt', { domain: word, bare });
  return msg('mail.policy.domainForm', { domain: word });
}

/**
 * The domains in a list as typed, e.g. "mincom.gov.az, gov.az\nexample.az;": split at commas,
 * semicolons and white space, empty pieces and repeats dropped, first-seen order kept. Every
 * word that is not a domain is a problem of its own.
 */
export function parseDomainList(text: string): { domains: string[]; problems: Msg[] } {
  const domains: string[] = [];
  const problems: Msg[] = [];
  const seen = new Set<string>();
  for (const word of text.split(/[\s,;]+/)) {
    if (word === '' || seen.has(word)) continue;
    seen.add(word);
    const problem = domainProblem(word);
    if (problem === null) domains.push(word);
    else problems.push(problem);
  }
  return { domains, problems };
}

/** 10485760 → "10", 1572864 → "1.5"; at most two decimals (the form's precision). */
export function bytesToMb(bytes: number): string {
  return String(Math.round((bytes / BYTES_PER_MB) * 100) / 100);
}

/** "2.5" → 2621440 bytes; null for anything but a plain number from 0 to MAX_MB with at most two decimals. */
export function mbToBytes(text: string): number | null {
  const s = text.trim();
  if (!/^\d{1,4}(?:\.\d{1,2})?$/.test(s) || Number(s) > MAX_MB) return null;
  return Math.round(Number(s) * BYTES_PER_MB);
}

/** A whole count from 0 to MAX_LIMIT as typed ("200"); null for anything else (a sign, a fraction, words, nothing). */
export function parseCount(text: string): number | null {
  const s = text.trim();
  return /^\d{1,10}$/.test(s) && Number(s) <= MAX_LIMIT ? Number(s) : null;
}

export function formOfPolicy(p: MailPolicy): MailPolicyForm {
  return {
    internalDomains: p.internalDomains.join('\n'),
    externalMode: p.externalMode,
    externalDomains: p.externalDomains.join('\n'),
    maxExternalMb: bytesToMb(p.maxExternalBytes),
    maxMessagesPerHour: String(p.maxMessagesPerHour),
    maxExternalRecipientsPerHour: String(p.maxExternalRecipientsPerHour),
    maxMessagesPerDay: String(p.maxMessagesPerDay ?? 0),
    maxExternalRecipientsPerDay: String(p.maxExternalRecipientsPerDay ?? 0),
  };
}

/**
 * The PUT body for a form, or the problems that keep it from being sent (every one, each with
 * its field). `saved` is the policy the form was loaded from: a size shown rounded to two
 * decimals (1000000 bytes reads "0.95") and left as shown is sent back exactly as it was, so
 * saving another field does not change the size limit by a few bytes.
 */
export function policyOfForm(form: MailPolicyForm, saved?: MailPolicy): { policy: MailPolicy; problems: [] } | { policy: null; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const internal = parseDomainList(form.internalDomains);
  const external = parseDomainList(form.externalDomains);
  for (const message of internal.problems) problems.push({ field: 'internalDomains', message });
  for (const message of external.problems) problems.push({ field: 'externalDomains', message });
  // The server refuses a domain in both lists: internal mail would obey the external rules.
  const both = internal.domains.filter((d) => external.domains.includes(d));
  if (both.length > 0) problems.push({ field: 'externalDomains', message: msg('mail.policy.both', { domains: both.join(', ') }) });

  const keepSize = saved !== undefined && form.maxExternalMb.trim() === bytesToMb(saved.maxExternalBytes);
  const bytes = keepSize ? saved.maxExternalBytes : mbToBytes(form.maxExternalMb);
  if (bytes === null) problems.push({ field: 'maxExternalMb', message: msg('mail.policy.mb', { max: MAX_MB }) });

  const counts: Partial<Record<(typeof COUNT_FIELDS)[number], number>> = {};
  for (const field of COUNT_FIELDS) {
    const n = parseCount(form[field]);
    if (n === null) problems.push({ field, message: msg('mail.policy.whole', { max: MAX_LIMIT }) });
    else counts[field] = n;
  }
  if (problems.length > 0 || bytes === null) return { policy: null, problems };
  return {
    policy: {
      internalDomains: internal.domains,
      externalMode: form.externalMode,
      externalDomains: external.domains,
      maxExternalBytes: bytes,
      maxMessagesPerHour: counts.maxMessagesPerHour ?? 0,
      maxExternalRecipientsPerHour: counts.maxExternalRecipientsPerHour ?? 0,
      maxMessagesPerDay: counts.maxMessagesPerDay ?? 0,
      maxExternalRecipientsPerDay: counts.maxExternalRecipientsPerDay ?? 0,
    },
    problems: [],
  };
}

/** Whether the form says the same as the saved policy (nothing to save). */
export function samePolicy(form: MailPolicyForm, saved: MailPolicy): boolean {
  const { policy } = policyOfForm(form, saved);
  return policy !== null && JSON.stringify(policy) === JSON.stringify(policyOfForm(formOfPolicy(saved), saved).policy);
}
