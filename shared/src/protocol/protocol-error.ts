import { ErrorCodes, PortcullisError } from '../errors.js';
import type { Issues } from '../policy/shape-checks.js';

/**
 * A frame that is not a valid message. `path` names the offending field (`v`, `type`,
 * `body.events[3].seq`; "" for the frame as a whole) so the peer's log says what to fix; the
 * type and id are filled in when the envelope got that far, so a reply can be correlated.
 */
export class ProtocolError extends PortcullisError {
  readonly path: string;
  readonly reason: string;
  readonly messageType: string | undefined;
  readonly messageId: string | undefined;

  constructor(path: string, reason: string, context: { type?: string; id?: string } = {}) {
    const what = context.type === undefined ? 'message' : `"${context.type}" message`;
    super(ErrorCodes.PROTOCOL_INVALID, `invalid ${what}: ${path === '' ? '' : `${path}: `}${reason}`);
    this.name = 'ProtocolError';
    this.path = path;
    this.reason = reason;
    this.messageType = context.type;
    this.messageId = context.id;
  }

  /** The first problem a body check found, with a count of the rest. */
  static fromIssues(issues: Issues, context: { type?: string; id?: string }): ProtocolError {
    const first = issues.list[0];
    const more = issues.total - 1;
    const suffix = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
    return new ProtocolError(first?.path ?? '', `${first?.message ?? 'invalid'}${suffix}`, context);
  }
}
