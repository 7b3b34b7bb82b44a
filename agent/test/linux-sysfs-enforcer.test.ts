import { expect } from 'chai';
import { readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnforcementError, type EnforcementFailure } from '../src/platform/enforcer.js';
import { BlockDeviceReadOnly } from '../src/platform/linux/block-device-readonly.js';
import { SysfsDeviceSource } from '../src/platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import { FakeSysfs } from './support/fake-sysfs.js';

const FLASH = { vendor: '0781', product: '5567', serial: '4C530001230523112463', productName: 'Cruzer Blade', interfaces: ['08:06:50'] };
const GADGET = { vendor: '1d6b', product: '0104', productName: 'Composite Gadget', interfaces: ['03:01:01', '08:06:50'] };

async function failure(promise: Promise<unknown>): Promise<EnforcementError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof EnforcementError)) throw new Error(`expected an EnforcementError, got ${String(err)}`);
  expect(err.code).to.equal('PORTCULLIS_ERR_ENFORCEMENT');
  return err;
}

describe('linux: SysfsEnforcer', () => {
  let fake: FakeSysfs;
  let enforcer: SysfsEnforcer;
  beforeEach(async () => {
    fake = await FakeSysfs.create({ controllers: 2 });
    enforcer = new SysfsEnforcer(fake.root, { removeTimeoutMs: 150 });
  });
  afterEach(() => fake.cleanup());

  it('failClosed: authorized_default=0 on every root hub, so new devices arrive unauthorized and unconfigured', async () => {
    await enforcer.failClosed(fake.rootHubs());
    for (const hub of ['usb1', 'usb2', 'usb3', 'usb4']) expect(await fake.readAttr(hub, 'authorized_default'), hub).to.equal('0');
    await fake.plug({ port: '4-1', ...FLASH });
    expect(await fake.readAttr('4-1', 'authorized')).to.equal('0');
    expect(await fake.readAttr('4-1', 'bConfigurationValue')).to.equal('');
    expect(await fake.exists('4-1:1.0')).to.equal(false);
  });

  it('failClosed refuses anything but root hub names, before writing anything', async () => {
    const err = await failure(enforcer.failClosed(['usb1', '1-2']));
    expect(err.reason).to.equal('invalid-name');
    expect(await fake.readAttr('usb1', 'authorized_default')).to.equal('1');
  });

  it('failClosed closes every hub it can even when one refuses, then reports that one', async () => {
    await fake.refuseWrites('usb2', 'authorized_default');
    const err = await failure(enforcer.failClosed(fake.rootHubs()));
    expect(err.reason).to.equal('not-applied');
    expect(err.file).to.equal(join(fake.root, 'bus/usb/devices/usb2/authorized_default'));
    for (const hub of ['usb1', 'usb3', 'usb4']) expect(await fake.readAttr(hub, 'authorized_default'), hub).to.equal('0');
  });

  it('authorize / deauthorize: the kernel then adds or drops the interfaces', async () => {
    await enforcer.failClosed(fake.rootHubs());
    await fake.plug({ port: '1-2', ...FLASH });
    await enforcer.authorize('1-2');
    await fake.settle();
    expect(await fake.readAttr('1-2', 'authorized')).to.equal('1');
    expect(await fake.exists('1-2:1.0')).to.equal(true);
    await enforcer.deauthorize('1-2');
    await fake.settle();
    expect(await fake.exists('1-2:1.0')).to.equal(false);
  });

  it('remove: resolves once the kernel has dropped the device', async () => {
    await fake.plug({ port: '1-2', ...FLASH });
    fake.startKernel(5);
    await enforcer.remove('1-2');
    expect(await fake.exists('1-2')).to.equal(false);
  });

  it('remove: an error when the device is still there after the timeout', async () => {
    await fake.plug({ port: '1-2', ...FLASH });
    const err = await failure(enforcer.remove('1-2'));
    expect(err.reason).to.equal('not-applied');
    expect(err.message).to.match(/still present 150 ms after the write/);
  });

  it('remove: a device already gone is removed; a root hub cannot be', async () => {
    await enforcer.remove('1-9');
    expect((await failure(enforcer.remove('usb1'))).reason).to.equal('refused');
  });

  it('per-interface authorization of a composite device: keyboard on, storage off', async () => {
    await enforcer.failClosed(fake.rootHubs());
    await fake.plug({ port: '2-1', ...GADGET });
    await enforcer.interfaceDefault('2-1', false);
    expect(await fake.readAttr('usb2', 'interface_authorized_default')).to.equal('0');
    await enforcer.authorize('2-1');
    await fake.settle();
    expect(await fake.readAttr('2-1:1.0', 'authorized')).to.equal('0');
    await enforcer.setInterfaceAuthorized('2-1:1.0', true);
    expect(await fake.readAttr('2-1:1.0', 'authorized')).to.equal('1');
    expect(await fake.readAttr('2-1:1.1', 'authorized')).to.equal('0');
    await enforcer.interfaceDefault('usb2', true);
    expect(await fake.readAttr('usb2', 'interface_authorized_default')).to.equal('1');
  });

  describe('says so when the kernel did not take a write', () => {
    const rows: { why: string; arrange: (f: FakeSysfs) => Promise<void>; act: (e: SysfsEnforcer) => Promise<void>; reason: EnforcementFailure; file: string }[] = [
      {
        why: 'the value reads back different (write swallowed)',
        arrange: (f) => f.refuseWrites('1-2', 'authorized'),
        act: (e) => e.authorize('1-2'),
        reason: 'not-applied',
        file: '1-2/authorized',
      },
      {
        why: 'the attribute cannot be written at all (not writable even for root)',
        arrange: (f) => f.breakAttribute('1-2', 'authorized'),
        act: (e) => e.deauthorize('1-2'),
        reason: 'refused',
        file: '1-2/authorized',
      },
      {
        why: 'an interface that does not take the value',
        arrange: (f) => f.refuseWrites('1-2:1.0', 'authorized'),
        act: (e) => e.setInterfaceAuthorized('1-2:1.0', false),
        reason: 'not-applied',
        file: '1-2:1.0/authorized',
      },
      {
        why: 'the device was unplugged before the write',
        arrange: (f) => f.unplug('1-2'),
        act: (e) => e.authorize('1-2'),
        reason: 'gone',
        file: '1-2/authorized',
      },
    ];
    for (const row of rows) {
      it(row.why, async () => {
        await fake.plug({ port: '1-2', ...FLASH });
        await row.arrange(fake);
        const err = await failure(row.act(enforcer));
        expect(err.reason).to.equal(row.reason);
        expect(err.file).to.equal(join(fake.root, 'bus/usb/devices', row.file));
        expect(err.message).to.contain(err.file);
      });
    }

    it('never creates a missing attribute (no O_CREAT)', async () => {
      await failure(enforcer.authorize('1-9'));
      expect(await readdir(join(fake.root, 'bus/usb/devices'))).to.not.include('1-9');
    });
  });

  describe('builds paths only from kernel USB names', () => {
    const hostile = ['../../../etc', '1-2/../../../../tmp', 'usb1/..', '..', '.', '', '1-2\0', '1-2 ', 'USB1', '01-2', '1-2.3.4.5.6.7.8.9', 'usb1/authorized', '1-2/../usb1'];
    for (const name of hostile) {
      it(`refuses ${JSON.stringify(name)} for every method`, async () => {
        const calls = [
          enforcer.authorize(name),
          enforcer.deauthorize(name),
          enforcer.remove(name),
          enforcer.setInterfaceAuthorized(name, true),
          enforcer.interfaceDefault(name, false),
          enforcer.failClosed([name]),
        ];
        for (const call of calls) expect((await failure(call)).reason).to.equal('invalid-name');
      });
    }

    it('an interface name is not a device name, and the reverse', async () => {
      expect((await failure(enforcer.authorize('1-2:1.0'))).reason).to.equal('invalid-name');
      expect((await failure(enforcer.setInterfaceAuthorized('1-2', true))).reason).to.equal('invalid-name');
      expect((await failure(enforcer.failClosed(['1-2']))).reason).to.equal('invalid-name');
    });

    it('nothing was written outside the tree', async () => {
      for (const name of hostile) await enforcer.authorize(name).catch(() => undefined);
      expect(await readdir(dirname(fake.root))).to.not.include('authorized');
    });
  });
});

