import { expect } from 'chai';
import { compileMailPolicy, decideMail, type MailDecision, type MailSnapshot, type RegisteredSender } from '../src/mail/mail-decider.js';
import { DEFAULT_MAIL_POLICY, type MailPolicy } from '../src/mail/mail-policy.js';
import { InstanceBook, RateBook } from '../src/mail/rate-book.js';

const T0 = Date.parse('2026-11-25T10:00:00Z');

const POLICY: MailPolicy = {
  internalDomains: ['mincom.gov.az'],
  externalMode: 'deny-list',
  externalDomains: ['gmail.com', 'mail.ru'],
  maxExternalBytes: 20_000,
  maxMessagesPerHour: 3,
  maxExternalRecipientsPerHour: 4,
  maxMessagesPerDay: 0,
  maxExternalRecipientsPerDay: 0,
};

function sender(group: string, state: RegisteredSender['state'], logins: string[] = []): RegisteredSender {
  return { group, state, logins: new Set(logins) };
}

function snapshot(policies: Record<string, MailPolicy> = { finance: POLICY }): MailSnapshot {
  const compiled = new Map(Object.entries(policies).map(([g, p]) => [g, compileMailPolicy(p)]));
  return {
    senders: new Map([
      ['ali@mincom.gov.az', sender('finance', 'active', ['ali'])],
      ['kadr@mincom.gov.az', sender('finance', 'active')],
      ['old@mincom.gov.az', sender('finance', 'suspended')],
      ['gone@mincom.gov.az', sender('finance', 'retired')],
      ['lab@science.gov.az', sender('science', 'active')],
    ]),
    policies: compiled,
    defaultPolicy: compileMailPolicy(DEFAULT_MAIL_POLICY),
    ownDomains: new Set(['mincom.gov.az', 'science.gov.az']),
  };
}

function rcpt(from: string, to: string, extra: Record<string, string> = {}): Map<string, string> {
  return new Map(Object.entries({ request: 'smtpd_access_policy', protocol_state: 'RCPT', sender: from, recipient: to, instance: 'i1', ...extra }));
}

function context(snap = snapshot()) {
  return { snapshot: snap, rates: new RateBook(), instances: new InstanceBook(), nowMs: T0 };
}

function summary(d: MailDecision): string {
  return d.kind === 'dunno' ? 'DUNNO' : `${d.action.split(' ')[0]} ${d.rule}`;
}

