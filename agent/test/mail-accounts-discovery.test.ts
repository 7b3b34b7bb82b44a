import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { parsePasswd } from '../src/mail/accounts/local-users.js';
import { MailAccountDiscovery, type MailAccountDiscoveryResult } from '../src/mail/accounts/mail-account-discovery.js';
import { MAX_MAIL_FILE_BYTES } from '../src/mail/accounts/mail-account.js';

const FIXTURES = new URL('../../test/fixtures/mail/', import.meta.url);
const fixture = (name: string): Promise<string> => readFile(new URL(name, FIXTURES), 'utf8');

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'ahmed:x:1000:1000:Ahmed Benali,,,:/home/ahmed:/bin/bash',
  'sara:x:1001:1001::/home/sara:/usr/sbin/nologin',
  'mallory:x:1002:1002::/home/mallory:/bin/bash',
  'ghost:x:1003:1003::/home/ghost:/bin/bash',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'this line is broken',
  '',
].join('\n');

function prefs(address: string, host: string): string {
  return [
    'user_pref("mail.accountmanager.accounts", "account1");',
    'user_pref("mail.account.account1.identities", "id1");',
    'user_pref("mail.account.account1.server", "server1");',
    `user_pref("mail.identity.id1.useremail", "${address}");`,
    'user_pref("mail.server.server1.type", "imap");',
    `user_pref("mail.server.server1.hostname", "${host}");`,
    'user_pref("mail.server.server1.port", 993);',
    '',
  ].join('\n');
}

async function put(root: string, path: string, content: string): Promise<string> {
  const full = join(root, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, content);
  return full;
}

/**
 * A PC's tree: ahmed with Thunderbird (two profiles, one outside ~/.thunderbird, and the Debian
 * `~/.mozilla-thunderbird` link to it), Evolution and GOA; sara (nologin) with the Snap
 * Thunderbird; mallory, whose home is full of tricks to make a root agent read other files:
 * links out of the home, a hard link, a FIFO, a huge file. Outside every home lie files holding
 * an address that must never be reported (`victim@secret.dz`).
 */
async function buildTree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-mail-'));
  await put(root, 'etc/passwd', PASSWD);
  await mkdir(join(root, 'root'));
  await put(root, 'etc/secret-prefs.js', prefs('victim@secret.dz', 'imap.secret.dz'));
  await put(root, 'etc/tb/prefs.js', prefs('victim@secret.dz', 'imap.secret.dz'));
  await put(root, 'opt/tbprofile/prefs.js', prefs('victim@secret.dz', 'imap.secret.dz'));
  await put(root, 'etc/evo-sources/a.source', '[Mail Account]\nBackendName=imapx\nIdentityUid=b\n');
  await put(root, 'etc/evo-sources/b.source', '[Mail Identity]\nAddress=victim@secret.dz\n');
  const goaOutside = await put(root, 'etc/goa-hardlink.conf', '[Account account_1_0]\nProvider=google\nIdentity=victim@secret.dz\nMailEnabled=true\n');

  // ahmed
  await put(root, 'home/ahmed/.thunderbird/profiles.ini', await fixture('thunderbird/profiles.ini'));
  await put(root, 'home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js', await fixture('thunderbird/prefs.js'));
  await put(root, 'home/ahmed/Mail/tb-work/prefs.js', prefs('ahmed.work@interieur.gov.dz', 'imap2.interieur.gov.dz'));
  await symlink('.thunderbird', join(root, 'home/ahmed/.mozilla-thunderbird'));
  for (const name of readdirSync(new URL('evolution/', FIXTURES))) {
    await put(root, `home/ahmed/.config/evolution/sources/${name}`, await fixture(`evolution/${name}`));
  }
  await put(root, 'home/ahmed/.config/evolution/sources/notes.txt', 'not a source');
  await put(root, 'home/ahmed/.config/goa-1.0/accounts.conf', await fixture('goa/accounts.conf'));

  // sara: Snap Thunderbird
  await put(root, 'home/sara/snap/thunderbird/common/.thunderbird/profiles.ini', '[Profile0]\nName=default\nIsRelative=1\nPath=abc.default\nDefault=1\n');
  await put(root, 'home/sara/snap/thunderbird/common/.thunderbird/abc.default/prefs.js', prefs('sara@interieur.gov.dz', 'imap.interieur.gov.dz'));

  // mallory
  await put(
    root,
    'home/mallory/.thunderbird/profiles.ini',
    '[Profile0]\nIsRelative=1\nPath=evil\n\n[Profile1]\nIsRelative=0\nPath=/etc/tb\n\n[Profile2]\nIsRelative=1\nPath=linkdir\n\n[Profile3]\nIsRelative=1\nPath=../../../opt/tbprofile\n\n[Profile4]\nIsRelative=0\nPath=C:\\Users\\mallory\\tb\n',
  );
  await mkdir(join(root, 'home/mallory/.thunderbird/evil'));
  await symlink(join(root, 'etc/secret-prefs.js'), join(root, 'home/mallory/.thunderbird/evil/prefs.js'));
  await symlink(join(root, 'opt/tbprofile'), join(root, 'home/mallory/.thunderbird/linkdir'));
  await put(root, 'home/mallory/.mozilla-thunderbird/profiles.ini', `[Profile0]\nPath=x\n${'#'.repeat(MAX_MAIL_FILE_BYTES)}\n`);
  await mkdir(join(root, 'home/mallory/.var/app/org.mozilla.Thunderbird/.thunderbird'), { recursive: true });
  execFileSync('mkfifo', [join(root, 'home/mallory/.var/app/org.mozilla.Thunderbird/.thunderbird/profiles.ini')]);
  await mkdir(join(root, 'home/mallory/.config/goa-1.0'), { recursive: true });
  await link(goaOutside, join(root, 'home/mallory/.config/goa-1.0/accounts.conf'));
  await mkdir(join(root, 'home/mallory/.config/evolution'), { recursive: true });
  await symlink(join(root, 'etc/evo-sources'), join(root, 'home/mallory/.config/evolution/sources'));
  return root;
}

