/**
 * The console in a real browser: a real server (startServer, real TLS, SQLite in a temp folder)
 * serving the built console, one user per role made through the REST API, and Debian's Chromium
 * driven by playwright-core. One server and one browser per test file (or per `describe` that
 * calls useConsole), a fresh browser context — no cookies, no localStorage — per test.
 *
 * Every page opened through the harness records console errors, uncaught page errors and CSP
 * violations (`problems`), so a test can require a clean run. A failed test leaves a screenshot
 * `failed-<title>.png` next to the others in test/output/screenshots.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '@portcullis/server/dist/src/config.js';
import { startServer, type RunningServer } from '@portcullis/server/dist/src/main.js';
import { call, type Reply } from '../../e2e/support/server-api.js';
import { freePort } from '../../e2e/support/free-port.js';

export type Role = 'admin' | 'security' | 'viewer';
export type Locale = 'az' | 'en';

export interface Account {
  readonly username: string;
  password: string;
}

/** test/dist/browser/support → the repository root. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const WEB_DIST = join(ROOT, 'server', 'web', 'dist');
export const SCREENSHOTS = join(ROOT, 'test', 'output', 'screenshots');
const CATALOGUE = join(ROOT, 'server', 'web', 'dist-test', 'src', 'i18n', 'i18n.js');

export const ADMIN_PASSWORD = 'browser-admin-password-1';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Reported by the page itself: CSP violations fire an event the console log may not show. */
const CSP_WATCH = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`;

/** Fails with a message a person can act on when the console was never built. */
export function requireBuiltConsole(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Debian's Chromium is not installed at ${CHROMIUM}: run \`apt-get install chromium\` (.ci/run does)`);
  if (!existsSync(join(WEB_DIST, 'index.html')) || !existsSync(CATALOGUE)) {
    throw new Error(`the web console is not built (${WEB_DIST}/index.html or ${CATALOGUE} missing): run \`npm run build\` at the repository root first`);
  }
}

type Translate = (locale: Locale, key: string, params?: Readonly<Record<string, string | number>>) => string;
let translateFn: Translate | undefined;

/**
 * The console's own text for a message key, read from the built catalogue, so a test checks that
 * the right message is shown without copying its wording.
 */
export async function loadMessages(): Promise<Translate> {
  if (translateFn === undefined) {
    const mod = (await import(pathToFileURL(CATALOGUE).href)) as { translate: Translate };
    translateFn = mod.translate;
  }
  return translateFn;
}

export interface PageProblems {
  readonly console: string[];
  readonly pageErrors: string[];
}

export class ConsoleHarness {
  dir = '';
  port = 0;
  server: RunningServer | undefined;
  ca = Buffer.alloc(0);
  adminToken = '';
  browser: Browser | undefined;
  readonly users: Record<Role, Account> = {
    admin: { username: 'admin', password: ADMIN_PASSWORD },
    security: { username: 'sec.officer', password: 'security-password-1' },
    viewer: { username: 'viewer.one', password: 'viewer-password-1' },
  };
  private contexts: BrowserContext[] = [];
  private readonly problems = new WeakMap<Page, PageProblems>();
  t: Translate = () => '';

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    requireBuiltConsole();
    this.t = await loadMessages();
    this.dir = await mkdtemp(join(tmpdir(), 'portcullis-browser-'));
    this.port = await freePort();
    const config = loadConfig(['--listen', `127.0.0.1:${this.port}`, '--mail-policy-listen', '127.0.0.1:0', '--data', join(this.dir, 'server')], { PORTCULLIS_LOG_LEVEL: 'error' });
    this.server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
    this.ca = await readFile(join(this.dir, 'server', 'pki', 'ca.crt'));
    const session = await this.api('POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(session.status, JSON.stringify(session.json)).to.equal(200);
    this.adminToken = session.json.token;
    for (const role of ['security', 'viewer'] as const) {
      const { username, password } = this.users[role];
      const made = await this.api('POST', '/api/v1/users', { username, password, role });
      expect(made.status, JSON.stringify(made.json)).to.equal(201);
    }
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }

