import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { MailAccountDiscovery } from '../src/mail/accounts/mail-account-discovery.js';
import { MailAccountWatcher, type MailWatcherLogger } from '../src/mail/accounts/mail-account-watcher.js';
import { isRelevantPath } from '../src/mail/accounts/mail-watch-paths.js';

describe('mail accounts: which paths the watcher looks at', () => {
  const targets = { homes: ['/home/ahmed'], profileDirs: ['/home/ahmed/Mail/tb-work'], folders: ['/home/ahmed/.thunderbird'] };
  const rows: Array<{ path: string; relevant: boolean }> = [
    // The home and the folders leading to each client's folder, so a first start is seen.
    { path: '/home/ahmed', relevant: true },
    { path: '/home/ahmed/.config', relevant: true },
    { path: '/home/ahmed/snap', relevant: true },
    { path: '/home/ahmed/snap/thunderbird/common', relevant: true },
    { path: '/home/ahmed/.var/app/org.mozilla.Thunderbird/.thunderbird/profiles.ini', relevant: true },
    // Thunderbird: profiles.ini, profile folders and their prefs.js; not the mail stores.
    { path: '/home/ahmed/.thunderbird/profiles.ini', relevant: true },
    { path: '/home/ahmed/.thunderbird/k2f7w1qz.default-release', relevant: true },
    { path: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js', relevant: true },
    { path: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs-1.js', relevant: false },
    { path: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/ImapMail', relevant: false },
    { path: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/ImapMail/imap.x/INBOX.msf', relevant: false },
    // Evolution's *.source files; GOA's accounts.conf.
    { path: '/home/ahmed/.config/evolution/sources/1732521600.2417.1@pc.source', relevant: true },
    { path: '/home/ahmed/.config/evolution/sources/.goutputstream-X1Y2', relevant: false },
    { path: '/home/ahmed/.config/evolution/mail', relevant: false },
    { path: '/home/ahmed/.config/goa-1.0/accounts.conf', relevant: true },
    { path: '/home/ahmed/.config/goa-1.0/accounts.conf.3QJ1Z2', relevant: false },
    // A profile folder elsewhere in the home: the folder and its prefs.js only.
    { path: '/home/ahmed/Mail', relevant: false },
    { path: '/home/ahmed/Mail/tb-work', relevant: true },
    { path: '/home/ahmed/Mail/tb-work/prefs.js', relevant: true },
    { path: '/home/ahmed/Mail/tb-work/Mail', relevant: false },
    // Everything else in the home, and anything outside it.
    { path: '/home/ahmed/.bash_history', relevant: false },
    { path: '/home/ahmed/Documents/prefs.js', relevant: false },
    { path: '/home/sara/.thunderbird/profiles.ini', relevant: false },
    { path: '/home/ahmed2/.thunderbird', relevant: false },
  ];
  for (const row of rows) it(`${row.relevant ? 'watches' : 'ignores'} ${row.path}`, () => expect(isRelevantPath(row.path, targets)).to.equal(row.relevant));
});

function prefs(address: string): string {
  return [
    'user_pref("mail.accountmanager.accounts", "account1");',
    'user_pref("mail.account.account1.identities", "id1");',
    'user_pref("mail.account.account1.server", "server1");',
    `user_pref("mail.identity.id1.useremail", "${address}");`,
    'user_pref("mail.server.server1.type", "imap");',
    'user_pref("mail.server.server1.hostname", "imap.interieur.gov.dz");',
    '',
  ].join('\n');
}

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** Writes as Thunderbird does: a temporary file renamed over the old one. */
async function replace(path: string, content: string): Promise<void> {
  await put(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

const quiet: MailWatcherLogger = { info: () => undefined, warn: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mail accounts: watcher on a real tree (chokidar)', function () {
  this.timeout(30_000);
  let root: string;
  let watcher: MailAccountWatcher | undefined;
  let changes: number;
  let discovery: MailAccountDiscovery;

  /** Resolves at the next onChange; rejects after `ms`. */
  let nextChange: (ms: number) => Promise<void>;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-mailwatch-'));
    await put(join(root, 'etc/passwd'), 'ahmed:x:1000:1000::/home/ahmed:/bin/bash\nsara:x:1001:1001::/home/sara:/bin/bash\n');
    await put(join(root, 'home/ahmed/.thunderbird/profiles.ini'), '[Profile0]\nIsRelative=1\nPath=p.default\n');
    await put(join(root, 'home/ahmed/.thunderbird/p.default/prefs.js'), prefs('ahmed@interieur.gov.dz'));
    await mkdir(join(root, 'home/sara'), { recursive: true });
    discovery = new MailAccountDiscovery({ root });
    changes = 0;
    let waiting: (() => void) | undefined;
    nextChange = (ms) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no change reported within ${ms} ms`)), ms);
        waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    watcher = new MailAccountWatcher({
      discover: () => discovery.discover(),
      onChange: () => {
        changes++;
        waiting?.();
      },
      logger: quiet,
      debounceMs: 300,
    });
    await watcher.ready;
  });

  afterEach(async () => {
    await watcher?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reports a new account written into prefs.js within seconds, once for the burst', async () => {
    const prefsPath = join(root, 'home/ahmed/.thunderbird/p.default/prefs.js');
    const changed = nextChange(10_000);
    await replace(prefsPath, `${prefs('ahmed@interieur.gov.dz')}user_pref("mail.identity.id1.fullName", "A");\n`);
    await replace(prefsPath, prefs('ahmed.new@gmail.com'));
    await changed;
    await sleep(800);
    expect(changes).to.equal(1);
    expect((await discovery.discover()).accounts.map((a) => a.address)).to.deep.equal(['ahmed.new@gmail.com']);
  });

  it('sees Thunderbird set up for the first time in a home that had none', async () => {
    const changed = nextChange(10_000);
    const tb = join(root, 'home/sara/.thunderbird');
    await put(join(tb, 'profiles.ini'), '[Profile0]\nIsRelative=1\nPath=s.default\n');
    await put(join(tb, 's.default/prefs.js'), prefs('sara@interieur.gov.dz'));
    await changed;
    // The profile folder, created after the first event, is watched too.
    await sleep(800);
    const again = nextChange(10_000);
    await replace(join(tb, 's.default/prefs.js'), prefs('sara.perso@yahoo.fr'));
    await again;
    expect((await discovery.discover()).accounts.map((a) => a.address)).to.include('sara.perso@yahoo.fr');
  });

  it('watches a profile folder a changed profiles.ini points at elsewhere in the home', async () => {
    const changed = nextChange(10_000);
    await put(join(root, 'home/ahmed/Work/tb/prefs.js'), prefs('work@interieur.gov.dz'));
    await replace(join(root, 'home/ahmed/.thunderbird/profiles.ini'), '[Profile0]\nIsRelative=1\nPath=p.default\n[Profile1]\nIsRelative=0\nPath=/home/ahmed/Work/tb\n');
    await changed;
    await sleep(800);
    const again = nextChange(10_000);
    await replace(join(root, 'home/ahmed/Work/tb/prefs.js'), prefs('work2@interieur.gov.dz'));
    await again;
  });

  it('stays quiet when prefs.js is rewritten without any account changing', async () => {
    const prefsPath = join(root, 'home/ahmed/.thunderbird/p.default/prefs.js');
    await replace(prefsPath, `${prefs('ahmed@interieur.gov.dz')}user_pref("mail.last_msg_movecopy_target_uri", "imap://x/Archives");\n`);
    await sleep(1_500);
    expect(changes).to.equal(0);
    // The file was seen (the watch is alive): a real change still comes through.
    const changed = nextChange(10_000);
    await replace(prefsPath, prefs('ahmed.renamed@interieur.gov.dz'));
    await changed;
  });

  it('ignores files that hold no accounts', async () => {
    await put(join(root, 'home/ahmed/.bash_history'), 'ls\n');
    await put(join(root, 'home/ahmed/.thunderbird/p.default/ImapMail/imap.x/INBOX.msf'), 'x');
    await put(join(root, 'home/ahmed/.thunderbird/p.default/prefs-1.js'), 'x');
    await sleep(1_500);
    expect(changes).to.equal(0);
  });

  it('reports nothing once closed, and closing twice is fine', async () => {
    await watcher?.close();
    await replace(join(root, 'home/ahmed/.thunderbird/p.default/prefs.js'), prefs('late@interieur.gov.dz'));
    await sleep(1_000);
    expect(changes).to.equal(0);
    await watcher?.close();
  });
});

describe('mail accounts: watcher failures', () => {
  it('logs and runs on when its paths cannot be found (no /etc/passwd)', async () => {
    const warnings: string[] = [];
    const watcher = new MailAccountWatcher({
      discover: () => Promise.reject(new Error('cannot read /etc/passwd: ENOENT')),
      onChange: () => undefined,
      logger: { info: () => undefined, warn: (message) => warnings.push(message) },
    });
    await watcher.ready;
    expect(warnings).to.deep.equal(['mail account watch could not start; new accounts wait for the next inventory']);
    await watcher.close();
  });

  it('refuses a negative debounce', () => {
    const discover = () => Promise.resolve({ accounts: [], total: 0, problems: [], watchTargets: { homes: [], profileDirs: [], folders: [] } });
    expect(() => new MailAccountWatcher({ discover, onChange: () => undefined, logger: quiet, debounceMs: -1 })).to.throw(RangeError);
  });
});
