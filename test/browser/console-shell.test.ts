/**
 * The console's shell in Chromium: sign-in and lockout, the language switch, sign-out, the
 * password change, what each role sees, the CSP, and a clean run through every page (no console
 * errors, no CSP violations), with a screenshot of each main page.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectText, openRoute, screenshot, signIn, submitSignIn, useConsole, type ConsoleHarness, type Locale } from './support/console-harness.js';

/** The navigation, in the order the layout shows it; the last three are admin only. */
const PAGES = ['overview', 'events', 'computers', 'policies', 'devices', 'mail', 'audit', 'users', 'tokens'] as const;
const ADMIN_ONLY = ['audit', 'users', 'tokens'];

async function navTexts(page: Page): Promise<string[]> {
  return page.locator('nav.sidenav a').allInnerTexts();
}

/** Waits until the page's heading is shown and nothing in the main area says "loading". */
async function settle(h: ConsoleHarness, page: Page, locale: Locale): Promise<void> {
  await page.locator('main#main h1').first().waitFor({ state: 'visible', timeout: 10_000 });
  const loading = h.t(locale, 'common.loading');
  await page.waitForFunction((text) => !(document.querySelector('main#main')?.textContent ?? '').includes(text), loading, { timeout: 10_000 });
}

/** Submits the sign-in form and waits for the server's answer to that attempt. */
async function attempt(h: ConsoleHarness, page: Page, username: string, password: string): Promise<number> {
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
  await submitSignIn(page, h.url, username, password);
  return (await answer).status();
}

