import { domainOf, inDomains } from './mail-address.js';
import type { MailPolicy } from './mail-policy.js';
import type { PolicyRequest } from './policy-request-parser.js';
import type { InstanceBook, RateBook } from './rate-book.js';

/**
 * The policy service's decision for one Postfix request: pure but for the two books it is
 * handed (sending counts, recipients per message), time passed in. Checks, in order:
 *
 *  1. the sender is a registered, active address (`sender-unregistered`, `sender-inactive`);
 *  2. the SASL login may send as it (`login-mismatch`);
 *  3. each external recipient is allowed by the group's domain rules (`external-domain`);
 *  4. the size limit for mail with external recipients (`size`);
 *  5. the hourly and daily rate limits (`rate`, a temporary refusal).
 *
 * Only mail from the ministry is judged: a sender in an internal domain, or any client that
 * authenticated. Mail from outside to the ministry (unauthenticated, foreign sender domain) and
 * the null sender (bounces) get DUNNO: they are Postfix's other restrictions' business.
 */

export const MAIL_RULES = ['sender-unregistered', 'sender-inactive', 'login-mismatch', 'external-domain', 'size', 'rate'] as const;
export type MailRule = (typeof MAIL_RULES)[number];

export interface RegisteredSender {
  readonly group: string;
  readonly state: 'active' | 'suspended' | 'retired';
  /** Empty: any login (or none) may send as it. */
  readonly logins: ReadonlySet<string>;
}

export interface CompiledMailPolicy extends MailPolicy {
  readonly internalSet: ReadonlySet<string>;
  readonly externalSet: ReadonlySet<string>;
}

/** The registry as the service reads it between reloads. */
export interface MailSnapshot {
  readonly senders: ReadonlyMap<string, RegisteredSender>;
  readonly policies: ReadonlyMap<string, CompiledMailPolicy>;
  readonly defaultPolicy: CompiledMailPolicy;
  /** Every group's internal domains and the registered addresses' domains: "ours". */
  readonly ownDomains: ReadonlySet<string>;
}

export type MailDecision =
  | { readonly kind: 'dunno'; readonly accepted: boolean }
  | {
      readonly kind: 'refuse';
      readonly action: string;
      readonly rule: MailRule;
      readonly reason: string;
      readonly group: string | null;
      readonly recipients: readonly string[];
    };

export interface DecideContext {
  readonly snapshot: MailSnapshot;
  readonly rates: RateBook;
  readonly instances: InstanceBook;
  readonly nowMs: number;
}

const DUNNO: MailDecision = { kind: 'dunno', accepted: false };

export function compileMailPolicy(policy: MailPolicy): CompiledMailPolicy {
  return { ...policy, internalSet: new Set(policy.internalDomains), externalSet: new Set(policy.externalDomains) };
}

export function decideMail(request: PolicyRequest, ctx: DecideContext): MailDecision {
  const stage = request.get('protocol_state') ?? '';
  if (stage !== 'RCPT' && stage !== 'END-OF-MESSAGE') return DUNNO;
  const sender = (request.get('sender') ?? '').toLowerCase();
  if (sender === '') return DUNNO;
  const login = request.get('sasl_username') ?? '';
  const recipient = (request.get('recipient') ?? '').toLowerCase();
  const registered = ctx.snapshot.senders.get(sender);
  if (registered === undefined && login === '' && !inDomains(domainOf(sender), ctx.snapshot.ownDomains)) return DUNNO;

  const refuse = (rule: MailRule, action: string, reason: string, recipients: readonly string[]): MailDecision => ({
    kind: 'refuse',
    action: `${action} ${reason}`,
    rule,
    reason,
    group: registered?.group ?? null,
    recipients,
  });
  const here = recipient === '' ? [] : [recipient];

  if (registered === undefined) return refuse('sender-unregistered', 'REJECT 5.7.1', `sender address <${sender}> is not registered`, here);
  if (registered.state !== 'active') {
    return refuse('sender-inactive', 'REJECT 5.7.1', `sender address <${sender}> is ${registered.state}`, here);
  }
  if (registered.logins.size > 0 && !registered.logins.has(login)) {
    const who = login === '' ? 'an unauthenticated client' : `login "${login}"`;
    return refuse('login-mismatch', 'REJECT 5.7.1', `${who} may not send as <${sender}> (login mismatch)`, here);
  }
  const policy = ctx.snapshot.policies.get(registered.group) ?? ctx.snapshot.defaultPolicy;
  const size = Number(request.get('size') ?? '0') || 0;
  return stage === 'RCPT'
    ? decideRecipient(sender, recipient, request.get('instance') ?? '', size, policy, ctx, refuse)
    : decideEndOfMessage(sender, recipient, request.get('instance') ?? '', size, policy, ctx, refuse);
}

