import { constants, readFileSync } from 'node:fs';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnforcementError, type Enforcer, type InterfaceState } from '../enforcer.js';
import { busOf, isDeviceName, isInterfaceName, isRootHubName } from './sysfs-names.js';

export interface SysfsEnforcerOptions {
  /** `remove` is carried out by the hub thread after the write returns: how long to wait for it. */
  readonly removeTimeoutMs?: number;
  readonly removePollMs?: number;
}

/**
 * Enforcement through the kernel's USB authorization attributes, as USBGuard does it:
 *
 *     /sys/bus/usb/devices/usb1/authorized_default            0 → new devices on bus 1 stay off
 *     /sys/bus/usb/devices/usb1/interface_authorized_default  0 → new interfaces on bus 1 stay off
 *     /sys/bus/usb/devices/1-2/authorized                     1 allow, 0 block
 *     /sys/bus/usb/devices/1-2/remove                         1 reject (logical disconnect)
 *     /sys/bus/usb/devices/1-2:1.0/authorized                 one interface on or off
 *
 * Paths are built only from names that pass the kernel-name checks in sysfs-names.ts. Writes open
 * the attribute write-only without O_CREAT (a missing attribute is an error, never a new file) and
 * every write is read back.
 */
export class SysfsEnforcer implements Enforcer {
  private readonly removeTimeoutMs: number;
  private readonly removePollMs: number;

  constructor(
    readonly sysfsRoot = '/sys',
    options: SysfsEnforcerOptions = {},
  ) {
    this.removeTimeoutMs = options.removeTimeoutMs ?? 2000;
    this.removePollMs = options.removePollMs ?? 10;
  }

  async failClosed(rootHubs: readonly string[]): Promise<void> {
    for (const hub of rootHubs) {
      if (!isRootHubName(hub)) throw invalidName(hub, 'a root hub (usbN)');
    }
    // Every hub is attempted; the first failure is reported after the others were closed.
    const results = await Promise.allSettled(rootHubs.map((hub) => this.writeAndVerify(this.path(hub, 'authorized_default'), '0')));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  authorize(name: string): Promise<void> {
    return this.setDevice(name, '1');
  }

  deauthorize(name: string): Promise<void> {
    return this.setDevice(name, '0');
  }

  async remove(name: string): Promise<void> {
    if (!isDeviceName(name)) throw invalidName(name, 'a USB device');
    if (isRootHubName(name)) throw new EnforcementError(this.path(name, 'remove'), 'a root hub cannot be removed', { reason: 'refused' });
    const file = this.path(name, 'remove');
    const device = join(this.sysfsRoot, 'bus', 'usb', 'devices', name);
    try {
      await writeAttribute(file, '1');
    } catch (err) {
      if (!(await present(device))) return;
      throw new EnforcementError(file, `write failed: ${describe(err)}`, { cause: err, reason: 'refused' });
    }
    const deadline = Date.now() + this.removeTimeoutMs;
    while (await present(device)) {
      if (Date.now() >= deadline) {
        throw new EnforcementError(file, `device still present ${this.removeTimeoutMs} ms after the write`, { reason: 'not-applied' });
      }
      await sleep(this.removePollMs);
    }
  }

  setInterfaceAuthorized(interfaceName: string, authorized: boolean): Promise<void> {
    if (!isInterfaceName(interfaceName)) return Promise.reject(invalidName(interfaceName, 'a USB interface (N-P:C.I)'));
    return this.writeAndVerify(this.path(interfaceName, 'authorized'), authorized ? '1' : '0');
  }

  interfaceDefault(name: string, authorized: boolean): Promise<void> {
    if (!isDeviceName(name) && !isInterfaceName(name)) return Promise.reject(invalidName(name, 'a USB device or root hub'));
    return this.writeAndVerify(this.path(`usb${busOf(name)}`, 'interface_authorized_default'), authorized ? '1' : '0');
  }

  /**
   * Interface folders sit in the device's folder, named `<device>:<config>.<interface>`, each with
   * `bInterfaceClass` `bInterfaceSubClass` `bInterfaceProtocol` (two hex digits) and `authorized`.
   */
  async listInterfaces(name: string): Promise<InterfaceState[]> {
    if (!isDeviceName(name)) throw invalidName(name, 'a USB device');
    const dir = join(this.sysfsRoot, 'bus', 'usb', 'devices', name);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      const gone = (err as { code?: unknown }).code === 'ENOENT';
      throw new EnforcementError(dir, `cannot list interfaces: ${describe(err)}`, { cause: err, reason: gone ? 'gone' : 'refused' });
    }
    const found: InterfaceState[] = [];
    for (const entry of entries.filter((e) => isInterfaceName(e) && e.startsWith(`${name}:`)).sort()) {
      // Read through bus/usb/devices, the path the writes use: an interface whose link is not
      // there yet is still being added.
      const attr = async (a: string): Promise<string> => (await readFile(this.path(entry, a), 'latin1')).trim().toLowerCase();
      try {
        const [cls, sub, proto, authorized] = await Promise.all(['bInterfaceClass', 'bInterfaceSubClass', 'bInterfaceProtocol', 'authorized'].map(attr));
        if (![cls, sub, proto].every((v) => /^[0-9a-f]{2}$/.test(v ?? ''))) continue;
        found.push({ name: entry, type: `${cls}:${sub}:${proto}`, authorized: authorized === '1' });
      } catch (err) {
        // An interface that vanished while being read belongs to a device going away.
        if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      }
    }
    return found;
  }

