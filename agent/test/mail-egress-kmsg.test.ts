import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockedAttemptFilter } from '../src/mail/egress/blocked-attempts.js';
import { parseBlockedAttempt, parseKmsgRecord, type BlockedAttempt } from '../src/mail/egress/kmsg-parser.js';
import { KmsgTail } from '../src/mail/egress/kmsg-tail.js';
import { waitFor } from './support/service-harness.js';

/** Recorded from /dev/kmsg on Linux 6.18 (nftables 1.0.6), trailing space included. */
const RECORDED_V4 =
  '4,337,1159291966,-;portcullis-mail-egress: IN= OUT=eth0 SRC=192.0.2.2 DST=198.51.100.99 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=32003 DF PROTO=TCP SPT=54378 DPT=587 WINDOW=65280 RES=0x00 SYN URGP=0 UID=0 GID=0 ';
const RECORDED_V6 =
  '4,338,1159303578,-;portcullis-mail-egress: IN= OUT=eth0 SRC=fd00:0000:0000:0000:0000:0000:0000:0002 DST=fd00:0000:0000:0000:0000:0000:0000:0099 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=872543 PROTO=TCP SPT=53086 DPT=587 WINDOW=64320 RES=0x00 SYN URGP=0 UID=0 GID=0 ';
/** The issue's example: a user's mail client on eth0. */
const ISSUE_EXAMPLE =
  '6,1234,5678901,-;portcullis-mail-egress: IN= OUT=eth0 SRC=10.0.2.15 DST=142.250.1.27 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=40000 DPT=587 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1000 GID=1000';

describe('mail egress: kernel log records', () => {
  // Each row: a /dev/kmsg line → the attempt it reports, or null.
  const rows: Array<{ name: string; line: string; expected: BlockedAttempt | null }> = [
    // recorded IPv4 refusal
    { name: 'a recorded IPv4 line', line: RECORDED_V4, expected: { destination: '198.51.100.99', port: 587, source: '192.0.2.2', uid: 0, outInterface: 'eth0' } },
    // recorded IPv6 refusal: %pI6 written out in full, canonicalised
    { name: 'a recorded IPv6 line', line: RECORDED_V6, expected: { destination: 'fd00::99', port: 587, source: 'fd00::2', uid: 0, outInterface: 'eth0' } },
    // the issue's example, a user's uid
    { name: 'the issue example', line: ISSUE_EXAMPLE, expected: { destination: '142.250.1.27', port: 587, source: '10.0.2.15', uid: 1000, outInterface: 'eth0' } },
    // CONFIG_PRINTK_CALLER adds a field to the header
    { name: 'a header with a caller field', line: ISSUE_EXAMPLE.replace('-;', '-,caller=T4242;'), expected: { destination: '142.250.1.27', port: 587, source: '10.0.2.15', uid: 1000, outInterface: 'eth0' } },
    // a packet without a socket owner: no UID=
    { name: 'no UID', line: RECORDED_V4.replace('UID=0 GID=0 ', ''), expected: { destination: '198.51.100.99', port: 587, source: '192.0.2.2', uid: null, outInterface: 'eth0' } },
    // another subsystem's message
    { name: 'another message', line: '6,1,0,-;EXT4-fs (vda): mounted filesystem', expected: null },
    // another nft log prefix
    { name: 'another log prefix', line: RECORDED_V4.replace('portcullis-mail-egress: ', 'fw-drop: '), expected: null },
    // a continuation line (device properties)
    { name: 'a continuation line', line: ' SUBSYSTEM=pci', expected: null },
    // a header that is not one
    { name: 'a broken header', line: 'x,337,1,-;portcullis-mail-egress: DST=198.51.100.99 PROTO=TCP DPT=587', expected: null },
    // not TCP (the ruleset only refuses TCP, but a forged line must not pass)
    { name: 'UDP', line: RECORDED_V4.replace('PROTO=TCP', 'PROTO=UDP'), expected: null },
    // no destination port
    { name: 'no DPT', line: RECORDED_V4.replace('DPT=587 ', ''), expected: null },
    // a port out of range
    { name: 'port 70000', line: RECORDED_V4.replace('DPT=587', 'DPT=70000'), expected: null },
    // a destination that is not an address
    { name: 'a bad destination', line: RECORDED_V4.replace('DST=198.51.100.99', 'DST=mail.example'), expected: null },
    // a uid that is not a number
    { name: 'a bad uid', line: RECORDED_V4.replace('UID=0', 'UID=root'), expected: null },
    // an embedded packet (ICMP error) repeats keys: the first wins
    { name: 'repeated keys', line: `${ISSUE_EXAMPLE} [SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP DPT=25]`, expected: { destination: '142.250.1.27', port: 587, source: '10.0.2.15', uid: 1000, outInterface: 'eth0' } },
  ];
  for (const row of rows) {
    it(`reads ${row.name}`, () => {
      const record = parseKmsgRecord(row.line);
      expect(record === null ? null : parseBlockedAttempt(record.message)).to.deep.equal(row.expected);
    });
  }

  it('reads the record header: level, facility, sequence and time since boot', () => {
    expect(parseKmsgRecord(RECORDED_V4)).to.deep.include({ level: 4, facility: 0, seq: 337, usec: 1159291966 });
    expect(parseKmsgRecord('14,5,6,-;user message')).to.deep.equal({ level: 6, facility: 1, seq: 5, usec: 6, message: 'user message' });
  });
});

