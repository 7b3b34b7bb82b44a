/**
 * Why the server refuses to start with its identity as it is on disk. The message says which file
 * and what to do; it never quotes a key. Code `PORTCULLIS_ERR_PKI` (to join shared/src/errors.ts).
 */
export class PkiError extends Error {
  readonly code = 'PORTCULLIS_ERR_PKI';

  constructor(
    message: string,
    /** The file or folder concerned, when there is one. */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}
