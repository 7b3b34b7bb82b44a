import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { MailDirectory } from '../src/mail/mail-directory.js';
import { MailEventSink } from '../src/mail/mail-event-sink.js';
import { MailPolicyService } from '../src/mail/mail-policy-service.js';
import { MailStats } from '../src/mail/mail-stats.js';
import { encodeAction, PolicyProtocolError, PolicyRequestParser } from '../src/mail/policy-request-parser.js';
import type { MailAddressRecord, MailPolicyRecord, NewEvent } from '../src/store/store.js';

/** A request block as Postfix 3.7 sends it (SMTPD_POLICY_README, "Protocol description"). */
const RECORDED_RCPT = [
  'request=smtpd_access_policy',
  'protocol_state=RCPT',
  'protocol_name=ESMTP',
  'client_address=127.0.0.1',
  'client_name=localhost',
  'client_port=40512',
  'reverse_client_name=localhost',
  'server_address=127.0.0.1',
  'server_port=10025',
  'helo_name=pc-0042.mincom.gov.az',
  'sender=ali@mincom.gov.az',
  'recipient=friend@gmail.com',
  'recipient_count=0',
  'queue_id=',
  'instance=2f5a.6745b1c2.a1b2c.0',
  'size=0',
  'etrn_domain=',
  'stress=',
  'sasl_method=PLAIN',
  'sasl_username=ali',
  'sasl_sender=',
  'ccert_subject=',
  'ccert_issuer=',
  'ccert_fingerprint=',
  'ccert_pubkey_fingerprint=',
  'encryption_protocol=',
  'encryption_cipher=',
  'encryption_keysize=0',
  'policy_context=',
  'compatibility_level=3.6',
  'mail_version=3.7.11',
  '',
  '',
].join('\n');

function block(attrs: Record<string, string>): string {
  return `${Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join('\n')}\n\n`;
}

describe('policy request parser', () => {
  it('reads a recorded Postfix request, every attribute, unknown ones kept but harmless', () => {
    const [request, ...rest] = new PolicyRequestParser().push(Buffer.from(RECORDED_RCPT)).requests;
    expect(rest).to.have.length(0);
    expect(request?.get('sender')).to.equal('ali@mincom.gov.az');
    expect(request?.get('queue_id')).to.equal('');
    expect(request?.get('mail_version')).to.equal('3.7.11');
    expect(request?.size).to.equal(31);
  });

  const framing: Array<{ name: string; chunks: string[]; expected: number }> = [
    // Postfix's own LF line ends.
    { name: 'LF', chunks: ['a=1\nb=2\n\n'], expected: 1 },
    // A client on Windows line ends.
    { name: 'CR LF', chunks: ['a=1\r\nb=2\r\n\r\n'], expected: 1 },
    // TCP may cut anywhere, even inside a line end.
    { name: 'split inside a line and a CR LF', chunks: ['a=', '1\r', '\nb=2\r\n\r', '\n'], expected: 1 },
    // Pipelined requests in one segment.
    { name: 'two requests in one chunk', chunks: ['a=1\n\nb=2\n\n'], expected: 2 },
    // Stray empty lines between requests are not requests.
    { name: 'empty lines alone', chunks: ['\n\n\na=1\n\n\n'], expected: 1 },
    // `=` in a value belongs to the value.
    { name: 'equals sign in a value', chunks: ['ccert_subject=CN=pc, O=mincom\n\n'], expected: 1 },
  ];
  for (const row of framing) {
    it(`frames: ${row.name}`, () => {
      const parser = new PolicyRequestParser();
      const requests = row.chunks.flatMap((c) => parser.push(Buffer.from(c)).requests);
      expect(requests).to.have.length(row.expected);
      expect(parser.midRequest).to.equal(false);
    });
  }

  it('gives the value as sent after the first `=`', () => {
    const [r] = new PolicyRequestParser().push(Buffer.from('ccert_subject=CN=pc, O=mincom\n\n')).requests;
    expect(r?.get('ccert_subject')).to.equal('CN=pc, O=mincom');
  });

  const malformed: Array<{ name: string; input: string; message: RegExp }> = [
    // Not name=value at all.
    { name: 'a line without =', input: 'hello\n', message: /expected name=value/ },
    // SMTP spoken to the wrong port.
    { name: 'an SMTP command', input: 'EHLO pc\r\n', message: /expected name=value/ },
    // Names are lower-case words.
    { name: 'an upper-case name', input: 'Sender=x@y.az\n', message: /expected name=value/ },
    { name: 'an empty name', input: '=x\n', message: /expected name=value/ },
  ];
  for (const row of malformed) {
    it(`refuses ${row.name}`, () => {
      const { requests, error } = new PolicyRequestParser().push(Buffer.from(row.input));
      expect(requests).to.deep.equal([]);
      expect(error).to.be.instanceOf(PolicyProtocolError);
      expect(error?.message).to.match(row.message);
    });
  }

  it('returns the requests completed before a bad line, with the error', () => {
    const { requests, error } = new PolicyRequestParser().push(Buffer.from('a=1\n\nb=2\n\nnonsense\nc=3\n\n'));
    expect(requests).to.have.length(2);
    expect(error?.message).to.match(/expected name=value, got "nonsense"/);
  });

  it('bounds a line, even one that never ends, and stays failed', () => {
    const parser = new PolicyRequestParser({ maxLineBytes: 100, maxAttributes: 10 });
    expect(parser.push(Buffer.alloc(60, 0x61)).error).to.equal(null);
    expect(parser.push(Buffer.alloc(60, 0x61)).error?.message).to.match(/longer than 100 bytes/);
    const after = parser.push(Buffer.from('a=1\n\n'));
    expect(after.requests).to.deep.equal([]);
    expect(after.error).to.be.instanceOf(PolicyProtocolError);
  });

  it('bounds the attributes of one request (a repeated name counts once)', () => {
    const parser = new PolicyRequestParser({ maxLineBytes: 100, maxAttributes: 3 });
    expect(parser.push(Buffer.from('a=1\na=2\nb=1\nc=1\n'))).to.deep.equal({ requests: [], error: null });
    expect(parser.push(Buffer.from('d=1\n')).error?.message).to.match(/more than 3 attributes/);
  });

  it('encodes an answer on one line whatever the text holds', () => {
    expect(encodeAction('REJECT 5.7.1 bad\r\nsender')).to.equal('action=REJECT 5.7.1 bad sender\n\n');
  });
});

