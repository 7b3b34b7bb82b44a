import { connect, type Socket } from 'node:net';

/** One SMTP reply: its code and its text lines (the code and separator stripped). */
export interface SmtpReply {
  code: number;
  lines: string[];
  /** The lines joined by a space, for assertions and failure messages. */
  text: string;
}

/**
 * Splits the server's bytes into replies; no socket here, so it is tested by feeding it text.
 * A multi-line reply continues while the fourth character is '-' and ends with a space there:
 *
 *   250-portcullis-e2e.localdomain\r\n
 *   250-SIZE 1073741824\r\n
 *   250 XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n
 */
export class SmtpReplyParser {
  private buffer = '';
  private pending: string[] = [];

  /** Feeds received text; returns the replies it completed, in order. */
  push(chunk: string): SmtpReply[] {
    this.buffer += chunk;
    const done: SmtpReply[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, end).replace(/\r$/, '');
      this.buffer = this.buffer.slice(end + 1);
      const match = /^([2-5][0-9][0-9])([ -]?)(.*)$/.exec(line);
      if (!match) throw new Error(`not an SMTP reply line: ${JSON.stringify(line)}`);
      const [, code = '', separator = ''] = match;
      const first = this.pending[0];
      if (first !== undefined && first.slice(0, 3) !== code) throw new Error(`reply code changed inside a multi-line reply: ${JSON.stringify(line)}`);
      this.pending.push(line);
      if (separator === '-') continue;
      const lines = this.pending.map((l) => l.slice(4));
      done.push({ code: Number(code), lines, text: lines.join(' ') });
      this.pending = [];
    }
    return done;
  }
}

/** Mail lines for DATA: CRLF endings, a leading dot doubled (RFC 5321 §4.5.2), the final dot added. */
export function dataPayload(message: string): string {
  const lines = message.replace(/\r?\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => (line.startsWith('.') ? `.${line}` : line)).join('\r\n') + '\r\n.\r\n';
}

/** Command arguments come from tests; a CR or LF in one would smuggle a second command. */
function checkArgument(name: string, value: string): void {
  if (/[\r\n]/.test(value)) throw new Error(`SMTP ${name} must not contain CR or LF: ${JSON.stringify(value)}`);
}

const REPLY_TIMEOUT_MS = 30_000;

/**
 * A small SMTP client for tests over node:net: every method sends one command and returns the
 * reply, whatever its code, so a test asserts on refusals as easily as on acceptances.
 */
export class SmtpClient {
  private readonly parser = new SmtpReplyParser();
  private readonly replies: SmtpReply[] = [];
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  /** Every exchange, for a failing test's message. */
  readonly transcript: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      try {
        for (const reply of this.parser.push(chunk)) this.deliver(reply);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the SMTP server closed the connection')));
  }

  /** Connects and returns the client with the server's greeting. */
  static async open(host: string, port: number): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const client = new SmtpClient(socket);
    const greeting = await client.next();
    return { client, greeting };
  }

  private deliver(reply: SmtpReply): void {
    this.transcript.push(`S: ${reply.code} ${reply.text}`);
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter.resolve(reply);
    else this.replies.push(reply);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
  }

  private next(): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no SMTP reply within ${REPLY_TIMEOUT_MS} ms; transcript:\n${this.transcript.join('\n')}`));
      }, REPLY_TIMEOUT_MS);
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Sends one command line and waits for its reply. */
  async command(line: string): Promise<SmtpReply> {
    checkArgument('command', line);
    this.transcript.push(`C: ${line}`);
    this.socket.write(`${line}\r\n`);
    return this.next();
  }

  ehlo(name = 'client.e2e.test'): Promise<SmtpReply> {
    return this.command(`EHLO ${name}`);
  }

  /**
   * Overrides the session's client attributes (Postfix XCLIENT, allowed by
   * smtpd_authorized_xclient_hosts); LOGIN=name sets the SASL login that policy services see.
   * A successful XCLIENT answers with a new 220 greeting, after which EHLO must be sent again.
   */
  xclient(attributes: Record<string, string>): Promise<SmtpReply> {
    const pairs = Object.entries(attributes).map(([name, value]) => {
      if (!/^[A-Z_]+$/.test(name)) throw new Error(`bad XCLIENT attribute name: ${JSON.stringify(name)}`);
      // xtext (RFC 1891): every byte outside '!'..'~', and '+' and '=', as +HH.
      const xtext = [...Buffer.from(value, 'utf8')]
        .map((byte) => (byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`))
        .join('');
      return `${name}=${xtext}`;
    });
    return this.command(`XCLIENT ${pairs.join(' ')}`);
  }

  mailFrom(address: string, size?: number): Promise<SmtpReply> {
    checkArgument('sender', address);
    return this.command(`MAIL FROM:<${address}>${size === undefined ? '' : ` SIZE=${size}`}`);
  }

  rcptTo(address: string): Promise<SmtpReply> {
    checkArgument('recipient', address);
    return this.command(`RCPT TO:<${address}>`);
  }

  /** DATA, then (on 354) the dot-stuffed message; returns the 354's refusal or the final reply. */
  async data(message: string): Promise<SmtpReply> {
    const start = await this.command('DATA');
    if (start.code !== 354) return start;
    const payload = dataPayload(message);
    this.transcript.push(`C: <${payload.length} bytes of message>`);
    this.socket.write(payload);
    return this.next();
  }

  rset(): Promise<SmtpReply> {
    return this.command('RSET');
  }

  /** QUIT and close; safe to call on a connection the server already dropped. */
  async quit(): Promise<void> {
    if (!this.failure && !this.socket.destroyed) await this.command('QUIT');
    this.socket.destroy();
  }
}
