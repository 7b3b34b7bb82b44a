/**
 * An event's words in the console's language. Agents send English sentences for people (a
 * decision's `reason`: "rule at line 4", "exception x-17", …) next to the structured fields they
 * were made from; the console builds its own sentence from those fields and shows the agent's
 * text only when it does not know the decision's source. Pure: messages are returned as keys
 * and parameters (Msg), or as a plain string when the value is shown as sent.
 */
import { formatTime, msg, translate, type Locale, type Msg } from '../../i18n/i18n.js';
import { isMailRule } from '../mail/mail-registry.js';

/** A message, or a value shown as sent. */
export type Text = Msg | string;

export const TARGETS = ['allow', 'block', 'reject', 'readonly'] as const;
type Target = (typeof TARGETS)[number];
const isTarget = (v: unknown): v is Target => typeof v === 'string' && (TARGETS as readonly string[]).includes(v);

/** Where an agent's decision came from (agent/src/core/plan-types.ts DecisionSource). */
export const SOURCES = ['rule', 'implicit', 'exception', 'present-devices', 'problem', 'previous'] as const;
type Source = (typeof SOURCES)[number];

const PRESENT_SETTINGS = ['allow', 'block', 'keep'] as const;
const PER_INTERFACE = 'per-interface';

/** What a decision (or one interface's decision) carries that its sentence is built from. */
export interface DecisionFacts {
  readonly target?: string;
  readonly source?: string;
  readonly line?: number;
  readonly exceptionId?: string;
  readonly reason?: string;
  readonly interfaces?: readonly unknown[];
}

/** `block` → "blok" / "block"; an unknown target as sent. */
export function targetText(target: string): Text {
  return isTarget(target) ? msg(`target.${target}`) : target;
}

/** The decision's source in words; an unknown source as sent. */
export function sourceText(source: string): Text {
  return (SOURCES as readonly string[]).includes(source) ? msg(`events.source.${source as Source}`) : source;
}

/**
 * Why the agent decided so, from the structured fields; the agent's English `reason` only when
 * the source is unknown (a newer agent) or a field the sentence needs is missing. Undefined when
 * there is nothing to say.
 */
export function reasonText(d: DecisionFacts): Text | undefined {
  const raw = d.reason;
  const target = d.target;
  // A composite device decided interface by interface: each interface has its own reason.
  if (d.source !== 'previous' && (d.interfaces?.length ?? 0) > 0) return msg('events.reason.perInterface');
  switch (d.source) {
    case 'rule':
      if (d.line !== undefined) return msg('events.reason.rule', { line: d.line });
      break;
    case 'implicit':
      if (isTarget(target)) return msg('events.reason.implicit', { target: msg(`target.${target}`) });
      break;
    case 'exception':
      if (d.exceptionId !== undefined) return msg('events.reason.exception', { id: d.exceptionId });
      break;
    case 'present-devices': {
      // The setting is only in the sentence (`present devices: keep`); the target says the rest.
      const setting = /^present devices: ([a-z-]+)$/.exec(raw ?? '')?.[1];
      if (setting !== undefined && (PRESENT_SETTINGS as readonly string[]).includes(setting)) {
        return msg('events.reason.present', { setting: msg(`policies.present.${setting as (typeof PRESENT_SETTINGS)[number]}`) });
      }
      if (isTarget(target)) return msg('events.reason.present', { setting: msg(`target.${target}`) });
      break;
    }
    case 'problem': {
      // The problem itself is the operating system's text and stays as sent.
      const problem = /^device facts unreadable \((.*)\); /s.exec(raw ?? '')?.[1];
      if (problem !== undefined) return msg(target === 'reject' ? 'events.reason.problemRejected' : 'events.reason.problemKept', { problem });
      break;
    }
    case 'previous':
      if ((d.interfaces?.length ?? 0) > 0 || raw?.endsWith(PER_INTERFACE) === true) return msg('events.reason.previousPerInterface');
      if (isTarget(target)) return msg('events.reason.previous', { target: msg(`target.${target}`) });
      break;
  }
  return raw;
}

/** The event data fields with a label of their own in the detail view ("Other data"). */
export const DATA_KEYS = [
  'name', 'label', 'category', 'suspicious', 'partial', 'phase', 'enforced', 'error', 'blockDevices', 'problem', 'reason',
  'portClass', 'id', 'path', 'from', 'to', 'setting', 'policy', 'inForce',
  'version', 'pid', 'policySource', 'platform', 'devices', 'changed', 'failed', 'previousVersion',
  'by', 'createdAt', 'until', 'active', 'rootHubs', 'agentId', 'hostname', 'lastSeenAt', 'silentForSeconds', 'machineId', 'os', 'tokenId', 'replaced',
  'sender', 'recipients', 'rule', 'action', 'stage', 'saslUsername', 'clientAddress', 'clientName', 'queueId', 'instance', 'size',
  'address', 'user', 'client', 'destination',
] as const;
type DataKey = (typeof DATA_KEYS)[number];