describe('console shell in Chromium', function () {
  this.timeout(60_000);
  const h = useConsole();

  it('serves the console with a strict CSP and opens in Azerbaijani', async () => {
    const page = await h.newPage();
    const response = await page.goto(`${h.url}/`);
    expect(response?.status()).to.equal(200);
    const csp = (await response?.headerValue('content-security-policy')) ?? '';
    expect(csp).to.contain("script-src 'self'");
    expect(csp).to.contain("style-src 'self'");
    expect(csp).to.contain("frame-ancestors 'none'");
    await page.locator('input[name="username"]').waitFor();
    expect(await page.locator('html').getAttribute('lang')).to.equal('az');
    expect(await page.locator('#sign-in-title').innerText()).to.contain(h.t('az', 'signIn.title'));
    // Every field of the form has a label a screen reader can read.
    expect(await page.getByLabel(h.t('az', 'signIn.username')).count()).to.equal(1);
    expect(await page.getByLabel(h.t('az', 'signIn.password')).count()).to.equal(1);
    await screenshot(page, 'sign-in-az');
  });

  it('refuses a wrong password with the message, then opens the overview with the right one', async () => {
    const page = await h.newPage();
    expect(await attempt(h, page, 'admin', 'not-the-password')).to.equal(401);
    const error = page.getByTestId('sign-in-error');
    await expectText(error, h.t('az', 'signIn.failed'));
    expect(await error.getAttribute('role')).to.equal('alert');
    await screenshot(page, 'sign-in-failed-az');

    await signIn(page, h.url, h.users.admin);
    expect(new URL(page.url()).hash).to.equal('#/overview');
    await expectText(page.locator('main#main h1'), h.t('az', 'overview.title'));
    await expectText(page.getByTestId('who'), h.t('az', 'user.menu', { name: 'admin', role: h.t('az', 'role.admin') }));
    // The session is an HttpOnly cookie: nothing but the language is kept where scripts can read it.
    const stored = await page.evaluate(() => ({ cookie: document.cookie, keys: Object.keys(localStorage) }));
    expect(stored.cookie).to.equal('');
    expect(stored.keys.filter((k) => k !== 'portcullis.locale')).to.deep.equal([]);
  });

  it('is in Azerbaijani by default; the switch turns the shell English and the choice survives a reload', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.admin);
    await settle(h, page, 'az');
    expect(await page.locator('html').getAttribute('lang')).to.equal('az');
    expect(await navTexts(page)).to.deep.equal(PAGES.map((p) => h.t('az', `nav.${p}`)));
    await screenshot(page, 'overview-az');

    await page.getByTestId('lang').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await navTexts(page)).to.deep.equal(PAGES.map((p) => h.t('en', `nav.${p}`)));
    await expectText(page.locator('main#main h1'), h.t('en', 'overview.title'));
    await expectText(page.getByTestId('sign-out'), h.t('en', 'user.signOut'));
    await expectText(page.getByTestId('who'), h.t('en', 'user.menu', { name: 'admin', role: h.t('en', 'role.admin') }));
    expect(await page.getByRole('navigation').getAttribute('aria-label')).to.equal(h.t('en', 'nav.main'));
    await settle(h, page, 'en');
    await screenshot(page, 'overview-en');

    await page.reload();
    await page.getByTestId('who').waitFor();
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    expect(await navTexts(page)).to.deep.equal(PAGES.map((p) => h.t('en', `nav.${p}`)));

    // Signing out keeps the language: the sign-in form is English too.
    await page.getByTestId('sign-out').click();
    await page.locator('input[name="username"]').waitFor();
    expect(await page.locator('#sign-in-title').innerText()).to.contain(h.t('en', 'signIn.title'));
  });

  it('signs out: the session is gone after a reload and the API refuses the old cookie', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.security);
    await page.getByTestId('sign-out').click();
    await page.locator('input[name="username"]').waitFor();
    expect(await page.getByTestId('who').count()).to.equal(0);
    await page.reload();
    await page.locator('input[name="username"]').waitFor();
    expect(await page.getByTestId('who').count()).to.equal(0);
    const status = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(status).to.equal(401);
  });

  it('changes the password: a mismatch, a wrong current password, then success and a sign-in with the new one', async () => {
    const account = { username: 'pw.changer', password: 'old-password-123' };
    const made = await h.api('POST', '/api/v1/users', { ...account, role: 'viewer' });
    expect(made.status).to.equal(201);
    const page = await h.newPage();
    await signIn(page, h.url, account);
    await openRoute(page, '/password');
    await page.locator('main#main h1').filter({ hasText: h.t('az', 'password.title') }).waitFor();
    const current = page.getByLabel(h.t('az', 'password.current'));
    const next = page.getByLabel(h.t('az', 'password.new'), { exact: true });
    const repeat = page.getByLabel(h.t('az', 'password.repeat'));
    const submit = page.locator('main#main form button[type="submit"]');
    const alert = page.locator('main#main [role="alert"]');

    await current.fill(account.password);
    await next.fill('new-password-456');
    await repeat.fill('new-password-457');
    await submit.click();
    await expectText(alert, h.t('az', 'password.mismatch'));
    await screenshot(page, 'password-mismatch-az');

    await current.fill('wrong-current-1');
    await repeat.fill('new-password-456');
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password'));
    await submit.click();
    expect((await refused).status()).to.equal(401);
    await expectText(alert, h.t('az', 'common.error', { message: 'the current password is wrong' }));
    // A wrong current password is a failed check, not the end of the session.
    expect(await page.getByTestId('who').count()).to.equal(1);

    await current.fill(account.password);
    await next.fill('new-password-456');
    await repeat.fill('new-password-456');
    await submit.click();
    await expectText(page.locator('main#main [role="status"]'), h.t('az', 'password.saved'));
    expect(await current.inputValue()).to.equal('');

    await page.getByTestId('sign-out').click();
    await page.locator('input[name="username"]').waitFor();
    await signIn(page, h.url, { username: account.username, password: 'new-password-456' });
    expect(await page.getByTestId('who').innerText()).to.contain(account.username);
  });

  for (const role of ['viewer', 'security'] as const) {
    it(`shows a ${role} no admin links, the forbidden message on #/users, and the server refuses the direct call`, async () => {
      const page = await h.newPage();
      await signIn(page, h.url, h.users[role]);
      expect(await navTexts(page)).to.deep.equal(PAGES.filter((p) => !ADMIN_ONLY.includes(p)).map((p) => h.t('az', `nav.${p}`)));
      for (const p of ADMIN_ONLY) expect(await page.locator(`a[href="#/${p}"]`).count(), p).to.equal(0);
      for (const p of ADMIN_ONLY) {
        await openRoute(page, `/${p}`);
        await expectText(page.locator('main#main [role="alert"]'), h.t('az', 'common.forbidden'));
      }
      if (role === 'viewer') await screenshot(page, 'viewer-forbidden-az');
      const answers = await page.evaluate(async () => {
        const list = await fetch('/api/v1/users');
        const create = await fetch('/api/v1/users', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'sneaky', password: 'sneaky-password-1', role: 'admin' }),
        });
        const token = await fetch('/api/v1/enrollment-tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group: 'default' }) });
        return { list: list.status, create: create.status, token: token.status };
      });
      expect(answers).to.deep.equal({ list: 403, create: 403, token: 403 });
      const users = await h.api('GET', '/api/v1/users');
      expect(users.json.users.map((u: { username: string }) => u.username)).not.to.include('sneaky');
    });
  }

  it("does not let another site use an admin's session (CSRF): the forged request arrives without the cookie", async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.admin);
    const target = `${h.url}/api/v1/users`;
    // A page of another site that posts a form to the console's API as soon as it opens.
    await page.route('https://attacker.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${target}" enctype="text/plain"><input name='{"username":"csrf.victim","password":"csrf-password-1","role":"admin","x":"' value='"}'></form><script>document.forms[0].submit()</script>`,
      }),
    );
    const forged = page.waitForRequest((r) => r.url() === target && r.method() === 'POST');
    const answer = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
    await page.goto('https://attacker.test/');
    expect(await (await forged).headerValue('cookie')).to.equal(null);
    expect((await answer).status()).to.equal(401);
    const users = await h.api('GET', '/api/v1/users');
    expect(users.json.users.map((u: { username: string }) => u.username)).not.to.include('csrf.victim');
  });

  it('visits every page in both languages without a console error or CSP violation', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.admin);
    // Before sign-in the browser logs the expected 401 of GET /me (and nothing else).
    expect(h.problemsOf(page).console.filter((m) => !/status of 401/.test(m))).to.deep.equal([]);
    expect(h.problemsOf(page).pageErrors).to.deep.equal([]);
    h.clearProblems(page);
    for (const locale of ['az', 'en'] as const) {
      await page.getByTestId('lang').selectOption(locale);
      for (const p of [...PAGES, 'password']) {
        if (p === 'password') await openRoute(page, '/password');
        else await page.locator(`nav.sidenav a[href="#/${p}"]`).click();
        await page.waitForFunction((hash) => location.hash.startsWith(hash), `#/${p}`);
        await settle(h, page, locale);
        if (p !== 'password') expect(await page.locator(`nav.sidenav a[href="#/${p}"]`).getAttribute('aria-current')).to.equal('page');
        expect(await page.locator('html').getAttribute('lang')).to.equal(locale);
        if (locale === 'az' || p === 'overview') await screenshot(page, `${p}-${locale}`);
      }
    }
    // A hash route the console does not know.
    await openRoute(page, '/no-such-page');
    await expectText(page.locator('main#main [role="alert"]'), h.t('en', 'common.notFound'));
    h.expectNoProblems(page, 'visiting every page');
  });

  it('keeps working at a 1280 px wide laptop screen: nothing scrolls sideways', async () => {
    const page = await h.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await signIn(page, h.url, h.users.admin);
    for (const p of PAGES) {
      await openRoute(page, `/${p}`);
      await settle(h, page, 'az');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${p} scrolls sideways by ${overflow}px`).to.be.at.most(0);
    }
  });
});

describe('console sign-in lockout in Chromium', function () {
  this.timeout(60_000);
  // Its own server: the lockout counts failures per address, and every test here comes from 127.0.0.1.
  const h = useConsole();

  it('shows the lockout message with the minutes after six wrong passwords, and refuses even the right one', async () => {
    const page = await h.newPage();
    await page.goto(`${h.url}/`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await attempt(h, page, 'admin', `wrong-${i}`));
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
    const error = page.getByTestId('sign-in-error');
    await expectText(error, h.t('az', 'signIn.locked', { minutes: 15 }));
    await screenshot(page, 'sign-in-locked-az');

    expect(await attempt(h, page, 'admin', h.users.admin.password)).to.equal(429);
    await expectText(error, h.t('az', 'signIn.locked', { minutes: 15 }));
    expect(await page.getByTestId('who').count()).to.equal(0);

    await page.locator('select').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await attempt(h, page, 'admin', 'wrong-again')).to.equal(429);
    await expectText(error, /^Too many failed attempts\. Try again in 1[45] minutes\.$/);
  });
});
