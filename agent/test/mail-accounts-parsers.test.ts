import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseEvolutionSources, type EvolutionSourceFile } from '../src/mail/accounts/evolution-sources.js';
import { parseGoaAccounts } from '../src/mail/accounts/goa-accounts.js';
import { parseKeyFile } from '../src/mail/accounts/key-file.js';
import { makeAccount, normalizeAddress, sortAndDedupe, splitHostPort, type MailAccount } from '../src/mail/accounts/mail-account.js';
import { parsePrefs, parseThunderbirdPrefs } from '../src/mail/accounts/thunderbird-prefs.js';
import { parseThunderbirdProfiles } from '../src/mail/accounts/thunderbird-profiles.js';

const FIXTURES = new URL('../../test/fixtures/mail/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const TB = { user: 'ahmed', source: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js' };

describe('mail accounts: model', () => {
  const rows: Array<{ name: string; input: string | undefined; expected: string | undefined }> = [
    // Lower-cased and trimmed.
    { name: 'mixed case', input: '  Ahmed.Benali@Interieur.GOV.dz ', expected: 'ahmed.benali@interieur.gov.dz' },
    // A display form is not a bare address.
    { name: 'display form', input: 'Ahmed <ahmed@interieur.gov.dz>', expected: undefined },
    { name: 'no at sign', input: 'ahmed.benali', expected: undefined },
    { name: 'two at signs', input: 'a@b@c.dz', expected: undefined },
    { name: 'inner space', input: 'ahmed benali@x.dz', expected: undefined },
    { name: 'control character', input: 'ahmed\u0000@x.dz', expected: undefined },
    { name: 'empty', input: '', expected: undefined },
    { name: 'absent', input: undefined, expected: undefined },
  ];
  for (const row of rows) it(`normalizeAddress: ${row.name}`, () => expect(normalizeAddress(row.input)).to.equal(row.expected));

  it('splits host:port and drops a port that is not one', () => {
    expect(splitHostPort('SMTP.example.dz:2525')).to.deep.equal({ host: 'smtp.example.dz', port: 2525 });
    expect(splitHostPort('smtp.example.dz')).to.deep.equal({ host: 'smtp.example.dz' });
    expect(splitHostPort('smtp.example.dz:99999')).to.deep.equal({ host: 'smtp.example.dz' });
    expect(splitHostPort('bad host')).to.deep.equal({});
  });

  it('leaves out a server whose host is not a host, and a port outside 1..65535', () => {
    const account = makeAccount('goa', { user: 'u', source: 's' }, {
      address: 'a@b.dz',
      incoming: { protocol: 'imap', host: 'imap b.dz', port: 993 },
      outgoing: { host: 'smtp.b.dz', port: 70000 },
    });
    expect(account).to.deep.equal({ client: 'goa', user: 'u', address: 'a@b.dz', outgoing: { host: 'smtp.b.dz' }, source: 's' });
  });

  it('sorts by user, client, address and drops the same account seen from a second source', () => {
    const a = (user: string, address: string, source: string): MailAccount => ({ client: 'thunderbird', user, address, source });
    const list = sortAndDedupe([a('sara', 'z@x.dz', '/2'), a('ahmed', 'b@x.dz', '/2'), a('ahmed', 'b@x.dz', '/1'), a('ahmed', 'a@x.dz', '/3')]);
    expect(list).to.deep.equal([a('ahmed', 'a@x.dz', '/3'), a('ahmed', 'b@x.dz', '/1'), a('sara', 'z@x.dz', '/2')]);
  });
});

describe('mail accounts: key files', () => {
  it('reads groups and keys, decodes GLib escapes, keeps the last of a repeated key', () => {
    const text = '# comment\n; another\n[A]\nName=\\sPadded\\tTab\nName[fr]=Nom\nX = 1 \n[B]\nK=v\n[A]\nX=2\n';
    const { groups, problems } = parseKeyFile(text, { escapes: true });
    expect(problems).to.deep.equal([]);
    expect([...(groups.get('A') ?? [])]).to.deep.equal([['Name', ' Padded\tTab'], ['Name[fr]', 'Nom'], ['X', '2']]);
    expect(groups.get('B')?.get('K')).to.equal('v');
  });

  it('reports unreadable lines by number, never by content, and reads on', () => {
    const { groups, problems } = parseKeyFile('orphan=1\n[A]\nPassword secret-value\nK=v\n[broken\n', { escapes: false });
    expect(groups.get('A')?.get('K')).to.equal('v');
    expect(problems).to.deep.equal(['unreadable lines 1, 3, 5 (not a [group], key=value or comment) skipped']);
    expect(problems.join()).not.to.contain('secret-value');
  });
});

