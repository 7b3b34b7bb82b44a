import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Device } from '@portcullis/shared';
import type { UsbDeviceState } from '../device-source.js';
import { compareUsbNames, isDeviceName, isInterfaceName, isRootHubName } from './sysfs-names.js';
import { DescriptorError, parseUsbDescriptors, type ParsedUsbDescriptors } from './usb-descriptor-parser.js';
import { usbGuardDeviceHash, usbGuardPathHash } from './usbguard-hash.js';

/**
 * Reads USB devices from a sysfs tree (`/sys`, or a fake one in tests): the names under
 * `bus/usb/devices`, and for each device the attributes USBGuard reads, with its semantics
 * (USBGuard 1.x `UEventDevice` constructor and `SysFSDevice::readAttribute`):
 *
 * - `name` is the `product` string, `serial` the `serial` string, both "" when absent;
 * - `with-interface` comes from the raw `descriptors` file, never from interface folders: those
 *   exist only once the device is authorized and show only the active alternate setting, so the
 *   same device would match differently before and after being allowed;
 * - `with-connect-type` is `port/connect_type` as the kernel prints it (`hotplug`, `hardwired`,
 *   `not used`, `unknown`), "" when there is no port (root hubs); `removable` is not used;
 * - `parent-hash` is the parent device's hash, or for a root hub the hash of its parent's devpath.
 *
 * One device's attributes are read synchronously: sysfs attributes are small and served from
 * kernel memory, so a read takes microseconds, while a promise-based readFile costs several
 * thread-pool round trips each (open, stat, read, close). A device is about 25 files with its
 * parent; read synchronously that is well under a millisecond, where the asynchronous reads took
 * 3 ms at the median and 15 ms at p99 on a busy 2-core machine (bench/agent-bench.mjs), and the
 * decision for a hotplugged device waits for them.
 */
export class SysfsDeviceReader {
  private rootReal: Promise<string> | undefined;

  constructor(readonly sysfsRoot: string) {}

