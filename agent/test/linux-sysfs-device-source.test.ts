import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HotplugEvent, UsbDeviceState } from '../src/platform/device-source.js';
import { SysfsDeviceSource } from '../src/platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import { usbGuardPathHash } from '../src/platform/linux/usbguard-hash.js';
import { FakeSysfs } from './support/fake-sysfs.js';

const FLASH = { vendor: '0781', product: '5567', serial: '4C530001230523112463', productName: 'Cruzer Blade', manufacturer: 'SanDisk', interfaces: ['08:06:50'] };
const GADGET = { vendor: '1d6b', product: '0104', productName: 'Composite Gadget', deviceClass: 'ef:02:01', interfaces: ['03:01:01', '08:06:50'] };
const HUB = { vendor: '05e3', product: '0610', productName: 'USB2.1 Hub', deviceClass: '09:00:02' };

function byName(states: UsbDeviceState[]): Map<string, UsbDeviceState> {
  return new Map(states.map((s) => [s.name, s]));
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('linux: SysfsDeviceSource', () => {
  let fake: FakeSysfs;
  beforeEach(async () => (fake = await FakeSysfs.create({ controllers: 2 })));
  afterEach(() => fake.cleanup());

  describe('scan', () => {
    it('reports every root hub of every controller, first, as USBGuard sees them', async () => {
      const states = await new SysfsDeviceSource(fake.root).scan();
      expect(states.map((s) => s.name)).to.deep.equal(['usb1', 'usb2', 'usb3', 'usb4']);
      const usb1 = states[0];
      expect(usb1).to.deep.include({ rootHub: true, authorized: true, busnum: 1, devnum: 1, interfaceNames: ['1-0:1.0'], deviceClass: '09' });
      expect(usb1?.devpath).to.equal('/devices/pci0000:00/0000:00:14.0/usb1');
      expect(usb1?.device).to.deep.include({ id: '1d6b:0002', name: 'xHCI Host Controller', serial: '0000:00:14.0', viaPort: 'usb1', connectType: '' });
      expect(usb1?.device.interfaces).to.deep.equal(['09:00:00']);
      expect(usb1?.device.parentHash).to.equal(usbGuardPathHash('/devices/pci0000:00/0000:00:14.0'));
      expect(states[3]?.device.parentHash).to.equal(usbGuardPathHash('/devices/pci0000:00/0000:00:1c.0/0000:03:00.0'));
      expect(states[1]?.device.id).to.equal('1d6b:0003');
    });

    it('reads a device behind an external hub, with the hub as parent', async () => {
      await fake.plug({ port: '1-2', ...HUB });
      await fake.plug({ port: '1-2.3', ...FLASH });
      const states = byName(await new SysfsDeviceSource(fake.root).scan());
      const hub = states.get('1-2');
      const drive = states.get('1-2.3');
      expect(drive?.devpath).to.equal('/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.3');
      expect(drive?.device).to.deep.include({ id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001230523112463', viaPort: '1-2.3', connectType: 'unknown' });
      expect(drive?.device.parentHash).to.equal(hub?.device.hash).and.be.a('string');
      expect(hub?.device.parentHash).to.equal(states.get('usb1')?.device.hash);
      expect(hub?.device.connectType).to.equal('hotplug');
      expect(drive).to.deep.include({ authorized: true, interfaceNames: ['1-2.3:1.0'], manufacturer: 'SanDisk', busnum: 1 });
    });

    it('reads an unauthorized device (no interface folders) from its descriptors', async () => {
      await new SysfsEnforcer(fake.root).failClosed(fake.rootHubs());
      await fake.plug({ port: '3-1', ...GADGET });
      const gadget = byName(await new SysfsDeviceSource(fake.root).scan()).get('3-1');
      expect(gadget).to.deep.include({ authorized: false, interfaceNames: [], deviceClass: 'ef' });
      expect(gadget?.device.interfaces).to.deep.equal(['03:01:01', '08:06:50']);
      expect(gadget?.problem).to.equal(undefined);
    });

    it('gives the same facts before and after authorization, so a decision cannot flip', async () => {
      const enforcer = new SysfsEnforcer(fake.root);
      await enforcer.failClosed(fake.rootHubs());
      await fake.plug({ port: '3-1', ...GADGET });
      const source = new SysfsDeviceSource(fake.root);
      const before = await source.readDevice('3-1');
      await enforcer.authorize('3-1');
      await fake.settle();
      const after = await source.readDevice('3-1');
      expect(after?.interfaceNames).to.deep.equal(['3-1:1.0', '3-1:1.1']);
      expect(after?.authorized).to.equal(true);
      expect(after?.device).to.deep.equal(before?.device);
    });

    it('reports a device whose descriptors cannot be parsed, with its problem, so it is decided', async () => {
      await fake.plug({ port: '1-4', vendor: 'dead', product: 'beef', productName: 'Liar', descriptors: Uint8Array.from([18, 1, 0, 2]) });
      const liar = byName(await new SysfsDeviceSource(fake.root).scan()).get('1-4');
      expect(liar?.problem).to.match(/byte 0: bLength 18 runs past the end/);
      expect(liar?.device).to.deep.include({ id: 'dead:beef', name: 'Liar', interfaces: [] });
      expect(liar?.device.hash).to.equal(undefined);
    });

    it('reads the port connect type as the kernel prints it', async () => {
      const rows = [
        { port: '1-1', connectType: 'hotplug' },
        { port: '1-3', connectType: 'hardwired' },
        { port: '1-5', connectType: 'not used' },
        { port: '1-6', connectType: 'unknown' },
      ];
      for (const row of rows) await fake.plug({ ...FLASH, ...row });
      const states = byName(await new SysfsDeviceSource(fake.root).scan());
      for (const row of rows) expect(states.get(row.port)?.device.connectType, row.port).to.equal(row.connectType);
    });

    it('a machine without a USB bus has no devices; a sysfs root that does not exist is an error', async () => {
      const bare = mkdtempSync(join(tmpdir(), 'portcullis-bare-sysfs-'));
      try {
        expect(await new SysfsDeviceSource(bare).scan()).to.deep.equal([]);
        const err = await new SysfsDeviceSource(join(bare, 'missing')).scan().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('ENOENT');
      } finally {
        rmSync(bare, { recursive: true, force: true });
      }
    });

    it('readDevice: null once the device is gone; names that are not kernel names are refused', async () => {
      await fake.plug({ port: '2-3', ...FLASH });
      const source = new SysfsDeviceSource(fake.root);
      expect((await source.readDevice('2-3'))?.device.id).to.equal('0781:5567');
      await fake.unplug('2-3');
      expect(await source.readDevice('2-3')).to.equal(null);
      for (const bad of ['../usb1', '2-3/..', '2-3:1.0', '']) {
        const err = await source.readDevice(bad).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, bad).to.be.instanceOf(RangeError);
      }
    });
  });

  describe('watch (polling)', () => {
    it('sees devices come, change authorization and go; children before their hub', async () => {
      const source = new SysfsDeviceSource(fake.root, { hotplug: 'poll', pollMs: 15, clock: () => 1234 });
      const events: HotplugEvent[] = [];
      const stop = await source.watch((e) => events.push(e));
      try {
        await fake.plug({ port: '1-2', ...HUB });
        await fake.plug({ port: '1-2.1', ...FLASH });
        await waitFor('adds', () => (events.length >= 2 ? true : undefined));
        await fake.writeAttr('1-2.1', 'authorized', '0');
        await waitFor('change', () => events.find((e) => e.action === 'change'));
        await fake.unplug('1-2');
        await waitFor('removes', () => (events.filter((e) => e.action === 'remove').length >= 2 ? true : undefined));
      } finally {
        await stop();
      }
      expect(events.map((e) => `${e.action} ${e.name}`)).to.deep.equal(['add 1-2', 'add 1-2.1', 'change 1-2.1', 'remove 1-2.1', 'remove 1-2']);
      expect(events.every((e) => e.at === 1234)).to.equal(true);
    });

    it('sees another device taking the same port between two looks', async () => {
      await fake.plug({ port: '1-2', ...FLASH });
      const source = new SysfsDeviceSource(fake.root, { hotplug: 'poll', pollMs: 200 });
      const events: HotplugEvent[] = [];
      const stop = await source.watch((e) => events.push(e));
      try {
        await fake.unplug('1-2');
        await fake.plug({ port: '1-2', ...GADGET });
        await waitFor('replug', () => (events.length >= 2 ? true : undefined));
      } finally {
        await stop();
      }
      expect(events.map((e) => `${e.action} ${e.name}`)).to.deep.equal(['remove 1-2', 'add 1-2']);
    });

    it('reports nothing after it was stopped', async () => {
      const events: HotplugEvent[] = [];
      const stop = await new SysfsDeviceSource(fake.root, { hotplug: 'poll', pollMs: 10 }).watch((e) => events.push(e));
      await stop();
      await fake.plug({ port: '1-2', ...FLASH });
      await new Promise((r) => setTimeout(r, 60));
      expect(events).to.deep.equal([]);
    });
  });

  describe('watch (udevadm, with polling while it is down)', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'portcullis-udevadm-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /**
     * A stand-in for `udevadm monitor`: prints the banner and `blocks`, then stays up (or exits
     * with `exitCode` after `lifeMs`). Each start is counted in `<dir>/starts`.
     */
    function fakeUdevadm(script: { blocks?: string; exitCode?: number; lifeMs?: number; failFirst?: number }): { command: string; args: string[] } {
      const file = join(dir, 'udevadm.mjs');
      writeFileSync(
        file,
        `import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(join(dir, 'starts'))}, 'x');
const n = readFileSync(${JSON.stringify(join(dir, 'starts'))}, 'utf8').length;
if (n <= ${script.failFirst ?? 0}) { process.stderr.write('Failed to create monitor: Operation not permitted\\n'); process.exit(1); }
process.stdout.write('monitor will print the received events for:\\nKERNEL - the kernel uevent\\n\\n');
process.stdout.write(${JSON.stringify(script.blocks ?? '')});
${script.exitCode !== undefined ? `setTimeout(() => process.exit(${script.exitCode}), ${script.lifeMs ?? 0});` : 'setInterval(() => {}, 1000);'}
`,
      );
      return { command: process.execPath, args: [file] };
    }

    const starts = (): number => {
      const file = join(dir, 'starts');
      return existsSync(file) ? readFileSync(file, 'utf8').length : 0;
    };

    it('turns uevents into events and does not poll while udevadm runs', async () => {
      const blocks =
        'KERNEL[10.5] add      /devices/pci0000:00/0000:00:14.0/usb1/1-7 (usb)\nACTION=add\nDEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-7\nSUBSYSTEM=usb\nDEVTYPE=usb_device\n\n' +
        'KERNEL[10.6] add      /devices/pci0000:00/0000:00:14.0/usb1/1-7/1-7:1.0 (usb)\nACTION=add\nDEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-7/1-7:1.0\nSUBSYSTEM=usb\nDEVTYPE=usb_interface\n\n';
      const logs: string[] = [];
      const source = new SysfsDeviceSource(fake.root, {
        hotplug: 'udevadm',
        pollMs: 10,
        udevadm: fakeUdevadm({ blocks }),
        log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
      });
      const events: HotplugEvent[] = [];
      const stop = await source.watch((e) => events.push(e));
      try {
        await waitFor('uevent', () => events.find((e) => e.name === '1-7'));
        await fake.plug({ port: '1-3', ...FLASH });
        await new Promise((r) => setTimeout(r, 150));
      } finally {
        await stop();
      }
      expect(events.map((e) => `${e.action} ${e.name}`)).to.deep.equal(['add 1-7']);
      expect(logs).to.deep.equal(['info USB hotplug: receiving kernel uevents through udevadm']);
    });

    it('polls when udevadm is missing, and says so', async () => {
      const logs: string[] = [];
      const source = new SysfsDeviceSource(fake.root, {
        hotplug: 'udevadm',
        pollMs: 10,
        udevadm: { command: join(dir, 'no-such-udevadm'), args: [] },
        restartBackoff: { initialMs: 5000, maxMs: 5000 },
        log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
      });
      const events: HotplugEvent[] = [];
      const stop = await source.watch((e) => events.push(e));
      try {
        await waitFor('fallback', () => (logs.length > 0 ? true : undefined));
        await new Promise((r) => setTimeout(r, 50));
        await fake.plug({ port: '1-3', ...FLASH });
        await waitFor('polled add', () => events.find((e) => e.name === '1-3'));
      } finally {
        await stop();
      }
      expect(logs[0]).to.match(/no-such-udevadm: spawn .* ENOENT; polling sysfs every 10 ms, retrying udevadm in 5000 ms/);
    });

    it('restarts a dying udevadm with growing delays, polling in between', async () => {
      const logs: string[] = [];
      const source = new SysfsDeviceSource(fake.root, {
        hotplug: 'udevadm',
        pollMs: 10,
        udevadm: fakeUdevadm({ failFirst: 3 }),
        restartBackoff: { initialMs: 20, maxMs: 60 },
        log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
      });
      const events: HotplugEvent[] = [];
      const stop = await source.watch((e) => events.push(e));
      try {
        await waitFor('recovery', () => logs.find((m) => m.includes('receiving kernel uevents')));
      } finally {
        await stop();
      }
      expect(starts()).to.equal(4);
      const downs = logs.filter((m) => m.includes('retrying'));
      expect(downs.map((m) => /retrying udevadm in (\d+) ms/.exec(m)?.[1])).to.deep.equal(['20', '40', '60']);
      expect(downs[0]).to.match(/exited with status 1: Failed to create monitor: Operation not permitted/);
    });
  });
});