describe('mail decider', () => {
  describe('one request at a time', () => {
    const rows: Array<{ name: string; request: Map<string, string>; expected: string }> = [
      // The plain case: a registered sender with the right login, to a colleague.
      { name: 'internal mail', request: rcpt('ali@mincom.gov.az', 'boss@mincom.gov.az', { sasl_username: 'ali' }), expected: 'DUNNO' },
      // Case does not matter in addresses.
      { name: 'upper-case sender', request: rcpt('Ali@MinCom.gov.az', 'boss@mincom.gov.az', { sasl_username: 'ali' }), expected: 'DUNNO' },
      // A subdomain of an internal domain is internal.
      { name: 'internal subdomain', request: rcpt('ali@mincom.gov.az', 'x@hq.mincom.gov.az', { sasl_username: 'ali' }), expected: 'DUNNO' },
      // Nobody registered this address in our domain: forged.
      { name: 'unregistered sender in our domain', request: rcpt('ceo@mincom.gov.az', 'x@mincom.gov.az'), expected: 'REJECT sender-unregistered' },
      // An authenticated client may not use any foreign sender either.
      { name: 'authenticated client, foreign sender', request: rcpt('me@yahoo.com', 'x@mincom.gov.az', { sasl_username: 'ali' }), expected: 'REJECT sender-unregistered' },
      // Mail from outside to us is not this service's business.
      { name: 'inbound mail', request: rcpt('friend@gmail.com', 'ali@mincom.gov.az'), expected: 'DUNNO' },
      // Bounces (null sender) must flow.
      { name: 'null sender', request: rcpt('', 'ali@mincom.gov.az'), expected: 'DUNNO' },
      { name: 'suspended sender', request: rcpt('old@mincom.gov.az', 'x@mincom.gov.az'), expected: 'REJECT sender-inactive' },
      { name: 'retired sender', request: rcpt('gone@mincom.gov.az', 'x@mincom.gov.az'), expected: 'REJECT sender-inactive' },
      // The address names its logins; another login is a mismatch.
      { name: 'login mismatch', request: rcpt('ali@mincom.gov.az', 'x@mincom.gov.az', { sasl_username: 'vali' }), expected: 'REJECT login-mismatch' },
      // ...and so is no login at all.
      { name: 'no login for an address with logins', request: rcpt('ali@mincom.gov.az', 'x@mincom.gov.az'), expected: 'REJECT login-mismatch' },
      // An address with no logins listed may be used by any (or no) login.
      { name: 'shared mailbox, any login', request: rcpt('kadr@mincom.gov.az', 'x@example.org', { sasl_username: 'whoever' }), expected: 'DUNNO' },
      { name: 'deny-listed domain', request: rcpt('kadr@mincom.gov.az', 'someone@gmail.com'), expected: 'REJECT external-domain' },
      // A subdomain of a listed domain is listed.
      { name: 'deny-listed subdomain', request: rcpt('kadr@mincom.gov.az', 'someone@inbox.mail.ru'), expected: 'REJECT external-domain' },
      // "evilgmail.com" is not "gmail.com".
      { name: 'look-alike domain is not listed', request: rcpt('kadr@mincom.gov.az', 'someone@evilgmail.com'), expected: 'DUNNO' },
      // SIZE= declared at MAIL FROM over the external limit: refused before the data is sent.
      { name: 'declared size too big for external', request: rcpt('kadr@mincom.gov.az', 'a@example.org', { size: '20001' }), expected: 'REJECT size' },
      // The same size to an internal recipient is fine.
      { name: 'declared size, internal recipient', request: rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { size: '900000' }), expected: 'DUNNO' },
      // Other stages are not judged.
      { name: 'MAIL stage', request: new Map([['protocol_state', 'MAIL'], ['sender', 'ceo@mincom.gov.az']]), expected: 'DUNNO' },
      // A group with no policy gets the default: registration checks, nothing else.
      { name: 'group without a policy', request: rcpt('lab@science.gov.az', 'x@gmail.com'), expected: 'DUNNO' },
    ];
    for (const row of rows) {
      it(row.name, () => {
        expect(summary(decideMail(row.request, context()))).to.equal(row.expected);
      });
    }
  });

  it('says what is wrong in the reply text, with an enhanced status code', () => {
    const d = decideMail(rcpt('ali@mincom.gov.az', 'x@mincom.gov.az', { sasl_username: 'vali' }), context());
    expect(d.kind === 'refuse' && d.action).to.equal('REJECT 5.7.1 login "vali" may not send as <ali@mincom.gov.az> (login mismatch)');
    const forged = decideMail(rcpt('ceo@mincom.gov.az', 'x@mincom.gov.az'), context());
    expect(forged.kind === 'refuse' && forged.action).to.equal('REJECT 5.7.1 sender address <ceo@mincom.gov.az> is not registered');
    expect(forged.kind === 'refuse' && forged.group).to.equal(null);
  });

  it('allow-list mode lets external mail go only to the listed domains', () => {
    const snap = snapshot({ finance: { ...POLICY, externalMode: 'allow-list', externalDomains: ['partner.az'] } });
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'a@partner.az'), context(snap)))).to.equal('DUNNO');
    const refused = decideMail(rcpt('kadr@mincom.gov.az', 'a@example.org'), context(snap));
    expect(summary(refused)).to.equal('REJECT external-domain');
    expect(refused.kind === 'refuse' && refused.reason).to.contain('not on the allow list');
  });

  it('checks the size at END-OF-MESSAGE against every recipient remembered from RCPT', () => {
    const ctx = context();
    // Two recipients: Postfix sends no `recipient` at END-OF-MESSAGE then, only recipient_count.
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'm1' }), ctx))).to.equal('DUNNO');
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'b@example.org', { instance: 'm1' }), ctx))).to.equal('DUNNO');
    const eom = new Map([['protocol_state', 'END-OF-MESSAGE'], ['sender', 'kadr@mincom.gov.az'], ['instance', 'm1'], ['size', '25000'], ['recipient_count', '2']]);
    const d = decideMail(eom, ctx);
    expect(summary(d)).to.equal('REJECT size');
    expect(d.kind === 'refuse' && d.recipients).to.deep.equal(['a@mincom.gov.az', 'b@example.org']);
    expect(ctx.instances.size).to.equal(0);
  });

  it('lets a large message through when every recipient is internal', () => {
    const ctx = context();
    decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'm2' }), ctx);
    decideMail(rcpt('kadr@mincom.gov.az', 'b@mincom.gov.az', { instance: 'm2' }), ctx);
    const eom = new Map([['protocol_state', 'END-OF-MESSAGE'], ['sender', 'kadr@mincom.gov.az'], ['instance', 'm2'], ['size', '9000000']]);
    expect(decideMail(eom, ctx)).to.deep.equal({ kind: 'dunno', accepted: true });
  });

  it('uses the END-OF-MESSAGE recipient when RCPT was not asked (single recipient)', () => {
    const eom = new Map([['protocol_state', 'END-OF-MESSAGE'], ['sender', 'kadr@mincom.gov.az'], ['recipient', 'x@example.org'], ['instance', 'm9'], ['size', '30000']]);
    expect(summary(decideMail(eom, context()))).to.equal('REJECT size');
  });

  it('defers the message over the hourly limit, counting each message once, and lets it go an hour later', () => {
    const ctx = context();
    for (let m = 1; m <= 3; m++) {
      // Each message has two recipients; it must still count as one message.
      expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: `r${m}` }), ctx))).to.equal('DUNNO');
      expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'b@mincom.gov.az', { instance: `r${m}` }), ctx))).to.equal('DUNNO');
    }
    const fourth = decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'r4' }), ctx);
    expect(summary(fourth)).to.equal('DEFER_IF_PERMIT rate');
    expect(fourth.kind === 'refuse' && fourth.action).to.match(/^DEFER_IF_PERMIT 4\.7\.1 <kadr@mincom\.gov\.az> has sent 3 messages in the last hour \(limit 3\)/);
    const later = { ...ctx, nowMs: T0 + 61 * 60_000 };
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'r5' }), later))).to.equal('DUNNO');
  });

  it('limits external recipients per hour separately from messages', () => {
    const ctx = context(snapshot({ finance: { ...POLICY, maxMessagesPerHour: 0 } }));
    for (let r = 1; r <= 4; r++) expect(summary(decideMail(rcpt('kadr@mincom.gov.az', `p${r}@example.org`, { instance: 'big' }), ctx))).to.equal('DUNNO');
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'p5@example.org', { instance: 'big' }), ctx))).to.equal('DEFER_IF_PERMIT rate');
    // Internal recipients are not limited by it.
    expect(summary(decideMail(rcpt('kadr@mincom.gov.az', 'x@mincom.gov.az', { instance: 'big' }), ctx))).to.equal('DUNNO');
  });

  it('applies the daily limits', () => {
    const ctx = context(snapshot({ finance: { ...POLICY, maxMessagesPerHour: 0, maxMessagesPerDay: 2 } }));
    decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'd1' }), ctx);
    decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'd2' }), { ...ctx, nowMs: T0 + 2 * 3_600_000 });
    const third = decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'd3' }), { ...ctx, nowMs: T0 + 5 * 3_600_000 });
    expect(third.kind === 'refuse' && third.reason).to.contain('in the last day (limit 2)');
    const tomorrow = decideMail(rcpt('kadr@mincom.gov.az', 'a@mincom.gov.az', { instance: 'd4' }), { ...ctx, nowMs: T0 + 25 * 3_600_000 });
    expect(summary(tomorrow)).to.equal('DUNNO');
  });

  it('does not count refused recipients towards the limits', () => {
    const ctx = context();
    for (let i = 0; i < 10; i++) decideMail(rcpt('kadr@mincom.gov.az', 'x@gmail.com', { instance: `g${i}` }), ctx);
    expect(ctx.rates.counts('kadr@mincom.gov.az', T0)).to.deep.equal({ messagesHour: 0, messagesDay: 0, externalRecipientsHour: 0, externalRecipientsDay: 0 });
  });
});

describe('instance book', () => {
  it('forgets the oldest message past its bound and entries past their age', () => {
    const book = new InstanceBook(2, 3, 1000);
    expect(book.addRecipient('a', 'x@y.az', 0)).to.equal(true);
    expect(book.addRecipient('a', 'x@y.az', 0)).to.equal(false);
    book.addRecipient('b', 'x@y.az', 0);
    book.addRecipient('c', 'x@y.az', 0);
    expect(book.size).to.equal(2);
    expect(book.take('a', 0)).to.deep.equal([]);
    expect(book.take('c', 2000)).to.deep.equal([]);
    for (const r of ['1@a.az', '2@a.az', '3@a.az', '4@a.az']) book.addRecipient('d', r, 0);
    expect(book.take('d', 0)).to.have.length(3);
  });
});