describe('mail egress: which refused connections are reported', () => {
  const attempt = (destination: string, port = 587, uid: number | null = 1000): BlockedAttempt => ({ destination, port, uid, source: '10.0.2.15', outInterface: 'eth0' });

  it('reports the first attempt per destination, port and user, and counts the rest of the minute', () => {
    const filter = new BlockedAttemptFilter(60_000);
    // Each row: time, attempt → reported (and with how many swallowed repeats).
    const rows: Array<[number, BlockedAttempt, { report: boolean; repeats?: number }]> = [
      [0, attempt('142.250.1.27'), { report: true, repeats: 0 }], // first
      [5_000, attempt('142.250.1.27'), { report: false }], // the client retries
      [10_000, attempt('142.250.1.27'), { report: false }], // and again
      [11_000, attempt('142.250.1.27', 465), { report: true, repeats: 0 }], // another port is another key
      [12_000, attempt('142.250.1.27', 587, 1001), { report: true, repeats: 0 }], // another user too
      [13_000, attempt('142.250.1.28'), { report: true, repeats: 0 }], // another server too
      [59_999, attempt('142.250.1.27'), { report: false }], // still inside the minute
      [60_000, attempt('142.250.1.27'), { report: true, repeats: 3 }], // a minute on: reported with the three swallowed
      [70_000, attempt('142.250.1.27'), { report: false }], // the new minute starts from that report
    ];
    for (const [at, a, expected] of rows) expect(filter.take(a, at), `${at} ${a.destination}:${a.port} uid ${a.uid}`).to.deep.equal(expected);
  });

  it('keeps a bounded number of keys, forgetting the stalest first', () => {
    const filter = new BlockedAttemptFilter(60_000, 3);
    for (let i = 0; i < 5; i++) expect(filter.take(attempt(`192.0.2.${i}`), i).report).to.equal(true);
    // 192.0.2.0 and .1 were dropped to make room: reported again; .4 is remembered.
    expect(filter.take(attempt('192.0.2.0'), 10).report).to.equal(true);
    expect(filter.take(attempt('192.0.2.4'), 10).report).to.equal(false);
  });
});

describe('mail egress: following the kernel log', () => {
  let dir: string;
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m) };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-kmsg-'));
    warnings.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('skips what was there before it started and hands over each new line, a partial one once complete', async () => {
    const path = join(dir, 'kmsg');
    writeFileSync(path, `${RECORDED_V4}\n${RECORDED_V6}\n`);
    const lines: string[] = [];
    const tail = new KmsgTail({ path, onLine: (l) => lines.push(l), logger, pollMs: 10 });
    await tail.start();
    appendFileSync(path, `${ISSUE_EXAMPLE}\n SUBSYSTEM=net\n6,9,9,-;half`);
    await waitFor('two lines', () => lines.length === 2);
    appendFileSync(path, ' a line\n');
    await waitFor('the completed line', () => lines.length === 3);
    await tail.stop();
    expect(lines).to.deep.equal([ISSUE_EXAMPLE, ' SUBSYSTEM=net', '6,9,9,-;half a line']);
    appendFileSync(path, `${ISSUE_EXAMPLE}\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).to.have.length(3);
    expect(warnings).to.deep.equal([]);
  });

  it('reads a FIFO without blocking (EAGAIN between writes), as it reads /dev/kmsg', async () => {
    const path = join(dir, 'kmsg.fifo');
    execFileSync('mkfifo', [path]);
    // A writer kept open, so an empty FIFO reads as EAGAIN, not end of file.
    const writer = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const lines: string[] = [];
      const tail = new KmsgTail({ path, onLine: (l) => lines.push(l), logger, pollMs: 10 });
      await tail.start();
      writeSync(writer, `${RECORDED_V4}\n`);
      await waitFor('the line', () => lines.length === 1);
      writeSync(writer, `${RECORDED_V6}\n`);
      await waitFor('the second line', () => lines.length === 2);
      await tail.stop();
      expect(lines).to.deep.equal([RECORDED_V4, RECORDED_V6]);
    } finally {
      closeSync(writer);
    }
  });

  it('fails to start, with the path, when the log cannot be opened', async () => {
    const tail = new KmsgTail({ path: join(dir, 'missing'), onLine: () => undefined, logger });
    let error: unknown;
    await tail.start().catch((err: unknown) => (error = err));
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('ENOENT');
  });
});
