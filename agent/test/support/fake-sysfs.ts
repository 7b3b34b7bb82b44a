import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';

/**
 * A sysfs tree on disk that behaves like the kernel facts measured for issue 4:
 *
 * - `devices/pci0000:00/0000:00:14.0/usb1` and `usb2`: an xHCI controller has a USB 2 and a USB 3
 *   root hub (a second controller adds usb3/usb4), each with `authorized_default` (1 until the
 *   agent writes 0) and `interface_authorized_default`;
 * - `bus/usb/devices/<name>` are symlinks into `devices/…`, for devices and interfaces alike;
 * - every device has its attribute files, a binary `descriptors` file and a `port` link to the
 *   hub port holding `connect_type`;
 * - a device plugged into a bus whose root hub has `authorized_default=0` appears with
 *   `authorized=0`, an empty `bConfigurationValue` and NO interface folders;
 * - writes are plain file writes; `settle()` then does what the kernel does after them
 *   (authorized=1 creates the interfaces, authorized=0 removes them and any devices behind a hub,
 *   remove=1 makes the device and its links disappear). `startKernel()` settles continuously,
 *   like the hub thread, for code that waits for the kernel.
 */

export interface InterfaceSpec {
  /** `cc:ss:pp` */
  readonly type: string;
  readonly number?: number;
  readonly alternate?: number;
}

export interface PlugSpec {
  /** Kernel name: `1-2` (port 2 of bus 1's root hub), `1-2.3` (port 3 of hub 1-2). */
  readonly port: string;
  /** idVendor, 4 hex digits. */
  readonly vendor: string;
  /** idProduct, 4 hex digits. */
  readonly product: string;
  /** The `product` string (USBGuard's `name`). */
  readonly productName?: string;
  readonly manufacturer?: string;
  readonly serial?: string;
  readonly interfaces?: readonly (string | InterfaceSpec)[];
  /** bDeviceClass `cc` or `cc:ss:pp`; `09` makes a hub. */
  readonly deviceClass?: string;
  readonly bcdUSB?: number;
  readonly bcdDevice?: number;
  /** What the port's `connect_type` says; default `hotplug` on root hub ports, `unknown` behind hubs. */
  readonly connectType?: string;
  /** Ports of a hub (default 4). */
  readonly maxchild?: number;
  /** Raw descriptors instead of building them from the fields above (broken devices). */
  readonly descriptors?: Uint8Array;
}

interface FakeDevice {
  readonly name: string;
  readonly dir: string;
  readonly rootHub: boolean;
  readonly hubPorts: number;
  /** Interfaces of configuration 1, alternate setting 0: what the kernel creates on authorization. */
  readonly interfaces: readonly { number: number; cls: number; sub: number; proto: number; endpoints: number }[];
}

const PCI = ['pci0000:00/0000:00:14.0', 'pci0000:00/0000:00:1c.0/0000:03:00.0'];

export class FakeSysfs {
  private readonly devices = new Map<string, FakeDevice>();
  private readonly devnums = new Map<number, number>();
  private kernel: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;
  /** Plug, unplug and settle run one at a time, as the kernel's hub thread does them. */
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(readonly root: string) {}

  /** A tree with `controllers` xHCI controllers (two root hubs each). */
  static async create(options: { controllers?: number } = {}): Promise<FakeSysfs> {
    const fake = new FakeSysfs(await mkdtemp(join(tmpdir(), 'portcullis-sysfs-')));
    await mkdir(join(fake.root, 'bus', 'usb', 'devices'), { recursive: true });
    await mkdir(join(fake.root, 'class', 'block'), { recursive: true });
    await mkdir(join(fake.root, 'block'), { recursive: true });
    for (let c = 0; c < (options.controllers ?? 1); c++) {
      const pci = PCI[c] ?? `pci0000:00/0000:00:1c.${c}/0000:0${c + 3}:00.0`;
      await fake.addRootHub(c * 2 + 1, pci, false);
      await fake.addRootHub(c * 2 + 2, pci, true);
    }
    return fake;
  }

  rootHubs(): string[] {
    return [...this.devices.values()].filter((d) => d.rootHub).map((d) => d.name);
  }

