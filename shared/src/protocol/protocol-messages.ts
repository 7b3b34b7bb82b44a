import type { Device } from '../device/device.js';
import type { SignedPolicy } from '../policy/policy-signing.js';

/**
 * The agent ⇄ server messages. Every WebSocket text frame is one JSON envelope:
 *
 *     {"v":1,"type":"applied","id":"c-42","body":{"version":7}}
 *
 * `v` is the protocol version (a peer refuses versions it does not speak and says which it
 * does), `type` selects the body schema, `id` is an optional correlation id a reply may echo.
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/**
 * Largest frame either side accepts (UTF-8 bytes). Set the WebSocket library's own limit
 * (`maxPayload` in ws) to the same value so an oversized frame is dropped before it is buffered.
 * A signed policy of the largest allowed size fits (POLICY_LIMITS.maxDocumentBytes).
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_EVENTS_PER_BATCH = 500;
/** An event's `data`, serialized. 500 such events do not fit in one frame: see eventsThatFit. */
export const MAX_EVENT_DATA_BYTES = 16 * 1024;
export const MAX_DEVICES_PER_MESSAGE = 1024;
/** Error texts (command-result `error`, error `message`). */
export const MAX_ERROR_TEXT_BYTES = 4096;

export const EVENT_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

export const COMMAND_NAMES = ['refresh-inventory', 'reapply-policy', 'grant-temporary', 'rescan'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type JsonObject = Readonly<Record<string, unknown>>;

interface Envelope<T extends string, B> {
  readonly v: typeof PROTOCOL_VERSION;
  readonly type: T;
  /** Correlation id, 1–64 of letters, digits and . _ : @ - */
  readonly id?: string;
  readonly body: B;
}

// ---- agent → server -----------------------------------------------------------------------

export interface HelloBody {
  readonly agentVersion: string;
  readonly hostname: string;
  readonly os: string;
  /** The policy version the agent enforces now (from its cache), null before its first policy. */
  readonly appliedVersion: number | null;
  /** Events waiting in the agent's spool: the server can tell a backlog from a quiet PC. */
  readonly spoolDepth: number;
}

export interface AgentEvent {
  /** Per agent, starts at 1, never reused: (agent, seq) is the server's idempotency key. */
  readonly seq: number;
  /** Dotted lower-case name, e.g. `usb.blocked`, `mail.egress-refused`. */
  readonly type: string;
  readonly severity: EventSeverity;
  readonly occurredAt: string;
  readonly data: JsonObject;
}

export interface EventsBody {
  /** 1..500 events, seq strictly increasing. */
  readonly events: readonly AgentEvent[];
}

export type InventoryBody =
  | { readonly kind: 'snapshot'; readonly inventory: JsonObject }
  | { readonly kind: 'delta'; readonly changes: JsonObject };

export interface UsbDevicesBody {
  readonly devices: readonly Device[];
}

export interface AppliedBody {
  readonly version: number;
}

export interface CommandResultBody {
  readonly commandId: string;
  readonly ok: boolean;
  readonly result?: JsonObject;
  /** Present exactly when `ok` is false. */
  readonly error?: string;
}

export type HelloMessage = Envelope<'hello', HelloBody>;
export type EventsMessage = Envelope<'events', EventsBody>;
export type InventoryMessage = Envelope<'inventory', InventoryBody>;
export type UsbDevicesMessage = Envelope<'usb-devices', UsbDevicesBody>;
export type AppliedMessage = Envelope<'applied', AppliedBody>;
export type CommandResultMessage = Envelope<'command-result', CommandResultBody>;

export type AgentMessage =
  | HelloMessage
  | EventsMessage
  | InventoryMessage
  | UsbDevicesMessage
  | AppliedMessage
  | CommandResultMessage;
export type AgentMessageType = AgentMessage['type'];

export const AGENT_MESSAGE_TYPES: readonly AgentMessageType[] = ['hello', 'events', 'inventory', 'usb-devices', 'applied', 'command-result'];

// ---- server → agent -----------------------------------------------------------------------

export interface WelcomeBody {
  readonly agentId: string;
  /** Lets the agent notice a badly wrong clock (exceptions expire by it). */
  readonly serverTime: string;
}

export interface PolicyBody {
  /** Shape-checked by the parser; the agent must still call verifySignedPolicy. */
  readonly signed: SignedPolicy;
}

export interface AckBody {
  /** Highest seq such that every event up to it is stored; 0 when none is. */
  readonly seq: number;
}

export interface CommandBody {
  readonly commandId: string;
  readonly name: CommandName;
  readonly args: JsonObject;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
}

export type WelcomeMessage = Envelope<'welcome', WelcomeBody>;
export type PolicyMessage = Envelope<'policy', PolicyBody>;
export type AckMessage = Envelope<'ack', AckBody>;
export type CommandMessage = Envelope<'command', CommandBody>;
export type ServerErrorMessage = Envelope<'error', ErrorBody>;

export type ServerMessage = WelcomeMessage | PolicyMessage | AckMessage | CommandMessage | ServerErrorMessage;
export type ServerMessageType = ServerMessage['type'];

export const SERVER_MESSAGE_TYPES: readonly ServerMessageType[] = ['welcome', 'policy', 'ack', 'command', 'error'];
