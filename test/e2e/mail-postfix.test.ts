/**
 * The mail policy service end to end: a real server (startServer, SQLite) with its Postfix policy
 * service on loopback, and a private Postfix instance (postfix-instance.ts) that asks it at RCPT
 * and at END-OF-MESSAGE. Mail goes in over SMTP (smtp-client.ts); the SASL login is set with
 * Postfix's XCLIENT LOGIN=, which reaches the service as sasl_username exactly as a real AUTH
 * would. Every delivery is `discard:`, so nothing leaves the machine. Needs root and Debian's
 * postfix package.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@portcullis/server/dist/src/config.js';
import { startServer, type RunningServer } from '@portcullis/server/dist/src/main.js';
import { masterCf, PostfixInstance } from './support/postfix-instance.js';
import { call, until } from './support/server-api.js';
import { dataPayload, SmtpClient, SmtpReplyParser, type SmtpReply } from './support/smtp-client.js';

const ADMIN_PASSWORD = 'e2e-admin-password-789';
const GROUP = 'finance';

const POLICY = {
  internalDomains: ['mincom.gov.az'],
  externalMode: 'deny-list',
  externalDomains: ['gmail.com', 'mail.ru'],
  maxExternalBytes: 20_000,
  maxMessagesPerHour: 3,
  maxExternalRecipientsPerHour: 10,
};

/** Rate counts are per sender, so each scenario that sends accepted mail has its own sender. */
const ADDRESSES = [
  { address: 'ali.aliyev@mincom.gov.az', owner: 'Ali Aliyev', logins: ['ali.aliyev'] },
  { address: 'leyla.mammadova@mincom.gov.az', owner: 'Leyla Mammadova', logins: [] },
  { address: 'rashad.karimov@mincom.gov.az', owner: 'Rashad Karimov', logins: [] },
  { address: 'kamran.old@mincom.gov.az', owner: 'Kamran (left)', logins: [], state: 'suspended' },
];

const COLLEAGUE = 'colleague@mincom.gov.az';
const BOSS = 'boss@mincom.gov.az';
const PARTNER = 'partner@example.org';

/** A message of about `bytes` bytes (headers included) in 76-character lines. */
function message(from: string, to: readonly string[], subject: string, bytes = 600): string {
  const head = `From: <${from}>\nTo: ${to.map((t) => `<${t}>`).join(', ')}\nSubject: ${subject}\n\n`;
  const line = 'Portcullis e2e test mail. '.repeat(3).slice(0, 76);
  const body: string[] = ['.a line that starts with a dot (dot-stuffed on the wire)'];
  while (head.length + body.join('\n').length < bytes) body.push(line);
  return head + body.join('\n') + '\n';
}

/** 2, 4 or 5: what a test asserts (the exact texts are the service's business). */
const klass = (reply: SmtpReply) => Math.floor(reply.code / 100);

interface Envelope {
  sender: string;
  /** Set with XCLIENT LOGIN=; none means an unauthenticated session. */
  login?: string;
  recipients: string[];
  bytes?: number;
  /** Declare SIZE= at MAIL FROM, which lets the service refuse an oversize mail before DATA. */
  declareSize?: boolean;
}

interface Outcome {
  mail: SmtpReply;
  rcpts: SmtpReply[];
  /** The reply after the message, or null when no recipient was accepted. */
  data: SmtpReply | null;
}

interface Row extends Envelope {
  name: string;
  /** Reply class per recipient, then after DATA (null: DATA not sent). */
  rcpt: number[];
  data: number | null;
  /** Must appear in the refusal's text. */
  words?: RegExp;
  /** The mail.rejected event the refusal must leave; none for accepted mail. */
  event?: { rule: string; recipients: string[]; stage: 'RCPT' | 'END-OF-MESSAGE' };
}

