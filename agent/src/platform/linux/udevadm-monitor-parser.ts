import type { HotplugAction, HotplugEvent } from '../device-source.js';
import { isDeviceName } from './sysfs-names.js';

/**
 * Parser for the text `udevadm monitor --kernel --property --subsystem-match=usb` prints: a
 * banner, then one block per kernel uevent, blocks separated by a blank line:
 *
 *     monitor will print the received events for:
 *     KERNEL - the kernel uevent
 *
 *     KERNEL[27516.354226] add      /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
 *     ACTION=add
 *     DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
 *     SUBSYSTEM=usb
 *     DEVNAME=/dev/bus/usb/001/004
 *     DEVTYPE=usb_device
 *     PRODUCT=781/5567/100
 *     BUSNUM=001
 *     DEVNUM=004
 *     SEQNUM=5172
 *
 * Text arrives in arbitrary chunks from a pipe, so the parser keeps the unfinished line and the
 * unfinished block between `push` calls. No I/O: the child process is only a pipe.
 */

export interface UeventRecord {
  readonly source: 'KERNEL' | 'UDEV';
  /** Seconds since boot, as udevadm prints it. */
  readonly monotonic: number;
  readonly action: string;
  readonly devpath: string;
  readonly subsystem: string;
  readonly properties: ReadonlyMap<string, string>;
}

const HEADER = /^(KERNEL|UDEV)\[(\d+(?:\.\d+)?)\]\s+(\S+)\s+(\/\S*)\s+\(([^)]*)\)\s*$/;
const PROPERTY = /^([A-Za-z0-9_.]+)=(.*)$/;
/** A uevent buffer is 2 KiB in the kernel; anything far longer is not udevadm talking. */
const MAX_LINE = 8192;
const MAX_PROPERTIES = 128;

export class UdevadmMonitorParser {
  private pending = '';
  private discarding = false;
  private current: { header: Omit<UeventRecord, 'properties'>; properties: Map<string, string> } | undefined;

  /** Feeds a chunk of output; returns the blocks it completed. */
  push(chunk: string): UeventRecord[] {
    const out: UeventRecord[] = [];
    let text = this.pending + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line, out);
    }
    if (text.length > MAX_LINE) {
      // Drop the runaway line up to its end rather than buffer without bound.
      this.discarding = true;
      text = '';
    }
    this.pending = text;
    return out;
  }

  /** The stream ended: a last block without its blank line still counts. */
  end(): UeventRecord[] {
    const out: UeventRecord[] = [];
    if (this.pending !== '' && !this.discarding) this.line(this.pending, out);
    this.pending = '';
    this.discarding = false;
    this.flush(out);
    return out;
  }

  private line(line: string, out: UeventRecord[]): void {
    const header = HEADER.exec(line);
    if (header !== null) {
      this.flush(out);
      this.current = {
        header: {
          source: header[1] === 'UDEV' ? 'UDEV' : 'KERNEL',
          monotonic: Number(header[2]),
          action: header[3] ?? '',
          devpath: header[4] ?? '',
          subsystem: header[5] ?? '',
        },
        properties: new Map(),
      };
      return;
    }
    if (line.trim() === '') {
      this.flush(out);
      return;
    }
    const prop = PROPERTY.exec(line);
    if (prop !== null && this.current !== undefined && this.current.properties.size < MAX_PROPERTIES) {
      this.current.properties.set(prop[1] ?? '', prop[2] ?? '');
    }
  }

  private flush(out: UeventRecord[]): void {
    if (this.current === undefined) return;
    const { header, properties } = this.current;
    this.current = undefined;
    // The properties are the event itself; the header is udevadm's summary of them.
    out.push({
      ...header,
      action: properties.get('ACTION') ?? header.action,
      devpath: properties.get('DEVPATH') ?? header.devpath,
      subsystem: properties.get('SUBSYSTEM') ?? header.subsystem,
      properties,
    });
  }
}

const ACTIONS: ReadonlySet<string> = new Set<HotplugAction>(['add', 'remove', 'change', 'bind', 'unbind']);

/**
 * The hotplug event a uevent means for the agent, or null when it is not about a USB device
 * (interfaces, other subsystems, `move`/`online`/`offline`, names that are not kernel USB names).
 */
export function hotplugEventOf(record: UeventRecord, at: number): HotplugEvent | null {
  if (record.subsystem !== 'usb' || !ACTIONS.has(record.action)) return null;
  const devtype = record.properties.get('DEVTYPE');
  if (devtype !== undefined && devtype !== 'usb_device') return null;
  const name = record.devpath.slice(record.devpath.lastIndexOf('/') + 1);
  if (!isDeviceName(name)) return null;
  return { action: record.action as HotplugAction, name, at };
}