  /** One REST call as the admin (Bearer token), trusting only the server's CA. */
  api(method: string, path: string, body?: unknown, token: string | undefined = this.adminToken || undefined): Promise<Reply> {
    return call(this.url, this.ca, method, path, body, token);
  }

  /** A fresh context (no cookies, no saved language) and a page in it, watched for problems. */
  async newPage(options: { locale?: Locale } = {}): Promise<Page> {
    if (this.browser === undefined) throw new Error('the harness was not started');
    const context = await this.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    context.setDefaultTimeout(10_000);
    this.contexts.push(context);
    await context.addInitScript(CSP_WATCH);
    // The language a returning user picked earlier; the page's own switch still wins after that.
    if (options.locale !== undefined) {
      await context.addInitScript(`if (localStorage.getItem('portcullis.locale') === null) localStorage.setItem('portcullis.locale', ${JSON.stringify(options.locale)});`);
    }
    const page = await context.newPage();
    const seen: PageProblems = { console: [], pageErrors: [] };
    this.problems.set(page, seen);
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') seen.console.push(`${msg.type()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => seen.pageErrors.push(err.message));
    return page;
  }

  problemsOf(page: Page): PageProblems {
    return this.problems.get(page) ?? { console: [], pageErrors: [] };
  }

  /** Forgets what the page logged so far (e.g. the expected 401s of a wrong password). */
  clearProblems(page: Page): void {
    const seen = this.problemsOf(page);
    seen.console.length = 0;
    seen.pageErrors.length = 0;
  }

  expectNoProblems(page: Page, what: string): void {
    const seen = this.problemsOf(page);
    expect([...seen.console, ...seen.pageErrors], `console errors or page errors while ${what}`).to.deep.equal([]);
  }

  async closeContexts(): Promise<void> {
    const open = this.contexts;
    this.contexts = [];
    for (const context of open) await context.close();
  }

  async stop(): Promise<void> {
    await this.closeContexts();
    await this.browser?.close();
    this.browser = undefined;
    await this.server?.close();
    this.server = undefined;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Registers the hooks of one server + browser for the calling `describe`: started before its
 * first test, a fresh context per test, everything closed after the last one.
 */
export function useConsole(): ConsoleHarness {
  const harness = new ConsoleHarness();
  before(async function () {
    this.timeout(60_000);
    await harness.start();
  });
  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state === 'failed') {
      for (const context of harness.browser?.contexts() ?? []) {
        for (const page of context.pages()) {
          await screenshot(page, `failed-${test.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
          const seen = harness.problemsOf(page);
          if (seen.console.length + seen.pageErrors.length > 0) console.error([...seen.console, ...seen.pageErrors].join('\n'));
        }
      }
    }
    await harness.closeContexts();
  });
  after(async function () {
    this.timeout(30_000);
    await harness.stop();
  });
  return harness;
}

/** Saves a full-page PNG to test/output/screenshots/<name>.png (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens the console and submits the sign-in form; does not wait for the outcome. */
export async function submitSignIn(page: Page, base: string, username: string, password: string): Promise<void> {
  if (!page.url().startsWith(base)) await page.goto(`${base}/`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
}

/** Signs in and waits for the shell (the "signed in as" line in the header). */
export async function signIn(page: Page, base: string, account: Account): Promise<void> {
  await submitSignIn(page, base, account.username, account.password);
  await page.getByTestId('who').waitFor({ state: 'visible', timeout: 10_000 });
}

/** Goes to a hash route (`/events?x=1`) and waits for the main area to render. */
export async function openRoute(page: Page, path: string): Promise<void> {
  await page.evaluate((hash) => {
    location.hash = hash;
  }, `#${path}`);
  await page.locator('main#main').waitFor({ state: 'visible' });
}

/** Waits (up to `ms`) for the element's text to be `expected`, then asserts it. */
export async function expectText(locator: Locator, expected: string | RegExp, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  const matches = (text: string) => (typeof expected === 'string' ? text === expected : expected.test(text));
  while (Date.now() < end) {
    last = await locator.innerText({ timeout: Math.max(1, end - Date.now()) }).catch(() => last);
    if (matches(last)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (typeof expected === 'string') expect(last).to.equal(expected);
  else expect(last).to.match(expected);
}