  /** Plugs a device in; returns its name. The kernel's authorized_default decides its state. */
  plug(spec: PlugSpec): Promise<string> {
    return this.exclusive(() => this.plugNow(spec));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async plugNow(spec: PlugSpec): Promise<string> {
    const name = spec.port;
    const m = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(name);
    if (m === null) throw new Error(`fake sysfs: bad port ${name}`);
    if (this.devices.has(name)) throw new Error(`fake sysfs: ${name} is already plugged`);
    const bus = Number(m[1]);
    const path = m[2] ?? '';
    const parentName = parentOf(name);
    const portNo = Number(name.slice(Math.max(name.lastIndexOf('.'), name.indexOf('-')) + 1));
    const parent = this.devices.get(parentName);
    if (parent === undefined) throw new Error(`fake sysfs: no hub ${parentName}`);
    const portDir = join(parent.dir, `${parent.rootHub ? `${bus}-0` : parentName}:1.0`, `${parentName}-port${portNo}`);
    if (!(await exists(portDir))) throw new Error(`fake sysfs: ${parentName} has no configured port ${portNo}`);
    const connectType = spec.connectType ?? (parent.rootHub ? 'hotplug' : 'unknown');
    await writeFile(join(portDir, 'connect_type'), `${connectType}\n`);

    const hubDefault = await this.readAttr(`usb${bus}`, 'authorized_default');
    const authorized = hubDefault === '0' ? false : hubDefault === '2' ? connectType === 'hardwired' : true;
    const cls = parseTriple(spec.deviceClass ?? '00');
    const isHub = cls[0] === 0x09;
    const interfaces = interfaceList(spec.interfaces ?? (isHub ? ['09:00:00'] : []));
    const descriptors = spec.descriptors ?? buildDescriptors(spec);
    const devnum = this.nextDevnum(bus);
    const dev: FakeDevice = {
      name,
      dir: join(parent.dir, name),
      rootHub: false,
      hubPorts: isHub ? (spec.maxchild ?? 4) : 0,
      interfaces: interfaces.filter((i) => i.alternate === 0),
    };
    const attrs: Record<string, string> = {
      idVendor: spec.vendor,
      idProduct: spec.product,
      bcdDevice: hex4(spec.bcdDevice ?? 0x0100),
      bDeviceClass: hex2(cls[0]),
      bDeviceSubClass: hex2(cls[1]),
      bDeviceProtocol: hex2(cls[2]),
      bNumConfigurations: '1',
      bNumInterfaces: `${String(new Set(interfaces.map((i) => i.number)).size).padStart(2)}`,
      bConfigurationValue: '',
      bMaxPacketSize0: '64',
      busnum: String(bus),
      devnum: String(devnum),
      devpath: path,
      maxchild: String(dev.hubPorts),
      speed: '480',
      version: ' 2.00',
      removable: connectType === 'hotplug' ? 'removable' : connectType === 'hardwired' ? 'fixed' : 'unknown',
      authorized: authorized ? '1' : '0',
      remove: '',
      uevent: usbDeviceUevent(bus, devnum, spec.vendor, spec.product, spec.bcdDevice ?? 0x0100, cls),
      ...(spec.productName !== undefined ? { product: spec.productName } : {}),
      ...(spec.manufacturer !== undefined ? { manufacturer: spec.manufacturer } : {}),
      ...(spec.serial !== undefined ? { serial: spec.serial } : {}),
    };
    await mkdir(dev.dir);
    for (const [file, value] of Object.entries(attrs)) await writeFile(join(dev.dir, file), value === '' ? '' : `${value}\n`);
    await writeFile(join(dev.dir, 'descriptors'), descriptors);
    await symlink(relative(dev.dir, portDir), join(dev.dir, 'port'));
    await this.link(name, dev.dir);
    this.devices.set(name, dev);
    if (authorized) await this.configure(dev);
    return name;
  }

  /** Pulls a device out (and whatever is behind it, if it is a hub). */
  unplug(name: string): Promise<void> {
    return this.exclusive(() => this.unplugNow(name));
  }

  private async unplugNow(name: string): Promise<void> {
    const dev = this.devices.get(name);
    if (dev === undefined || dev.rootHub) throw new Error(`fake sysfs: ${name} is not a plugged device`);
    await this.deconfigure(dev);
    await rm(join(this.root, 'bus', 'usb', 'devices', name), { force: true });
    await rm(dev.dir, { recursive: true, force: true });
    this.devices.delete(name);
  }

  /** Applies what the kernel would have done after the writes since the last settle. */
  settle(): Promise<void> {
    this.settling ??= this.exclusive(() => this.settleOnce()).finally(() => (this.settling = undefined));
    return this.settling;
  }

  /** Settles every `intervalMs` in the background, like the kernel's hub thread. */
  startKernel(intervalMs = 5): void {
    this.stopKernel();
    this.kernel = setInterval(() => void this.settle(), intervalMs);
  }

  stopKernel(): void {
    if (this.kernel !== undefined) clearInterval(this.kernel);
    this.kernel = undefined;
  }

  async readAttr(name: string, attr: string): Promise<string> {
    return (await readFile(join(this.root, 'bus', 'usb', 'devices', name, attr), 'latin1')).trim();
  }

  async writeAttr(name: string, attr: string, value: string): Promise<void> {
    await writeFile(join(this.root, 'bus', 'usb', 'devices', name, attr), `${value}\n`);
  }

  async exists(name: string): Promise<boolean> {
    return exists(join(this.root, 'bus', 'usb', 'devices', name));
  }

  /** The attribute swallows writes and reads back empty: a kernel that does not take the value. */
  async refuseWrites(name: string, attr: string): Promise<void> {
    const file = join(this.root, 'bus', 'usb', 'devices', name, attr);
    await rm(file, { force: true });
    await symlink('/dev/null', file);
  }

  /** The attribute cannot be opened for writing at all (EISDIR), even by root. */
  async breakAttribute(name: string, attr: string): Promise<void> {
    const file = join(this.root, 'bus', 'usb', 'devices', name, attr);
    await rm(file, { force: true });
    await mkdir(file);
  }

  /** A SCSI disk (and partitions) under interface 0 of an authorized storage device. */
  async addDisk(usbName: string, disk: string, partitions: readonly string[] = []): Promise<void> {
    const dev = this.devices.get(usbName);
    if (dev === undefined) throw new Error(`fake sysfs: no device ${usbName}`);
    const iface = join(dev.dir, `${usbName}:1.0`);
    if (!(await exists(iface))) throw new Error(`fake sysfs: ${usbName} is not configured`);
    const diskDir = join(iface, 'host6', 'target6:0:0', '6:0:0:0', 'block', disk);
    for (const [dir, name] of [[diskDir, disk] as const, ...partitions.map((p) => [join(diskDir, p), p] as const)]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'ro'), '0\n');
      await writeFile(join(dir, 'size'), '61341696\n');
      await symlink(relative(join(this.root, 'class', 'block'), dir), join(this.root, 'class', 'block', name));
    }
    await symlink(relative(join(this.root, 'block'), diskDir), join(this.root, 'block', disk));
  }

  async cleanup(): Promise<void> {
    this.stopKernel();
    await this.settling;
    await rm(this.root, { recursive: true, force: true });
  }

  private async settleOnce(): Promise<void> {
    const byDepth = [...this.devices.values()].sort((a, b) => a.name.length - b.name.length);
    for (const dev of byDepth) {
      if (!this.devices.has(dev.name)) continue;
      const state = async (attr: string): Promise<string> => (await readFile(join(dev.dir, attr), 'latin1').catch(() => '')).trim();
      if (!dev.rootHub && (await state('remove')) === '1') {
        await this.unplugNow(dev.name);
        continue;
      }
      const authorized = await state('authorized');
      const configured = (await state('bConfigurationValue')) !== '';
      if (authorized === '1' && !configured) await this.configure(dev);
      else if (authorized === '0' && configured) await this.deconfigure(dev);
    }
  }

  private async addRootHub(bus: number, pci: string, usb3: boolean): Promise<void> {
    const name = `usb${bus}`;
    const dir = join(this.root, 'devices', pci, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dirname(dir), 'uevent'), `DRIVER=xhci_hcd\nPCI_CLASS=C0330\nPCI_SLOT_NAME=${basename(dirname(dir))}\nSUBSYSTEM=pci\n`);
    const serial = pci.slice(pci.lastIndexOf('/') + 1);
    const pid = usb3 ? '0003' : '0002';
    const attrs: Record<string, string> = {
      idVendor: '1d6b',
      idProduct: pid,
      bcdDevice: '0601',
      product: 'xHCI Host Controller',
      manufacturer: 'Linux 6.1.0-25-amd64 xhci-hcd',
      serial,
      bDeviceClass: '09',
      bDeviceSubClass: '00',
      bDeviceProtocol: usb3 ? '03' : '01',
      bConfigurationValue: '',
      bNumConfigurations: '1',
      bNumInterfaces: ' 1',
      busnum: String(bus),
      devnum: '1',
      devpath: '0',
      maxchild: usb3 ? '4' : '12',
      speed: usb3 ? '5000' : '480',
      version: usb3 ? ' 3.00' : ' 2.00',
      removable: 'unknown',
      authorized: '1',
      authorized_default: '1',
      interface_authorized_default: '1',
      remove: '',
      uevent: usbDeviceUevent(bus, 1, '1d6b', pid, 0x0601, [9, 0, usb3 ? 3 : 1]),
    };
    for (const [file, value] of Object.entries(attrs)) await writeFile(join(dir, file), value === '' ? '' : `${value}\n`);
    await writeFile(join(dir, 'descriptors'), rootHubDescriptors(usb3));
    await this.link(name, dir);
    this.devnums.set(bus, 1);
    const hub: FakeDevice = {
      name,
      dir,
      rootHub: true,
      hubPorts: usb3 ? 4 : 12,
      interfaces: [{ number: 0, cls: 9, sub: 0, proto: 0, endpoints: 1 }],
    };
    this.devices.set(name, hub);
    await this.configure(hub);
  }

  private async configure(dev: FakeDevice): Promise<void> {
    const bus = Number(dev.rootHub ? dev.name.slice(3) : dev.name.slice(0, dev.name.indexOf('-')));
    const ifaceDefault = await this.readAttr(`usb${bus}`, 'interface_authorized_default');
    const prefix = dev.rootHub ? `${bus}-0` : dev.name;
    for (const i of dev.interfaces) {
      const iname = `${prefix}:1.${i.number}`;
      const dir = join(dev.dir, iname);
      await mkdir(dir);
      const attrs: Record<string, string> = {
        bInterfaceNumber: hex2(i.number),
        bAlternateSetting: ' 0',
        bNumEndpoints: hex2(i.endpoints),
        bInterfaceClass: hex2(i.cls),
        bInterfaceSubClass: hex2(i.sub),
        bInterfaceProtocol: hex2(i.proto),
        authorized: ifaceDefault === '0' ? '0' : '1',
        uevent: `DEVTYPE=usb_interface\nINTERFACE=${i.cls}/${i.sub}/${i.proto}\n`,
      };
      for (const [file, value] of Object.entries(attrs)) await writeFile(join(dir, file), `${value}\n`);
      await this.link(iname, dir);
      if (i.cls === 0x09 && dev.hubPorts > 0) {
        for (let p = 1; p <= dev.hubPorts; p++) {
          const port = join(dir, `${dev.name}-port${p}`);
          await mkdir(port);
          await writeFile(join(port, 'connect_type'), dev.rootHub ? 'hotplug\n' : 'unknown\n');
        }
      }
    }
    await writeFile(join(dev.dir, 'bConfigurationValue'), '1\n');
  }

  private async deconfigure(dev: FakeDevice): Promise<void> {
    for (const child of [...this.devices.keys()].filter((n) => !n.startsWith('usb') && parentOf(n) === dev.name)) {
      if (this.devices.has(child)) await this.unplugNow(child);
    }
    for (const entry of await readdir(dev.dir)) {
      if (!entry.includes(':')) continue;
      await rm(join(this.root, 'bus', 'usb', 'devices', entry), { force: true });
      await rm(join(dev.dir, entry), { recursive: true, force: true });
    }
    await this.dropDanglingBlockLinks();
    await writeFile(join(dev.dir, 'bConfigurationValue'), '');
  }

  private async dropDanglingBlockLinks(): Promise<void> {
    for (const dir of [join(this.root, 'class', 'block'), join(this.root, 'block')]) {
      for (const entry of await readdir(dir)) {
        const link = join(dir, entry);
        const target = join(dirname(link), await readlink(link));
        if (!(await exists(target))) await rm(link, { force: true });
      }
    }
  }

  private async link(name: string, dir: string): Promise<void> {
    const at = join(this.root, 'bus', 'usb', 'devices', name);
    await symlink(relative(dirname(at), dir), at);
  }

  private nextDevnum(bus: number): number {
    const n = (this.devnums.get(bus) ?? 1) + 1;
    this.devnums.set(bus, n);
    return n;
  }
}

