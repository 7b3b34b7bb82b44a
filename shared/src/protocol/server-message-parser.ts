import { readTimestamp } from '../policy/iso-timestamp.js';
import { FREE_TEXT, ID_TEXT } from '../policy/policy-fields.js';
import { readSignedPolicy } from '../policy/policy-signing.js';
import { Issues, own, readEnum, readInteger, readJsonObject, readObject, readText } from '../policy/shape-checks.js';
import { parseEnvelope } from './envelope-parser.js';
import { ProtocolError } from './protocol-error.js';
import {
  COMMAND_NAMES,
  MAX_ERROR_TEXT_BYTES,
  PROTOCOL_VERSION,
  SERVER_MESSAGE_TYPES,
  type AckBody,
  type CommandBody,
  type ErrorBody,
  type PolicyBody,
  type ServerMessage,
  type ServerMessageType,
  type WelcomeBody,
} from './protocol-messages.js';

/**
 * Parses one frame the server sent, e.g.
 *
 *     {"v":1,"type":"command","id":"c-7","body":{"commandId":"c-7","name":"rescan","args":{}}}
 *
 * Same contract as parseAgentMessage: a typed message or a ProtocolError, nothing else. A
 * `policy` message is checked in shape and content (the document must be valid); whether its
 * signature verifies is for verifySignedPolicy, with the agent's trusted keys.
 */
export function parseServerMessage(text: string): ServerMessage {
  const raw = parseEnvelope(text, SERVER_MESSAGE_TYPES, 'server→agent');
  const issues = new Issues();
  const body = SERVER_BODY_READERS[raw.type](raw.body, issues);
  const context = raw.id === undefined ? { type: raw.type } : { type: raw.type, id: raw.id };
  if (body === undefined || !issues.empty) throw ProtocolError.fromIssues(issues, context);
  return { v: PROTOCOL_VERSION, type: raw.type, ...(raw.id === undefined ? {} : { id: raw.id }), body } as ServerMessage;
}

type BodyReaders = {
  [K in ServerMessageType]: (body: Record<string, unknown>, issues: Issues) => Extract<ServerMessage, { type: K }>['body'] | undefined;
};

const ERROR_CODE_TEXT = { maxBytes: 64, pattern: /^[A-Za-z0-9_.-]+$/, patternHint: 'letters, digits, _ . -' };

const SERVER_BODY_READERS: BodyReaders = {
  welcome(body, issues): WelcomeBody | undefined {
    readObject(body, 'body', issues, { what: 'a welcome body', required: ['agentId', 'serverTime'] });
    const agentId = readText(own(body, 'agentId'), 'body.agentId', issues, ID_TEXT);
    const serverTime = readTimestamp(own(body, 'serverTime'), 'body.serverTime', issues);
    return agentId === undefined || serverTime === undefined ? undefined : { agentId, serverTime };
  },

  policy(body, issues): PolicyBody | undefined {
    readObject(body, 'body', issues, { what: 'a policy body', required: ['signed'] });
    const signed = readSignedPolicy(own(body, 'signed'), 'body.signed', issues);
    return signed === undefined ? undefined : { signed };
  },

  ack(body, issues): AckBody | undefined {
    readObject(body, 'body', issues, { what: 'an ack body', required: ['seq'] });
    const seq = readInteger(own(body, 'seq'), 'body.seq', issues, 0);
    return seq === undefined ? undefined : { seq };
  },

  command(body, issues): CommandBody | undefined {
    readObject(body, 'body', issues, { what: 'a command body', required: ['commandId', 'name', 'args'] });
    const commandId = readText(own(body, 'commandId'), 'body.commandId', issues, ID_TEXT);
    const name = readEnum(own(body, 'name'), 'body.name', issues, COMMAND_NAMES);
    const args = readJsonObject(own(body, 'args'), 'body.args', issues);
    return commandId === undefined || name === undefined || args === undefined ? undefined : { commandId, name, args };
  },

  error(body, issues): ErrorBody | undefined {
    readObject(body, 'body', issues, { what: 'an error body', required: ['code', 'message'] });
    const code = readText(own(body, 'code'), 'body.code', issues, ERROR_CODE_TEXT);
    const message = readText(own(body, 'message'), 'body.message', issues, { ...FREE_TEXT, maxBytes: MAX_ERROR_TEXT_BYTES });
    return code === undefined || message === undefined ? undefined : { code, message };
  },
};