describe('mail accounts: discovery on a fake tree', () => {
  let root: string;
  let result: MailAccountDiscoveryResult;

  before(async () => {
    root = await buildTree();
    result = await new MailAccountDiscovery({ root }).discover();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('finds every account of every client, per user, sorted, the linked Thunderbird folder read once', () => {
    const seen = result.accounts.map((a) => `${a.user} ${a.client} ${a.address} ${a.source}`);
    expect(seen).to.deep.equal([
      'ahmed evolution ahmed.b@laposte.net /home/ahmed/.config/evolution/sources/1732521700.2417.4@pc-finance-014.source',
      'ahmed evolution ahmed.benali@interieur.gov.dz /home/ahmed/.config/evolution/sources/1732521600.2417.1@pc-finance-014.source',
      'ahmed goa a.benali@mf.gov.dz /home/ahmed/.config/goa-1.0/accounts.conf',
      'ahmed goa ahmed.benali.perso@gmail.com /home/ahmed/.config/goa-1.0/accounts.conf',
      'ahmed goa ahmed.benali@interieur.gov.dz /home/ahmed/.config/goa-1.0/accounts.conf',
      'ahmed goa ahmed.benali@outlook.fr /home/ahmed/.config/goa-1.0/accounts.conf',
      'ahmed thunderbird ahmed.benali.perso@gmail.com /home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js',
      'ahmed thunderbird ahmed.benali@interieur.gov.dz /home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js',
      // IsRelative=0: an absolute path inside the home is read.
      'ahmed thunderbird ahmed.work@interieur.gov.dz /home/ahmed/Mail/tb-work/prefs.js',
      'ahmed thunderbird secretariat@interieur.gov.dz /home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js',
      // A nologin account with a home holding a profile is included.
      'sara thunderbird sara@interieur.gov.dz /home/sara/snap/thunderbird/common/.thunderbird/abc.default/prefs.js',
    ]);
    expect(result.total).to.equal(11);
  });

  it('reads nothing outside a home, whatever links, hard links, FIFOs or sizes a user sets up, and says why', () => {
    expect(JSON.stringify(result)).not.to.contain('secret.dz');
    expect(result.problems).to.deep.equal([
      '/etc/passwd: 1 malformed line skipped',
      '/home/ahmed/.config/evolution/sources: 1732521900.2417.9@pc-finance-014.source: its identity 1732521900.2417.99@pc-finance-014 has no source file with an address',
      '/home/mallory/.thunderbird/evil/prefs.js: is a symbolic link: not read',
      '/etc/tb: lies outside the home: not read',
      '/home/mallory/.thunderbird/linkdir: lies outside the home: not read',
      '/opt/tbprofile: lies outside the home: not read',
      '/home/mallory/.thunderbird/profiles.ini: a profile path is not a Linux path: not read',
      `/home/mallory/.mozilla-thunderbird/profiles.ini: is larger than 4 MiB: not read`,
      '/home/mallory/.var/app/org.mozilla.Thunderbird/.thunderbird/profiles.ini: is not a regular file: not read',
      '/home/mallory/.config/evolution/sources: lies outside the home: not read',
      '/home/mallory/.config/goa-1.0/accounts.conf: has more than one hard link: not read',
    ]);
  });

  it('gives the watcher the existing homes, the profile folders read and the client folders there are', () => {
    const at = (...paths: string[]) => paths.map((p) => join(root, p));
    expect(result.watchTargets).to.deep.equal({
      homes: at('root', 'home/ahmed', 'home/sara', 'home/mallory'),
      // mallory's `evil` is a real folder of the home (only its prefs.js, a link, is refused).
      profileDirs: at(
        'home/ahmed/Mail/tb-work',
        'home/ahmed/.thunderbird/k2f7w1qz.default-release',
        'home/sara/snap/thunderbird/common/.thunderbird/abc.default',
        'home/mallory/.thunderbird/evil',
      ),
      // The links mallory set up out of the home are no folders to watch.
      folders: at(
        'home/ahmed/.thunderbird',
        'home/ahmed/.mozilla-thunderbird',
        'home/ahmed/.config/evolution/sources',
        'home/ahmed/.config/goa-1.0',
        'home/sara/snap/thunderbird/common/.thunderbird',
        'home/mallory/.thunderbird',
        'home/mallory/.mozilla-thunderbird',
        'home/mallory/.var/app/org.mozilla.Thunderbird/.thunderbird',
        'home/mallory/.config/goa-1.0',
      ),
    });
  });

  it('caps the list, keeping the count of all found', async () => {
    const capped = await new MailAccountDiscovery({ root, maxAccounts: 3 }).discover();
    expect(capped.accounts).to.deep.equal(result.accounts.slice(0, 3));
    expect(capped.total).to.equal(11);
  });

  it('rejects, naming the file, when there is no /etc/passwd', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'portcullis-mail-empty-'));
    try {
      let error: unknown;
      await new MailAccountDiscovery({ root: empty }).discover().catch((err: unknown) => (error = err));
      expect((error as Error).message).to.equal('cannot read /etc/passwd: ENOENT');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new MailAccountDiscovery({ maxAccounts: 0 })).to.throw(RangeError, /maxAccounts/);
  });
});