// ---------------------------------------------------------------------------------------------

const NOW = new Date('2026-11-25T10:00:00Z');

function address(a: string, state: MailAddressRecord['state'], logins: string[]): MailAddressRecord {
  return { address: a, owner: a, group: 'finance', logins, state, notes: '', createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() };
}

const ADDRESSES = [address('ali@mincom.gov.az', 'active', ['ali']), address('old@mincom.gov.az', 'suspended', [])];
const POLICIES: MailPolicyRecord[] = [
  {
    group: 'finance',
    policy: { internalDomains: ['mincom.gov.az'], externalMode: 'deny-list', externalDomains: ['gmail.com'], maxExternalBytes: 1000, maxMessagesPerHour: 0, maxExternalRecipientsPerHour: 0 },
    updatedAt: NOW.toISOString(),
    updatedBy: 'admin',
  },
];

class Recorder {
  readonly lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  info = (message: string, meta?: Record<string, unknown>) => this.lines.push({ level: 'info', message, ...(meta ? { meta } : {}) });
  warn = (message: string, meta?: Record<string, unknown>) => this.lines.push({ level: 'warn', message, ...(meta ? { meta } : {}) });
  error = (message: string, meta?: Record<string, unknown>) => this.lines.push({ level: 'error', message, ...(meta ? { meta } : {}) });
}

