import { ErrorCodes } from '@portcullis/shared';
/**
 * Why the server refuses to start with its identity as it is on disk. The message says which file
 * and what to do; it never quotes a key. Code ErrorCodes.PKI.
 */
export class PkiError extends Error {
  readonly code = ErrorCodes.PKI;

  constructor(
    message: string,
    /** The file or folder concerned, when there is one. */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}
