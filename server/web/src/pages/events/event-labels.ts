import type { AppContextValue } from '../../app-context.js';
import { SEVERITIES, STATUSES, type Severity, type TriageStatus } from './event-query.js';

type T = AppContextValue['t'];

/** Severity in words (the colour is only a second cue); an unknown value is shown as sent. */
export function severityText(t: T, severity: string): string {
  return (SEVERITIES as readonly string[]).includes(severity) ? t(`events.severity.${severity as Severity}`) : severity;
}

export function statusText(t: T, status: string): string {
  return (STATUSES as readonly string[]).includes(status) ? t(`events.status.${status as TriageStatus}`) : status;
}
