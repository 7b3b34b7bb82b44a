import { parseDevice, type Device } from '../device/device.js';
import { PortcullisError } from '../errors.js';
import { readTimestamp } from '../policy/iso-timestamp.js';
import { FREE_TEXT, ID_TEXT, NAME_TEXT } from '../policy/policy-fields.js';
import {
  Issues,
  field,
  item,
  own,
  readArray,
  readBoolean,
  readEnum,
  readInteger,
  readJsonObject,
  readObject,
  readText,
} from '../policy/shape-checks.js';
import { parseEnvelope } from './envelope-parser.js';
import { ProtocolError } from './protocol-error.js';
import {
  AGENT_MESSAGE_TYPES,
  EVENT_SEVERITIES,
  MAX_DEVICES_PER_MESSAGE,
  MAX_ERROR_TEXT_BYTES,
  MAX_EVENT_DATA_BYTES,
  MAX_EVENTS_PER_BATCH,
  PROTOCOL_VERSION,
  type AgentEvent,
  type AgentMessage,
  type AgentMessageType,
  type AppliedBody,
  type CommandResultBody,
  type EventsBody,
  type HelloBody,
  type InventoryBody,
  type UsbDevicesBody,
} from './protocol-messages.js';

/**
 * Parses one frame an agent sent, e.g.
 *
 *     {"v":1,"type":"events","body":{"events":[{"seq":41,"type":"usb.blocked","severity":"high",
 *      "occurredAt":"2026-11-25T10:00:00Z","data":{"device":{"id":"0781:5567"}}}]}}
 *
 * A parser with no socket: the hub hands it the frame text and gets back a typed message or a
 * ProtocolError naming the field at fault — never any other exception, whatever the bytes.
 * The result is rebuilt from checked fields only.
 */
export function parseAgentMessage(text: string): AgentMessage {
  const raw = parseEnvelope(text, AGENT_MESSAGE_TYPES, 'agent→server');
  const issues = new Issues();
  const body = AGENT_BODY_READERS[raw.type](raw.body, issues);
  const context = raw.id === undefined ? { type: raw.type } : { type: raw.type, id: raw.id };
  if (body === undefined || !issues.empty) throw ProtocolError.fromIssues(issues, context);
  return { v: PROTOCOL_VERSION, type: raw.type, ...(raw.id === undefined ? {} : { id: raw.id }), body } as AgentMessage;
}

type BodyReaders = {
  [K in AgentMessageType]: (body: Record<string, unknown>, issues: Issues) => Extract<AgentMessage, { type: K }>['body'] | undefined;
};

const HOSTNAME_TEXT = { maxBytes: 255 };
const VERSION_TEXT = { maxBytes: 64 };
const EVENT_TYPE_TEXT = { maxBytes: 64, pattern: /^[a-z0-9.-]+$/, patternHint: 'lower-case letters, digits, dots and dashes' };
const ERROR_TEXT = { ...FREE_TEXT, maxBytes: MAX_ERROR_TEXT_BYTES };