describe('linux: BlockDeviceReadOnly', () => {
  let fake: FakeSysfs;
  beforeEach(async () => {
    fake = await FakeSysfs.create();
    await fake.plug({ port: '1-2', ...FLASH });
    await fake.plug({ port: '1-3', vendor: '05e3', product: '0610', deviceClass: '09:00:02' });
    await fake.plug({ port: '1-3.1', ...FLASH, serial: 'OTHER' });
    await fake.addDisk('1-2', 'sdb', ['sdb1', 'sdb2']);
    await fake.addDisk('1-3.1', 'sdc', ['sdc1']);
  });
  afterEach(() => fake.cleanup());

  /** Stands in for blockdev: records the call and sets the fake `ro` as the ioctl would. */
  const blockdev =
    (calls: string[][], effect = true) =>
    async (file: string, args: readonly string[]): Promise<void> => {
      calls.push([file, ...args]);
      const dev = (args[1] ?? '').split('/').pop() ?? '';
      if (effect) await writeFile(join(fake.root, 'class/block', dev, 'ro'), '1\n');
    };

  it('finds the disks and partitions of one device, not those behind a hub', async () => {
    const ro = new BlockDeviceReadOnly(fake.root);
    expect(await ro.blockDevicesOf('1-2')).to.deep.equal(['sdb', 'sdb1', 'sdb2']);
    expect(await ro.blockDevicesOf('1-3')).to.deep.equal([]);
    expect(await ro.blockDevicesOf('1-3.1')).to.deep.equal(['sdc', 'sdc1']);
  });

  it('sets each read-only with blockdev --setro and reads the flag back', async () => {
    const calls: string[][] = [];
    const ro = new BlockDeviceReadOnly(fake.root, { run: blockdev(calls), devRoot: '/dev' });
    expect(await ro.protect('1-2')).to.deep.equal(['sdb', 'sdb1', 'sdb2']);
    expect(calls).to.deep.equal([
      ['blockdev', '--setro', '/dev/sdb'],
      ['blockdev', '--setro', '/dev/sdb1'],
      ['blockdev', '--setro', '/dev/sdb2'],
    ]);
  });

  it('fails closed: blockdev failing, or the flag not set afterwards, is an EnforcementError', async () => {
    const broken = new BlockDeviceReadOnly(fake.root, {
      run: () => Promise.reject(new Error('blockdev: cannot open /dev/sdb: No such file or directory')),
    });
    const refused = await failure(broken.protect('1-2'));
    expect(refused.reason).to.equal('refused');
    expect(refused.file).to.equal('/dev/sdb');
    const noEffect = await failure(new BlockDeviceReadOnly(fake.root, { run: blockdev([], false) }).protect('1-2'));
    expect(noEffect.reason).to.equal('not-applied');
    expect(noEffect.file).to.equal(join(fake.root, 'class/block/sdb/ro'));
  });

  it('scan still sees the storage device as itself', async () => {
    const states = await new SysfsDeviceSource(fake.root).scan();
    expect(states.find((s) => s.name === '1-2')?.device.interfaces).to.deep.equal(['08:06:50']);
  });
});
