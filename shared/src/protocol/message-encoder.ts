import { exceedsUtf8, utf8Length } from '../policy/shape-checks.js';
import { ProtocolError } from './protocol-error.js';
import {
  MAX_EVENTS_PER_BATCH,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type AgentEvent,
  type AgentMessage,
  type ServerMessage,
} from './protocol-messages.js';

/**
 * The frame text for a message: `{"v":1,"type":…,"id":…,"body":…}`. Throws ProtocolError when the
 * frame would exceed MAX_FRAME_BYTES, so the sender learns it before the peer refuses it. The
 * body is not re-validated: the message types already describe a valid body.
 */
export function encodeMessage(msg: AgentMessage | ServerMessage): string {
  const envelope =
    msg.id === undefined
      ? { v: PROTOCOL_VERSION, type: msg.type, body: msg.body }
      : { v: PROTOCOL_VERSION, type: msg.type, id: msg.id, body: msg.body };
  const frame = JSON.stringify(envelope);
  if (exceedsUtf8(frame, MAX_FRAME_BYTES)) {
    throw new ProtocolError('', `the frame would be ${utf8Length(frame)} bytes; the limit is ${MAX_FRAME_BYTES}`, { type: msg.type });
  }
  return frame;
}

/** The envelope around an events batch, with the longest correlation id allowed. */
const EVENTS_ENVELOPE_BYTES = JSON.stringify({ v: PROTOCOL_VERSION, type: 'events', id: 'x'.repeat(64), body: { events: [] } }).length;

/**
 * How many of the leading `events` one `events` frame can carry: at most MAX_EVENTS_PER_BATCH and
 * at most MAX_FRAME_BYTES once encoded (500 events with large `data` do not fit). Always at
 * least 1 when `events` is not empty, since one event (≤ 16 KiB of data) always fits.
 */
export function eventsThatFit(events: readonly AgentEvent[]): number {
  let bytes = EVENTS_ENVELOPE_BYTES;
  let n = 0;
  for (const event of events) {
    if (n === MAX_EVENTS_PER_BATCH) break;
    bytes += utf8Length(JSON.stringify(event)) + (n === 0 ? 0 : 1);
    if (bytes > MAX_FRAME_BYTES && n > 0) break;
    n++;
  }
  return n;
}