/** A connection that collects what the service says and tells when it closes. */
class Client {
  readonly socket: Socket;
  received = '';
  closed: Promise<void>;
  #waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (d: Buffer) => {
      this.received += d.toString('utf8');
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  async answers(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parts = this.received.split('\n\n').filter((p) => p !== '');
      if (parts.length >= n && this.received.endsWith('\n\n')) return parts;
      if (Date.now() > deadline) throw new Error(`expected ${n} answers, got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }
}

describe('mail policy service over TCP', () => {
  let service: MailPolicyService;
  let directory: MailDirectory;
  let sink: MailEventSink;
  let port = 0;
  const logger = new Recorder();
  const stored: Array<{ group: string | null; events: readonly NewEvent[] }> = [];
  let failDecisions = false;

  before(async () => {
    directory = new MailDirectory({ listMailAddresses: async () => ADDRESSES, listMailPolicies: async () => POLICIES }, logger, 60_000);
    await directory.start();
    sink = new MailEventSink(
      {
        ingestEvents: async (_agent, group, events) => {
          stored.push({ group, events });
          return { stored: events.length, ackedSeq: 0 };
        },
      },
      () => NOW,
      logger,
      { flushMs: 10, maxPending: 100 },
    );
    const snapshotOf = directory;
    const faulty = {
      get snapshot() {
        if (failDecisions) throw new Error('simulated failure');
        return snapshotOf.snapshot;
      },
      onReload: (l: Parameters<MailDirectory['onReload']>[0]) => snapshotOf.onReload(l),
    } as unknown as MailDirectory;
    service = new MailPolicyService({ directory: faulty, events: sink, stats: new MailStats(NOW), logger, clock: () => NOW }, { host: '127.0.0.1', port: 0, idleTimeoutMs: 300 });
    port = (await service.listen()).port;
  });

  after(async () => {
    await service.close();
    await sink.close();
    directory.stop();
  });

  it('answers the recorded request and more on the same connection, in order', async () => {
    const client = new Client(port);
    client.socket.write(RECORDED_RCPT);
    expect(await client.answers(1)).to.deep.equal(['action=REJECT 5.7.1 mail from <ali@mincom.gov.az> to gmail.com is not allowed: the domain is on the deny list']);
    // Pipelined: three at once, answered in order.
    client.socket.write(
      block({ protocol_state: 'RCPT', sender: 'ali@mincom.gov.az', sasl_username: 'ali', recipient: 'x@mincom.gov.az', instance: 'k1' }) +
        block({ protocol_state: 'RCPT', sender: 'old@mincom.gov.az', recipient: 'x@mincom.gov.az' }) +
        block({ protocol_state: 'END-OF-MESSAGE', sender: 'ali@mincom.gov.az', sasl_username: 'ali', instance: 'k1', size: '5000' }),
    );
    const answers = await client.answers(4);
    expect(answers.slice(1)).to.deep.equal([
      'action=DUNNO',
      'action=REJECT 5.7.1 sender address <old@mincom.gov.az> is suspended',
      'action=DUNNO',
    ]);
    client.socket.end();
    await client.closed;
  });

  it('records every refusal as a mail.rejected event with sender, recipients, rule and reason', async () => {
    stored.length = 0;
    const client = new Client(port);
    client.socket.write(block({ protocol_state: 'RCPT', sender: 'forged@mincom.gov.az', recipient: 'boss@mincom.gov.az', client_address: '10.1.2.3', sasl_username: 'ali' }));
    await client.answers(1);
    await sink.flush();
    const event = stored.flatMap((s) => s.events).find((e) => e.data.sender === 'forged@mincom.gov.az');
    expect(event?.type).to.equal('mail.rejected');
    expect(event?.severity).to.equal('high');
    expect(event?.data).to.include({ rule: 'sender-unregistered', clientAddress: '10.1.2.3', saslUsername: 'ali', stage: 'RCPT' });
    expect(event?.data.recipients).to.deep.equal(['boss@mincom.gov.az']);
    client.socket.destroy();
  });

  const badStreams: Array<{ name: string; payload: () => Buffer }> = [
    // SMTP sent to the policy port by mistake.
    { name: 'an SMTP greeting', payload: () => Buffer.from('EHLO pc.mincom.gov.az\r\n') },
    // Random binary, as from a port scanner.
    { name: 'binary noise', payload: () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) },
    // 10 MB with no line end: refused after the first 8 KB, not buffered.
    { name: 'one endless line', payload: () => Buffer.alloc(10 * 1024 * 1024, 0x61) },
    // Attributes without end: the 257th distinct name closes it.
    { name: 'endless attributes', payload: () => Buffer.from(Array.from({ length: 5000 }, (_, i) => `x${i}=1\n`).join('')) },
  ];
  for (const row of badStreams) {
    it(`closes the connection on ${row.name}, without an answer, and keeps serving`, async () => {
      const before = logger.lines.length;
      const client = new Client(port);
      client.socket.write(row.payload());
      expect(await client.closedWithin(5000)).to.equal(true);
      expect(client.received).to.equal('');
      expect(logger.lines.slice(before).some((l) => l.level === 'warn' && l.message.includes('malformed'))).to.equal(true);
      const next = new Client(port);
      next.socket.write(block({ protocol_state: 'RCPT', sender: 'x@example.org', recipient: 'ali@mincom.gov.az' }));
      expect(await next.answers(1)).to.deep.equal(['action=DUNNO']);
      next.socket.destroy();
    });
  }

  it('answers the complete requests before a malformed line, then closes', async () => {
    const client = new Client(port);
    client.socket.write(block({ protocol_state: 'RCPT', sender: 'x@example.org', recipient: 'a@mincom.gov.az' }) + 'garbage\n');
    expect(await client.closedWithin(5000)).to.equal(true);
    expect(client.received).to.equal('action=DUNNO\n\n');
  });

  it('closes a connection idle in the middle of a request (no hang)', async () => {
    const client = new Client(port);
    client.socket.write('protocol_state=RCPT\nsender=a@b.az\n');
    expect(await client.closedWithin(3000)).to.equal(true);
    expect(client.received).to.equal('');
  });

  it('on an internal error logs it and closes without an answer (Postfix applies default_action)', async () => {
    const before = logger.lines.length;
    failDecisions = true;
    try {
      const client = new Client(port);
      client.socket.write(block({ protocol_state: 'RCPT', sender: 'ali@mincom.gov.az', recipient: 'x@mincom.gov.az' }));
      expect(await client.closedWithin(3000)).to.equal(true);
      expect(client.received).to.equal('');
    } finally {
      failDecisions = false;
    }
    const logged = logger.lines.slice(before).find((l) => l.level === 'error');
    expect(logged?.message).to.contain('connection closed without an answer');
    expect(logged?.meta?.error).to.equal('simulated failure');
  });

  it('serves many connections at once', async () => {
    const clients = Array.from({ length: 50 }, () => new Client(port));
    for (const [i, c] of clients.entries()) {
      c.socket.write(block({ protocol_state: 'RCPT', sender: 'ali@mincom.gov.az', sasl_username: i % 2 === 0 ? 'ali' : 'vali', recipient: 'x@mincom.gov.az' }));
    }
    const answers = await Promise.all(clients.map((c) => c.answers(1)));
    answers.forEach((a, i) => expect(a[0]).to.match(i % 2 === 0 ? /^action=DUNNO$/ : /login mismatch/));
    for (const c of clients) c.socket.destroy();
  });
});
