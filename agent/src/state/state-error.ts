import { ErrorCodes, PortcullisError } from '@portcullis/shared';

/**
 * A problem with the agent's state folder. `field` names the identity field at fault (or null
 * for the file as a whole). Messages never quote a value read from the file: the file holds the
 * agent's secret, and any field could have been pasted over with it.
 */
export class StateError extends PortcullisError {
  readonly field: string | null;

  constructor(message: string, field: string | null = null) {
    super(ErrorCodes.STATE_INVALID, message);
    this.name = 'StateError';
    this.field = field;
  }
}
