import { expect } from 'chai';
import { translateMsg, type Msg } from '../src/i18n/i18n.js';
import {
  BYTES_PER_MB,
  bytesToMb,
  domainProblem,
  formOfPolicy,
  mbToBytes,
  parseCount,
  parseDomainList,
  policyOfForm,
  samePolicy,
  type MailPolicy,
  type MailPolicyForm,
} from '../src/pages/mail/mail-policy-form.js';

const en = (m: Msg) => translateMsg('en', m);

/** The contract's example policy (mail-api.md). */
const POLICY: MailPolicy = {
  internalDomains: ['mincom.gov.az'],
  externalMode: 'allow-list',
  externalDomains: ['gmail.com'],
  maxExternalBytes: 10_485_760,
  maxMessagesPerHour: 200,
  maxExternalRecipientsPerHour: 100,
  maxMessagesPerDay: 0,
  maxExternalRecipientsPerDay: 0,
};

describe('mail policy form: domains', () => {
  const good: Array<[string, string]> = [
    // the ministry's own
    ['three labels', 'mincom.gov.az'],
    ['two labels', 'gmail.com'],
    // digits and inner hyphens are fine in any label
    ['digits and hyphens', 'mail-1.x2.az'],
    // the last label may hold digits, only not be all digits
    ['a last label with a digit', 'example.b2'],
  ];
  for (const [name, domain] of good) it(`takes ${name}: ${domain}`, () => expect(domainProblem(domain)).to.equal(null));

  const bad: Array<[string, string, string]> = [
    // upper case: the fix is spelled out
    ['upper case', 'Gmail.COM', 'Gmail.COM: write the domain in lower case (gmail.com).'],
    // a leading @ as in an address
    ['a leading @', '@gmail.com', '@gmail.com: write the domain without @ (gmail.com).'],
    // a whole address pasted where a domain goes
    ['a whole address', 'ali@gmail.com', 'ali@gmail.com: write the domain without @ (gmail.com).'],
    // one label is a host, not a domain
    ['one label', 'localhost', 'localhost is not a domain name (example: mincom.gov.az).'],
    // an IP address has a numeric last label
    ['an IP address', '10.0.0.1', '10.0.0.1 is not a domain name (example: mincom.gov.az).'],
    ['a numeric last label', 'example.123', 'example.123 is not a domain name (example: mincom.gov.az).'],
    // wildcards are not part of the contract
    ['a wildcard', '*.gov.az', '*.gov.az is not a domain name (example: mincom.gov.az).'],
    ['an empty label', 'gov..az', 'gov..az is not a domain name (example: mincom.gov.az).'],
    ['a hyphen at a label edge', '-x.az', '-x.az is not a domain name (example: mincom.gov.az).'],
    ['an underscore', 'my_host.az', 'my_host.az is not a domain name (example: mincom.gov.az).'],
    ['a trailing dot', 'gov.az.', 'gov.az. is not a domain name (example: mincom.gov.az).'],
  ];
  for (const [name, domain, text] of bad) {
    it(`refuses ${name}: ${domain}`, () => {
      const problem = domainProblem(domain);
      expect(problem).to.not.equal(null);
      expect(en(problem as Msg)).to.equal(text);
    });
  }

  it('refuses a label longer than 63 characters', () => expect(domainProblem(`${'a'.repeat(64)}.az`)).to.not.equal(null));

  it('splits a typed list at commas, semicolons and white space, dropping repeats and blanks', () => {
    expect(parseDomainList(' mincom.gov.az, gov.az\nexample.az;;gov.az \n\n')).to.deep.equal({ domains: ['mincom.gov.az', 'gov.az', 'example.az'], problems: [] });
  });

  it('reads an empty list as no domains', () => expect(parseDomainList('  \n ')).to.deep.equal({ domains: [], problems: [] }));

  it('keeps the good domains and names every bad one once', () => {
    const { domains, problems } = parseDomainList('gov.az Bad.az x bad x');
    expect(domains).to.deep.equal(['gov.az']);
    expect(problems.map(en)).to.deep.equal([
      'Bad.az: write the domain in lower case (bad.az).',
      'x is not a domain name (example: mincom.gov.az).',
      'bad is not a domain name (example: mincom.gov.az).',
    ]);
  });
});

describe('mail policy form: sizes in MB and counts', () => {
  const toMb: Array<[number, string]> = [
    [10_485_760, '10'],
    [1_572_864, '1.5'],
    // not a whole number of MB: shown to two decimals
    [1_000_000, '0.95'],
    // 0 is "no limit" and stays 0
    [0, '0'],
  ];
  for (const [bytes, shown] of toMb) it(`shows ${bytes} bytes as ${shown} MB`, () => expect(bytesToMb(bytes)).to.equal(shown));

  const toBytes: Array<[string, number | null]> = [
    ['10', 10 * BYTES_PER_MB],
    [' 2.5 ', 2.5 * BYTES_PER_MB],
    ['0', 0],
    ['0.01', 10_486],
    // the largest size within the server's limit of 10^9 bytes
    ['953.67', Math.round(953.67 * BYTES_PER_MB)],
    ['953.68', null],
    ['1000', null],
    // a negative size, more than two decimals, a comma, words and nothing are refused
    ['-1', null],
    ['1.234', null],
    ['1,5', null],
    ['ten', null],
    ['', null],
    ['1e3', null],
  ];
  for (const [text, bytes] of toBytes) it(`reads "${text}" MB as ${String(bytes)}`, () => expect(mbToBytes(text)).to.equal(bytes));

  const counts: Array<[string, number | null]> = [
    ['200', 200],
    [' 0 ', 0],
    ['1.5', null],
    ['-3', null],
    ['', null],
    // the server's limit, and one more
    ['1000000000', 1_000_000_000],
    ['1000000001', null],
  ];
  for (const [text, n] of counts) it(`reads the count "${text}" as ${String(n)}`, () => expect(parseCount(text)).to.equal(n));
});

