import { ErrorCodes } from '@portcullis/shared';
/**
 * Parser for a USB device's raw descriptors, as Linux exposes them in
 * `/sys/bus/usb/devices/<name>/descriptors`: the 18-byte device descriptor, then every
 * configuration's descriptors as the device sent them (configuration, interfaces with all their
 * alternate settings, endpoints, and class-specific descriptors in between). The file is there
 * while the device is still unauthorized, which is when the agent has to decide about it.
 *
 * A Kensington trackball (from USBGuard's own test data, src/Tests/UseCase/devices.umockdev):
 *
 *     12 01 00 02 00 00 00 08 7d 04 48 20 00 06 01 02 00 01   device: USB 2.00, 047d:2048, 1 config
 *     09 02 22 00 01 01 00 a0 32                              configuration 1: 34 bytes, 1 interface
 *     09 04 00 00 01 03 01 02 00                              interface 0, alt 0: 03:01:02 (boot mouse)
 *     09 21 11 01 00 01 22 52 00                              HID class descriptor (not interpreted)
 *     07 05 81 03 08 00 0a                                    endpoint 0x81, interrupt
 *
 * The acceptance rules are USBGuard's (`USBDescriptorParser::parse`, `USBDescriptorParserHooks::
 * parseUSBDescriptor`, `DevicePrivate::load*Descriptor`), so a device USBGuard refuses is refused
 * here too: device descriptors are exactly 18 bytes, configuration and interface descriptors 9,
 * endpoints 7 (or 9, audio); a configuration needs a device descriptor before it, an interface a
 * configuration, an endpoint an interface of the current configuration; a second device descriptor
 * is an error. Other descriptor types are skipped (and still hashed). One stricter rule: there must
 * be a device descriptor at all (the kernel always writes one first).
 *
 * Pure: no I/O. Any malformed input raises a `DescriptorError` naming the byte offset; every step
 * consumes at least two bytes, so a lying length can never loop.
 */

export const DESCRIPTOR_ERROR_CODE = ErrorCodes.DESCRIPTOR_INVALID;

export class DescriptorError extends Error {
  readonly code = DESCRIPTOR_ERROR_CODE;

  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`USB descriptors, byte ${offset}: ${message}`);
    this.name = 'DescriptorError';
  }
}

export const DescriptorType = {
  DEVICE: 0x01,
  CONFIGURATION: 0x02,
  STRING: 0x03,
  INTERFACE: 0x04,
  ENDPOINT: 0x05,
} as const;

export interface UsbDeviceDescriptor {
  readonly bcdUSB: number;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly bMaxPacketSize0: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly iManufacturer: number;
  readonly iProduct: number;
  readonly iSerialNumber: number;
  readonly bNumConfigurations: number;
}

export interface UsbInterfaceDescriptor {
  readonly bInterfaceNumber: number;
  readonly bAlternateSetting: number;
  readonly bNumEndpoints: number;
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
  readonly iInterface: number;
}

export interface UsbConfiguration {
  readonly wTotalLength: number;
  readonly bNumInterfaces: number;
  readonly bConfigurationValue: number;
  readonly iConfiguration: number;
  readonly bmAttributes: number;
  readonly bMaxPower: number;
  /** Every interface descriptor of this configuration, alternate settings included, in order. */
  readonly interfaces: readonly UsbInterfaceDescriptor[];
}