  /**
   * Device names (no interfaces) under `bus/usb/devices`, parents before children. A machine
   * without a USB bus has none; a sysfs root that does not exist is an error, not an empty bus.
   */
  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(join(this.sysfsRoot, 'bus', 'usb', 'devices'));
    } catch (err) {
      if (!isMissing(err)) throw err;
      await lstat(this.sysfsRoot);
      return [];
    }
    return entries.filter(isDeviceName).sort(compareUsbNames);
  }

  /**
   * One device, or null when it is not there (unplugged while being read). `cache` shares
   * parents between devices of one scan.
   */
  async read(name: string, cache: Map<string, Promise<UsbDeviceState | null>> = new Map()): Promise<UsbDeviceState | null> {
    if (!isDeviceName(name)) throw new RangeError(`not a USB device name: ${JSON.stringify(name)}`);
    let pending = cache.get(name);
    if (pending === undefined) {
      // A device that cannot be read is still reported, with its problem, so it is decided
      // (fail closed) rather than silently left out of the picture.
      pending = this.readUncached(name, cache).catch((err: unknown) =>
        this.partial(name, '', `cannot be read: ${err instanceof Error ? err.message : String(err)}`),
      );
      cache.set(name, pending);
    }
    return pending;
  }

  private async readUncached(name: string, cache: Map<string, Promise<UsbDeviceState | null>>): Promise<UsbDeviceState | null> {
    const link = join(this.sysfsRoot, 'bus', 'usb', 'devices', name);
    let real: string;
    try {
      real = realpathSync(link);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const rootReal = await (this.rootReal ??= realpath(this.sysfsRoot));
    if (!real.startsWith(rootReal + '/')) return null;
    const devpath = real.slice(rootReal.length);
    const attr = (file: string): Buffer | undefined => readAttribute(join(real, file), true);

    const [vendor, product, serial, productName, manufacturer, deviceClass, authorized, busnum, devnum, connectType] = [
      'idVendor',
      'idProduct',
      'serial',
      'product',
      'manufacturer',
      'bDeviceClass',
      'authorized',
      'busnum',
      'devnum',
      'port/connect_type',
    ].map(attr);
    if (vendor === undefined || product === undefined) {
      if (!(await exists(real))) return null;
      return this.partial(name, devpath, 'idVendor/idProduct cannot be read');
    }
    const vid = vendor.toString('latin1').toLowerCase();
    const pid = product.toString('latin1').toLowerCase();
    if (!/^[0-9a-f]{4}$/.test(vid) || !/^[0-9a-f]{4}$/.test(pid)) {
      return this.partial(name, devpath, `idVendor/idProduct are not 4 hex digits: ${JSON.stringify(`${vid}:${pid}`)}`);
    }

    let problem: string | undefined;
    let parsed: ParsedUsbDescriptors | undefined;
    let hash: string | undefined;
    const raw = readAttribute(join(real, 'descriptors'), false);
    if (raw === undefined) {
      problem = 'no descriptors file';
    } else {
      try {
        const descriptors = parseUsbDescriptors(raw);
        hash = usbGuardDeviceHash({ name: productName ?? '', vendorId: vendor, productId: product, serial: serial ?? '' }, raw, descriptors);
        if (descriptors.interfaceTypes.length > MAX_INTERFACES) {
          // No real device has this many interface descriptors; one that claims to is not matched
          // on a list that every message and event would have to cut.
          problem = `${descriptors.interfaceTypes.length} interface descriptors (more than ${MAX_INTERFACES})`;
        } else {
          parsed = descriptors;
        }
      } catch (err) {
        if (!(err instanceof DescriptorError)) throw err;
        problem = err.message;
      }
    }

    const parentDir = dirname(real);
    const parentName = basename(parentDir);
    let parentHash: string | undefined;
    if (isDeviceName(parentName)) {
      // Read afresh every time: a hub swapped for another at the same port can get the same
      // device number, so no cache keyed by place can tell them apart. Within a scan the parent
      // was read already; on a hotplug only what its hash needs is read.
      const known = cache.get(parentName);
      parentHash = known !== undefined ? (await known)?.device.hash : hashAt(parentDir);
    } else {
      parentHash = usbGuardPathHash(parentDir.slice(rootReal.length));
    }

    const device: Device = {
      id: `${vid}:${pid}`,
      name: text(productName),
      serial: text(serial),
      ...(hash !== undefined ? { hash } : {}),
      ...(parentHash !== undefined ? { parentHash } : {}),
      viaPort: name,
      interfaces: parsed?.interfaceTypes ?? [],
      connectType: text(connectType),
    };
    const entries = listDir(real);
    return {
      name,
      device,
      authorized: authorized?.toString('latin1') === '1',
      rootHub: isRootHubName(name),
      busnum: toInt(busnum),
      devnum: toInt(devnum),
      interfaceNames: entries.filter(isInterfaceName).sort(),
      devpath,
      deviceClass: (deviceClass?.toString('latin1') ?? '').toLowerCase(),
      manufacturer: text(manufacturer),
      ...(problem !== undefined ? { problem } : {}),
    };
  }

  private partial(name: string, devpath: string, problem: string): UsbDeviceState {
    return {
      name,
      device: { id: '0000:0000', viaPort: name, interfaces: [] },
      authorized: false,
      rootHub: isRootHubName(name),
      busnum: 0,
      devnum: 0,
      interfaceNames: [],
      devpath,
      deviceClass: '',
      manufacturer: '',
      problem,
    };
  }
}

/** A device's USBGuard hash from its folder: the five attributes the hash covers, nothing else. */
function hashAt(dir: string): string | undefined {
  const [vendor, product, serial, productName] = ['idVendor', 'idProduct', 'serial', 'product'].map((f) => readAttribute(join(dir, f), true));
  const raw = readAttribute(join(dir, 'descriptors'), false);
  if (vendor === undefined || product === undefined || raw === undefined) return undefined;
  try {
    return usbGuardDeviceHash({ name: productName ?? '', vendorId: vendor, productId: product, serial: serial ?? '' }, raw, parseUsbDescriptors(raw));
  } catch (err) {
    if (err instanceof DescriptorError) return undefined;
    throw err;
  }
}

/** The shared device model's limit (parseDevice), and so the server's. */
const MAX_INTERFACES = 256;

/**
 * An attribute's bytes, text ones with USBGuard's trimming (trailing NUL, newline, CR, tab,
 * backspace), or undefined when the file does not exist.
 */
function readAttribute(file: string, trim: boolean): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  if (!trim) return data;
  let end = data.length;
  while (end > 0 && [0, 0x0a, 0x0d, 0x09, 0x08].includes(data[end - 1] ?? -1)) end--;
  return data.subarray(0, end);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

function text(bytes: Buffer | undefined): string {
  return bytes === undefined ? '' : bytes.toString('utf8');
}

function toInt(bytes: Buffer | undefined): number {
  const n = Number.parseInt(bytes?.toString('latin1') ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}
