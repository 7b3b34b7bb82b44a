import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * A rule that does not parse. `formatted` is the `file:line:column: message` form that
 * `portcullis-agent rules --normalize` prints and that editors can jump to.
 */
export class RuleSyntaxError extends PortcullisError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string) {
    super(ErrorCodes.RULE_SYNTAX, `${file}:${line}:${column}: ${reason}`);
    this.name = 'RuleSyntaxError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }

  get formatted(): string {
    return this.message;
  }

  override toString(): string {
    return this.message;
  }
}
