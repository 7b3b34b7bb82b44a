/**
 * Framing of Postfix's SMTPD access policy delegation protocol (SMTPD_POLICY_README): a request
 * is `name=value` lines ended by an empty line, for example
 *
 *     request=smtpd_access_policy
 *     protocol_state=RCPT
 *     protocol_name=ESMTP
 *     client_address=192.0.2.10
 *     sasl_username=ali.aliyev
 *     sender=ali.aliyev@mincom.gov.az
 *     recipient=friend@gmail.com
 *     instance=123.456.7
 *     size=12345
 *     <empty line>
 *
 * and the answer is `action=...` and an empty line. Postfix writes LF line ends; CR LF is taken
 * too. Bytes in, requests out, no socket: the service feeds what arrives and the tests feed
 * recorded blocks. Memory is bounded per connection: an over-long line, too many attributes or
 * a line that is not `name=value` is a protocol error, after which the connection is closed.
 */

export type PolicyRequest = ReadonlyMap<string, string>;

export interface ParserLimits {
  readonly maxLineBytes: number;
  readonly maxAttributes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = { maxLineBytes: 8192, maxAttributes: 256 };

export class PolicyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyProtocolError';
  }
}

const NAME = /^[a-z][a-z0-9_]*$/;

export class PolicyRequestParser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #attributes = new Map<string, string>();
  #failed: PolicyProtocolError | null = null;

  constructor(private readonly limits: ParserLimits = DEFAULT_PARSER_LIMITS) {}

  /**
   * Takes the next bytes; returns the requests they complete, in order, and the protocol error
   * that ended the stream, if any (requests completed before it still count: they get answers).
   * Once failed, every later push returns that error.
   */
  push(chunk: Buffer): { requests: PolicyRequest[]; error: PolicyProtocolError | null } {
    const requests: PolicyRequest[] = [];
    if (this.#failed) return { requests, error: this.#failed };
    try {
      this.#consume(chunk, requests);
    } catch (err) {
      if (!(err instanceof PolicyProtocolError)) throw err;
      return { requests, error: err };
    }
    return { requests, error: null };
  }

  #consume(chunk: Buffer, requests: PolicyRequest[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const line = this.#takeLine(chunk.subarray(start, nl));
      start = nl + 1;
      const request = this.#line(line);
      if (request) requests.push(request);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#pendingBytes += rest.length;
      if (this.#pendingBytes > this.limits.maxLineBytes) this.#fail(`a line is longer than ${this.limits.maxLineBytes} bytes`);
      this.#pending.push(Buffer.from(rest));
    }
  }

  /** Whether a request has begun and not ended (the peer closing now loses it). */
  get midRequest(): boolean {
    return this.#attributes.size > 0 || this.#pendingBytes > 0;
  }

  #takeLine(tail: Buffer): string {
    let bytes = tail;
    if (this.#pending.length > 0) {
      bytes = Buffer.concat([...this.#pending, tail]);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (bytes.length > this.limits.maxLineBytes) this.#fail(`a line is longer than ${this.limits.maxLineBytes} bytes`);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, end);
  }

  #line(line: string): PolicyRequest | undefined {
    if (line === '') {
      // An empty line with no attributes before it (keep-alive noise) is not a request.
      if (this.#attributes.size === 0) return undefined;
      const request = this.#attributes;
      this.#attributes = new Map();
      return request;
    }
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq) : '';
    if (!NAME.test(name)) this.#fail(`expected name=value, got ${JSON.stringify(line.slice(0, 80))}`);
    if (!this.#attributes.has(name) && this.#attributes.size >= this.limits.maxAttributes) {
      this.#fail(`more than ${this.limits.maxAttributes} attributes in one request`);
    }
    this.#attributes.set(name, line.slice(eq + 1));
    return undefined;
  }

  #fail(message: string): never {
    this.#failed = new PolicyProtocolError(message);
    this.#pending = [];
    this.#attributes = new Map();
    throw this.#failed;
  }
}

/** One answer on the wire: `action=REJECT 5.7.1 …\n\n`; the text never carries a line break. */
export function encodeAction(action: string): string {
  return `action=${action.replace(/[\r\n]+/g, ' ')}\n\n`;
}
