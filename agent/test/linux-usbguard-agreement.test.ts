import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { escapeByteString, toByteString } from '@portcullis/shared';
import type { UsbDeviceState } from '../src/platform/device-source.js';
import { SysfsDeviceSource } from '../src/platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import { parseUsbDescriptors } from '../src/platform/linux/usb-descriptor-parser.js';
import { usbGuardDeviceHash, usbGuardPathHash } from '../src/platform/linux/usbguard-hash.js';
import { FakeSysfs } from './support/fake-sysfs.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A root hub's descriptors as Linux 4.15 wrote them (bcdDevice 0x0415), from USBGuard's test data. */
const XHCI_USB2_ROOT_HUB = hex('12010002090001406B1D020015040302010109021900010100E0000904000001090000000705810304000C');

function hashOf(name: string, id: string, serial: string, descriptors: Uint8Array): string {
  const [vendorId = '', productId = ''] = id.split(':');
  return usbGuardDeviceHash({ name, vendorId, productId, serial }, descriptors, parseUsbDescriptors(descriptors));
}

function withBcdDevice(descriptors: Uint8Array, bcd: number): Uint8Array {
  const copy = Uint8Array.from(descriptors);
  copy[12] = bcd & 0xff;
  copy[13] = bcd >> 8;
  return copy;
}

describe('linux: USBGuard device hash', () => {
  // Each row's expected hash was computed by USBGuard itself: either in USBGuard's own test suite
  // (src/Tests/UseCase/003_cli_devices_umockdev.sh greps list-devices for these two hashes of
  // devices in devices.umockdev) or in rules `usbguard generate-policy` wrote on real machines
  // and that people published (NixOS configurations).
  const rows = [
    {
      why: 'USBGuard test suite: ThinkPad WS dock (17ef:305a)',
      name: 'Lenovo ThinkPad WS Dock',
      id: '17ef:305a',
      serial: '',
      descriptors: hex('1201100209000140EF175A3010500102000109021900010100E0000904000001090000000705810301000C'),
      hash: '2y2qS3rcuMr1Ye5knWsbD8CGzPtrs+eiRR/haro7+Ng=',
    },
    {
      why: 'USBGuard test suite: Kensington trackball behind the dock',
      name: 'Kensington Eagle Trackball',
      id: '047d:2048',
      serial: '',
      descriptors: hex('12010002000000087D04482000060102000109022200010100A0320904000001030102000921110100012252000705810308000A'),
      hash: 'D3deklX12Ir3kJPfUZ5AQNwHeZn1bwtPkQkw6e+8B38=',
    },
    {
      why: 'generate-policy on real PCs: Intel xHCI USB 2 root hub 0000:00:14.0',
      name: 'xHCI Host Controller',
      id: '1d6b:0002',
      serial: '0000:00:14.0',
      descriptors: XHCI_USB2_ROOT_HUB,
      hash: 'jEP/6WzviqdJ5VSeTUY8PatCNBKeaREvo2OqdplND/o=',
    },
  ];
  for (const row of rows) {
    it(row.why, () => {
      expect(hashOf(row.name, row.id, row.serial, row.descriptors)).to.equal(row.hash);
    });
  }

  it('a Linux root hub keeps its hash across kernel versions (bcdDevice is not hashed)', () => {
    for (const bcd of [0x0415, 0x0510, 0x0601, 0x0612]) {
      expect(hashOf('xHCI Host Controller', '1d6b:0002', '0000:00:14.0', withBcdDevice(XHCI_USB2_ROOT_HUB, bcd))).to.equal(
        'jEP/6WzviqdJ5VSeTUY8PatCNBKeaREvo2OqdplND/o=',
      );
    }
  });

  it('any other device changes its hash with bcdDevice (a firmware update is a different device)', () => {
    const trackball = rows[1];
    if (trackball === undefined) throw new Error('table changed');
    expect(hashOf(trackball.name, trackball.id, '', withBcdDevice(trackball.descriptors, 0x0601))).to.not.equal(trackball.hash);
  });

  it('covers name and serial: the same model with another serial is another device', () => {
    const d = rows[1]?.descriptors ?? new Uint8Array();
    const base = hashOf('Kensington Eagle Trackball', '047d:2048', '', d);
    expect(hashOf('Kensington Eagle Trackball', '047d:2048', '0001', d)).to.not.equal(base);
    expect(hashOf('Kensington Trackball', '047d:2048', '', d)).to.not.equal(base);
  });

  describe('parent-hash of a root hub: hash of its parent devpath', () => {
    const rows = [
      { devpath: '/devices/pci0000:00/0000:00:14.0', hash: 'rV9bfLq7c2eA4tYjVjwO4bxhm+y6GgZpl9J60L0fBkY=' },
      { devpath: '/devices/pci0000:00/0000:00:0d.0', hash: 'Y1kBdG1uWQr5CjULQs7uh2F6pHgFb6VDHcWLk83v+tE=' },
    ];
    for (const row of rows) {
      it(`${row.devpath} (as in published generate-policy output)`, () => {
        expect(usbGuardPathHash(row.devpath)).to.equal(row.hash);
      });
    }
  });
});

