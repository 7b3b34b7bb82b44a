import { ErrorCodes } from '@portcullis/shared';
/** Errors a Spool reports to its caller; each carries a stable code (STYLE.md §9). */
export const SpoolErrorCodes = {
  /** An appended event the server would refuse (bad type, severity, timestamp, oversized data…). */
  EVENT_INVALID: ErrorCodes.SPOOL_EVENT_INVALID,
  /** A call outside the contract (negative ack, zero limit…). */
  ARGUMENT_INVALID: ErrorCodes.SPOOL_ARGUMENT_INVALID,
  /** A write or fsync failed: the events of that call are not durable. */
  IO: ErrorCodes.SPOOL_IO,
  /** Another live process has the spool open. */
  LOCKED: ErrorCodes.SPOOL_LOCKED,
  /** close() was called. */
  CLOSED: ErrorCodes.SPOOL_CLOSED,
} as const;

export type SpoolErrorCode = (typeof SpoolErrorCodes)[keyof typeof SpoolErrorCodes];

export class SpoolError extends Error {
  readonly code: SpoolErrorCode;

  constructor(code: SpoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolError';
    this.code = code;
  }
}