const AGENT_BODY_READERS: BodyReaders = {
  hello(body, issues): HelloBody | undefined {
    const fields = ['agentVersion', 'hostname', 'os', 'appliedVersion', 'spoolDepth'] as const;
    readObject(body, 'body', issues, { what: 'a hello body', required: fields });
    const agentVersion = readText(own(body, 'agentVersion'), 'body.agentVersion', issues, VERSION_TEXT);
    const hostname = readText(own(body, 'hostname'), 'body.hostname', issues, HOSTNAME_TEXT);
    const os = readText(own(body, 'os'), 'body.os', issues, NAME_TEXT);
    const applied = own(body, 'appliedVersion');
    const appliedVersion = applied === null ? null : readInteger(applied, 'body.appliedVersion', issues, 1);
    const spoolDepth = readInteger(own(body, 'spoolDepth'), 'body.spoolDepth', issues, 0);
    if (agentVersion === undefined || hostname === undefined || os === undefined || appliedVersion === undefined || spoolDepth === undefined) {
      return undefined;
    }
    return { agentVersion, hostname, os, appliedVersion, spoolDepth };
  },

  events(body, issues): EventsBody | undefined {
    readObject(body, 'body', issues, { what: 'an events body', required: ['events'] });
    const list = readArray(own(body, 'events'), 'body.events', issues, { min: 1, max: MAX_EVENTS_PER_BATCH });
    if (!list) return undefined;
    const events: AgentEvent[] = [];
    let previousSeq = 0;
    list.forEach((entry, i) => {
      const event = readEvent(entry, item('body.events', i), issues);
      if (!event) return;
      if (event.seq <= previousSeq) {
        issues.add(`${item('body.events', i)}.seq`, `must be greater than the previous event's seq ${previousSeq} (seqs increase strictly within a batch)`);
      }
      previousSeq = event.seq;
      events.push(event);
    });
    return issues.empty ? { events } : undefined;
  },

  inventory(body, issues): InventoryBody | undefined {
    const kind = readEnum(own(body, 'kind'), 'body.kind', issues, ['snapshot', 'delta'] as const);
    if (kind === undefined) return undefined;
    const payload = kind === 'snapshot' ? 'inventory' : 'changes';
    readObject(body, 'body', issues, { what: `a ${kind} inventory body`, required: ['kind', payload] });
    const value = readJsonObject(own(body, payload), field('body', payload), issues);
    if (value === undefined) return undefined;
    return kind === 'snapshot' ? { kind, inventory: value } : { kind, changes: value };
  },

  'usb-devices'(body, issues): UsbDevicesBody | undefined {
    readObject(body, 'body', issues, { what: 'a usb-devices body', required: ['devices'] });
    const list = readArray(own(body, 'devices'), 'body.devices', issues, { min: 0, max: MAX_DEVICES_PER_MESSAGE });
    if (!list) return undefined;
    const devices: Device[] = [];
    list.forEach((entry, i) => {
      try {
        devices.push(parseDevice(entry));
      } catch (err) {
        // parseDevice reports only PortcullisErrors; anything else is a bug to surface, not a bad frame.
        if (!(err instanceof PortcullisError)) throw err;
        issues.add(item('body.devices', i), err.message);
      }
    });
    return issues.empty ? { devices } : undefined;
  },

  applied(body, issues): AppliedBody | undefined {
    readObject(body, 'body', issues, { what: 'an applied body', required: ['version'] });
    const version = readInteger(own(body, 'version'), 'body.version', issues, 1);
    return version === undefined ? undefined : { version };
  },

  'command-result'(body, issues): CommandResultBody | undefined {
    readObject(body, 'body', issues, { what: 'a command-result body', required: ['commandId', 'ok'], optional: ['result', 'error'] });
    const commandId = readText(own(body, 'commandId'), 'body.commandId', issues, ID_TEXT);
    const ok = readBoolean(own(body, 'ok'), 'body.ok', issues);
    const result = Object.hasOwn(body, 'result') ? readJsonObject(body.result, 'body.result', issues) : undefined;
    const error = Object.hasOwn(body, 'error') ? readText(body.error, 'body.error', issues, ERROR_TEXT) : undefined;
    if (ok === false && !Object.hasOwn(body, 'error')) issues.add('body.error', 'is required when ok is false');
    if (ok === true && Object.hasOwn(body, 'error')) issues.add('body.error', 'must be left out when ok is true');
    if (commandId === undefined || ok === undefined || !issues.empty) return undefined;
    return { commandId, ok, ...(result === undefined ? {} : { result }), ...(error === undefined ? {} : { error }) };
  },
};

const EVENT_FIELDS = ['seq', 'type', 'severity', 'occurredAt', 'data'] as const;

function readEvent(value: unknown, path: string, issues: Issues): AgentEvent | undefined {
  const obj = readObject(value, path, issues, { what: 'an event', required: EVENT_FIELDS });
  if (!obj) return undefined;
  const seq = readInteger(own(obj, 'seq'), field(path, 'seq'), issues, 1);
  const type = readText(own(obj, 'type'), field(path, 'type'), issues, EVENT_TYPE_TEXT);
  const severity = readEnum(own(obj, 'severity'), field(path, 'severity'), issues, EVENT_SEVERITIES);
  const occurredAt = readTimestamp(own(obj, 'occurredAt'), field(path, 'occurredAt'), issues);
  const data = readJsonObject(own(obj, 'data'), field(path, 'data'), issues, MAX_EVENT_DATA_BYTES);
  if (seq === undefined || type === undefined || severity === undefined || occurredAt === undefined || data === undefined) return undefined;
  return { seq, type, severity, occurredAt, data };
}
