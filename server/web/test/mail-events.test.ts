import { expect } from 'chai';
import { makeT } from '../src/app-context.js';
import { translateMsg, type Locale } from '../src/i18n/i18n.js';
import { typeText } from '../src/pages/events/event-labels.js';
import { mailSummary, otherFields } from '../src/pages/events/event-text.js';

const say = (locale: Locale, type: string, data: Record<string, unknown>) => {
  const text = mailSummary(type, data);
  return text === undefined ? undefined : translateMsg(locale, text);
};

/** A mail.rejected event's data as the mail policy service writes it (server/src/mail/mail-policy-service.ts). */
const REJECTED = {
  sender: 'ali.aliyev@mincom.gov.az',
  recipients: ['a@gmail.com'],
  rule: 'external-domain',
  reason: 'gmail.com is not on the allow-list of finance',
  action: 'REJECT 5.7.1 external domain not allowed',
  stage: 'RCPT',
  saslUsername: 'ali.aliyev',
  clientAddress: '10.1.2.3',
  clientName: 'pc-17.mincom.local',
  queueId: '4XyZ1',
  instance: 'a1b2.c3',
  size: 2048,
};

describe('events page: mail events in words', () => {
  it('names the mail event types and leaves any other type as sent', () => {
    const t = makeT('en');
    expect(['mail.rejected', 'mail.account.unapproved', 'mail.egress.blocked', 'device.blocked'].map((type) => typeText(t, type))).to.deep.equal([
      'mail refused',
      'unapproved mail account',
      'mail connection blocked',
      'device.blocked',
    ]);
    expect(typeText(makeT('az'), 'mail.rejected')).to.equal('məktub rədd edildi');
  });

  const rows: Array<[string, string, Record<string, unknown>, string | undefined]> = [
    // sender, recipients, the rule in words and the server's reason
    ['a refusal', 'mail.rejected', REJECTED, 'from ali.aliyev@mincom.gov.az to a@gmail.com: external domain not allowed (gmail.com is not on the allow-list of finance)'],
    // many recipients: the first three and a count
    [
      'a refusal to five',
      'mail.rejected',
      { ...REJECTED, recipients: ['a@x.az', 'b@x.az', 'c@x.az', 'd@x.az', 'e@x.az'], reason: undefined },
      'from ali.aliyev@mincom.gov.az to a@x.az, b@x.az, c@x.az and 2 more: external domain not allowed',
    ],
    // a rule a newer server knows is shown as sent; missing fields read as "?"
    ['an unknown rule, no sender', 'mail.rejected', { rule: 'dkim-fail' }, 'from ? to ?: dkim-fail'],
    // the reason in words (server/src/mail/mail-account-audit.ts)
    ['an unapproved account', 'mail.account.unapproved', { address: 'ali@gmail.com', user: 'ali', client: 'thunderbird', reason: 'domain-not-allowed' }, 'ali@gmail.com (user ali): domain not allowed'],
    ['an unregistered account', 'mail.account.unapproved', { address: 'x@mincom.gov.az', user: 'x', reason: 'not-registered' }, 'x@mincom.gov.az (user x): not in the registry'],
    // a reason a newer server sends is left out of the line (the detail shows it as sent)
    ['an unapproved account, unknown reason', 'mail.account.unapproved', { address: 'ali@gmail.com', user: 'ali', reason: 'new-reason' }, 'ali@gmail.com (user ali)'],
    ['an unapproved account with no user', 'mail.account.unapproved', { address: 'ali@gmail.com', reason: 'inactive' }, 'ali@gmail.com: not active in the registry'],
    ['an unapproved account with no address', 'mail.account.unapproved', { user: 'ali' }, undefined],
    // As the agent reports it: the address and the port apart.
    ['a blocked connection', 'mail.egress.blocked', { destination: '142.250.1.27', port: 587, uid: 1000 }, 'connection to 142.250.1.27:587'],
    // IPv6 in brackets, so the port reads apart from the address.
    ['a blocked IPv6 connection', 'mail.egress.blocked', { destination: '2001:db8::25', port: 465 }, 'connection to [2001:db8::25]:465'],
    // host and port as separate fields
    ['a blocked connection by host and port', 'mail.egress.blocked', { host: '203.0.113.9', port: 465 }, 'connection to 203.0.113.9:465'],
    ['a blocked connection with no destination', 'mail.egress.blocked', {}, undefined],
    // not a mail event
    ['a device event', 'device.blocked', { sender: 'x' }, undefined],
  ];
  for (const [name, type, data, expected] of rows) it(`summarises ${name}`, () => expect(say('en', type, data)).to.equal(expected));

  it('says the summary in Azerbaijani too', () => {
    expect(say('az', 'mail.rejected', { ...REJECTED, reason: undefined })).to.equal('ali.aliyev@mincom.gov.az ünvanından a@gmail.com ünvanına: xarici domenə icazə yoxdur');
  });

  it('labels every field of a refusal in the detail view, the rule in words', () => {
    expect(otherFields('en', REJECTED)).to.deep.equal([
      ['Sender', 'ali.aliyev@mincom.gov.az'],
      ['Recipients', 'a@gmail.com'],
      ['Rule', 'external domain not allowed'],
      ['Reason', 'gmail.com is not on the allow-list of finance'],
      ['Answer to the mail server', 'REJECT 5.7.1 external domain not allowed'],
      ['SMTP stage', 'RCPT'],
      ['SASL login', 'ali.aliyev'],
      ['Client IP address', '10.1.2.3'],
      ['Client host name', 'pc-17.mincom.local'],
      ['Queue id', '4XyZ1'],
      ['Postfix request', 'a1b2.c3'],
      ['Size (bytes)', '2048'],
    ]);
  });

  it('labels the fields of an unapproved account and a blocked connection', () => {
    expect(otherFields('en', { address: 'a@gmail.com', user: 'ali', client: 'thunderbird', destination: 'smtp.gmail.com:587' }).map(([label]) => label)).to.deep.equal([
      'Address',
      'User',
      'Mail program',
      'Destination',
    ]);
  });
});
