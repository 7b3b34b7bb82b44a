/**
 * Issue 6's "done when", end to end: an admin registers an address and a mail policy in the
 * console; a real Postfix (a private instance of Debian's) wired to the server's policy service
 * refuses a forged sender and a forbidden external domain while passing allowed mail; a real
 * agent finds a personal Gmail account in a user's Thunderbird profile; all three show in the
 * console's violation log.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostfixInstance } from '../e2e/support/postfix-instance.js';
import { SmtpClient, type SmtpReply } from '../e2e/support/smtp-client.js';
import { until } from '../e2e/support/server-api.js';
import { expectText, openRoute, screenshot, signIn, useConsole } from './support/console-harness.js';
import { FakeFleet } from './support/fake-fleet.js';

const SENDER = 'ali.aliyev@mincom.gov.az';

/** A PC's users and a Thunderbird profile with a work and a personal account, as Thunderbird writes them. */
async function fakeHomes(root: string): Promise<void> {
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nleyla:x:1000:1000:Leyla Mammadova:/home/leyla:/bin/bash\n');
  const tb = join(root, 'home', 'leyla', '.thunderbird');
  const profile = join(tb, 'a1b2c3d4.default-release');
  await mkdir(profile, { recursive: true });
  await writeFile(join(tb, 'profiles.ini'), '[Profile0]\nName=default-release\nIsRelative=1\nPath=a1b2c3d4.default-release\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n');
  await writeFile(
    join(profile, 'prefs.js'),
    [
      '// Mozilla User Preferences',
      'user_pref("mail.account.account1.identities", "id1");',
      'user_pref("mail.account.account1.server", "server1");',
      'user_pref("mail.account.account2.identities", "id2");',
      'user_pref("mail.account.account2.server", "server2");',
      'user_pref("mail.accountmanager.accounts", "account1,account2");',
      'user_pref("mail.identity.id1.useremail", "leyla.mammadova@mincom.gov.az");',
      'user_pref("mail.identity.id2.useremail", "leyla.home@gmail.com");',
      'user_pref("mail.server.server1.hostname", "mail.mincom.gov.az");',
      'user_pref("mail.server.server1.type", "imap");',
      'user_pref("mail.server.server2.hostname", "imap.gmail.com");',
      'user_pref("mail.server.server2.type", "imap");',
      '',
    ].join('\n'),
  );
}