describe('mail accounts: Thunderbird profiles.ini', () => {
  it('lists relative and absolute profiles, and an [Install] default no profile names', () => {
    const { profiles, problems } = parseThunderbirdProfiles(fixture('thunderbird/profiles.ini'));
    expect(problems).to.deep.equal([]);
    expect(profiles).to.deep.equal([
      { path: '9xq0c2mb.archive', isRelative: true },
      { path: '/home/ahmed/Mail/tb-work', isRelative: false },
      { path: 'k2f7w1qz.default-release', isRelative: true },
      { path: 'u8r3nq7d.legacy', isRelative: true },
    ]);
  });

  const rows = [
    // No IsRelative: read by the path's shape.
    { name: 'no IsRelative, absolute path', text: '[Profile0]\nPath=/srv/tb\n', profiles: [{ path: '/srv/tb', isRelative: false }], problems: [] },
    { name: 'no IsRelative, relative path', text: '[Profile0]\nPath=abc.default\n', profiles: [{ path: 'abc.default', isRelative: true }], problems: [] },
    // A profile without a Path cannot be opened.
    { name: 'no Path', text: '[Profile0]\nName=x\nIsRelative=1\n', profiles: [], problems: ['[Profile0] has no Path'] },
    { name: 'odd IsRelative', text: '[Profile0]\nIsRelative=yes\nPath=a\n', profiles: [{ path: 'a', isRelative: true }], problems: ['[Profile0] has an IsRelative that is neither 0 nor 1'] },
    // Windows writes forward slashes in relative paths; a drive path is absolute.
    { name: 'Windows paths', text: '[Profile0]\nIsRelative=1\nPath=Profiles/x.default\n[Profile1]\nPath=D:\\TB\\p\n', profiles: [{ path: 'Profiles/x.default', isRelative: true }, { path: 'D:\\TB\\p', isRelative: false }], problems: [] },
    { name: 'empty file', text: '', profiles: [], problems: [] },
  ];
  for (const row of rows) {
    it(row.name, () => expect(parseThunderbirdProfiles(row.text)).to.deep.equal({ profiles: row.profiles, problems: row.problems }));
  }
});