  async interfaceCount(name: string): Promise<number | null> {
    if (!isDeviceName(name)) throw invalidName(name, 'a USB device');
    const text = await readFile(this.path(name, 'bNumInterfaces'), 'latin1').catch(() => '');
    const n = Number.parseInt(text.trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  }

  private setDevice(name: string, value: '0' | '1'): Promise<void> {
    if (!isDeviceName(name)) return Promise.reject(invalidName(name, 'a USB device'));
    return this.writeAndVerify(this.path(name, 'authorized'), value);
  }

  /** Callers pass only validated names. */
  private path(name: string, attribute: string): string {
    return join(this.sysfsRoot, 'bus', 'usb', 'devices', name, attribute);
  }

  private async writeAndVerify(file: string, value: string): Promise<void> {
    try {
      await writeAttribute(file, value);
    } catch (err) {
      const gone = (err as { code?: unknown }).code === 'ENOENT';
      throw new EnforcementError(file, `write of ${value} failed: ${describe(err)}`, { cause: err, reason: gone ? 'gone' : 'refused' });
    }
    let now: string;
    try {
      // The read-back is synchronous: an attribute read is served from kernel memory in
      // microseconds, and the decision's latency should not wait on four thread-pool round trips.
      now = readFileSync(file, 'latin1').trim();
    } catch (err) {
      throw new EnforcementError(file, `cannot read back after writing ${value}: ${describe(err)}`, { cause: err, reason: 'not-applied' });
    }
    if (now !== value) {
      throw new EnforcementError(file, `wrote ${value} but the kernel reports ${JSON.stringify(now)}`, { reason: 'not-applied' });
    }
  }
}

async function writeAttribute(file: string, value: string): Promise<void> {
  // No O_CREAT: on a real sysfs every attribute exists, and on a wrong path we must fail.
  const handle = await open(file, constants.O_WRONLY | constants.O_TRUNC);
  try {
    await handle.write(value);
  } finally {
    await handle.close();
  }
}

async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw err;
  }
}

function invalidName(name: string, what: string): EnforcementError {
  return new EnforcementError(JSON.stringify(name), `not ${what} name; refusing to build a sysfs path from it`, { reason: 'invalid-name' });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