/**
 * Descriptor bytes for a simple device: device descriptor, one configuration, and per interface
 * its descriptor, a HID class descriptor for class 03, and endpoints (2 bulk, or 1 interrupt for
 * HID and hubs), as a real device of that kind would send.
 */
export function buildDescriptors(spec: PlugSpec): Uint8Array {
  const cls = parseTriple(spec.deviceClass ?? '00');
  const vid = Number.parseInt(spec.vendor, 16);
  const pid = Number.parseInt(spec.product, 16);
  const bcdUSB = spec.bcdUSB ?? 0x0200;
  const bcdDevice = spec.bcdDevice ?? 0x0100;
  const device = [
    18, 1, bcdUSB & 0xff, bcdUSB >> 8, cls[0], cls[1], cls[2], 64, vid & 0xff, vid >> 8, pid & 0xff, pid >> 8,
    bcdDevice & 0xff, bcdDevice >> 8, spec.manufacturer !== undefined ? 1 : 0, spec.productName !== undefined ? 2 : 0,
    spec.serial !== undefined ? 3 : 0, 1,
  ];
  const interfaces = interfaceList(spec.interfaces ?? (cls[0] === 0x09 ? ['09:00:00'] : []));
  const body: number[] = [];
  for (const i of interfaces) {
    body.push(9, 4, i.number, i.alternate, i.endpoints, i.cls, i.sub, i.proto, 0);
    if (i.cls === 0x03) body.push(9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x3f, 0);
    for (let e = 0; e < i.endpoints; e++) {
      if (i.endpoints === 1) body.push(7, 5, 0x81 + i.number, 0x03, 8, 0, 10);
      else body.push(7, 5, e === 0 ? 0x81 + i.number : 0x01 + i.number, 0x02, 0x00, 0x02, 0);
    }
  }
  const total = 9 + body.length;
  const numInterfaces = new Set(interfaces.map((i) => i.number)).size;
  const config = [9, 2, total & 0xff, total >> 8, numInterfaces, 1, 0, 0x80, 50];
  return Uint8Array.from([...device, ...config, ...body]);
}