describe("console: issue 6's done-when flow (console, real Postfix, real agent)", function () {
  this.timeout(90_000);
  const h = useConsole();
  let postfix: PostfixInstance | undefined;
  let fleet: FakeFleet | undefined;
  let homes = '';

  after(async () => {
    await fleet?.stop();
    await postfix?.destroy();
    if (homes !== '') await rm(homes, { recursive: true, force: true });
  });

  async function send(sender: string, recipient: string, login: string): Promise<{ rcpt: SmtpReply; data: SmtpReply | null }> {
    if (!postfix) throw new Error('Postfix is not running');
    const { client } = await SmtpClient.open(postfix.host, postfix.smtpPort);
    try {
      await client.ehlo();
      expect((await client.xclient({ LOGIN: login })).code).to.equal(220);
      await client.ehlo();
      expect((await client.mailFrom(sender)).code).to.equal(250);
      const rcpt = await client.rcptTo(recipient);
      const data = rcpt.code === 250 ? await client.data(`From: <${sender}>\r\nTo: <${recipient}>\r\nSubject: done-when\r\n\r\nhello\r\n`) : null;
      await client.quit();
      return { rcpt, data };
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await postfix.maillogTail()}`);
    }
  }

  it('registry and policy in the console → Postfix refuses forged and forbidden mail → the PC’s Gmail account → all in the log', async () => {
    const mailPolicy = h.server?.mailPolicy;
    if (!mailPolicy) throw new Error('the harness server has no mail policy service');
    postfix = await PostfixInstance.start(mailPolicy);
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    h.clearProblems(page);

    // 1. The address, through the Mail page's form.
    await page.locator('nav.sidenav a[href="#/mail"]').click();
    await page.getByTestId('mail-stats').waitFor();
    const form = page.getByTestId('mail-add-form');
    await form.getByTestId('mail-new-address').fill(SENDER);
    await form.getByTestId('mail-new-owner').fill('Ali Aliyev');
    await form.getByTestId('mail-new-group').selectOption('default');
    await form.getByTestId('mail-new-logins').fill('ali.aliyev');
    await form.getByTestId('mail-add').click();
    await expectText(page.getByTestId('mail-message'), h.t('en', 'mail.added', { address: SENDER }));

    // 2. The default group's mail policy: our domain, personal webmail refused.
    await page.getByTestId('mail-policy-group').selectOption('default');
    await page.getByTestId('mail-policy-internal').fill('mincom.gov.az');
    await page.getByTestId('mail-policy-mode-deny-list').check();
    await page.getByTestId('mail-policy-external').fill('gmail.com\nmail.ru');
    await page.getByTestId('mail-policy-save').click();
    await expectText(page.getByTestId('mail-policy-status'), h.t('en', 'mail.policy.saved', { group: 'default' }));

    // 3. Real mail through Postfix: allowed, forged sender, forbidden domain.
    const allowed = await send(SENDER, 'colleague@mincom.gov.az', 'ali.aliyev');
    expect(allowed.rcpt.code, allowed.rcpt.text).to.equal(250);
    expect(allowed.data?.code, allowed.data?.text).to.equal(250);
    const forged = await send('minister@mincom.gov.az', 'colleague@mincom.gov.az', 'ali.aliyev');
    expect(forged.rcpt.code, forged.rcpt.text).to.equal(554);
    expect(forged.rcpt.text).to.contain('sender address <minister@mincom.gov.az> is not registered');
    const forbidden = await send(SENDER, 'friend@gmail.com', 'ali.aliyev');
    expect(forbidden.rcpt.code, forbidden.rcpt.text).to.equal(554);
    expect(forbidden.rcpt.text).to.contain('the domain is on the deny list');

    // 4. A PC whose user set up a personal Gmail account in Thunderbird.
    homes = await mkdtemp(join(tmpdir(), 'portcullis-homes-'));
    await fakeHomes(homes);
    fleet = await FakeFleet.create();
    await fleet.enrollWithApi(h);
    await fleet.run({ mailRoot: homes });
    await until(
      'the unapproved account event',
      async () => (await h.api('GET', '/api/v1/events?type=mail.account.unapproved')).json.events.length > 0,
      45_000,
    );

    // 5. The violation log: the two refusals and the account, each in words.
    await openRoute(page, '/events?type=mail.rejected');
    const rows = page.getByTestId('events-row');
    await rows.first().waitFor();
    expect(await rows.count()).to.equal(2);
    const refusals = (await rows.allInnerTexts()).join('\n');
    expect(refusals).to.contain('minister@mincom.gov.az');
    expect(refusals).to.contain('friend@gmail.com');
    await screenshot(page, 'done-when-mail-refused-en');
    await openRoute(page, '/events?type=mail.account.unapproved');
    await rows.first().waitFor();
    const texts = (await rows.allInnerTexts()).join('\n');
    expect(texts).to.contain('leyla.home@gmail.com');
    // The log names the PC the account was found on, though the event is the server's own.
    const hostname = (await h.api('GET', `/api/v1/agents/${fleet.agentId}`)).json.agent.hostname as string;
    expect(texts).to.contain(hostname);
    // The personal address is outside our domains; the work one is in them but nobody registered it.
    const accounts = (await h.api('GET', '/api/v1/events?type=mail.account.unapproved')).json.events.map((e: { data: { address: string; reason: string } }) => [e.data.address, e.data.reason]);
    expect(accounts.sort()).to.deep.equal([
      ['leyla.home@gmail.com', 'domain-not-allowed'],
      ['leyla.mammadova@mincom.gov.az', 'not-registered'],
    ]);
    await screenshot(page, 'done-when-mail-account-en');
    h.expectNoProblems(page, 'the mail done-when flow');
  });
});
