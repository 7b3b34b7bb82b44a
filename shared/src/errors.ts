/**
 * One error catalogue for Portcullis. Every error people or programs can see carries a stable
 * code (`PORTCULLIS_ERR_*`) and a message for people; the API layer adds an HTTP status.
 */
export const ErrorCodes = {
  RULE_SYNTAX: 'PORTCULLIS_ERR_RULE_SYNTAX',
  DEVICE_INVALID: 'PORTCULLIS_ERR_DEVICE_INVALID',
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
