import { PROTOCOL_VERSION, ProtocolError, encodeMessage, parseAgentMessage } from '@portcullis/shared';
import { DROPPED_EVENT_TYPE, type DropReport, type NewSpoolEvent, type SpooledEvent } from './spool.js';
import { SpoolError, SpoolErrorCodes } from './spool-error.js';

/**
 * The event as the server will read it, or SpoolError EVENT_INVALID. The check is the server's
 * own parser run on a one-event frame: an event the server would refuse must never enter the
 * spool, since it would block every event queued behind it.
 */
export function checkedEvent(event: NewSpoolEvent): NewSpoolEvent {
  try {
    const frame = encodeMessage({ v: PROTOCOL_VERSION, type: 'events', body: { events: [{ seq: 1, ...pick(event) }] } });
    const msg = parseAgentMessage(frame);
    const parsed = msg.type === 'events' ? msg.body.events[0] : undefined;
    if (!parsed) throw new Error('the events frame lost its event');
    return pick(parsed);
  } catch (err) {
    const reason = err instanceof ProtocolError ? err.message : (err as Error).message;
    throw new SpoolError(SpoolErrorCodes.EVENT_INVALID, `the event cannot be spooled: ${reason}`, { cause: err });
  }
}

/** The record payload: the event without its seq (the record header carries it). */
export function encodeEventPayload(event: NewSpoolEvent): Buffer {
  return Buffer.from(JSON.stringify(pick(event)), 'utf8');
}

/** Reads a payload written by encodeEventPayload; null when it is not one (bytes from a bad disk). */
export function decodeEventPayload(seq: number, payload: Buffer): SpooledEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { type, severity, occurredAt, data } = value as Record<string, unknown>;
  if (typeof type !== 'string' || typeof severity !== 'string' || typeof occurredAt !== 'string') return null;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  return { seq, type, severity: severity as SpooledEvent['severity'], occurredAt, data: data as SpooledEvent['data'] };
}

/** The spool's own loss report. High severity: security events were lost. */
export function dropEvent(report: DropReport, now: Date): NewSpoolEvent {
  return { type: DROPPED_EVENT_TYPE, severity: 'high', occurredAt: now.toISOString(), data: { ...report } };
}

/** A report read back from a record of kind `report`; null when the payload is not one. */
export function readDropReport(event: SpooledEvent | null): DropReport | null {
  if (!event || event.type !== DROPPED_EVENT_TYPE) return null;
  const d = event.data;
  const count = d['count'];
  const fromSeq = d['fromSeq'];
  const toSeq = d['toSeq'];
  const reason = d['reason'];
  if (typeof count !== 'number' || typeof fromSeq !== 'number' || typeof toSeq !== 'number') return null;
  if (reason !== 'spool full' && reason !== 'spool corrupt') return null;
  const file = d['file'];
  const offset = d['offset'];
  const bytes = d['bytes'];
  return {
    count,
    fromSeq,
    toSeq,
    reason,
    ...(typeof file === 'string' ? { file } : {}),
    ...(typeof offset === 'number' ? { offset } : {}),
    ...(typeof bytes === 'number' ? { bytes } : {}),
  };
}

function pick(e: NewSpoolEvent): NewSpoolEvent {
  return { type: e.type, severity: e.severity, occurredAt: e.occurredAt, data: e.data };
}
