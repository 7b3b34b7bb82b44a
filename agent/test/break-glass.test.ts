import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakGlassCommand } from '../src/commands/break-glass-command.js';
import { CommandError } from '../src/commands/io.js';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import { BREAK_GLASS_FILE, breakGlassActive, readBreakGlass, validateBreakGlass } from '../src/state/break-glass-file.js';
import { FakeSysfs } from './support/fake-sysfs.js';
import { startHarness, waitFor, type Harness } from './support/service-harness.js';

const KEYBOARD = { vendor: '046d', product: 'c31c', productName: 'USB Keyboard', interfaces: ['03:01:01'] };
const MOUSE = { vendor: '046d', product: 'c077', productName: 'Mouse', interfaces: ['03:01:02'] };
const BADUSB = { vendor: '1d50', product: '6018', productName: 'Keyboard+Disk', interfaces: ['03:01:01', '08:06:50'] };
const NOW = new Date('2026-11-25T10:00:00.000Z');

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

async function refused(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (err) {
    return err as CommandError;
  }
  throw new Error('expected the command to fail');
}

describe('break-glass', () => {
  describe('the command', () => {
    let fake: FakeSysfs;
    let state: string;

    beforeEach(async () => {
      fake = await FakeSysfs.create();
      fake.startKernel(2);
      await new SysfsEnforcer(fake.root).failClosed(fake.rootHubs());
      state = await mkdtemp(join(tmpdir(), 'portcullis-bg-'));
    });

    afterEach(async () => {
      await fake.cleanup();
      await rm(state, { recursive: true, force: true });
    });

    it('authorizes keyboards and mice at once, never a device that mixes HID with storage, and records who and why', async () => {
      await fake.plug({ port: '1-1', ...KEYBOARD });
      await fake.plug({ port: '1-2', ...MOUSE });
      await fake.plug({ port: '1-3', ...BADUSB });
      const { out, io: cio } = io();
      const code = await breakGlassCommand(['--reason', 'policy v12 blocked the keyboard', '--minutes', '15', '--state', state, '--sysfs-root', fake.root], cio, {
        now: () => NOW,
        user: () => 'alice',
      });
      expect(code, out.stderr).to.equal(0);
      expect(await fake.readAttr('1-1', 'authorized')).to.equal('1');
      expect(await fake.readAttr('1-2', 'authorized')).to.equal('1');
      expect(await fake.readAttr('1-3', 'authorized')).to.equal('0');
      expect(await readBreakGlass(state)).to.deep.equal({
        reason: 'policy v12 blocked the keyboard',
        by: 'alice',
        createdAt: '2026-11-25T10:00:00.000Z',
        until: '2026-11-25T10:15:00.000Z',
      });
      expect((await stat(join(state, BREAK_GLASS_FILE))).mode & 0o777).to.equal(0o600);
      expect(out.stdout).to.contain('break-glass until 2026-11-25T10:15:00.000Z');
    });

    it('refuses a missing reason and a bad duration, and --end removes the break-glass', async () => {
      // No reason: there would be nothing for the security staff to read.
      expect((await refused(breakGlassCommand(['--state', state, '--sysfs-root', fake.root], io().io))).exitCode).to.equal(2);
      // Longer than a day.
      expect((await refused(breakGlassCommand(['--reason', 'x', '--minutes', '1441', '--state', state], io().io))).message).to.match(/--minutes/);
      // Not a number.
      expect((await refused(breakGlassCommand(['--reason', 'x', '--minutes', '10m', '--state', state], io().io))).exitCode).to.equal(2);
      expect(existsSync(join(state, BREAK_GLASS_FILE))).to.equal(false);
      await breakGlassCommand(['--reason', 'x', '--state', state, '--sysfs-root', fake.root], io().io);
      expect(existsSync(join(state, BREAK_GLASS_FILE))).to.equal(true);
      // Ending moves the end to now and keeps the file, so a service that was down still reports it.
      expect(await breakGlassCommand(['--end', '--state', state], io().io)).to.equal(0);
      const ended = await readBreakGlass(state);
      expect(ended).to.not.equal(null);
      expect(breakGlassActive(ended, new Date(Date.now() + 1))).to.equal(false);
    });
  });

  describe('the file', () => {
    const good = { reason: 'r', by: 'alice', createdAt: '2026-11-25T10:00:00.000Z', until: '2026-11-25T10:30:00.000Z' };
    const bad: Array<[string, unknown, RegExp]> = [
      // Not an object at all.
      ['an array', [], /JSON object/],
      // The reason is what the audit event carries.
      ['no reason', { ...good, reason: '' }, /"reason"/],
      // A newline would forge a second log line.
      ['a multi-line user', { ...good, by: 'alice\nroot' }, /"by"/],
      // Ends before it starts.
      ['until before createdAt', { ...good, until: '2026-11-25T09:00:00.000Z' }, /after/],
      // A week-long break-glass is a policy change, not an emergency.
      ['longer than a day', { ...good, until: '2026-12-02T10:00:00.000Z' }, /at most 1440 minutes/],
      // Not a timestamp.
      ['a bad timestamp', { ...good, createdAt: 'yesterday' }, /ISO/],
    ];
    for (const [name, value, message] of bad) {
      it(`refuses ${name}`, () => {
        expect(() => validateBreakGlass(value, 'test')).to.throw(message);
      });
    }

    it('holds only between its creation and its end; one dated in the future does not hold', () => {
      expect(breakGlassActive(good, new Date('2026-11-25T10:10:00Z'))).to.equal(true);
      expect(breakGlassActive(good, new Date('2026-11-25T10:30:00Z'))).to.equal(false);
      expect(breakGlassActive(good, new Date('2026-11-25T09:00:00Z'))).to.equal(false);
    });
  });

  describe('in the service', () => {
    it('reports a break-glass made and ended while the service was down, once, when it starts', async () => {
      const made = Date.now() - 3_600_000;
      const h2 = await startHarness({
        before: async ({ stateDir }) => {
          await writeFile(
            join(stateDir, BREAK_GLASS_FILE),
            JSON.stringify({ reason: 'weekend lock-out', by: 'bob', createdAt: new Date(made).toISOString(), until: new Date(made + 600_000).toISOString() }),
            { mode: 0o600 },
          );
        },
      });
      try {
        const used = (await h2.events()).filter((e) => e.type === 'agent.break-glass');
        expect(used).to.have.length(1);
        expect(used[0]?.data).to.deep.include({ by: 'bob', reason: 'weekend lock-out', active: false });
        expect(h2.service.policyInForce.exceptions).to.deep.equal([]);
      } finally {
        await h2.cleanup();
      }
    });

    let h: Harness | undefined;

    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it('allows HID-only devices while it holds, reports it, and applies the policy again when it ends', async () => {
      h = await startHarness();
      const link = h.link();
      link.welcome();
      // A policy that locks everything out, keyboards included.
      link.deliver({ v: 1, type: 'policy', body: { signed: h.signer.policy({ rules: 'block', implicitTarget: 'block' }, { version: 2 }) } });
      await waitFor('version 2', () => h!.service.policyInForce.version === 2);
      await h.fake.plug({ port: '1-1', ...KEYBOARD });
      await h.fake.plug({ port: '1-2', ...BADUSB });
      await waitFor('both blocked', async () => (await h!.events()).filter((e) => e.type === 'device.blocked').length === 2);

      const now = Date.now();
      await writeFile(
        join(h.stateDir, BREAK_GLASS_FILE),
        JSON.stringify({ reason: 'locked out', by: 'alice', createdAt: new Date(now).toISOString(), until: new Date(now + 600_000).toISOString() }),
        { mode: 0o600 },
      );
      await waitFor('the keyboard allowed by the break-glass', async () => (await h!.events()).some((e) => e.type === 'device.allowed'));
      expect(await h.fake.readAttr('1-1', 'authorized')).to.equal('1');
      const events = await h.events();
      const used = events.find((e) => e.type === 'agent.break-glass');
      expect(used?.severity).to.equal('high');
      expect(used?.data).to.deep.include({ by: 'alice', reason: 'locked out', active: true });
      const allowed = events.find((e) => e.type === 'device.allowed' && e.data.name === '1-1');
      expect(allowed?.data.decision).to.deep.include({ source: 'exception', exceptionId: 'break-glass' });
      expect(await h.fake.readAttr('1-2', 'authorized')).to.equal('0');

      expect(await breakGlassCommand(['--end', '--state', h.stateDir], io().io)).to.equal(0);
      await waitFor('the keyboard blocked again', async () => (await h!.fake.readAttr('1-1', 'authorized')) === '0');
      const after = await h.events();
      expect(after.some((e) => e.type === 'agent.break-glass-ended')).to.equal(true);
      expect(after.filter((e) => e.type === 'agent.break-glass'), 'reported once').to.have.length(1);
      expect(JSON.parse(await readFile(join(h.stateDir, 'policy.json'), 'utf8')).document.exceptions).to.deep.equal([]);
    });
  });
});
