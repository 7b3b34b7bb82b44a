/**
 * The policy editor in Chromium with a real agent on the group: an admin types a rule with a
 * syntax error (the inline error names line and column as they type), fixes it, simulates (the
 * flash drive the agent already blocked would be allowed, on that PC), saves with a comment, sees
 * the new version in the history and the agent pick it up, then rolls back in one click.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { parseRuleFile, RuleSyntaxError } from '@portcullis/shared';
import { until } from '../e2e/support/server-api.js';
import { expectText, openRoute, screenshot, signIn, useConsole, type ConsoleHarness, type Locale } from './support/console-harness.js';
import { FakeFleet, RULES, savePolicy } from './support/fake-fleet.js';

/**
 * Typed as a new first line (the first matching rule decides, so an allow must come before the
 * storage block); the closing brace is typed later, so line 1 is broken until then.
 */
const TYPED = 'allow with-interface one-of { 08:*:* ';
const ALLOW_STORAGE_LINE = 1;
const COMMENT = 'archive team may use flash drives';

/** What the shared parser says about a line: the editor must show exactly this. */
function syntaxErrorOf(line: string): { column: number; message: string } {
  try {
    parseRuleFile(line, 'rules');
  } catch (err) {
    if (err instanceof RuleSyntaxError) return { column: err.column, message: err.reason };
    throw err;
  }
  throw new Error(`"${line}" parsed without an error`);
}

async function openPolicy(h: ConsoleHarness, page: Page, locale: Locale = 'az'): Promise<void> {
  await openRoute(page, '/policies');
  await page.waitForFunction(() => location.hash === '#/policies/default');
  await page.getByTestId('policy-rules').waitFor();
  await expectText(page.getByTestId('policy-rules-status'), h.t(locale, 'policies.editor.ok'));
}

