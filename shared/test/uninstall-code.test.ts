import { createHash, createHmac } from 'node:crypto';
import { expect } from 'chai';
import {
  ErrorCodes,
  PortcullisError,
  UNINSTALL_CLOCK_MARGIN_MS,
  checkUninstallCode,
  issueUninstallCode,
  parseUninstallCode,
  sameText,
  uninstallCodeFor,
  uninstallCodeMessage,
  utcDay,
  type UninstallMac,
} from '../src/index.js';

// Uninstall codes (issue 7): the server and the agent must derive the same code from the same
// key, agent and day, and the agent must accept it only while it is valid.

const SECRET = 'agent-secret-for-the-uninstall-code-tests';
const AGENT = 'agt_7f3cQ2x9';

/** As the server does it: the key is its stored hash of the secret, hex-decoded. */
function macOf(secret: string): UninstallMac {
  const key = Buffer.from(createHash('sha256').update(secret, 'utf8').digest('hex'), 'hex');
  return (message) => createHmac('sha256', key).update(message, 'utf8').digest();
}

/** The code written out a second way (BigInt over the first 8 bytes), to check the bit slicing. */
function independentCode(secret: string, agentId: string, day: string): string {
  const digest = macOf(secret)(`portcullis-uninstall:v1:${agentId}:${day}`);
  const first60 = BigInt(`0x${Buffer.from(digest.subarray(0, 8)).toString('hex')}`) >> 4n;
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let out = '';
  for (let shift = 55n; shift >= 0n; shift -= 5n) out += alphabet[Number((first60 >> shift) & 31n)];
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8)}`;
}

const MAC = macOf(SECRET);
const at = (iso: string) => new Date(iso);

describe('uninstall codes: derivation', () => {
  it('signs a versioned message naming the agent and the UTC day', () => {
    expect(uninstallCodeMessage(AGENT, '2026-11-25')).to.equal('portcullis-uninstall:v1:agt_7f3cQ2x9:2026-11-25');
  });

  it('is 60 bits of the HMAC in Crockford base32, grouped 4-4-4, the same as an independent encoding', () => {
    for (const day of ['2026-11-25', '2026-11-26', '2027-02-28', '2028-02-29']) {
      const code = uninstallCodeFor(MAC, AGENT, day);
      expect(code, day).to.match(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      expect(code, day).to.equal(independentCode(SECRET, AGENT, day));
    }
  });

  it('differs for another day, another agent and another secret', () => {
    const base = uninstallCodeFor(MAC, AGENT, '2026-11-25');
    expect(uninstallCodeFor(MAC, AGENT, '2026-11-26')).to.not.equal(base);
    expect(uninstallCodeFor(MAC, 'agt_other001', '2026-11-25')).to.not.equal(base);
    expect(uninstallCodeFor(macOf(`${SECRET}x`), AGENT, '2026-11-25')).to.not.equal(base);
  });

  it('refuses a MAC too short to give 60 bits (a caller bug, not user input)', () => {
    expect(() => uninstallCodeFor(() => new Uint8Array(7), AGENT, '2026-11-25'))
      .to.throw(PortcullisError)
      .with.property('code', ErrorCodes.INTERNAL);
  });

  const days: Array<{ name: string; now: string; day: string; validUntil: string }> = [
    // the first instant of a day belongs to it
    { name: 'midnight', now: '2026-11-25T00:00:00.000Z', day: '2026-11-25', validUntil: '2026-11-27T00:00:00.000Z' },
    // the last instant too: the code still has the whole next day
    { name: 'just before midnight', now: '2026-11-25T23:59:59.999Z', day: '2026-11-25', validUntil: '2026-11-27T00:00:00.000Z' },
    // month and year ends
    { name: 'new year', now: '2026-12-31T12:00:00Z', day: '2026-12-31', validUntil: '2027-01-02T00:00:00.000Z' },
    // a leap day
    { name: 'leap day', now: '2028-02-28T08:00:00Z', day: '2028-02-28', validUntil: '2028-03-01T00:00:00.000Z' },
  ];
  for (const row of days) {
    it(`issues the code of the UTC day, valid to the end of the next (${row.name})`, () => {
      const issued = issueUninstallCode(MAC, AGENT, at(row.now));
      expect(utcDay(at(row.now))).to.equal(row.day);
      expect(issued).to.deep.equal({ code: uninstallCodeFor(MAC, AGENT, row.day), day: row.day, validUntil: row.validUntil });
    });
  }

  it('refuses an invalid date rather than making a code for "NaN"', () => {
    expect(() => utcDay(new Date(Number.NaN))).to.throw(PortcullisError);
  });
});

describe('uninstall codes: reading what a person typed', () => {
  const code = uninstallCodeFor(MAC, AGENT, '2026-11-25');
  const plain = code.replace(/-/g, '');
  const good: Array<{ name: string; input: string }> = [
    { name: 'as printed', input: code },
    { name: 'lower case', input: code.toLowerCase() },
    { name: 'no dashes', input: plain },
    { name: 'spaces instead of dashes, padded', input: `  ${plain.slice(0, 4)} ${plain.slice(4, 8)} ${plain.slice(8)}\n` },
    { name: 'dashes anywhere', input: plain.split('').join('-') },
  ];
  for (const row of good) {
    it(`reads a code ${row.name}`, () => {
      expect(parseUninstallCode(row.input)).to.deep.equal({ ok: true, code });
    });
  }

  it('reads O as 0 and I, L as 1 (Crockford)', () => {
    expect(parseUninstallCode('OILo-ilOI-LOIL')).to.deep.equal({ ok: true, code: '0110-1101-1011' });
  });

  const bad: Array<{ name: string; input: string; message: RegExp }> = [
    // nothing typed
    { name: 'empty', input: '', message: /empty/ },
    { name: 'only dashes and spaces', input: ' - - ', message: /empty/ },
    // one character short, one too many
    { name: 'eleven characters', input: plain.slice(0, 11), message: /has 11 letters and digits; a code has 12/ },
    { name: 'thirteen characters', input: `${plain}7`, message: /has 13 letters and digits/ },
    // U is not in Crockford's alphabet (it could be read as V)
    { name: 'a U', input: `U${plain.slice(1)}`, message: /'U' at character 1/ },
    // punctuation other than dashes
    { name: 'an underscore', input: `${plain.slice(0, 4)}_${plain.slice(4)}`, message: /'_' at character 5/ },
    // a character outside ASCII is named by its code point, not printed
    { name: 'a Cyrillic letter', input: `${plain.slice(0, 11)}\u0410`, message: /U\+0410 at character 12/ },
    { name: 'a control character', input: `${plain.slice(0, 11)}\u0007`, message: /U\+0007/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name} with a clear message that does not repeat the code`, () => {
      const parsed = parseUninstallCode(row.input);
      expect(parsed.ok).to.equal(false);
      if (parsed.ok) return;
      expect(parsed.message).to.match(row.message);
      expect(parsed.message).to.not.contain(plain.slice(0, 8));
    });
  }
});