describe('mail accounts: Thunderbird prefs.js', () => {
  it('reads every value type, escapes and comments', () => {
    const { prefs, problems } = parsePrefs(
      '// c\n# hash comment\n/* block\n comment */ user_pref("a", "x\\"y\\\\z\\n\\u00e9\\x41");\npref("b", -12, locked);\nsticky_pref(\'c\', true);\nuser_pref("d",false) ;\n',
    );
    expect(problems).to.deep.equal([]);
    expect([...prefs]).to.deep.equal([['a', 'x"y\\z\néA'], ['b', -12], ['c', true], ['d', false]]);
  });

  it('turns the real prefs.js into one account per identity, servers linked, news and Local Folders left out', () => {
    const { accounts, problems } = parseThunderbirdPrefs(fixture('thunderbird/prefs.js'), TB);
    expect(problems).to.deep.equal([]);
    const base = { client: 'thunderbird', user: 'ahmed', source: TB.source };
    expect(accounts).to.deep.equal([
      // realhostname (what the user changed it to) wins over hostname.
      {
        ...base,
        address: 'ahmed.benali@interieur.gov.dz',
        displayName: 'Ahmed "Hamid" Benali',
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 587 },
        source: TB.source,
      },
      // No smtpServer of its own: the default one.
      {
        ...base,
        address: 'secretariat@interieur.gov.dz',
        displayName: 'Secrétariat général',
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 587 },
      },
      // No ports written: POP3 over SSL is 995, SMTP over SSL (try_ssl 3) 465.
      {
        ...base,
        address: 'ahmed.benali.perso@gmail.com',
        displayName: 'Ahmed B.',
        incoming: { protocol: 'pop3', host: 'pop.gmail.com', port: 995 },
        outgoing: { host: 'smtp.gmail.com', port: 465 },
      },
    ]);
  });

  it('reads what it can of a damaged prefs.js and names the bad lines without quoting them', () => {
    const { accounts, problems } = parseThunderbirdPrefs(fixture('thunderbird/prefs-damaged.js'), TB);
    expect(problems).to.deep.equal([
      'comment opened on line 20 never closes',
      'unreadable statements on line 12, 13, 14, 17, 19 skipped',
      'account account9 names no server',
    ]);
    expect(accounts).to.deep.equal([
      {
        client: 'thunderbird',
        user: 'ahmed',
        address: 'rachid@interieur.gov.dz',
        displayName: "Single 'quoted' name",
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 143 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 465 },
        source: TB.source,
      },
    ]);
    expect(problems.join(' ')).not.to.contain('Damaged-Pa55word');
  });

  it('without mail.accountmanager.accounts, reads every mail.account.*.server', () => {
    const text = 'user_pref("mail.account.a7.server", "s7");\nuser_pref("mail.account.a7.identities", "i7");\nuser_pref("mail.identity.i7.useremail", "x@y.dz");\nuser_pref("mail.server.s7.type", "imap");\nuser_pref("mail.server.s7.hostname", "imap.y.dz");\n';
    expect(parseThunderbirdPrefs(text, TB).accounts.map((a) => [a.address, a.incoming])).to.deep.equal([['x@y.dz', { protocol: 'imap', host: 'imap.y.dz', port: 143 }]]);
  });

  it('reads an outgoing server of the newer kind (mail.outgoingserver, EWS) without inventing a port', () => {
    const text = [
      'user_pref("mail.accountmanager.accounts", "a1");',
      'user_pref("mail.account.a1.server", "s1");',
      'user_pref("mail.account.a1.identities", "i1");',
      'user_pref("mail.identity.i1.useremail", "a.benali@mf.gov.dz");',
      'user_pref("mail.identity.i1.smtpServer", "ews1");',
      'user_pref("mail.server.s1.type", "ews");',
      'user_pref("mail.server.s1.hostname", "mail.mf.gov.dz");',
      'user_pref("mail.outgoingserver.ews1.hostname", "mail.mf.gov.dz");',
      '',
    ].join('\n');
    const [account] = parseThunderbirdPrefs(text, TB).accounts;
    expect([account?.incoming, account?.outgoing]).to.deep.equal([{ protocol: 'ews', host: 'mail.mf.gov.dz' }, { host: 'mail.mf.gov.dz' }]);
  });

  it('says so when an identity address is not an address', () => {
    const text = 'user_pref("mail.accountmanager.accounts", "a1");\nuser_pref("mail.account.a1.server", "s1");\nuser_pref("mail.account.a1.identities", "i1");\nuser_pref("mail.identity.i1.useremail", "not an address");\nuser_pref("mail.server.s1.type", "imap");\n';
    expect(parseThunderbirdPrefs(text, TB)).to.deep.equal({ accounts: [], problems: ['identity i1 of account a1 has an address that is not one'] });
  });

  it('never throws on garbage', () => {
    const garbage = ['\u0000\u0001\u0002', 'user_pref(', '"""', '/*', "user_pref('a', 'b'", 'x'.repeat(100_000), '\\u'];
    for (const text of garbage) expect(() => parseThunderbirdPrefs(text, TB)).not.to.throw();
  });
});

function evolutionFiles(): EvolutionSourceFile[] {
  const dir = new URL('evolution/', FIXTURES);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.source'))
    .map((name) => ({ uid: name.slice(0, -'.source'.length), text: readFileSync(new URL(name, dir), 'utf8'), source: `/home/ahmed/.config/evolution/sources/${name}` }));
}

describe('mail accounts: Evolution sources', () => {
  it('links account, identity and transport; leaves out the disabled account; reports the broken link', () => {
    const { accounts, problems } = parseEvolutionSources('ahmed', evolutionFiles());
    const src = (uid: string) => `/home/ahmed/.config/evolution/sources/${uid}.source`;
    expect(accounts).to.deep.equal([
      // IMAP over SSL, SMTP with STARTTLS on 587; `\s` of the name decoded then trimmed.
      {
        client: 'evolution',
        user: 'ahmed',
        address: 'ahmed.benali@interieur.gov.dz',
        displayName: 'Ahmed Benali',
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 587 },
        source: src('1732521600.2417.1@pc-finance-014'),
      },
      // POP with Port=0 over SSL: 995; sendmail transport: no outgoing server.
      {
        client: 'evolution',
        user: 'ahmed',
        address: 'ahmed.b@laposte.net',
        displayName: 'Ahmed B.',
        incoming: { protocol: 'pop3', host: 'pop.laposte.net', port: 995 },
        source: src('1732521700.2417.4@pc-finance-014'),
      },
    ]);
    expect(problems).to.deep.equal([
      '1732521900.2417.9@pc-finance-014.source: its identity 1732521900.2417.99@pc-finance-014 has no source file with an address',
    ]);
  });

  it('reads an Exchange (EWS) account by its URL', () => {
    const files: EvolutionSourceFile[] = [
      { uid: 'ews1', source: '/s/ews1.source', text: '[Mail Account]\nBackendName=ews\nIdentityUid=ews2\n\n[Ews Backend]\nHostUrl=https://mail.mf.gov.dz/EWS/Exchange.asmx\n' },
      { uid: 'ews2', source: '/s/ews2.source', text: '[Mail Identity]\nAddress=a.benali@mf.gov.dz\n' },
    ];
    expect(parseEvolutionSources('ahmed', files).accounts).to.deep.equal([
      { client: 'evolution', user: 'ahmed', address: 'a.benali@mf.gov.dz', incoming: { protocol: 'ews', host: 'mail.mf.gov.dz' }, source: '/s/ews1.source' },
    ]);
  });

  it('reports a damaged source file by name and line, and still reads the rest', () => {
    const files = [...evolutionFiles(), { uid: 'junk', source: '/s/junk.source', text: '\u0000\u0001 binary junk\n[Mail Account\n' }];
    const { accounts, problems } = parseEvolutionSources('ahmed', files);
    expect(accounts).to.have.length(2);
    expect(problems).to.include('junk.source: unreadable lines 1, 2 (not a [group], key=value or comment) skipped');
  });
});

