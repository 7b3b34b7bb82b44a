import { ProtocolError } from './protocol-error.js';

/**
 * One handler per message type, keyed by type. Typing a hub or link's handlers as
 * `MessageHandlers<AgentMessage, R>` makes adding a message type a compile error until it has a
 * handler, and each handler receives its own message type, already narrowed.
 */
export type MessageHandlers<M extends { type: string }, R> = {
  [K in M['type']]: (msg: Extract<M, { type: K }>) => R;
};

/**
 * Calls the handler for `msg.type`. `msg` comes from parseAgentMessage / parseServerMessage, so
 * its type is known; the own-property check still keeps a type like "constructor" from reaching
 * Object.prototype should an unchecked message get here.
 */
export function dispatch<M extends { type: string }, R>(handlers: MessageHandlers<NoInfer<M>, R>, msg: M): R {
  const table = handlers as unknown as Record<string, (m: M) => R>;
  const handler = Object.hasOwn(table, msg.type) ? table[msg.type] : undefined;
  if (typeof handler !== 'function') throw new ProtocolError('type', `no handler for message type "${msg.type.slice(0, 64)}"`);
  return handler(msg);
}