/** Where one descriptor sits in the input. */
export interface RawDescriptor {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

export interface ParsedUsbDescriptors {
  readonly device: UsbDeviceDescriptor;
  /** Byte offset of the device descriptor (0 for anything the kernel wrote). */
  readonly deviceOffset: number;
  readonly configurations: readonly UsbConfiguration[];
  /**
   * USBGuard's `with-interface` list: one `cc:ss:pp` per interface descriptor, across every
   * configuration and alternate setting, in file order, duplicates kept.
   */
  readonly interfaceTypes: readonly string[];
  readonly descriptors: readonly RawDescriptor[];
  readonly bytesParsed: number;
}

/** 8 configurations (USB_MAXCONFIG) of at most 64 KiB each fit comfortably. */
export const MAX_DESCRIPTORS_BYTES = 1024 * 1024;

const HEX = '0123456789abcdef';

function hexByte(n: number): string {
  return (HEX[(n >> 4) & 0xf] ?? '0') + (HEX[n & 0xf] ?? '0');
}

/** `08:06:50`, the form rules and the `Device` model use. */
export function formatInterfaceType(cls: number, subclass: number, protocol: number): string {
  return `${hexByte(cls)}:${hexByte(subclass)}:${hexByte(protocol)}`;
}

const NAMES: Readonly<Record<number, string>> = {
  [DescriptorType.DEVICE]: 'device',
  [DescriptorType.CONFIGURATION]: 'configuration',
  [DescriptorType.INTERFACE]: 'interface',
  [DescriptorType.ENDPOINT]: 'endpoint',
};

export function parseUsbDescriptors(bytes: Uint8Array): ParsedUsbDescriptors {
  if (bytes.length > MAX_DESCRIPTORS_BYTES) {
    throw new DescriptorError(`${bytes.length} bytes is more than a device can describe`, 0);
  }
  const u8 = (i: number): number => bytes[i] ?? 0;
  const u16 = (i: number): number => u8(i) | (u8(i + 1) << 8);

  let device: UsbDeviceDescriptor | undefined;
  let deviceOffset = 0;
  const configurations: { config: Omit<UsbConfiguration, 'interfaces'>; interfaces: UsbInterfaceDescriptor[] }[] = [];
  const interfaceTypes: string[] = [];
  const descriptors: RawDescriptor[] = [];
  let interfaceInConfig = false;

  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 2) throw new DescriptorError('a descriptor header is cut short', offset);
    const length = u8(offset);
    const type = u8(offset + 1);
    if (length < 2) throw new DescriptorError(`bLength ${length} is shorter than the 2-byte header`, offset);
    if (offset + length > bytes.length) {
      throw new DescriptorError(`bLength ${length} runs past the end of the data (${bytes.length - offset} bytes left)`, offset);
    }
    const expect = (sizes: readonly number[]): void => {
      if (!sizes.includes(length)) {
        throw new DescriptorError(`${NAMES[type] ?? 'a'} descriptor of ${length} bytes (must be ${sizes.join(' or ')})`, offset);
      }
    };
    switch (type) {
      case DescriptorType.DEVICE:
        expect([18]);
        if (device !== undefined) throw new DescriptorError('a second device descriptor', offset);
        deviceOffset = offset;
        device = {
          bcdUSB: u16(offset + 2),
          bDeviceClass: u8(offset + 4),
          bDeviceSubClass: u8(offset + 5),
          bDeviceProtocol: u8(offset + 6),
          bMaxPacketSize0: u8(offset + 7),
          idVendor: u16(offset + 8),
          idProduct: u16(offset + 10),
          bcdDevice: u16(offset + 12),
          iManufacturer: u8(offset + 14),
          iProduct: u8(offset + 15),
          iSerialNumber: u8(offset + 16),
          bNumConfigurations: u8(offset + 17),
        };
        break;
      case DescriptorType.CONFIGURATION:
        expect([9]);
        if (device === undefined) throw new DescriptorError('a configuration descriptor before the device descriptor', offset);
        configurations.push({
          config: {
            wTotalLength: u16(offset + 2),
            bNumInterfaces: u8(offset + 4),
            bConfigurationValue: u8(offset + 5),
            iConfiguration: u8(offset + 6),
            bmAttributes: u8(offset + 7),
            bMaxPower: u8(offset + 8),
          },
          interfaces: [],
        });
        interfaceInConfig = false;
        break;
      case DescriptorType.INTERFACE: {
        expect([9]);
        const current = configurations[configurations.length - 1];
        if (current === undefined) throw new DescriptorError('an interface descriptor outside any configuration', offset);
        const iface: UsbInterfaceDescriptor = {
          bInterfaceNumber: u8(offset + 2),
          bAlternateSetting: u8(offset + 3),
          bNumEndpoints: u8(offset + 4),
          bInterfaceClass: u8(offset + 5),
          bInterfaceSubClass: u8(offset + 6),
          bInterfaceProtocol: u8(offset + 7),
          iInterface: u8(offset + 8),
        };
        current.interfaces.push(iface);
        interfaceTypes.push(formatInterfaceType(iface.bInterfaceClass, iface.bInterfaceSubClass, iface.bInterfaceProtocol));
        interfaceInConfig = true;
        break;
      }
      case DescriptorType.ENDPOINT:
        expect([7, 9]);
        if (!interfaceInConfig) throw new DescriptorError('an endpoint descriptor outside any interface', offset);
        break;
      default:
        break;
    }
    descriptors.push({ type, offset, length });
    offset += length;
  }
  if (device === undefined) throw new DescriptorError('no device descriptor', 0);
  return {
    device,
    deviceOffset,
    configurations: configurations.map((c) => ({ ...c.config, interfaces: c.interfaces })),
    interfaceTypes,
    descriptors,
    bytesParsed: offset,
  };
}