describe('console policy editor in Chromium, with a real agent on the group', function () {
  this.timeout(60_000);
  const h = useConsole();
  let fleet: FakeFleet | undefined;
  let baseVersion = 0;

  before(async function () {
    this.timeout(60_000);
    baseVersion = await savePolicy(h, 'default', RULES, 'storage blocked for the browser tests');
    fleet = await FakeFleet.create();
    await fleet.enrollWithApi(h);
    await fleet.run();
    await fleet.plugFlash('3-2');
    // The simulation decides the devices the fleet has reported; wait until the server has it.
    await until('the flash drive to be reported', async () => JSON.stringify((await h.api('GET', '/api/v1/usb-devices')).json).includes('0781'), 15_000);
    expect(await fleet.authorized('3-2')).to.equal('0');
  });

  after(async () => {
    await fleet?.stop();
  });

  it('shows the syntax error at its line and column as the admin types, then clears it when fixed', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.admin);
    h.clearProblems(page);
    await openPolicy(h, page);
    const rules = page.getByTestId('policy-rules');
    expect(await rules.inputValue()).to.equal(RULES);

    await rules.focus();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type(TYPED);
    await page.keyboard.press('Enter');
    const expected = syntaxErrorOf(TYPED);
    const errors = page.getByTestId('policy-error');
    await expectText(errors.first(), h.t('az', 'policies.editor.errorAt', { line: ALLOW_STORAGE_LINE, column: expected.column, message: expected.message }));
    expect(await errors.count()).to.equal(1);
    expect(await rules.getAttribute('aria-invalid')).to.equal('true');
    await expectText(page.getByTestId('policy-error-marker'), `● ${ALLOW_STORAGE_LINE}`);
    expect(await page.getByTestId('policy-save').isDisabled()).to.equal(true);
    await expectText(page.getByTestId('policy-save-why'), h.t('az', 'policies.save.needRules'));
    expect(await page.getByTestId('policy-simulate').isDisabled()).to.equal(true);
    await screenshot(page, 'policy-syntax-error-az');

    // Clicking the error puts the caret on it.
    await errors.first().click();
    const caret = await rules.evaluate((el) => (el as HTMLTextAreaElement).selectionStart);
    expect(caret).to.equal(expected.column - 1);

    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');
    await page.keyboard.type('}');
    expect(await rules.inputValue()).to.equal(`${TYPED}}\n${RULES}`);
    await expectText(page.getByTestId('policy-rules-status'), h.t('az', 'policies.editor.ok'));
    expect(await page.getByTestId('policy-error-marker').count()).to.equal(0);
    expect(await rules.getAttribute('aria-invalid')).to.equal('false');
    // Fixed but not explained: saving still wants a comment.
    await expectText(page.getByTestId('policy-save-why'), h.t('az', 'policies.save.needComment'));
    h.expectNoProblems(page, 'editing the rules');
  });

  it('simulates, saves with a comment, shows the new version, the agent picks it up; then rolls back', async () => {
    if (fleet === undefined) throw new Error('no agent');
    const page = await h.newPage({ locale: 'en' });
    await signIn(page, h.url, h.users.admin);
    await openPolicy(h, page, 'en');
    const rules = page.getByTestId('policy-rules');
    await rules.fill(`${TYPED}}\n${RULES}`);
    await expectText(page.getByTestId('policy-rules-status'), h.t('en', 'policies.editor.ok'));

    await page.getByTestId('policy-simulate').click();
    const result = page.getByTestId('policy-simulate-result');
    await result.waitFor();
    const rows = page.getByTestId('policy-simulate-row');
    await expectText(result.locator('p').nth(1), h.t('en', 'policies.simulate.changes', { count: 1 }));
    expect(await rows.count()).to.equal(1);
    const change = await rows.first().innerText();
    expect(change).to.contain('USB flash drive');
    expect(change).to.contain(h.t('en', 'policies.target.block'));
    expect(change).to.contain(h.t('en', 'policies.target.allow'));
    expect(change).to.contain(h.t('en', 'policies.simulate.byLine', { line: ALLOW_STORAGE_LINE }));
    const agent = await h.api('GET', `/api/v1/agents/${fleet.agentId}`);
    expect(change).to.contain(agent.json.agent.hostname);
    await screenshot(page, 'policy-simulate-en');

    await expectText(page.getByTestId('policy-save-why'), h.t('en', 'policies.save.needComment'));
    await page.getByTestId('policy-comment').fill(COMMENT);
    await expectText(page.getByTestId('policy-save-why'), '');
    await page.getByTestId('policy-save').click();
    const saved = baseVersion + 1;
    await expectText(page.getByTestId('policy-save-status'), h.t('en', 'policies.save.saved', { version: saved }));
    const newest = page.getByTestId('policy-version-row').first();
    await expectText(newest.locator('td').first(), `${saved} ${h.t('en', 'policies.history.current')}`);
    expect(await newest.innerText()).to.contain(COMMENT);
    expect(await newest.innerText()).to.contain('admin');
    await screenshot(page, 'policy-saved-en');

    // The agent on the group gets the new version pushed and lets the flash drive in.
    await until('the agent to apply the new version', async () => (await fleet?.policyVersion()) === saved, 10_000);
    await until('the flash drive to be allowed', async () => (await fleet?.authorized('3-2')) === '1', 10_000);

    // The diff of the two newest versions shows the one added line.
    await page.getByTestId('policy-version-pick').nth(0).check();
    await page.getByTestId('policy-version-pick').nth(1).check();
    await page.getByTestId('policy-compare').click();
    await page.getByTestId('policy-diff').waitFor();
    const added = await page.getByTestId('policy-diff-add').allInnerTexts();
    expect(added.join('\n')).to.contain(`${TYPED}}`);
    expect(await page.getByTestId('policy-diff-remove').count()).to.equal(0);
    await screenshot(page, 'policy-diff-en');

    // One-click rollback to the previous version: a new version with its rules, pushed again.
    await page.getByTestId('policy-version-row').nth(1).getByTestId('policy-rollback').click();
    await page.getByTestId('policy-rollback-confirm').waitFor();
    await page.getByTestId('policy-rollback-yes').click();
    await expectText(page.getByTestId('policy-save-status'), h.t('en', 'policies.history.rolledBack', { from: baseVersion, version: saved + 1 }));
    expect(await rules.inputValue()).to.equal(RULES);
    await until('the agent to apply the rollback', async () => (await fleet?.policyVersion()) === saved + 1, 10_000);
    await until('the flash drive to be blocked again', async () => (await fleet?.authorized('3-2')) === '0', 10_000);
  });

  it('shows a security officer the policy read-only, with no save or rollback', async () => {
    const page = await h.newPage();
    await signIn(page, h.url, h.users.security);
    await openPolicy(h, page);
    await page.getByTestId('policy-read-only').waitFor();
    expect(await page.getByTestId('policy-rules').getAttribute('readonly')).to.not.equal(null);
    for (const id of ['policy-save', 'policy-comment', 'policy-rollback']) expect(await page.getByTestId(id).count(), id).to.equal(0);
    await screenshot(page, 'policy-read-only-az');
    const status = await page.evaluate(async (rules) => {
      const r = await fetch('/api/v1/groups/default/policy', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules, comment: 'sneaky' }) });
      return r.status;
    }, 'allow');
    expect(status).to.equal(403);
  });
});
