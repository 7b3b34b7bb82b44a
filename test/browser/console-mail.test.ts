/**
 * The mail page in Chromium against a real server: an admin registers an address, suspends it in
 * place, sets a group's mail policy (a typing mistake is caught before sending) and finds it saved
 * after a reload, imports a two-row CSV and sees the counts, then a CSV with a bad line and sees
 * that line's error with nothing stored. A viewer reads the registry but gets no editing controls.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectText, openRoute, screenshot, signIn, useConsole, type ConsoleHarness } from './support/console-harness.js';

const GROUP = 'finance';
const ADDRESS = 'ali.aliyev@mincom.gov.az';

const GOOD_CSV = [
  'address,owner,group,logins,state,notes',
  'vali.valiyev@mincom.gov.az,Vali Valiyev,finance,vali.valiyev,active,',
  '"kadr@mincom.gov.az","Kadrlar şöbəsi, ümumi",default,kadr1 kadr2,active,shared mailbox',
].join('\n');

/** Line 2 is good, line 3 is not an address: the server must refuse the whole file. */
const BAD_CSV = ['address,owner,group,logins,state,notes', 'good.one@mincom.gov.az,Good One,finance,,active,', 'not-an-address,Bad Row,finance,,active,'].join('\n');

async function openMail(page: Page, path = '/mail'): Promise<void> {
  await openRoute(page, path);
  await page.getByTestId('mail-stats').waitFor();
}

const row = (page: Page, address: string) => page.locator(`[data-testid="mail-row"][data-address="${address}"]`);

async function registered(h: ConsoleHarness, address: string): Promise<number> {
  return (await h.api('GET', `/api/v1/mail/addresses/${encodeURIComponent(address)}`)).status;
}

