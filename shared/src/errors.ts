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
