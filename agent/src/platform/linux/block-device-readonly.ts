import { execFile } from 'node:child_process';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { EnforcementError } from '../enforcer.js';
import { isDeviceName, isInterfaceName } from './sysfs-names.js';

/** Runs a program with arguments; rejects when it cannot run or exits non-zero. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<void>;

export interface BlockDeviceReadOnlyOptions {
  /** Where block device nodes are (`/dev`). */
  readonly devRoot?: string;
  readonly blockdev?: string;
  readonly run?: RunCommand;
}

const BLOCK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * The `readonly` target: the device is authorized, and every block device it brings (the disk and
 * its partitions) is set read-only with `blockdev --setro`, the BLKROSET ioctl. Node cannot issue
 * an ioctl without a native addon, so the ioctl runs in util-linux's `blockdev`. Writing
 * `/sys/block/<dev>/ro` is no alternative: that attribute is read-only (0444, `disk_ro_show`
 * only) in every kernel; it is used here to read the result back.
 *
 * Block devices appear some time after authorization (SCSI scan); the caller protects them when
 * they appear (block uevents, or retrying until `blockDevicesOf` finds them).
 */
export class BlockDeviceReadOnly {
  private readonly devRoot: string;
  private readonly blockdev: string;
  private readonly run: RunCommand;

  constructor(
    readonly sysfsRoot = '/sys',
    options: BlockDeviceReadOnlyOptions = {},
  ) {
    this.devRoot = options.devRoot ?? '/dev';
    this.blockdev = options.blockdev ?? 'blockdev';
    this.run = options.run ?? runFile;
  }

  /** The disks and partitions of one USB device (not of devices behind it, if it is a hub). */
  async blockDevicesOf(usbName: string): Promise<string[]> {
    if (!isDeviceName(usbName)) throw new RangeError(`not a USB device name: ${JSON.stringify(usbName)}`);
    const device = await realpath(join(this.sysfsRoot, 'bus', 'usb', 'devices', usbName));
    const classDir = join(this.sysfsRoot, 'class', 'block');
    let names: string[];
    try {
      names = await readdir(classDir);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return [];
      throw err;
    }
    const found: string[] = [];
    for (const name of names.filter((n) => BLOCK_NAME.test(n))) {
      // A link whose target just vanished belongs to a disk going away: nothing to protect.
      const target = await realpath(join(classDir, name)).catch(() => '');
      if (!target.startsWith(device + '/')) continue;
      const firstStep = target.slice(device.length + 1).split('/')[0] ?? '';
      // Under one of this device's own interfaces, not under a child device of a hub.
      if (isInterfaceName(firstStep) && firstStep.startsWith(`${usbName}:`)) found.push(name);
    }
    // Whole disks before their partitions.
    return found.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Sets every block device of the USB device read-only and checks it; returns their names. */
  async protect(usbName: string): Promise<string[]> {
    const devices = await this.blockDevicesOf(usbName);
    for (const dev of devices) await this.setReadOnly(dev);
    return devices;
  }

  async setReadOnly(dev: string): Promise<void> {
    if (!BLOCK_NAME.test(dev)) throw new EnforcementError(JSON.stringify(dev), 'not a block device name', { reason: 'invalid-name' });
    const node = join(this.devRoot, dev);
    const roFile = join(this.sysfsRoot, 'class', 'block', dev, 'ro');
    // Already read-only (a rescan checking again): no process to start.
    if ((await readFile(roFile, 'latin1').catch(() => '')).trim() === '1') return;
    try {
      await this.run(this.blockdev, ['--setro', node]);
    } catch (err) {
      throw new EnforcementError(node, `blockdev --setro failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
        reason: 'refused',
      });
    }
    let ro: string;
    try {
      ro = (await readFile(roFile, 'latin1')).trim();
    } catch (err) {
      throw new EnforcementError(roFile, 'cannot read back the read-only flag', { cause: err, reason: 'not-applied' });
    }
    if (ro !== '1') throw new EnforcementError(roFile, `still writable after blockdev --setro (ro=${JSON.stringify(ro)})`, { reason: 'not-applied' });
  }
}

function runFile(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 5000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${err.message}${stderr ? `: ${String(stderr).trim()}` : ''}`));
      else resolve();
    });
  });
}
