import { createHash } from 'node:crypto';
import type { ParsedUsbDescriptors } from './usb-descriptor-parser.js';

/**
 * USBGuard's device `hash` and root-hub `parent-hash`, so a rule written by
 * `usbguard generate-policy` matches the same device here.
 *
 * From USBGuard 1.x sources: `DevicePrivate::initializeHash` feeds the name (the `product`
 * attribute), vendor id, product id and serial (the sysfs strings, trailing NUL/newline trimmed,
 * no separators) into one hash; `UEventDevice::parseUSBDescriptor` then adds every descriptor
 * the parser accepted, byte for byte, except that a Linux root hub's device descriptor
 * (1d6b:0001/0002/0003) is hashed with bcdDevice zeroed so kernel upgrades keep its hash. The
 * digest is SHA-256 (`Hash.cpp`; BLAKE2b was dropped in 0.5.11, USBGuard issue #105), printed
 * as standard base64. A device whose parent is not a USB device (a root hub) gets as
 * parent-hash the hash of its parent's sysfs path relative to the sysfs root, e.g.
 * `/devices/pci0000:00/0000:00:14.0` (`UEventDevice` constructor, USBGuard issue #374).
 */

export interface UsbGuardHashFields {
  /** Each as the raw bytes sysfs gave (after trimming) or as text, which is UTF-8 encoded. */
  readonly name: Uint8Array | string;
  readonly vendorId: Uint8Array | string;
  readonly productId: Uint8Array | string;
  readonly serial: Uint8Array | string;
}

const LINUX_FOUNDATION = 0x1d6b;
const ROOT_HUB_PRODUCTS: ReadonlySet<number> = new Set([0x0001, 0x0002, 0x0003]);

export function isLinuxRootHub(parsed: ParsedUsbDescriptors): boolean {
  return parsed.device.idVendor === LINUX_FOUNDATION && ROOT_HUB_PRODUCTS.has(parsed.device.idProduct);
}

export function usbGuardDeviceHash(fields: UsbGuardHashFields, descriptors: Uint8Array, parsed: ParsedUsbDescriptors): string {
  const hash = createHash('sha256');
  for (const field of [fields.name, fields.vendorId, fields.productId, fields.serial]) hash.update(field);
  const hashed = new Uint8Array(descriptors.subarray(0, parsed.bytesParsed));
  if (isLinuxRootHub(parsed)) {
    hashed[parsed.deviceOffset + 12] = 0;
    hashed[parsed.deviceOffset + 13] = 0;
  }
  hash.update(hashed);
  return hash.digest('base64');
}

/** The parent-hash of a device whose parent is not a USB device: hash of that parent's devpath. */
export function usbGuardPathHash(devpath: string): string {
  return createHash('sha256').update(devpath).digest('base64');
}
