/**
 * The violation log in Chromium, fed by a real agent: an enrolled `portcullis-agent run` on a fake
 * sysfs tree blocks a flash drive, and the security officer sees the block arrive by live tail,
 * opens it to the rule line that decided it, triages it with a comment and exports the filter.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { until } from '../e2e/support/server-api.js';
import { expectText, openRoute, screenshot, signIn, useConsole } from './support/console-harness.js';
import { FakeFleet, RULES, STORAGE_RULE, STORAGE_RULE_LINE, savePolicy } from './support/fake-fleet.js';

describe('console violation log in Chromium, fed by a real agent', function () {
  this.timeout(60_000);
  const h = useConsole();
  let fleet: FakeFleet | undefined;

  before(async function () {
    this.timeout(60_000);
    await savePolicy(h, 'default', RULES, 'storage blocked for the browser tests');
    fleet = await FakeFleet.create();
    await fleet.enrollWithApi(h);
    await fleet.run();
  });

  after(async () => {
    await fleet?.stop();
  });

  async function blockedEvents(): Promise<any[]> {
    const reply = await h.api('GET', `/api/v1/events?type=device.blocked&agent=${fleet?.agentId}&limit=100`);
    expect(reply.status).to.equal(200);
    return reply.json.events;
  }

  /** The table row of the flash drive's block (the row text holds the type and the USB id). */
  const blockRow = (page: Page) => page.getByTestId('events-row').filter({ hasText: 'device.blocked' }).filter({ hasText: '0781:5567' }).first();

  it('shows a new block within two seconds by live tail, with the rule line that decided it', async () => {
    if (fleet === undefined) throw new Error('no agent');
    const page = await h.newPage();
    await signIn(page, h.url, h.users.security);
    h.clearProblems(page);
    await openRoute(page, '/events');
    await page.getByTestId('events-table').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="events-table"]')?.getAttribute('aria-busy') === 'false');
    const live = page.getByTestId('events-live');
    if (!(await live.isChecked())) await live.check();
    expect(await page.getByTestId('events-row').filter({ hasText: 'device.blocked' }).count()).to.equal(0);

    const plugged = Date.now();
    await fleet.plugFlash('3-2');
    await blockRow(page).waitFor({ state: 'visible', timeout: 5_000 });
    const tookMs = Date.now() - plugged;
    expect(tookMs, `the block took ${tookMs} ms to show`).to.be.below(2_000);
    expect(await fleet.authorized('3-2')).to.equal('0');
    await expectText(blockRow(page).getByTestId('events-row-status'), h.t('az', 'events.status.new'));
    expect(await blockRow(page).innerText()).to.contain(h.t('az', 'events.trace.line', { line: STORAGE_RULE_LINE }));

    await blockRow(page).getByTestId('events-expand').click();
    const detail = page.getByTestId('events-detail').first();
    await expectText(detail.getByTestId('events-matched-rule'), STORAGE_RULE);
    expect(await detail.getByTestId('events-trace').innerText()).to.contain(h.t('az', 'events.trace.line', { line: STORAGE_RULE_LINE }));
    await screenshot(page, 'events-block-expanded-az');
    h.expectNoProblems(page, 'watching the live tail');
  });

  it('triages the selected block with a comment (toolbar button, then the `a` key), and the server keeps it', async () => {
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.security);
    await openRoute(page, '/events?type=device.blocked');
    await blockRow(page).waitFor();
    await blockRow(page).click();
    await page.getByTestId('events-resolve').click();
    const dialog = page.getByTestId('events-triage-dialog');
    await dialog.waitFor();
    expect(await dialog.getByTestId('events-triage-resolved').isChecked()).to.equal(true);
    await dialog.getByTestId('events-triage-comment').fill('user asked IT for an encrypted stick');
    await screenshot(page, 'events-triage-dialog-en');
    await dialog.getByTestId('events-triage-submit').click();
    await expectText(blockRow(page).getByTestId('events-row-status'), h.t('en', 'events.status.resolved'));
    const triaged = (await blockedEvents()).filter((e) => e.status === 'resolved');
    expect(triaged.map((e) => e.comment)).to.deep.equal(['user asked IT for an encrypted stick']);

    // The reviewer's keys: `a` on the selected row opens the same dialog for acknowledging.
    await page.locator('main#main h1').click();
    await page.keyboard.press('a');
    await dialog.waitFor();
    expect(await dialog.getByTestId('events-triage-acknowledged').isChecked()).to.equal(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('exports the current filter as CSV', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.security);
    await openRoute(page, '/events?type=device.blocked');
    await blockRow(page).waitFor();
    const download = page.waitForEvent('download');
    await page.getByTestId('events-export-csv').click();
    const saved = await download;
    expect(saved.suggestedFilename()).to.equal('portcullis-events.csv');
    const csv = await readFile(await saved.path(), 'utf8');
    const blocked = await blockedEvents();
    expect(csv).to.contain('device.blocked');
    expect(csv).not.to.contain('device.connected');
    for (const e of blocked) expect(csv).to.contain(e.hash);
  });

  it('shows a viewer the log and the trace without triage or export controls', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.viewer);
    await openRoute(page, '/events?type=device.blocked');
    await blockRow(page).waitFor();
    await blockRow(page).getByTestId('events-expand').click();
    await expectText(page.getByTestId('events-matched-rule').first(), STORAGE_RULE);
    for (const id of ['events-resolve', 'events-ack', 'events-false-positive', 'events-check', 'events-export-csv', 'events-export-jsonl']) {
      expect(await page.getByTestId(id).count(), id).to.equal(0);
    }
    await screenshot(page, 'events-viewer-az');
    const status = await page.evaluate(async (id) => {
      const r = await fetch(`/api/v1/events/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'resolved' }) });
      return r.status;
    }, (await blockedEvents())[0].id);
    expect(status).to.equal(403);
  });

  it('lets a reviewer work through the rows from the keyboard and triage two blocks at once', async () => {
    if (fleet === undefined) throw new Error('no agent');
    await fleet.plugFlash('3-3', 'SECOND-STICK-0001');
    await until('the second block at the server', async () => (await blockedEvents()).length === 2, 10_000);
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.security);
    await openRoute(page, '/events?type=device.blocked');
    const rows = page.getByTestId('events-row');
    await until('both blocks listed', async () => (await rows.count()) === 2, 5_000);
    const selected = page.locator('[data-testid="events-row"][aria-selected="true"]');

    // k twice reaches the top row whatever was selected; j moves down, x checks, Enter opens.
    await page.locator('main#main h1').click();
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    const first = await rows.first().getAttribute('data-event-id');
    await until('the top row to be selected', async () => (await selected.getAttribute('data-event-id')) === first, 2_000);
    await page.keyboard.press('x');
    await page.keyboard.press('j');
    await until('the selection to move down', async () => (await selected.getAttribute('data-event-id')) !== first, 2_000);
    await page.keyboard.press('x');
    await page.keyboard.press('Enter');
    await page.getByTestId('events-detail').waitFor();
    expect(await page.getByTestId('events-check').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).checked))).to.deep.equal([true, true]);

    await page.keyboard.press('a');
    const dialog = page.getByTestId('events-triage-dialog');
    await dialog.waitFor();
    await expectText(dialog.locator('h2'), h.t('en', 'events.triage.title', { count: 2 }));
    await page.keyboard.type('both sticks handed in to IT');
    await dialog.getByTestId('events-triage-submit').click();
    await dialog.waitFor({ state: 'detached' });
    for (const status of await page.getByTestId('events-row-status').allInnerTexts()) expect(status).to.equal(h.t('en', 'events.status.acknowledged'));
    const stored = await blockedEvents();
    expect(stored.map((e) => [e.status, e.comment])).to.deep.equal([
      ['acknowledged', 'both sticks handed in to IT'],
      ['acknowledged', 'both sticks handed in to IT'],
    ]);
  });
});