describe('console mail page in Chromium', function () {
  this.timeout(60_000);
  const h = useConsole();

  before(async () => {
    const made = await h.api('POST', '/api/v1/groups', { name: GROUP, description: 'finance department' });
    expect(made.status, JSON.stringify(made.json)).to.equal(201);
  });

  it('lets an admin add an address and suspend it in place', async () => {
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    h.clearProblems(page);
    await openMail(page);
    await page.getByTestId('mail-empty').waitFor();

    const form = page.getByTestId('mail-add-form');
    await form.getByTestId('mail-new-address').fill('Ali.Aliyev@MinCom.gov.az');
    await form.getByTestId('mail-new-owner').fill('Ali Aliyev');
    await form.getByTestId('mail-new-group').selectOption(GROUP);
    await form.getByTestId('mail-new-logins').fill('ali.aliyev, a.aliyev');
    await form.getByTestId('mail-add').click();
    await expectText(page.getByTestId('mail-message'), h.t('en', 'mail.added', { address: ADDRESS }));
    const added = row(page, ADDRESS);
    await added.waitFor();
    expect(await added.innerText()).to.contain('ali.aliyev a.aliyev');
    await expectText(added.getByTestId('mail-state'), h.t('en', 'mail.state.active'));

    await added.getByTestId('mail-edit').click();
    await added.getByTestId('mail-edit-state').selectOption('suspended');
    await added.getByTestId('mail-edit-notes').fill('on leave');
    await added.getByTestId('mail-edit-save').click();
    await expectText(page.getByTestId('mail-message'), h.t('en', 'mail.saved', { address: ADDRESS }));
    await expectText(row(page, ADDRESS).getByTestId('mail-state'), h.t('en', 'mail.state.suspended'));
    expect(await row(page, ADDRESS).getByTestId('mail-state').getAttribute('class')).to.contain('mail-state-suspended');
    const stored = await h.api('GET', `/api/v1/mail/addresses/${encodeURIComponent(ADDRESS)}`);
    expect([stored.json.state, stored.json.notes, stored.json.logins]).to.deep.equal(['suspended', 'on leave', ['ali.aliyev', 'a.aliyev']]);

    // The state filter lives in the URL: suspended shows it, active does not.
    await page.getByTestId('mail-filter-state').selectOption('active');
    await page.getByTestId('mail-empty').waitFor();
    expect(page.url()).to.contain('state=active');
    await page.getByTestId('mail-filter-state').selectOption('suspended');
    await row(page, ADDRESS).waitFor();
    await screenshot(page, 'mail-registry-en');
    h.expectNoProblems(page, 'adding and editing an address');
  });

  it('sets a group’s mail policy, catching a bad domain first, and shows it saved after a reload', async () => {
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    await openMail(page);
    await page.getByTestId('mail-policy-group').selectOption(GROUP);
    await page.waitForFunction((g) => location.hash.includes(`policy=${g}`), GROUP);
    await expectText(page.getByTestId('mail-policy-updated'), h.t('en', 'mail.policy.default'));

    await page.getByTestId('mail-policy-internal').fill('mincom.gov.az');
    await page.getByTestId('mail-policy-mode-allow-list').check();
    await page.getByTestId('mail-policy-external').fill('Gmail.com');
    await expectText(page.getByTestId('mail-policy-problem').first(), h.t('en', 'mail.policy.domainCase', { domain: 'Gmail.com', lower: 'gmail.com' }));
    expect(await page.getByTestId('mail-policy-external').getAttribute('aria-invalid')).to.equal('true');
    await page.getByTestId('mail-policy-save').click();
    await expectText(page.getByTestId('mail-policy-status'), h.t('en', 'mail.policy.fix'));

    await page.getByTestId('mail-policy-external').fill('gmail.com\nyandex.ru');
    await page.getByTestId('mail-policy-size').fill('2.5');
    await page.getByTestId('mail-policy-maxMessagesPerHour').fill('200');
    await page.getByTestId('mail-policy-maxExternalRecipientsPerDay').fill('500');
    expect(await page.getByTestId('mail-policy-problem').count()).to.equal(0);
    await page.getByTestId('mail-policy-save').click();
    await expectText(page.getByTestId('mail-policy-status'), h.t('en', 'mail.policy.saved', { group: GROUP }));

    const stored = await h.api('GET', `/api/v1/groups/${GROUP}/mail-policy`);
    expect(stored.json.policy).to.deep.equal({
      internalDomains: ['mincom.gov.az'],
      externalMode: 'allow-list',
      externalDomains: ['gmail.com', 'yandex.ru'],
      maxExternalBytes: 2.5 * 1_048_576,
      maxMessagesPerHour: 200,
      maxExternalRecipientsPerHour: 0,
      maxMessagesPerDay: 0,
      maxExternalRecipientsPerDay: 500,
    });

    await page.reload();
    await page.getByTestId('mail-policy-form').waitFor();
    expect(await page.getByTestId('mail-policy-group').inputValue()).to.equal(GROUP);
    expect(await page.getByTestId('mail-policy-internal').inputValue()).to.equal('mincom.gov.az');
    expect(await page.getByTestId('mail-policy-external').inputValue()).to.equal('gmail.com\nyandex.ru');
    expect(await page.getByTestId('mail-policy-mode-allow-list').isChecked()).to.equal(true);
    expect(await page.getByTestId('mail-policy-size').inputValue()).to.equal('2.5');
    expect(await page.getByTestId('mail-policy-maxExternalRecipientsPerDay').inputValue()).to.equal('500');
    expect(await page.getByTestId('mail-policy-updated').innerText()).to.contain('admin');
    // Nothing changed since the save: there is nothing to save.
    expect(await page.getByTestId('mail-policy-save').isDisabled()).to.equal(true);
    await screenshot(page, 'mail-policy-en');
  });

  it('imports a two-row CSV and shows the counts, then refuses a file with a bad line and stores nothing', async () => {
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    h.clearProblems(page);
    await openMail(page);

    await page.getByTestId('mail-import-file').setInputFiles({ name: 'addresses.csv', mimeType: 'text/csv', buffer: Buffer.from(GOOD_CSV) });
    await page.getByTestId('mail-import').click();
    await expectText(page.getByTestId('mail-import-summary'), h.t('en', 'mail.csv.done', { created: 2, updated: 0, unchanged: 0 }));
    await row(page, 'vali.valiyev@mincom.gov.az').waitFor();
    expect(await row(page, 'kadr@mincom.gov.az').innerText()).to.contain('Kadrlar şöbəsi, ümumi');

    await page.getByTestId('mail-import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(BAD_CSV) });
    await page.getByTestId('mail-import').click();
    await expectText(page.getByTestId('mail-import-summary'), h.t('en', 'mail.csv.failed', { count: 1 }));
    const errors = page.getByTestId('mail-import-error');
    expect(await errors.count()).to.equal(1);
    const line = await errors.first().innerText();
    expect(line.startsWith(h.t('en', 'mail.csv.line', { line: 3, message: '' }))).to.equal(true);
    expect(line).to.contain('not-an-address');
    // All or nothing: the good line 2 of the refused file was not stored either.
    expect(await registered(h, 'good.one@mincom.gov.az')).to.equal(404);
    expect(await row(page, 'good.one@mincom.gov.az').count()).to.equal(0);
    await screenshot(page, 'mail-import-refused-en');
    // The refused import is a 400 the browser logs as a failed load; nothing else may be logged.
    const seen = h.problemsOf(page);
    expect([...seen.console.filter((c) => !/status of 400/.test(c)), ...seen.pageErrors]).to.deep.equal([]);
  });

  it('fits a 1280 px wide screen in Azerbaijani, a row open for editing included', async () => {
    const page = await h.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await signIn(page, h.url, h.users.admin);
    h.clearProblems(page);
    await openMail(page);
    await row(page, 'kadr@mincom.gov.az').getByTestId('mail-edit').click();
    await row(page, 'kadr@mincom.gov.az').getByTestId('mail-edit-save').waitFor();
    // Neither the page nor the main area (which scrolls on its own) may scroll sideways.
    for (const selector of ['html', 'main#main']) {
      const overflow = await page.locator(selector).evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow, `${selector} scrolls sideways by ${overflow}px`).to.be.at.most(0);
    }
    await screenshot(page, 'mail-edit-az');
    h.expectNoProblems(page, 'opening a row for editing');
  });

  it('shows a viewer the registry and the policy, with no way to change them', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.viewer);
    h.clearProblems(page);
    await openMail(page);
    await row(page, ADDRESS).waitFor();
    await expectText(row(page, ADDRESS).getByTestId('mail-state'), h.t('az', 'mail.state.suspended'));
    for (const id of ['mail-add-form', 'mail-edit', 'mail-delete', 'mail-import-file', 'mail-export', 'mail-policy-save']) {
      expect(await page.getByTestId(id).count(), id).to.equal(0);
    }
    await page.getByTestId('mail-policy-form').waitFor();
    expect(await page.getByTestId('mail-policy-internal').isDisabled()).to.equal(true);
    await expectText(page.getByTestId('mail-refused-link'), h.t('az', 'mail.refusedLink'));
    await screenshot(page, 'mail-viewer-az');
    await page.getByTestId('mail-refused-link').click();
    await page.waitForFunction(() => location.hash === '#/events?type=mail.rejected');
    expect(await page.getByTestId('events-filter-type').inputValue()).to.equal('mail.rejected');
    h.expectNoProblems(page, 'reading the mail page as a viewer');
  });

  it('lets an admin delete an address after confirming', async () => {
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    await openMail(page);
    const target = row(page, 'vali.valiyev@mincom.gov.az');
    await target.getByTestId('mail-delete').click();
    await target.getByTestId('mail-delete-cancel').click();
    expect(await registered(h, 'vali.valiyev@mincom.gov.az')).to.equal(200);
    await target.getByTestId('mail-delete').click();
    await target.getByTestId('mail-delete-confirm').click();
    await expectText(page.getByTestId('mail-message'), h.t('en', 'mail.deleted', { address: 'vali.valiyev@mincom.gov.az' }));
    expect(await registered(h, 'vali.valiyev@mincom.gov.az')).to.equal(404);
  });

  it('pages through more addresses than one page holds, with the filter in the URL', async () => {
    const rows = Array.from({ length: 101 }, (_, i) => `p${String(i).padStart(3, '0')}@paging.az,Paging ${i},default,,active,`);
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    await openMail(page);
    await page.getByTestId('mail-import-file').setInputFiles({ name: 'many.csv', mimeType: 'text/csv', buffer: Buffer.from(['address,owner,group,logins,state,notes', ...rows].join('\n')) });
    await page.getByTestId('mail-import').click();
    await expectText(page.getByTestId('mail-import-summary'), h.t('en', 'mail.csv.done', { created: 101, updated: 0, unchanged: 0 }));

    await page.getByTestId('mail-filter-q').fill('paging.az');
    await page.getByTestId('mail-filter-apply').click();
    await page.waitForFunction(() => location.hash.includes('q=paging.az'));
    await row(page, 'p099@paging.az').waitFor();
    expect(await page.getByTestId('mail-row').count()).to.equal(100);
    expect(await page.getByTestId('mail-prev').isDisabled()).to.equal(true);
    await page.getByTestId('mail-next').click();
    await row(page, 'p100@paging.az').waitFor();
    expect(await page.getByTestId('mail-row').count()).to.equal(1);
    await expectText(page.getByTestId('mail-page'), h.t('en', 'mail.page', { page: 2 }));
    expect(await page.getByTestId('mail-next').isDisabled()).to.equal(true);
    await page.getByTestId('mail-prev').click();
    await row(page, 'p000@paging.az').waitFor();
    expect(await page.getByTestId('mail-row').count()).to.equal(100);
  });
});