const ROWS: Row[] = [
  // Internal mail from a registered sender under its own login.
  { name: 'accepts internal mail from a registered sender', sender: 'ali.aliyev@mincom.gov.az', login: 'ali.aliyev', recipients: [COLLEAGUE, BOSS], declareSize: true, rcpt: [2, 2], data: 2 },
  // A domain neither internal nor denied: allowed by the deny-list policy.
  { name: 'accepts external mail to a domain not on the deny list', sender: 'ali.aliyev@mincom.gov.az', login: 'ali.aliyev', recipients: [PARTNER], declareSize: true, rcpt: [2], data: 2 },
  // Nobody registered this address in the ministry's domain: forged.
  {
    name: 'refuses a forged (unregistered) sender in the internal domain',
    sender: 'nobody@mincom.gov.az',
    recipients: [COLLEAGUE],
    rcpt: [5],
    data: null,
    words: /not registered/,
    event: { rule: 'sender-unregistered', recipients: [COLLEAGUE], stage: 'RCPT' },
  },
  // Registered, but suspended.
  {
    name: 'refuses a suspended sender',
    sender: 'kamran.old@mincom.gov.az',
    recipients: [COLLEAGUE],
    rcpt: [5],
    data: null,
    words: /suspended/,
    event: { rule: 'sender-inactive', recipients: [COLLEAGUE], stage: 'RCPT' },
  },
  // Someone else's login sending as Ali.
  {
    name: "refuses a login that is not the address's",
    sender: 'ali.aliyev@mincom.gov.az',
    login: 'someone.else',
    recipients: [COLLEAGUE],
    rcpt: [5],
    data: null,
    words: /login mismatch/,
    event: { rule: 'login-mismatch', recipients: [COLLEAGUE], stage: 'RCPT' },
  },
  // Only the denied recipient is refused; the internal one still gets the mail.
  {
    name: 'refuses a recipient on the deny list and delivers to the others',
    sender: 'ali.aliyev@mincom.gov.az',
    login: 'ali.aliyev',
    recipients: [COLLEAGUE, 'friend@gmail.com'],
    rcpt: [2, 5],
    data: 2,
    words: /gmail\.com/,
    event: { rule: 'external-domain', recipients: ['friend@gmail.com'], stage: 'RCPT' },
  },
  // A denied domain covers its subdomains.
  {
    name: 'refuses a subdomain of a denied domain',
    sender: 'ali.aliyev@mincom.gov.az',
    login: 'ali.aliyev',
    recipients: ['someone@inbox.mail.ru'],
    rcpt: [5],
    data: null,
    words: /inbox\.mail\.ru/,
    event: { rule: 'external-domain', recipients: ['someone@inbox.mail.ru'], stage: 'RCPT' },
  },
  // No SIZE= declared: the size is known only at the end of the data.
  {
    name: 'refuses an oversize mail to an external recipient after DATA',
    sender: 'leyla.mammadova@mincom.gov.az',
    recipients: [PARTNER],
    bytes: 25_000,
    rcpt: [2],
    data: 5,
    words: /20000/,
    event: { rule: 'size', recipients: [PARTNER], stage: 'END-OF-MESSAGE' },
  },
  // The same size is fine when every recipient is internal.
  { name: 'accepts the same size to internal recipients only', sender: 'leyla.mammadova@mincom.gov.az', recipients: [COLLEAGUE, BOSS], bytes: 25_000, rcpt: [2, 2], data: 2 },
  // SIZE= declared: refused at RCPT, before the data is sent.
  {
    name: 'refuses an oversize mail at RCPT when the client declared its size',
    sender: 'leyla.mammadova@mincom.gov.az',
    recipients: [PARTNER],
    bytes: 25_000,
    declareSize: true,
    rcpt: [5],
    data: null,
    words: /20000/,
    event: { rule: 'size', recipients: [PARTNER], stage: 'RCPT' },
  },
];