const CATEGORIES = [
  'storage', 'optical', 'phone', 'network', 'bluetooth', 'serial', 'keyboard', 'mouse', 'hid', 'camera',
  'printer', 'smartcard', 'video', 'audio', 'wireless', 'firmware', 'vendor', 'hub',
] as const;
const PHASES = ['startup', 'hotplug', 'rescan', 'policy'] as const;
const PORT_CLASSES = ['serial', 'parallel', 'bluetooth', 'optical'] as const;
const PORT_CONDITIONS = ['allowed', 'blocked', 'readonly'] as const;
const PORT_ACTIONS = ['allow', 'block', 'readonly'] as const;
const TIME_KEYS: ReadonlySet<string> = new Set(['createdAt', 'until', 'lastSeenAt']);

const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);

function valueText(locale: Locale, key: string, v: unknown): string {
  const tr = (m: Msg) => translate(locale, m.key, m.params);
  if (typeof v === 'boolean') return tr(msg(v ? 'common.yes' : 'common.no'));
  if (key === 'category' && oneOf(CATEGORIES, v)) return tr(msg(`events.category.${v}`));
  // Not `events.category.other`: a key ending in a plural form name belongs to a plural message.
  if (key === 'category' && v === 'other') return tr(msg('events.category.misc'));
  if (key === 'phase' && oneOf(PHASES, v)) return tr(msg(`events.phase.${v}`));
  if (key === 'portClass' && oneOf(PORT_CLASSES, v)) return tr(msg(`policies.port.${v}`));
  if ((key === 'from' || key === 'to') && oneOf(PORT_CONDITIONS, v)) return tr(msg(`events.port.${v}`));
  if (key === 'setting' && oneOf(PORT_ACTIONS, v)) return tr(msg(`policies.portAction.${v}`));
  if (key === 'rule' && isMailRule(v)) return tr(msg(`mail.rule.${v}`));
  if (TIME_KEYS.has(key) && typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return formatTime(locale, v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ');
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  if ((key === 'policy' || key === 'inForce') && typeof o?.group === 'string' && typeof o.version === 'number') {
    return tr(msg('events.trace.policyVersion', { group: o.group, version: o.version }));
  }
  return JSON.stringify(v) ?? '';
}

/**
 * The rest of an event's `data` for the detail view, as [label, value] in `locale`: fields the
 * view does not already show in its own sections. Known fields get a label and their known
 * values words (yes/no, category, phase, port states, times); an unknown field keeps its name.
 */
export function otherFields(locale: Locale, data: Record<string, unknown>): Array<[string, string]> {
  const hasTrace = typeof data.decision === 'object' && data.decision !== null;
  // The policy version is shown with the decision trace when there is one.
  const shown = new Set(hasTrace ? ['device', 'decision', 'policy'] : ['device']);
  return Object.entries(data)
    .filter(([k]) => !shown.has(k))
    .map(([k, v]) => [(DATA_KEYS as readonly string[]).includes(k) ? translate(locale, `events.data.${k as DataKey}`) : k, valueText(locale, k, v)]);
}

/** Why the server flags a mail account found on a PC (server/src/mail/mail-account-audit.ts). */
const UNAPPROVED_REASONS = ['domain-not-allowed', 'not-registered', 'inactive'] as const;

/** Recipients shown in a one-line summary; the rest are counted. */
const SUMMARY_RECIPIENTS = 3;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * One line for a mail event, from its data (server mail policy service and agent mail guard):
 * `mail.rejected` {sender, recipients, rule, reason} → "from ali@x.az to a@gmail.com: external domain
 * not allowed (…)"; `mail.account.unapproved` {address, user, reason} → "a@gmail.com (user ali):
 * domain not allowed";
 * `mail.egress.blocked` {destination, port} → "connection to 142.250.1.27:587". Undefined for any
 * other type, or when the fields the line needs are missing.
 */
export function mailSummary(type: string, data: Record<string, unknown>): Text | undefined {
  switch (type) {
    case 'mail.rejected': {
      const sender = text(data.sender) ?? '?';
      const all = Array.isArray(data.recipients) ? data.recipients.filter((r): r is string => typeof r === 'string') : [];
      const list = all.slice(0, SUMMARY_RECIPIENTS).join(', ');
      const recipients = all.length > SUMMARY_RECIPIENTS ? msg('events.mail.recipientsMore', { list, more: all.length - SUMMARY_RECIPIENTS }) : list || '?';
      const rule: Text = isMailRule(data.rule) ? msg(`mail.rule.${data.rule}`) : text(data.rule) ?? '?';
      const reason = text(data.reason);
      return reason === undefined ? msg('events.mail.rejected', { sender, recipients, rule }) : msg('events.mail.rejectedWhy', { sender, recipients, rule, reason });
    }
    case 'mail.account.unapproved': {
      const address = text(data.address);
      if (address === undefined) return undefined;
      const user = text(data.user);
      const who: Text = user === undefined ? address : msg('events.mail.unapproved', { address, user });
      return oneOf(UNAPPROVED_REASONS, data.reason) ? msg('events.mail.unapprovedWhy', { who, reason: msg(`events.mail.account.${data.reason}`) }) : who;
    }
    case 'mail.egress.blocked': {
      // The agent sends {destination: "142.250.1.27", port: 587, user?}; IPv6 goes in brackets.
      const address = text(data.destination) ?? text(data.host);
      if (address === undefined) return undefined;
      const host = address.includes(':') ? `[${address}]` : address;
      const destination = typeof data.port === 'number' ? `${host}:${data.port}` : address;
      return msg('events.mail.egress', { destination });
    }
    default:
      return undefined;
  }
}