describe('linux: SysfsDeviceSource agrees with `usbguard generate-policy` on the same tree', () => {
  // usbguard reads /sys and nothing else, so it runs in a private mount namespace with the fake
  // tree bound over /sys: the same files, read by both. The reference is required, never skipped.
  let fake: FakeSysfs;
  let states: UsbDeviceState[];
  let reference: string[];

  before(async () => {
    fake = await FakeSysfs.create({ controllers: 2 });
    await fake.plug({ port: '1-2', vendor: '05e3', product: '0610', deviceClass: '09:00:02', productName: 'USB2.1 Hub', manufacturer: 'GenesysLogic' });
    await fake.plug({ port: '1-2.3', vendor: '0781', product: '5567', serial: '4C530001230523112463', productName: 'Cruzer Blade', manufacturer: 'SanDisk', interfaces: ['08:06:50'] });
    await fake.plug({ port: '1-5', vendor: '5986', product: '0706', productName: 'Integrated Camera', manufacturer: 'SunplusIT Inc', connectType: 'hardwired', interfaces: ['0e:01:00', '0e:02:00', { type: '0e:02:00', alternate: 1 }, { type: '0e:02:00', alternate: 2 }] });
    await fake.plug({ port: '3-1', vendor: '046d', product: 'c31c', productName: 'Clé "USB" \\ test', serial: ' 00 12 ', interfaces: ['03:01:01', '03:00:00'], connectType: 'not used' });
    await new SysfsEnforcer(fake.root).failClosed(fake.rootHubs());
    await fake.plug({ port: '2-1', vendor: '1d6b', product: '0104', productName: 'Multifunction Composite Gadget', serial: 'fedcba9876543210', deviceClass: 'ef:02:01', interfaces: ['03:01:01', '08:06:50'] });
    await fake.plug({ port: '1-2.4', vendor: 'dead', product: 'beef', productName: 'Broken', descriptors: hex('12 01 00 02 00 00 00 40 ad de ef be 00 01 00 00 00 01 09 02 ff') });
    states = await new SysfsDeviceSource(fake.root, { hotplug: 'poll' }).scan();
    reference = generatePolicy(fake.root);
  });
  after(() => fake.cleanup());

  it('prints, for every readable device, exactly the rule we would print', () => {
    const ours = states.filter((s) => s.problem === undefined).map(ruleOf);
    expect(ours).to.have.length(9);
    expect([...reference].sort()).to.deep.equal([...ours].sort());
  });

  it('includes the unauthorized composite gadget, read from its descriptors', () => {
    const gadget = states.find((s) => s.name === '2-1');
    expect(gadget?.authorized).to.equal(false);
    expect(reference.some((line) => line.includes('via-port "2-1" with-interface { 03:01:01 08:06:50 }'))).to.equal(true);
  });

  it('leaves out the device whose descriptors are cut short, which we report with its problem', () => {
    expect(states.find((s) => s.name === '1-2.4')?.problem).to.match(/runs past the end/);
    expect(reference.some((line) => line.includes('dead:beef'))).to.equal(false);
  });
});

/** The rule `usbguard generate-policy --with-ports` prints for a device. */
function ruleOf(s: UsbDeviceState): string {
  const str = (v: string | undefined): string => `"${escapeByteString(toByteString(v ?? ''))}"`;
  const ifs = s.device.interfaces ?? [];
  const withInterface = ifs.length === 1 ? (ifs[0] ?? '') : `{ ${ifs.join(' ')} }`;
  return (
    `allow id ${s.device.id} serial ${str(s.device.serial)} name ${str(s.device.name)} hash ${str(s.device.hash)} ` +
    `parent-hash ${str(s.device.parentHash)} via-port ${str(s.device.viaPort)} with-interface ${withInterface} ` +
    `with-connect-type ${str(s.device.connectType)}`
  );
}

function generatePolicy(sysfsRoot: string): string[] {
  const asRoot = process.getuid?.() === 0;
  const run = spawnSync(
    'unshare',
    [...(asRoot ? ['--mount'] : ['--mount', '--map-root-user']), 'sh', '-c', 'mount --bind "$1" /sys && exec usbguard generate-policy --with-ports', 'sh', sysfsRoot],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (run.error) throw run.error;
  if (run.status !== 0) {
    throw new Error(
      `usbguard generate-policy in a mount namespace failed (status ${String(run.status)}): ${run.stderr.trim()}\n` +
        "It is the reference for this test (USBGuard 1.1.2): install Debian's usbguard package; the test needs " +
        'unshare(1) and permission to create a mount namespace (root, or unprivileged user namespaces).',
    );
  }
  return run.stdout.split('\n').filter((line) => line.startsWith('allow '));
}