/** What Linux reports for its own xHCI root hubs (bcdDevice = kernel version). */
function rootHubDescriptors(usb3: boolean): Uint8Array {
  const device = [18, 1, 0, usb3 ? 3 : 2, 9, 0, usb3 ? 3 : 1, usb3 ? 9 : 64, 0x6b, 0x1d, usb3 ? 3 : 2, 0, 0x01, 0x06, 3, 2, 1, 1];
  const tail = usb3 ? [7, 5, 0x81, 3, 4, 0, 0x0c, 6, 0x30, 0, 0, 2, 0] : [7, 5, 0x81, 3, 4, 0, 0x0c];
  const total = 9 + 9 + tail.length;
  return Uint8Array.from([...device, 9, 2, total, 0, 1, 1, 0, 0xe0, 0, 9, 4, 0, 0, 1, 9, 0, 0, 0, ...tail]);
}

/** `1-2` → `usb1`, `1-2.3` → `1-2`. */
function parentOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? `usb${name.slice(0, name.indexOf('-'))}` : name.slice(0, dot);
}

function interfaceList(specs: readonly (string | InterfaceSpec)[]) {
  let next = 0;
  return specs.map((s) => {
    const spec = typeof s === 'string' ? { type: s } : s;
    const [cls, sub, proto] = parseTriple(spec.type);
    const alternate = spec.alternate ?? 0;
    const number = spec.number ?? (alternate > 0 ? Math.max(0, next - 1) : next);
    next = Math.max(next, number + 1);
    const endpoints = cls === 0x03 || cls === 0x09 ? 1 : 2;
    return { number, alternate, cls, sub, proto, endpoints };
  });
}

function parseTriple(s: string): [number, number, number] {
  const parts = s.split(':').map((p) => Number.parseInt(p, 16));
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

function usbDeviceUevent(bus: number, devnum: number, vid: string, pid: string, bcd: number, cls: readonly number[]): string {
  const b = String(bus).padStart(3, '0');
  const d = String(devnum).padStart(3, '0');
  return [
    'MAJOR=189',
    `MINOR=${(bus - 1) * 128 + devnum - 1}`,
    `DEVNAME=bus/usb/${b}/${d}`,
    'DEVTYPE=usb_device',
    'DRIVER=usb',
    `PRODUCT=${Number.parseInt(vid, 16).toString(16)}/${Number.parseInt(pid, 16).toString(16)}/${bcd.toString(16)}`,
    `TYPE=${cls[0] ?? 0}/${cls[1] ?? 0}/${cls[2] ?? 0}`,
    `BUSNUM=${b}`,
    `DEVNUM=${d}`,
  ].join('\n');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