describe('mail accounts: GNOME Online Accounts', () => {
  const GOA = { user: 'ahmed', source: '/home/ahmed/.config/goa-1.0/accounts.conf' };

  it('reads mail accounts of every provider that has mail on, and nothing else', () => {
    const { accounts, problems } = parseGoaAccounts(fixture('goa/accounts.conf'), GOA);
    expect(problems).to.deep.equal([]);
    const base = { client: 'goa', user: 'ahmed', source: GOA.source };
    expect(accounts).to.deep.equal([
      // Google: servers fixed by GOA.
      { ...base, address: 'ahmed.benali.perso@gmail.com', incoming: { protocol: 'imap', host: 'imap.gmail.com', port: 993 }, outgoing: { host: 'smtp.gmail.com', port: 587 } },
      // IMAP/SMTP: EmailAddress, a port written with the host.
      {
        ...base,
        address: 'ahmed.benali@interieur.gov.dz',
        displayName: 'Ahmed Benali',
        incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
        outgoing: { host: 'smtp.interieur.gov.dz', port: 2525 },
      },
      // Exchange: the address is the presentation identity (Identity is the login).
      { ...base, address: 'a.benali@mf.gov.dz', incoming: { protocol: 'ews', host: 'mail.mf.gov.dz' } },
      // Nextcloud (no mail) and the IMAP account with MailEnabled=false are left out.
      { ...base, address: 'ahmed.benali@outlook.fr', incoming: { protocol: 'imap', host: 'imap-mail.outlook.com', port: 993 }, outgoing: { host: 'smtp-mail.outlook.com', port: 587 } },
    ]);
  });

  const rows = [
    // Older GOA: Enabled instead of MailEnabled for IMAP/SMTP; plain IMAP, SMTP without encryption.
    {
      name: 'old Enabled key, no encryption',
      text: '[Account account_1_0]\nProvider=imap_smtp\nEnabled=true\nEmailAddress=a@b.dz\nImapHost=imap.b.dz\nSmtpHost=smtp.b.dz\n',
      expected: [{ address: 'a@b.dz', incoming: { protocol: 'imap', host: 'imap.b.dz', port: 143 }, outgoing: { host: 'smtp.b.dz', port: 25 } }],
      problems: [],
    },
    // Mail on but no address anywhere: a problem, not an account.
    { name: 'no address', text: '[Account account_2_0]\nProvider=imap_smtp\nMailEnabled=true\nIdentity=ahmed\n', expected: [], problems: ['account account_2_0 (imap_smtp) has mail enabled but no address'] },
    // A provider GOA has no fixed servers for: the address alone.
    { name: 'unknown mail provider', text: '[Account account_3_0]\nProvider=ms_graph\nPresentationIdentity=x@y.onmicrosoft.com\nMailEnabled=true\n', expected: [{ address: 'x@y.onmicrosoft.com' }], problems: [] },
    // Groups other than accounts are not read.
    { name: 'other groups', text: '[Something]\nMailEnabled=true\nIdentity=a@b.dz\n', expected: [], problems: [] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const { accounts, problems } = parseGoaAccounts(row.text, GOA);
      expect(accounts.map(({ address, incoming, outgoing }) => ({ address, ...(incoming ? { incoming } : {}), ...(outgoing ? { outgoing } : {}) }))).to.deep.equal(row.expected);
      expect(problems).to.deep.equal(row.problems);
    });
  }
});