describe('mail policy form: JSON to form and back', () => {
  it('shows a policy as the inputs hold it (MB, one domain a line)', () => {
    expect(formOfPolicy({ ...POLICY, internalDomains: ['mincom.gov.az', 'gov.az'] })).to.deep.equal({
      internalDomains: 'mincom.gov.az\ngov.az',
      externalMode: 'allow-list',
      externalDomains: 'gmail.com',
      maxExternalMb: '10',
      maxMessagesPerHour: '200',
      maxExternalRecipientsPerHour: '100',
      maxMessagesPerDay: '0',
      maxExternalRecipientsPerDay: '0',
    });
  });

  it('reads a policy without the per-day limits (an older server) as no limit', () => {
    const { maxMessagesPerDay: _d, maxExternalRecipientsPerDay: _r, ...older } = POLICY;
    const form = formOfPolicy(older);
    expect([form.maxMessagesPerDay, form.maxExternalRecipientsPerDay]).to.deep.equal(['0', '0']);
  });

  it('gives back the same JSON for an untouched form', () => {
    expect(policyOfForm(formOfPolicy(POLICY), POLICY)).to.deep.equal({ policy: POLICY, problems: [] });
  });

  it('sends an edited form with the MB size in bytes and every limit', () => {
    const form: MailPolicyForm = {
      ...formOfPolicy(POLICY),
      externalMode: 'deny-list',
      externalDomains: 'mail.ru, yandex.ru',
      maxExternalMb: '25',
      maxMessagesPerDay: '1000',
    };
    expect(policyOfForm(form, POLICY).policy).to.deep.equal({
      ...POLICY,
      externalMode: 'deny-list',
      externalDomains: ['mail.ru', 'yandex.ru'],
      maxExternalBytes: 25 * BYTES_PER_MB,
      maxMessagesPerDay: 1000,
    });
  });

  it('sends a rounded size back exactly as stored when it was left as shown', () => {
    const odd = { ...POLICY, maxExternalBytes: 1_000_000 };
    const form = { ...formOfPolicy(odd), maxMessagesPerHour: '50' };
    expect(form.maxExternalMb).to.equal('0.95');
    expect(policyOfForm(form, odd).policy?.maxExternalBytes).to.equal(1_000_000);
    // Typed again, it is the typed size.
    expect(policyOfForm({ ...form, maxExternalMb: '0.96' }, odd).policy?.maxExternalBytes).to.equal(Math.round(0.96 * BYTES_PER_MB));
  });

  it('names every problem with its field and sends nothing', () => {
    const form: MailPolicyForm = {
      ...formOfPolicy(POLICY),
      internalDomains: 'MinCom.gov.az',
      externalDomains: 'gmail.com @mail.ru',
      maxExternalMb: 'big',
      maxMessagesPerHour: '-1',
      maxExternalRecipientsPerDay: '2.5',
    };
    const result = policyOfForm(form, POLICY);
    expect(result.policy).to.equal(null);
    expect(result.problems.map((p) => [p.field, en(p.message)])).to.deep.equal([
      ['internalDomains', 'MinCom.gov.az: write the domain in lower case (mincom.gov.az).'],
      ['externalDomains', '@mail.ru: write the domain without @ (mail.ru).'],
      ['maxExternalMb', 'Write the size in MB from 0 to 953.67, e.g. 10 or 2.5 (0 = no limit).'],
      ['maxMessagesPerHour', 'Write a whole number from 0 to 1000000000 (0 = no limit).'],
      ['maxExternalRecipientsPerDay', 'Write a whole number from 0 to 1000000000 (0 = no limit).'],
    ]);
  });

  it('refuses a domain that is both internal and external, as the server does', () => {
    const form = { ...formOfPolicy(POLICY), internalDomains: 'mincom.gov.az gmail.com', externalDomains: 'gmail.com mail.ru mincom.gov.az' };
    const result = policyOfForm(form, POLICY);
    expect(result.problems.map((p) => [p.field, en(p.message)])).to.deep.equal([
      ['externalDomains', 'mincom.gov.az, gmail.com: a domain cannot be both internal and external.'],
    ]);
  });

  it('treats a form that differs only in separators as unchanged, and a new value as changed', () => {
    const form = formOfPolicy(POLICY);
    expect(samePolicy({ ...form, internalDomains: ' mincom.gov.az, ' }, POLICY)).to.equal(true);
    expect(samePolicy({ ...form, maxMessagesPerHour: '201' }, POLICY)).to.equal(false);
    // A form with a problem is never "the same": saving it must say why it cannot.
    expect(samePolicy({ ...form, maxMessagesPerHour: 'x' }, POLICY)).to.equal(false);
  });
});
