/**
 * One error catalogue for Portcullis. Every error people or programs can see carries a stable
 * code (`PORTCULLIS_ERR_*`) and a message for people; the API layer adds an HTTP status.
 */
export const ErrorCodes = {
  RULE_SYNTAX: 'PORTCULLIS_ERR_RULE_SYNTAX',
  DEVICE_INVALID: 'PORTCULLIS_ERR_DEVICE_INVALID',
  /** A policy (admin input, stored document or cached copy) that fails validation. */
  POLICY_INVALID: 'PORTCULLIS_ERR_POLICY_INVALID',
  /** A signed policy whose signature is missing, malformed or does not verify. */
  SIGNATURE_INVALID: 'PORTCULLIS_ERR_SIGNATURE_INVALID',
  /** An agent <-> server frame that is not a valid message of the protocol version spoken. */
  PROTOCOL_INVALID: 'PORTCULLIS_ERR_PROTOCOL_INVALID',
  /** A value canonical JSON cannot represent (NaN, undefined in an array, a Date, a cycle…). */
  JSON_UNSUPPORTED: 'PORTCULLIS_ERR_JSON_UNSUPPORTED',
  /** Text that is not the encoding it claims to be (malformed base64). */
  ENCODING_INVALID: 'PORTCULLIS_ERR_ENCODING_INVALID',
  /** The REST API: a request that is malformed, or unknown fields, parameters or bodies. */
  BAD_REQUEST: 'PORTCULLIS_ERR_BAD_REQUEST',
  UNAUTHENTICATED: 'PORTCULLIS_ERR_UNAUTHENTICATED',
  FORBIDDEN: 'PORTCULLIS_ERR_FORBIDDEN',
  NOT_FOUND: 'PORTCULLIS_ERR_NOT_FOUND',
  CONFLICT: 'PORTCULLIS_ERR_CONFLICT',
  RATE_LIMITED: 'PORTCULLIS_ERR_RATE_LIMITED',
  /** Something failed on our side; the log says what, the caller is told only this. */
  INTERNAL: 'PORTCULLIS_ERR_INTERNAL',
  /** An agent answered a command the server never sent it. */
  UNKNOWN_COMMAND: 'PORTCULLIS_ERR_UNKNOWN_COMMAND',
  /** Server configuration (flags, environment, config file). */
  CONFIG: 'PORTCULLIS_ERR_CONFIG',
  /** The server's CA, certificate or signing key (missing, mode too open, mismatched). */
  PKI: 'PORTCULLIS_ERR_PKI',
  DATABASE_URL: 'PORTCULLIS_ERR_DATABASE_URL',
  STORE_CONFLICT: 'PORTCULLIS_ERR_STORE_CONFLICT',
  STORE_NOT_FOUND: 'PORTCULLIS_ERR_STORE_NOT_FOUND',
  STORE_INVALID: 'PORTCULLIS_ERR_STORE_INVALID',
  /** The kernel did not take an authorization write: the agent fails closed and says so. */
  ENFORCEMENT: 'PORTCULLIS_ERR_ENFORCEMENT',
  /** A USB descriptors blob that does not parse. */
  DESCRIPTOR_INVALID: 'PORTCULLIS_ERR_DESCRIPTOR_INVALID',
  SPOOL_EVENT_INVALID: 'PORTCULLIS_ERR_SPOOL_EVENT_INVALID',
  SPOOL_ARGUMENT_INVALID: 'PORTCULLIS_ERR_SPOOL_ARGUMENT_INVALID',
  SPOOL_IO: 'PORTCULLIS_ERR_SPOOL_IO',
  SPOOL_LOCKED: 'PORTCULLIS_ERR_SPOOL_LOCKED',
  SPOOL_CLOSED: 'PORTCULLIS_ERR_SPOOL_CLOSED',
  /** The agent's state folder: an identity file that is missing, malformed or readable by others. */
  STATE_INVALID: 'PORTCULLIS_ERR_STATE_INVALID',
  /** Enrollment failed: server unreachable, certificate fingerprint mismatch, token refused. */
  ENROLL: 'PORTCULLIS_ERR_ENROLL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class PortcullisError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'PortcullisError';
    this.code = code;
  }
}