type Refuse = (rule: MailRule, action: string, reason: string, recipients: readonly string[]) => MailDecision;

function decideRecipient(sender: string, recipient: string, instance: string, size: number, policy: CompiledMailPolicy, ctx: DecideContext, refuse: Refuse) {
  if (recipient === '') return DUNNO;
  const domain = domainOf(recipient);
  const external = !inDomains(domain, policy.internalSet);
  if (external) {
    const listed = inDomains(domain, policy.externalSet);
    if (policy.externalMode === 'allow-list' ? !listed : listed) {
      const why = policy.externalMode === 'allow-list' ? 'is not on the allow list' : 'is on the deny list';
      return refuse('external-domain', 'REJECT 5.7.1', `mail from <${sender}> to ${domain} is not allowed: the domain ${why}`, [recipient]);
    }
    // SIZE= from MAIL FROM, when the client declared it: refuse before the data is sent.
    if (policy.maxExternalBytes > 0 && size > policy.maxExternalBytes) return tooBig(size, policy, [recipient], refuse);
  }
  const counts = ctx.rates.counts(sender, ctx.nowMs);
  const firstRecipient = instance === '' || !ctx.instances.has(instance);
  const overMessages =
    firstRecipient &&
    ((policy.maxMessagesPerHour > 0 && counts.messagesHour >= policy.maxMessagesPerHour) ||
      (policy.maxMessagesPerDay > 0 && counts.messagesDay >= policy.maxMessagesPerDay));
  if (overMessages) {
    const [n, limit, span] =
      policy.maxMessagesPerHour > 0 && counts.messagesHour >= policy.maxMessagesPerHour
        ? [counts.messagesHour, policy.maxMessagesPerHour, 'hour']
        : [counts.messagesDay, policy.maxMessagesPerDay, 'day'];
    return refuse('rate', 'DEFER_IF_PERMIT 4.7.1', `<${sender}> has sent ${n} messages in the last ${span} (limit ${limit}); try again later`, [recipient]);
  }
  if (external) {
    const hour = policy.maxExternalRecipientsPerHour > 0 && counts.externalRecipientsHour >= policy.maxExternalRecipientsPerHour;
    const day = policy.maxExternalRecipientsPerDay > 0 && counts.externalRecipientsDay >= policy.maxExternalRecipientsPerDay;
    if (hour || day) {
      const [n, limit, span] = hour
        ? [counts.externalRecipientsHour, policy.maxExternalRecipientsPerHour, 'hour']
        : [counts.externalRecipientsDay, policy.maxExternalRecipientsPerDay, 'day'];
      return refuse('rate', 'DEFER_IF_PERMIT 4.7.1', `<${sender}> has written to ${n} external recipients in the last ${span} (limit ${limit}); try again later`, [recipient]);
    }
  }
  // Allowed: count it. A message counts once, at its first accepted recipient.
  const first = instance === '' ? true : ctx.instances.addRecipient(instance, recipient, ctx.nowMs);
  if (first) ctx.rates.addMessage(sender, ctx.nowMs);
  if (external) ctx.rates.addExternalRecipient(sender, ctx.nowMs);
  return DUNNO;
}

function decideEndOfMessage(sender: string, recipient: string, instance: string, size: number, policy: CompiledMailPolicy, ctx: DecideContext, refuse: Refuse) {
  const remembered = instance === '' ? [] : ctx.instances.take(instance, ctx.nowMs);
  const recipients = recipient !== '' && !remembered.includes(recipient) ? [...remembered, recipient] : remembered;
  const external = recipients.filter((r) => !inDomains(domainOf(r), policy.internalSet));
  if (policy.maxExternalBytes > 0 && external.length > 0 && size > policy.maxExternalBytes) return tooBig(size, policy, recipients, refuse);
  return { kind: 'dunno', accepted: true } as const;
}

function tooBig(size: number, policy: CompiledMailPolicy, recipients: readonly string[], refuse: Refuse): MailDecision {
  return refuse('size', 'REJECT 5.3.4', `message of ${size} bytes is larger than ${policy.maxExternalBytes} bytes allowed to external recipients`, recipients);
}
