import type { Device } from '@portcullis/shared';

/**
 * One USB device as the operating system shows it now: the shared `Device` the rules match,
 * plus the facts enforcement needs (is it authorized, which interfaces can be switched).
 */
export interface UsbDeviceState {
  /** Kernel name of the device: `usb1` (a root hub), `1-2`, `1-2.3` (behind hub 1-2). */
  readonly name: string;
  /** What the rules see; `viaPort` is `name`, as USBGuard's `via-port`. */
  readonly device: Device;
  readonly authorized: boolean;
  readonly rootHub: boolean;
  readonly busnum: number;
  readonly devnum: number;
  /** Interfaces present now (`1-2:1.0` …); empty while the device is unauthorized. */
  readonly interfaceNames: readonly string[];
  /** Where the device sits in the device tree, as uevents name it: `/devices/pci0000:00/…/1-2`. */
  readonly devpath: string;
  /** bDeviceClass as two hex digits (`00`, `09`, `ef`), for classification. */
  readonly deviceClass: string;
  /** The manufacturer string, for the human label; never matched by rules (USBGuard has no such attribute). */
  readonly manufacturer: string;
  /**
   * Set when the device's facts could not be read completely (unparsable descriptors, an
   * unreadable attribute). USBGuard rejects such a device on insertion; the planner must fail
   * closed too rather than match rules against partial facts.
   */
  readonly problem?: string;
}

export type HotplugAction = 'add' | 'remove' | 'change' | 'bind' | 'unbind';

export interface HotplugEvent {
  readonly action: HotplugAction;
  /** Kernel name of the device (`1-2`); interface events are not reported. */
  readonly name: string;
  /** When the agent learned of it (ms since the epoch, from the source's clock). */
  readonly at: number;
}

export type HotplugListener = (event: HotplugEvent) => void;

/**
 * Where USB devices come from. `scan` is the full picture (at start and on every reconcile);
 * `watch` reports changes as they happen and resolves to a function that stops watching.
 * Events are hints: the consumer re-reads the device (or rescans) before deciding.
 */
export interface DeviceSource {
  scan(): Promise<UsbDeviceState[]>;
  /** One device now, or null when it is gone: what a consumer does on a hotplug event. */
  readDevice(name: string): Promise<UsbDeviceState | null>;
  watch(listener: HotplugListener): Promise<() => Promise<void>>;
}