describe('uninstall codes: the agent check', () => {
  const codeOf = (day: string, agentId = AGENT) => uninstallCodeFor(MAC, agentId, day);
  const rows: Array<{ name: string; now: string; input: string; expected: { ok: boolean; reason?: string; day?: string } }> = [
    // made today
    { name: "today's code", now: '2026-11-25T10:00:00Z', input: codeOf('2026-11-25'), expected: { ok: true, day: '2026-11-25' } },
    // made yesterday evening, used this morning
    { name: "yesterday's code", now: '2026-11-26T08:00:00Z', input: codeOf('2026-11-25'), expected: { ok: true, day: '2026-11-25' } },
    // the last millisecond of its second day
    { name: "yesterday's code at 23:59:59.999", now: '2026-11-26T23:59:59.999Z', input: codeOf('2026-11-25'), expected: { ok: true, day: '2026-11-25' } },
    // the server's clock passed midnight, this PC's is 10 minutes behind
    { name: "tomorrow's code within the clock margin", now: '2026-11-25T23:50:00Z', input: codeOf('2026-11-26'), expected: { ok: true, day: '2026-11-26' } },
    // tomorrow's code hours early: not this PC's code yet
    { name: "tomorrow's code hours early", now: '2026-11-25T20:00:00Z', input: codeOf('2026-11-26'), expected: { ok: false, reason: 'wrong' } },
    // two days old: expired at midnight
    { name: 'a code from the day before yesterday', now: '2026-11-27T00:00:00Z', input: codeOf('2026-11-25'), expected: { ok: false, reason: 'expired' } },
    // a week old: still recognised as expired
    { name: 'a code eight days old', now: '2026-12-03T12:00:00Z', input: codeOf('2026-11-25'), expected: { ok: false, reason: 'expired' } },
    // older than the look-back: just wrong
    { name: 'a code nine days old', now: '2026-12-04T12:00:00Z', input: codeOf('2026-11-25'), expected: { ok: false, reason: 'wrong' } },
    // another PC's code for today
    { name: "another agent's code", now: '2026-11-25T10:00:00Z', input: codeOf('2026-11-25', 'agt_other001'), expected: { ok: false, reason: 'wrong' } },
    // typed with case and spacing changes
    { name: 'a sloppily typed valid code', now: '2026-11-25T10:00:00Z', input: ` ${codeOf('2026-11-25').toLowerCase().replace(/-/g, ' ')} `, expected: { ok: true, day: '2026-11-25' } },
    // garbage
    { name: 'a garbled code', now: '2026-11-25T10:00:00Z', input: 'hello world!', expected: { ok: false, reason: 'malformed' } },
  ];
  for (const row of rows) {
    it(`${row.expected.ok ? 'accepts' : `refuses (${row.expected.reason})`} ${row.name}`, () => {
      const result = checkUninstallCode(MAC, AGENT, row.input, at(row.now));
      expect(result).to.deep.include(row.expected);
      if (!result.ok) expect(result.message).to.be.a('string').and.not.equal('');
    });
  }

  it('says when an expired code stopped working, and a wrong one names this PC and its clock day', () => {
    const expired = checkUninstallCode(MAC, AGENT, codeOf('2026-11-25'), at('2026-11-28T09:00:00Z'));
    expect(expired).to.deep.include({ ok: false, reason: 'expired' });
    expect(!expired.ok && expired.message).to.equal('this uninstall code was made on 2026-11-25 and expired at 2026-11-27T00:00:00.000Z: ask for a new one');
    const wrong = checkUninstallCode(MAC, AGENT, codeOf('2026-11-25', 'agt_other001'), at('2026-11-25T09:00:00Z'));
    expect(!wrong.ok && wrong.message).to.contain(`agent ${AGENT}`).and.contain('2026-11-25 UTC');
  });

  it('keeps the clock margin at an hour', () => {
    expect(UNINSTALL_CLOCK_MARGIN_MS).to.equal(3_600_000);
  });
});

describe('uninstall codes: constant-time comparison', () => {
  const rows: Array<{ a: string; b: string; same: boolean }> = [
    { a: 'ABCD-EFGH-JKMN', b: 'ABCD-EFGH-JKMN', same: true },
    // last character differs
    { a: 'ABCD-EFGH-JKMN', b: 'ABCD-EFGH-JKMP', same: false },
    // a prefix is not equal
    { a: 'ABCD', b: 'ABCD-EFGH', same: false },
    { a: '', b: '', same: true },
    { a: '', b: 'A', same: false },
  ];
  for (const row of rows) {
    it(`"${row.a}" ${row.same ? '=' : '≠'} "${row.b}"`, () => {
      expect(sameText(row.a, row.b)).to.equal(row.same);
      expect(sameText(row.b, row.a)).to.equal(row.same);
    });
  }
});
