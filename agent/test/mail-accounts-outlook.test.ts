import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { decodeRegExport, parseOutlookProfiles, parseRegExport } from '../src/mail/accounts/outlook-profiles.js';

/** `reg export HKU\<SID>\Software\Microsoft\Office\16.0\Outlook\Profiles`: UTF-16LE, BOM, CRLF. */
const EXPORT = readFileSync(new URL('../../test/fixtures/mail/outlook/profiles.reg', import.meta.url));
const KEY = 'HKEY_USERS\\S-1-5-21-3623811015-3361044348-30300820-1104\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Outlook\\9375CFF0413111d3B88A00104B2A6676';
const HEADER = 'Windows Registry Editor Version 5.00\r\n\r\n';

describe('mail accounts: Outlook registry export', () => {
  it('decodes the UTF-16LE file reg export writes, and a UTF-8 one', () => {
    expect(EXPORT[0]).to.equal(0xff);
    // The byte-order mark is consumed by the decoding.
    expect(decodeRegExport(EXPORT).startsWith('Windows Registry Editor Version 5.00\r\n')).to.equal(true);
    expect(decodeRegExport(new TextEncoder().encode('Windows Registry Editor Version 5.00\n'))).to.equal('Windows Registry Editor Version 5.00\n');
  });

  it('reads keys, binary values over continuation lines, DWORDs and strings; skips deleted keys', () => {
    const { keys, problems } = parseRegExport(decodeRegExport(EXPORT));
    expect(problems).to.deep.equal([]);
    expect(keys.map((k) => k.path.slice(k.path.lastIndexOf('\\') + 1))).to.deep.equal([
      'Profiles',
      'Outlook',
      '9375CFF0413111d3B88A00104B2A6676',
      '00000001',
      '00000002',
      '00000003',
      '00000004',
    ]);
    const imap = keys.find((k) => k.path === `${KEY}\\00000002`);
    expect(imap?.values.get('IMAP Port')).to.deep.equal({ type: 'dword', value: 993 });
    expect(imap?.values.get('New Signature')).to.deep.equal({ type: 'sz', text: 'Ministère' });
    const email = imap?.values.get('Email');
    expect(email?.type).to.equal('hex');
    expect(email?.type === 'hex' ? new TextDecoder('utf-16le').decode(email.bytes) : '').to.equal('Ahmed.Benali@interieur.gov.dz\u0000');
  });

  it('turns the profile into accounts: IMAP in REG_BINARY, POP3 in REG_SZ with default ports, Exchange by name', () => {
    const { accounts, problems } = parseOutlookProfiles(decodeRegExport(EXPORT), 'ahmed');
    expect(problems).to.deep.equal([]);
    expect(accounts).to.deep.equal([
      {
        client: 'outlook',
        user: 'ahmed',
        address: 'ahmed.benali@interieur.gov.dz',
        displayName: 'Ahmed Benali',
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 587 },
        source: `${KEY}\\00000002`,
      },
      // No ports written: POP3 with SSL is 995, SMTP with SSL (Secure Connection 1) 465.
      {
        client: 'outlook',
        user: 'ahmed',
        address: 'ahmed.b@laposte.net',
        displayName: 'Ahmed B.',
        incoming: { protocol: 'pop3', host: 'pop.laposte.net', port: 995 },
        outgoing: { host: 'smtp.laposte.net', port: 465 },
        source: `${KEY}\\00000003`,
      },
      // Exchange: named by its address, no server listed. The data file (00000001) is no account.
      { client: 'outlook', user: 'ahmed', address: 'a.benali@mf.gov.dz', source: `${KEY}\\00000004` },
    ]);
  });

  const rows = [
    // Not an export at all: nothing read, one clear problem.
    { name: 'not a .reg file', text: 'Hello\r\n', problems: ['not a registry export (the first line is not "Windows Registry Editor Version 5.00")'] },
    { name: 'empty', text: '', problems: ['not a registry export (the first line is not "Windows Registry Editor Version 5.00")'] },
    // Bad values and a broken key line are named by line and skipped.
    {
      name: 'damaged lines',
      text: `${HEADER}[${KEY}\\00000007]\r\n"Email"=hex:zz,00\r\n"IMAP Port"=dword:12\r\ngarbage\r\n[${KEY}\r\n"SMTP Server"="smtp.x.dz"\r\n`,
      problems: ['unreadable lines 4, 5, 6, 7 skipped'],
    },
  ];
  for (const row of rows) {
    it(`bad input: ${row.name}`, () => {
      const result = parseOutlookProfiles(row.text, 'ahmed');
      expect(result).to.deep.equal({ accounts: [], problems: row.problems });
    });
  }

  it('says so when an Email value is not an address, and reads the other accounts', () => {
    const text = `${HEADER}[${KEY}\\00000008]\r\n"Email"="nobody"\r\n\r\n[${KEY}\\00000009]\r\n"Email"="ok@x.dz"\r\n`;
    const { accounts, problems } = parseOutlookProfiles(text, 'ahmed');
    expect(accounts.map((a) => a.address)).to.deep.equal(['ok@x.dz']);
    expect(problems).to.deep.equal(['account key 00000008 has an Email that is not an address']);
  });

  it('reads the accounts of an Office 15.0 profile under any profile name, and not keys elsewhere', () => {
    const office15 = KEY.replace('16.0', '15.0').replace('Profiles\\Outlook', 'Profiles\\Travail');
    const text = `${HEADER}[${office15}\\0000000a]\r\n"Email"="a@x.dz"\r\n\r\n[HKEY_USERS\\S-1\\Software\\Other\\0000000b]\r\n"Email"="b@x.dz"\r\n`;
    expect(parseOutlookProfiles(text, 'ahmed').accounts.map((a) => a.address)).to.deep.equal(['a@x.dz']);
  });
});
