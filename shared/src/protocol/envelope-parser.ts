import { ID_TEXT } from '../policy/policy-fields.js';
import { Issues, describeValue, didYouMean, isPlainObject, keyPath, kindOf, quote, readText, exceedsUtf8, utf8Length } from '../policy/shape-checks.js';
import { ProtocolError } from './protocol-error.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './protocol-messages.js';

/** The envelope of a frame, its body not yet checked. */
export interface RawMessage<T extends string> {
  readonly type: T;
  readonly id: string | undefined;
  readonly body: Record<string, unknown>;
}

const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['v', 'type', 'id', 'body']);

/**
 * Reads the envelope of one text frame, e.g.
 *
 *     {"v":1,"type":"ack","body":{"seq":120}}
 *
 * in the order that gives the most useful error: size before parsing, the version before
 * anything else (a newer peer's message is "upgrade", not a list of unknown fields), then type,
 * id and body. `direction` names who sends `types`, for messages.
 */
export function parseEnvelope<T extends string>(text: unknown, types: readonly T[], direction: string): RawMessage<T> {
  if (typeof text !== 'string') throw new ProtocolError('', `a frame must be text (got ${kindOf(text)})`);
  if (exceedsUtf8(text, MAX_FRAME_BYTES)) {
    throw new ProtocolError('', `the frame is ${utf8Length(text)} bytes; the limit is ${MAX_FRAME_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError('', `not JSON (${err instanceof Error ? err.message.slice(0, 120) : 'unparseable'})`);
  }
  if (!isPlainObject(value)) throw new ProtocolError('', `a message must be a JSON object (got ${kindOf(value)})`);
  const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
  if (!Object.hasOwn(value, 'v')) throw new ProtocolError('v', `is required; this side speaks protocol version ${supported}`);
  if (value.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('v', `protocol version ${describeValue(value.v)} is not supported; this side speaks version ${supported}`);
  }
  const type = value.type;
  if (typeof type !== 'string') throw new ProtocolError('type', `must be a string (got ${kindOf(type)})`);
  if (!(types as readonly string[]).includes(type)) {
    const hint = didYouMean(type, types);
    throw new ProtocolError('type', `unknown ${direction} message type ${quote(type)}${hint ? `; ${hint}` : ''} (known: ${types.join(', ')})`);
  }
  let id: string | undefined;
  if (Object.hasOwn(value, 'id')) {
    const issues = new Issues();
    id = readText(value.id, 'id', issues, ID_TEXT);
    if (id === undefined) throw ProtocolError.fromIssues(issues, { type });
  }
  const context = id === undefined ? { type } : { type, id };
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_FIELDS.has(key)) throw new ProtocolError(keyPath('', key), 'unknown envelope field (an envelope has v, type, id and body)', context);
  }
  const body = value.body;
  if (!Object.hasOwn(value, 'body')) throw new ProtocolError('body', 'is required', context);
  if (!isPlainObject(body)) throw new ProtocolError('body', `must be a JSON object (got ${kindOf(body)})`, context);
  return { type: type as T, id, body };
}
