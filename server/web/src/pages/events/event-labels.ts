import type { AppContextValue } from '../../app-context.js';
import { SEVERITIES, STATUSES, type Severity, type TriageStatus } from './event-query.js';
import { TARGETS } from './event-text.js';

type T = AppContextValue['t'];

/**
 * Severity in words (the colour is only a second cue); an unknown value is shown as sent. Every
 * page that shows an event's severity uses this, so it reads the same as in the violation log.
 */
export function severityText(t: T, severity: string): string {
  return (SEVERITIES as readonly string[]).includes(severity) ? t(`events.severity.${severity as Severity}`) : severity;
}

export function statusText(t: T, status: string): string {
  return (STATUSES as readonly string[]).includes(status) ? t(`events.status.${status as TriageStatus}`) : status;
}

/** A decision's target in words (`block` → "blok"); an unknown value as sent. */
export function targetWord(t: T, target: string): string {
  return (TARGETS as readonly string[]).includes(target) ? t(`target.${target as (typeof TARGETS)[number]}`) : target;
}

/** Event types with a name in words (the log shows it as the type's tooltip); any other type as sent. */
const TYPE_LABELS = {
  'mail.rejected': 'events.type.mailRejected',
  'mail.account.unapproved': 'events.type.mailUnapproved',
  'mail.egress.blocked': 'events.type.mailEgress',
} as const;

export function typeText(t: T, type: string): string {
  return Object.hasOwn(TYPE_LABELS, type) ? t(TYPE_LABELS[type as keyof typeof TYPE_LABELS]) : type;
}