describe('end to end: Postfix asks the mail policy service', function () {
  this.timeout(120_000);
  let dir: string;
  let server: RunningServer | undefined;
  let postfix: PostfixInstance | undefined;
  let ca: Buffer;
  let admin: string;
  let url: string;
  let policyPort: number;
  let lastClient: SmtpClient | undefined;

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    return call(url, ca, method, path, body, admin);
  }

  /** One SMTP session: optional XCLIENT login, MAIL, every RCPT, DATA if any recipient took. */
  async function send(envelope: Envelope): Promise<Outcome> {
    if (!postfix) throw new Error('Postfix is not running');
    const text = message(envelope.sender, envelope.recipients, 'e2e', envelope.bytes);
    const { client, greeting } = await SmtpClient.open(postfix.host, postfix.smtpPort);
    lastClient = client;
    expect(greeting.code, greeting.text).to.equal(220);
    expect((await client.ehlo()).code).to.equal(250);
    if (envelope.login !== undefined) {
      const xclient = await client.xclient({ LOGIN: envelope.login });
      expect(xclient.code, `XCLIENT: ${xclient.text}`).to.equal(220);
      expect((await client.ehlo()).code).to.equal(250);
    }
    const mail = await client.mailFrom(envelope.sender, envelope.declareSize ? Buffer.byteLength(text) : undefined);
    const rcpts: SmtpReply[] = [];
    for (const recipient of envelope.recipients) rcpts.push(await client.rcptTo(recipient));
    const data = rcpts.some((r) => r.code === 250) ? await client.data(text) : null;
    await client.quit();
    return { mail, rcpts, data };
  }

  /** Postfix logs through postlogd (a datagram socket), so a line may land just after the reply. */
  async function logShows(what: string, check: (log: string) => boolean): Promise<void> {
    await until(`Postfix to log ${what}`, async () => check((await postfix?.maillog()) ?? ''), 10_000);
  }

  async function rejections(): Promise<any[]> {
    const reply = await api('GET', '/api/v1/events?type=mail.rejected&limit=1000');
    expect(reply.status, JSON.stringify(reply.json)).to.equal(200);
    return reply.json.events;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-e2e-mail-'));
    const config = loadConfig(['--listen', '127.0.0.1:0', '--data', join(dir, 'server'), '--mail-policy-listen', '127.0.0.1:0'], { PORTCULLIS_LOG_LEVEL: 'error' });
    server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
    const mailPolicy = server.mailPolicy;
    if (mailPolicy === null) throw new Error('the server started no mail policy service');
    policyPort = mailPolicy.port;
    url = server.url;
    ca = await readFile(join(dir, 'server', 'pki', 'ca.crt'));
    const session = await call(url, ca, 'POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(session.status).to.equal(200);
    admin = session.json.token;

    const group = await api('POST', '/api/v1/groups', { name: GROUP, description: 'e2e: mail senders' });
    expect(group.status, JSON.stringify(group.json)).to.equal(201);
    const policy = await api('PUT', `/api/v1/groups/${GROUP}/mail-policy`, POLICY);
    expect(policy.status, JSON.stringify(policy.json)).to.equal(200);
    for (const a of ADDRESSES) {
      const created = await api('POST', '/api/v1/mail/addresses', { ...a, group: GROUP });
      expect(created.status, JSON.stringify(created.json)).to.equal(201);
    }
    postfix = await PostfixInstance.start(mailPolicy);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      if (lastClient) console.error(`SMTP transcript:\n${lastClient.transcript.join('\n')}`);
      if (postfix) console.error(`Postfix maillog (tail):\n${await postfix.maillogTail()}`);
    }
    lastClient = undefined;
  });

  after(async () => {
    await postfix?.destroy();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const row of ROWS) {
    it(row.name, async () => {
      const seen = new Set((await rejections()).map((e) => e.id));
      const fresh = async () => (await rejections()).filter((e) => !seen.has(e.id));
      const logFrom = (await postfix?.maillog())?.length ?? 0;
      const outcome = await send(row);
      expect(outcome.mail.code, outcome.mail.text).to.equal(250);
      expect(outcome.rcpts.map(klass), outcome.rcpts.map((r) => `${r.code} ${r.text}`).join(' | ')).to.deep.equal(row.rcpt);
      expect(outcome.data && klass(outcome.data), outcome.data?.text).to.equal(row.data);
      const refusal = [...outcome.rcpts, ...(outcome.data ? [outcome.data] : [])].find((r) => r.code >= 400);
      if (row.words) expect(refusal?.text).to.match(row.words);
      if (!row.event) {
        // Accepted mail leaves no event; give the event sink's 100 ms batch time to show one.
        await new Promise((r) => setTimeout(r, 300));
        expect(await fresh()).to.deep.equal([]);
        return;
      }
      await until('the mail.rejected event', async () => (await fresh()).length > 0, 10_000);
      const events = await fresh();
      expect(events, JSON.stringify(events.map((e) => e.data))).to.have.length(1);
      const event = events[0];
      expect(event.data).to.deep.include({ sender: row.sender, recipients: row.event.recipients, rule: row.event.rule, saslUsername: row.login ?? '', clientAddress: '127.0.0.1' });
      expect(event.data.reason).to.be.a('string').and.not.equal('');
      expect(event.group).to.equal(row.event.rule === 'sender-unregistered' ? null : GROUP);
      // Postfix logged the same refusal, under the queue id the event carries (NOQUEUE before
      // the first accepted recipient opens a queue file).
      if (row.event.stage === 'END-OF-MESSAGE') expect(event.data.queueId).to.match(/^[0-9A-F]{6,}$/);
      const tag = `${event.data.queueId || 'NOQUEUE'}: reject: ${row.event.stage} from`;
      await logShows(tag, (log) => log.slice(logFrom).split('\n').filter((l) => l.includes(tag) && l.includes(`from=<${row.sender}>`)).length === 1);
    });
  }

  it('defers (4xx) the fourth message in the hour', async () => {
    if (!postfix) throw new Error('Postfix is not running');
    const sender = 'rashad.karimov@mincom.gov.az';
    const { client } = await SmtpClient.open(postfix.host, postfix.smtpPort);
    lastClient = client;
    await client.ehlo();
    // One session, several transactions: each MAIL FROM starts a new Postfix "instance".
    for (let n = 1; n <= POLICY.maxMessagesPerHour; n++) {
      expect((await client.mailFrom(sender)).code).to.equal(250);
      expect((await client.rcptTo(COLLEAGUE)).code, `message ${n}`).to.equal(250);
      const data = await client.data(message(sender, [COLLEAGUE], `message ${n}`));
      expect(data.code, data.text).to.equal(250);
    }
    expect((await client.mailFrom(sender)).code).to.equal(250);
    const fourth = await client.rcptTo(COLLEAGUE);
    expect(klass(fourth), fourth.text).to.equal(4);
    expect(fourth.text).to.match(/^4\.7\.1 /);
    expect((await client.rset()).code).to.equal(250);
    await client.quit();
    await until('the rate event', async () => (await rejections()).some((e) => e.data.rule === 'rate'), 10_000);
    const rate = (await rejections()).filter((e) => e.data.rule === 'rate');
    expect(rate).to.have.length(1);
    expect(rate[0].data).to.deep.include({ sender, recipients: [COLLEAGUE], rule: 'rate' });
    expect(rate[0].data.action).to.match(/^DEFER_IF_PERMIT 4\.7\.1 /);
  });

  it('records every refusal once, and the stats count them by rule', async () => {
    const events = await rejections();
    const expected = [...ROWS.flatMap((r) => (r.event ? [`${r.event.rule} ${r.sender}`] : [])), 'rate rashad.karimov@mincom.gov.az'];
    expect(events.map((e) => `${e.data.rule} ${e.data.sender}`).sort()).to.deep.equal(expected.sort());
    const stats = await api('GET', '/api/v1/mail/stats');
    expect(stats.status).to.equal(200);
    expect(stats.json.rejected).to.deep.equal({ 'sender-unregistered': 1, 'sender-inactive': 1, 'login-mismatch': 1, 'external-domain': 2, size: 2, rate: 1 });
    // Accepted mail went to the discard transport, never to an SMTP client.
    await logShows('the discard delivery', (log) => new RegExp(`postfix/discard\\[\\d+\\]: [0-9A-F]+: to=<${PARTNER}>, relay=none`).test(log));
    expect(await postfix?.maillog()).not.to.match(/postfix\/(smtp|lmtp|local|virtual)\[/);
  });

  it('fails closed: with the policy service down, Postfix applies default_action (4xx)', async () => {
    await server?.close();
    server = undefined;
    const outcome = await send({ sender: 'ali.aliyev@mincom.gov.az', login: 'ali.aliyev', recipients: [COLLEAGUE] });
    expect(outcome.rcpts.map(klass), outcome.rcpts[0]?.text).to.deep.equal([4]);
    expect(outcome.data).to.equal(null);
    await logShows('the policy service failure', (log) => log.includes(`problem talking to server 127.0.0.1:${policyPort}`));
  });

  it('stops the private Postfix without leaving a process behind', async () => {
    if (!postfix) throw new Error('Postfix is not running');
    expect(await postfix.livePids()).to.not.deep.equal([]);
    await postfix.stop();
    expect(await postfix.livePids()).to.deep.equal([]);
    expect(await postfix.maillog()).to.include('stopping the Postfix mail system');
  });
});

