export * from './protocol-messages.js';
export { ProtocolError } from './protocol-error.js';
export { parseAgentMessage } from './agent-message-parser.js';
export { parseServerMessage } from './server-message-parser.js';
export { encodeMessage, eventsThatFit } from './message-encoder.js';
export { dispatch, type MessageHandlers } from './message-dispatch.js';