describe('mail accounts: /etc/passwd', () => {
  const rows = [
    // root and uid >= 1000 are people; system accounts are not.
    { name: 'root and users', text: 'root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nahmed:x:1000:1000::/home/ahmed:/bin/bash\n', users: ['root /root', 'ahmed /home/ahmed'], malformed: 0 },
    // `/` is never a user's folder; a relative home and one with `..` are not trusted.
    { name: 'odd homes', text: 'a:x:1000:1000::/:/bin/sh\nb:x:1001:1001::home/b:/bin/sh\nc:x:1002:1002::/home/../etc:/bin/sh\nd:x:1003:1003::/home/d/:/bin/sh\n', users: ['d /home/d'], malformed: 0 },
    // Two accounts sharing a home: listed once.
    { name: 'shared home', text: 'a:x:1000:1000::/srv/shared:/bin/sh\nb:x:1001:1001::/srv/shared:/bin/sh\n', users: ['a /srv/shared'], malformed: 0 },
    // NIS markers and comments are skipped; short lines and bad uids are malformed.
    { name: 'NIS and malformed', text: '+::::::\n# comment\nx:x:1000\ny:x:abc:1::/home/y:/bin/sh\nz:x:1000:1000::/home/z:/bin/sh:extra\n', users: [], malformed: 3 },
    { name: 'CRLF', text: 'ahmed:x:1000:1000::/home/ahmed:/bin/bash\r\n', users: ['ahmed /home/ahmed'], malformed: 0 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const { users, malformed } = parsePasswd(row.text);
      expect(users.map((u) => `${u.name} ${u.home}`)).to.deep.equal(row.users);
      expect(malformed).to.equal(row.malformed);
    });
  }
});