describe('the mail harness without Postfix: SMTP replies, DATA and master.cf', () => {
  const parse = (chunks: string[]) => {
    const parser = new SmtpReplyParser();
    return chunks.flatMap((c) => parser.push(c)).map((r) => [r.code, ...r.lines]);
  };
  const REPLIES: Array<{ chunks: string[]; replies: unknown[] }> = [
    // One line.
    { chunks: ['250 2.1.0 Ok\r\n'], replies: [[250, '2.1.0 Ok']] },
    // A multi-line EHLO reply split across reads.
    { chunks: ['250-mx.example\r\n250-SI', 'ZE 1000\r\n250 XCLIENT LOGIN\r\n'], replies: [[250, 'mx.example', 'SIZE 1000', 'XCLIENT LOGIN']] },
    // Pipelined replies in one read; a bare code has empty text.
    { chunks: ['250 Ok\r\n554 5.7.1 no\r\n221\r\n'], replies: [[250, 'Ok'], [554, '5.7.1 no'], [221, '']] },
  ];
  for (const row of REPLIES) it(`parses ${JSON.stringify(row.chunks)}`, () => expect(parse(row.chunks)).to.deep.equal(row.replies));

  it('refuses what is not an SMTP reply', () => {
    expect(() => parse(['hello\r\n'])).to.throw(/not an SMTP reply line: "hello"/);
    expect(() => parse(['250-a\r\n550 b\r\n'])).to.throw(/reply code changed inside a multi-line reply/);
  });

  it('dot-stuffs DATA with CRLF line ends and the final dot', () => {
    expect(dataPayload('a\n.b\r\n..c\n')).to.equal('a\r\n..b\r\n...c\r\n.\r\n');
    expect(dataPayload('no final newline')).to.equal('no final newline\r\n.\r\n');
  });

  it("moves master.cf's SMTP listener and turns every chroot off", () => {
    const system = ['# comment', 'smtp      inet  n       -       y       -       -       smtpd', 'relay     unix  -       -       y       -       -       smtp', '        -o syslog_name=postfix/$service_name'].join('\n');
    expect(masterCf(system, 2526).split('\n')).to.deep.equal(['# comment', '127.0.0.1:2526 inet n - n - - smtpd', 'relay unix - - n - - smtp', '        -o syslog_name=postfix/$service_name']);
    expect(() => masterCf('relay unix - - y - - smtp', 2526)).to.throw(/has 0 'smtp inet' services/);
    expect(() => masterCf('smtp inet n - y', 2526)).to.throw(/unexpected master.cf service line/);
  });
});
