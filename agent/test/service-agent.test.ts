import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpooledEvent } from '../src/spool/spool.js';
import { startHarness, waitFor, type Harness } from './support/service-harness.js';

const KEYBOARD = { vendor: '046d', product: 'c31c', productName: 'USB Keyboard', interfaces: ['03:01:01'] };
const FLASH = { vendor: '0781', product: '5567', productName: 'Cruzer Blade', serial: '4C5300012309', interfaces: ['08:06:50'] };
const STORAGE_OK = { rules: 'allow with-interface one-of { 03:*:* 08:*:* 09:*:* }', implicitTarget: 'block' };
const KEYBOARDS_ONLY = { rules: '# keyboards only\nallow with-interface equals { 03:*:* }\nallow with-interface equals { 09:*:* }', implicitTarget: 'block' };

async function eventsOf(h: Harness, type: string): Promise<SpooledEvent[]> {
  return (await h.events()).filter((e) => e.type === type);
}

describe('agent service (fake sysfs, fake link)', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('closes every root hub at start, decides hotplugged devices by the built-in policy and reports each with its trace', async () => {
    // No rescan during the test: on a loaded machine the 200 ms rescan could decide the device
    // before the hotplug poll does (CI saw phase "rescan"), and this test is about hotplug.
    h = await startHarness({ rescanMs: 60_000 });
    for (const hub of h.fake.rootHubs()) expect(await h.fake.readAttr(hub, 'authorized_default'), hub).to.equal('0');
    expect((await eventsOf(h, 'agent.started'))[0]?.data).to.include({ version: '0.1.0-test', policySource: 'built-in' });

    await h.fake.plug({ port: '1-1', ...KEYBOARD });
    await h.fake.plug({ port: '3-1', ...FLASH });
    await waitFor('both decisions', async () => (await eventsOf(h!, 'device.blocked')).length === 1 && (await eventsOf(h!, 'device.allowed')).length === 1);
    expect(await h.fake.readAttr('1-1', 'authorized')).to.equal('1');
    expect(await h.fake.readAttr('3-1', 'authorized')).to.equal('0');
    const blocked = (await eventsOf(h, 'device.blocked'))[0]!;
    expect(blocked.severity).to.equal('medium');
    expect(blocked.data).to.deep.include({ name: '3-1', enforced: true, phase: 'hotplug' });
    expect((blocked.data.device as Record<string, unknown>).serial).to.equal(FLASH.serial);
    expect((blocked.data.decision as Record<string, unknown>).source).to.be.oneOf(['rule', 'implicit']);
    expect((await eventsOf(h, 'device.connected')).map((e) => e.data.name).sort()).to.deep.equal(['1-1', '3-1']);
  });

  it('takes a signed policy from the server: caches it, applies it to present devices, reports and acknowledges it', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    await h.fake.plug({ port: '1-2', ...FLASH });
    await waitFor('the flash drive blocked', async () => (await eventsOf(h!, 'device.blocked')).length === 1);

    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(STORAGE_OK, { version: 2 }) } });
    await waitFor('the new policy applied', async () => (await eventsOf(h!, 'policy.applied')).length === 1);
    expect(await h.fake.readAttr('1-2', 'authorized')).to.equal('1');
    const allowed = (await eventsOf(h, 'device.allowed')).find((e) => e.data.name === '1-2')!;
    expect(allowed.data.decision).to.deep.include({ source: 'rule', line: 1 });
    expect(link.sent.filter((m) => m.type === 'applied').map((m) => m.body)).to.deep.equal([{ version: 2 }]);
    const cached = JSON.parse(await readFile(join(h.stateDir, 'policy.json'), 'utf8'));
    expect(cached.document.version).to.equal(2);

    // Back to keyboards only: the storage device present now is blocked again.
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { version: 3 }) } });
    await waitFor('version 3 applied', async () => (await eventsOf(h!, 'policy.applied')).length === 2);
    expect(await h.fake.readAttr('1-2', 'authorized')).to.equal('0');
    expect(h.service.policyInForce.version).to.equal(3);
  });

  it('refuses a policy that does not verify, and a replayed older one, keeping the policy in force', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { version: 5 }) } });
    await waitFor('version 5', () => h!.service.policyInForce.version === 5);

    const forged = h.signer.policy(STORAGE_OK, { version: 6 });
    const tampered = { ...forged, document: { ...forged.document, rules: 'allow' } };
    link.deliver({ v: 1, type: 'policy', body: { signed: tampered } });
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(STORAGE_OK, { version: 4 }) } });
    await waitFor('two refusals', async () => (await eventsOf(h!, 'policy.refused')).length === 2);
    const reasons = (await eventsOf(h, 'policy.refused')).map((e) => String(e.data.reason));
    expect(reasons[0]).to.match(/signature/i);
    expect(reasons[1]).to.match(/older/);
    expect(h.service.policyInForce.version).to.equal(5);
  });

  it('refuses a tampered policy cache at start, reports policy.tampered and enforces the last good policy', async () => {
    h = await startHarness({
      before: async ({ stateDir, signer }) => {
        const good = signer.policy(STORAGE_OK, { version: 7 });
        const text = `${JSON.stringify(good)}\n`;
        await writeFile(join(stateDir, 'policy.json.good'), text, { mode: 0o600 });
        // Someone edits the rules in the cache to let everything in.
        await writeFile(join(stateDir, 'policy.json'), text.replace('allow with-interface one-of', 'allow with-interface none-of'), { mode: 0o600 });
      },
    });
    const tampered = await eventsOf(h, 'policy.tampered');
    expect(tampered).to.have.length(1);
    expect(tampered[0]!.severity).to.equal('critical');
    expect(String(tampered[0]!.data.reason)).to.match(/verification|signature/);
    expect(h.service.policyInForce.version).to.equal(7);
  });

  it('follows the server when an admin moves the computer to another group', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(STORAGE_OK, { version: 9 }) } });
    await waitFor('version 9', () => h!.service.policyInForce.version === 9);
    // The new group's versions are its own: a lower number is not a replay.
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { group: 'finance', version: 2 }) } });
    await waitFor('the finance policy', () => h!.service.policyInForce.group === 'finance');
    expect((await eventsOf(h, 'agent.group-changed'))[0]?.data).to.deep.equal({ from: 'default', to: 'finance' });
    const identity = JSON.parse(await readFile(join(h.stateDir, 'identity.json'), 'utf8'));
    expect(identity.group).to.equal('finance');
  });

  it('puts back a decision someone undid by hand (authorized=1 on a blocked device) at the next rescan', async () => {
    h = await startHarness();
    await h.fake.plug({ port: '1-3', ...FLASH });
    await waitFor('blocked', async () => (await eventsOf(h!, 'device.blocked')).length === 1);
    await h.fake.writeAttr('1-3', 'authorized', '1');
    await waitFor('blocked again by the rescan', async () => (await eventsOf(h!, 'device.blocked')).length === 2, 3000);
    expect(await h.fake.readAttr('1-3', 'authorized')).to.equal('0');
    const again = (await eventsOf(h, 'device.blocked'))[1]!;
    expect(again.data).to.deep.include({ phase: 'rescan' });
    expect((again.data.decision as Record<string, unknown>).source).to.equal('previous');
  });

  it('answers the server\u2019s commands, and refuses an unsigned temporary grant', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    await h.fake.plug({ port: '2-1', ...KEYBOARD });
    await waitFor('decided', async () => (await eventsOf(h!, 'device.allowed')).length === 1);
    link.deliver({ v: 1, type: 'command', body: { commandId: 'c-1', name: 'rescan', args: {} } });
    link.deliver({ v: 1, type: 'command', body: { commandId: 'c-2', name: 'grant-temporary', args: { rule: 'allow' } } });
    await waitFor('two results', () => link.sent.filter((m) => m.type === 'command-result').length === 2);
    const results = link.sent.filter((m) => m.type === 'command-result').map((m) => m.body as { commandId: string; ok: boolean; error?: string });
    expect(results.find((r) => r.commandId === 'c-1')).to.deep.include({ ok: true });
    expect(results.find((r) => r.commandId === 'c-2')).to.deep.include({ ok: false });
    expect(link.sent.some((m) => m.type === 'usb-devices')).to.equal(true);
  });

  it('with compositeDevices per-interface, switches on the keyboard of a keyboard+storage gadget and keeps its storage off', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    const rules = 'allow with-interface equals { 09:*:* }\nallow with-interface equals { 03:*:* }\nblock with-interface one-of { 08:*:* }';
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy({ rules, implicitTarget: 'block', compositeDevices: 'per-interface' }, { version: 2 }) } });
    await waitFor('version 2', () => h!.service.policyInForce.version === 2);
    await h.fake.plug({ port: '1-1', vendor: '1d50', product: '6018', productName: 'Gadget', interfaces: ['03:01:01', '08:06:50'] });
    await waitFor('the gadget decided', async () => (await eventsOf(h!, 'device.blocked')).length === 1);
    expect(await h.fake.readAttr('1-1', 'authorized')).to.equal('1');
    expect(await h.fake.readAttr('1-1:1.0', 'authorized'), 'keyboard interface').to.equal('1');
    expect(await h.fake.readAttr('1-1:1.1', 'authorized'), 'storage interface').to.equal('0');
    const event = (await eventsOf(h, 'device.blocked'))[0]!;
    expect(event.data).to.deep.include({ partial: true, enforced: true });
    const interfaces = (event.data.decision as { interfaces: Array<{ type: string; target: string; line: number }> }).interfaces;
    expect(interfaces.map((i) => [i.type, i.target, i.line])).to.deep.equal([
      ['03:01:01', 'allow', 2],
      ['08:06:50', 'block', 3],
    ]);
    // The rescans that follow leave it as it is.
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.fake.readAttr('1-1', 'authorized')).to.equal('1');
    expect(await eventsOf(h, 'device.blocked')).to.have.length(1);
  });

  it('reports nothing for devices a new policy leaves as they were, and once for a device it cannot reject', async function () {
    this.timeout(20_000);
    h = await startHarness();
    const link = h.link();
    link.welcome();
    await h.fake.plug({ port: '1-1', ...KEYBOARD });
    await h.fake.plug({ port: '1-2', ...FLASH });
    await waitFor('both decided', async () => (await eventsOf(h!, 'device.connected')).length === 2);
    const before = (await h.events()).length;
    // Same decisions under version 2: only policy.applied is new.
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { version: 2 }) } });
    await waitFor('version 2 applied', async () => (await eventsOf(h!, 'policy.applied')).length === 1);
    expect((await h.events()).slice(before).map((e) => e.type)).to.deep.equal(['policy.applied']);

    // The keyboard's `remove` stops taking writes; version 3 rejects keyboards. The failure is
    // reported once, not again on every rescan that retries it.
    await h.fake.refuseWrites('1-1', 'remove');
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy({ rules: 'reject with-interface one-of { 03:*:* }', implicitTarget: 'block' }, { version: 3 }) } });
    await waitFor('version 3 applied', async () => (await eventsOf(h!, 'policy.applied')).length === 2, 8000);
    await new Promise((r) => setTimeout(r, 2600));
    const failures = (await eventsOf(h, 'device.rejected')).filter((e) => e.data.name === '1-1');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.deep.include({ severity: 'high' });
    expect(failures[0]!.data).to.deep.include({ enforced: false });
  });

  it('does not take an older policy of a group it was moved back to (replay across a move)', async () => {
    h = await startHarness();
    const link = h.link();
    link.welcome();
    const oldDefault = h.signer.policy(STORAGE_OK, { version: 2 });
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { version: 4 }) } });
    await waitFor('default v4', () => h!.service.policyInForce.version === 4);
    link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy(KEYBOARDS_ONLY, { group: 'finance', version: 1 }) } });
    await waitFor('finance v1', () => h!.service.policyInForce.group === 'finance');
    link.deliver({ v: 1, type: 'policy', body: { signed: oldDefault } });
    await waitFor('the replay refused', async () => (await eventsOf(h!, 'policy.refused')).length === 1);
    expect(String((await eventsOf(h, 'policy.refused'))[0]!.data.reason)).to.match(/older/);
    expect(h.service.policyInForce.group).to.equal('finance');
  });

  it('runs unenrolled on the built-in policy with no link, and still reports status', async () => {
    h = await startHarness({ enrolled: false });
    expect(() => h!.link()).to.throw(/no link/);
    await h.fake.plug({ port: '1-4', ...KEYBOARD });
    await waitFor('the status to count the device', () => h!.statuses.some((s) => s.devices === 1));
    const last = h.statuses[h.statuses.length - 1]!;
    expect(last).to.deep.include({ agentId: null, connected: false });
    expect(last.policy).to.deep.equal({ group: 'default', version: 0, source: 'built-in' });
  });
});
