import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseEvolutionSources } from '../src/mail/accounts/evolution-sources.js';
import { parseGoaAccounts } from '../src/mail/accounts/goa-accounts.js';
import type { MailParseResult } from '../src/mail/accounts/mail-account.js';
import { decodeRegExport, parseOutlookProfiles } from '../src/mail/accounts/outlook-profiles.js';
import { parseThunderbirdPrefs } from '../src/mail/accounts/thunderbird-prefs.js';

/*
 * Configuration files can hold passwords and tokens next to the fields the agent reads: old
 * Thunderbird prefs carry `password` prefs, OAuth add-ons write tokens, Outlook keeps DPAPI blobs
 * of passwords beside the servers. Each case feeds a real fixture with such secrets planted (in
 * well-formed lines and in broken ones) and checks that no secret is anywhere in what the parser
 * returns: neither the accounts nor the problem texts, which are sent to the server too.
 */

const FIXTURES = new URL('../../test/fixtures/mail/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const SECRETS = ['Pop3-Pa55word!', 'Smtp-Pa55word!', 'ya29.a0AfB_byC-OAuthTokenValue', 'S3cr3t-', 'Outlook-IMAP-Secret', 'Outlook-POP3-Secret'];

function secretsIn(result: MailParseResult): string[] {
  const json = JSON.stringify(result);
  return SECRETS.filter((secret) => json.includes(secret));
}

const cases: Array<{ name: string; run: () => MailParseResult }> = [
  {
    // The fixture has a POP3 password, an SMTP password and an OAuth token among its prefs.
    name: 'Thunderbird prefs.js',
    run: () =>
      parseThunderbirdPrefs(
        `${text('thunderbird/prefs.js')}user_pref("mail.server.server2.password", "S3cr3t-imap");\nuser_pref("mail.server.server2.password" "S3cr3t-broken");\nuser_pref("S3cr3t-name", 1) junk\n`,
        { user: 'ahmed', source: '/p' },
      ),
  },
  {
    name: 'Evolution sources',
    run: () => {
      const dir = new URL('evolution/', FIXTURES);
      const files = readdirSync(dir).map((name) => {
        const planted = `${readFileSync(new URL(name, dir), 'utf8')}\n[Authentication]\nPassword=S3cr3t-evo\nS3cr3t-broken line\n`;
        return { uid: name.slice(0, -'.source'.length), text: planted, source: `/s/${name}` };
      });
      return parseEvolutionSources('ahmed', files);
    },
  },
  {
    name: 'GNOME Online Accounts',
    run: () =>
      parseGoaAccounts(
        text('goa/accounts.conf').replace(/^(\[Account [^\]]+\])$/gm, '$1\nImapPassword=S3cr3t-imap\nAccessToken=S3cr3t-token\nRefreshToken=S3cr3t-refresh\nS3cr3t-broken-line'),
        { user: 'ahmed', source: '/g' },
      ),
  },
  {
    // The fixture's IMAP and POP3 passwords are DPAPI blobs ending in readable bytes.
    name: 'Outlook profiles',
    run: () =>
      parseOutlookProfiles(
        `${decodeRegExport(readFileSync(new URL('outlook/profiles.reg', FIXTURES)))}"SMTP Password"="S3cr3t-reg"\r\nS3cr3t-broken=\r\n`,
        'ahmed',
      ),
  },
];

describe('mail accounts: no password or token reaches the model', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = c.run();
      // The planted lines were read (accounts found, broken lines reported), and nothing secret came out.
      expect(result.accounts.length).to.be.greaterThan(0);
      expect(secretsIn(result)).to.deep.equal([]);
    });
  }

  it('the check itself sees a secret where there is one', () => {
    expect(secretsIn({ accounts: [], problems: ['line S3cr3t-x'] })).to.deep.equal(['S3cr3t-']);
  });
});
