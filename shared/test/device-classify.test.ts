import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEVICE_CATEGORIES,
  classifyDevice,
  parseInterfaceType,
  usbClassName,
  usbInterfaceName,
  type ClassifiableDevice,
  type DeviceCategory,
  type DeviceClassification,
  type UsbInterfaceType,
} from '../src/device/classify.js';
import { USB_CLASS_TABLE, USB_REFINEMENT_TABLE } from '../src/device/usb-classes.js';

interface Row {
  readonly name: string;
  readonly device: ClassifiableDevice;
  readonly expected: DeviceClassification;
}

/** `category` is by definition the first of `categories`, which are in priority order. */
function ok(label: string, ...categories: [DeviceCategory, ...DeviceCategory[]]): DeviceClassification {
  return { category: categories[0], categories, label, suspicious: false };
}

function bad(label: string, ...categories: [DeviceCategory, ...DeviceCategory[]]): DeviceClassification {
  return { ...ok(label, ...categories), suspicious: true };
}

const dev = (...interfaces: string[]): ClassifiableDevice => ({ interfaces });
const byClass = (deviceClass: string, ...interfaces: string[]): ClassifiableDevice => ({ interfaces, deviceClass });

const ROWS: readonly Row[] = [
  // The everyday flash drive: SCSI transparent over bulk-only.
  { name: 'flash drive', device: dev('08:06:50'), expected: ok('USB flash drive', 'storage') },
  // MMC-5 (ATAPI) is what CD/DVD drives announce.
  { name: 'optical drive', device: dev('08:02:50'), expected: ok('USB optical drive (CD/DVD)', 'optical') },
  // UFI is the USB floppy command set.
  { name: 'floppy drive', device: dev('08:04:00'), expected: ok('USB floppy drive', 'storage') },
  // UAS enclosures offer bulk-only as a fallback alternate setting; UAS says "disk".
  { name: 'UAS disk', device: dev('08:06:50', '08:06:62'), expected: ok('USB disk (UAS)', 'storage') },
  // Two storage command sets on one device: both categories, storage leads.
  {
    name: 'flash drive with CD partition interface',
    device: dev('08:06:50', '08:02:50'),
    expected: ok('USB flash drive + optical drive', 'storage', 'optical'),
  },

  // Still imaging is what an MTP phone shows by default.
  { name: 'MTP phone', device: dev('06:01:01'), expected: ok('phone (MTP)', 'phone') },
  // With USB debugging on, ADB (ff:42:01) is the more telling label and not a vendor interface.
  { name: 'Android MTP + ADB', device: dev('06:01:01', 'ff:42:01'), expected: ok('Android phone (ADB)', 'phone') },
  // A bootloader exposes fastboot only.
  { name: 'Android fastboot', device: dev('ff:42:03'), expected: ok('Android phone (fastboot)', 'phone') },
  // iPhones: PTP, usbmux and an Apple vendor interface.
  { name: 'iPhone', device: dev('06:01:01', 'ff:fe:02', 'ff:fd:01'), expected: ok('iPhone / iPad', 'phone', 'vendor') },
  // Windows Mobile ActiveSync lives in the miscellaneous class.
  { name: 'ActiveSync', device: dev('ef:01:01'), expected: ok('phone (ActiveSync)', 'phone') },

  // CDC ECM with its data interface: the data interface adds nothing.
  { name: 'ECM adapter', device: dev('02:06:00', '0a:00:00'), expected: ok('USB network adapter', 'network') },
  // Android tethering, older form.
  { name: 'RNDIS e0:01:03', device: dev('e0:01:03', '0a:00:00'), expected: ok('USB network adapter', 'network') },
  // Windows-style RNDIS hides as ACM with a vendor protocol; must not read as a serial port.
  { name: 'RNDIS as ACM ff', device: dev('02:02:ff', '0a:00:00'), expected: ok('USB network adapter', 'network') },
  // Android tethering, newer form.
  { name: 'RNDIS ef:04:01', device: dev('ef:04:01', '0a:00:00'), expected: ok('USB network adapter', 'network') },
  // NCM gadget (Linux g_ncm, iPhone personal hotspot style).
  { name: 'NCM adapter', device: dev('02:0d:00', '0a:00:01'), expected: ok('USB network adapter', 'network') },
  // EEM gadget.
  { name: 'EEM adapter', device: dev('02:0c:07'), expected: ok('USB network adapter', 'network') },
  // LTE stick in MBIM mode.
  { name: 'MBIM modem', device: dev('02:0e:00', '0a:00:02'), expected: ok('mobile broadband modem', 'network') },

  // Bluetooth controllers announce e0:01:01 on their interfaces.
  { name: 'Bluetooth dongle', device: dev('e0:01:01'), expected: ok('Bluetooth adapter', 'bluetooth') },
  // Wireless USB host wire adapter: a radio, but not Bluetooth.
  { name: 'wire adapter', device: dev('e0:02:01'), expected: ok('wireless controller', 'wireless') },
  // IrDA bridge is application-specific class, subclass 02.
  { name: 'IrDA bridge', device: dev('fe:02:00'), expected: ok('IrDA adapter', 'wireless') },

  // CDC ACM: USB-serial cables, Arduinos, old modems.
  { name: 'ACM serial', device: dev('02:02:01', '0a:00:00'), expected: ok('USB serial adapter / modem', 'serial') },
  // A CDC data interface with no control interface still is a data pipe.
  { name: 'lone CDC data', device: dev('0a:00:00'), expected: ok('USB serial adapter / modem', 'serial') },

  // The plain boot keyboard.
  { name: 'boot keyboard', device: dev('03:01:01'), expected: ok('keyboard', 'keyboard') },
  // Media keys come as a second, plain HID interface: still just a keyboard.
  {
    name: 'keyboard with media keys',
    device: dev('03:01:01', '03:00:00'),
    expected: ok('keyboard', 'keyboard', 'hid'),
  },
  // The plain boot mouse.
  { name: 'boot mouse', device: dev('03:01:02'), expected: ok('mouse', 'mouse') },
  // Gaming mouse: non-boot mouse protocol plus vendor HID.
  { name: 'gaming mouse', device: dev('03:00:02', '03:00:00'), expected: ok('mouse', 'mouse', 'hid') },
  // Wireless receiver for a desktop set.
  {
    name: 'keyboard and mouse receiver',
    device: dev('03:01:01', '03:01:02', '03:00:00'),
    expected: ok('keyboard and mouse', 'keyboard', 'mouse', 'hid'),
  },
  // A HID interface with no boot protocol: could be anything from a UPS to a game pad.
  { name: 'generic HID', device: dev('03:00:00'), expected: ok('HID device', 'hid') },
  // A headset's HID interface is its volume buttons, so the label names the headset.
  {
    name: 'headset with buttons',
    device: dev('01:01:00', '01:02:00', '03:00:00'),
    expected: ok('USB audio device with HID controls', 'hid', 'audio'),
  },

  // UVC webcam with a microphone.
  {
    name: 'webcam',
    device: dev('0e:01:00', '0e:02:00', '01:01:00', '01:02:00'),
    expected: ok('webcam + audio', 'camera', 'audio'),
  },
  // Machine-vision cameras use the miscellaneous class, not video.
  { name: 'USB3 Vision camera', device: dev('ef:05:00', 'ef:05:02'), expected: ok('machine-vision camera', 'camera') },
  // Bidirectional printer.
  { name: 'printer', device: dev('07:01:02'), expected: ok('printer', 'printer') },
  // Multifunction printer with a card slot: the storage is what policy cares about.
  {
    name: 'printer with card reader',
    device: dev('07:01:02', '08:06:50', 'ff:ff:ff'),
    expected: ok('USB flash drive + printer', 'storage', 'printer', 'vendor'),
  },
  // CCID reader, e.g. for electronic-signature cards.
  { name: 'smart card reader', device: dev('0b:00:00'), expected: ok('smart card reader', 'smartcard') },
  // The newer audio/video class, not UVC.
  { name: 'audio/video class', device: dev('10:01:00'), expected: ok('audio/video device', 'video') },
  // Audio control plus streaming, nothing else.
  { name: 'USB sound card', device: dev('01:01:00', '01:02:00'), expected: ok('USB audio device', 'audio') },
  // A device waiting for new firmware: worth knowing, it can come back as anything.
  { name: 'DFU mode', device: dev('fe:01:02'), expected: ok('device in firmware-update mode (DFU)', 'firmware') },
  // DFU runtime sits beside the real function; it is not named in the label.
  {
    name: 'DFU runtime on vendor device',
    device: dev('ff:00:00', 'fe:01:01'),
    expected: ok('device with firmware-update interface (DFU)', 'firmware', 'vendor'),
  },
  // Nothing standard to go by.
  { name: 'vendor specific', device: dev('ff:ff:00'), expected: ok('vendor-specific device', 'vendor') },
  // External hub.
  { name: 'hub', device: dev('09:00:00'), expected: ok('USB hub', 'hub') },
  // Oscilloscopes and the like: application specific, subclass 03.
  { name: 'USBTMC instrument', device: dev('fe:03:01'), expected: ok('test and measurement instrument', 'other') },
  // USB-C dock whose alternate mode failed.
  { name: 'billboard', device: dev('11:00:00'), expected: ok('USB-C billboard device', 'other') },
  // USB 2 compliance test device.
  { name: 'diagnostic', device: dev('dc:01:01'), expected: ok('USB diagnostic device', 'other') },
  // A well-formed but unassigned class is still an interface, just an unknown one.
  { name: 'unassigned class', device: dev('42:00:00'), expected: ok('USB device', 'other') },

  // Rubber Ducky shape: the USBGuard example of a flash drive that also types.
  {
    name: 'storage + boot keyboard',
    device: dev('08:06:50', '03:01:01'),
    expected: bad('USB flash drive with hidden keyboard interface', 'storage', 'keyboard'),
  },
  // Keyboard protocol on the non-boot subclass still drives the keyboard driver.
  {
    name: 'storage + 03:00:01',
    device: dev('03:00:01', '08:06:50'),
    expected: bad('USB flash drive with hidden keyboard interface', 'storage', 'keyboard'),
  },
  // Boot subclass with a reserved protocol counts as keyboard-capable.
  {
    name: 'storage + 03:01:00',
    device: dev('08:06:50', '03:01:00'),
    expected: bad('USB flash drive with hidden keyboard interface', 'storage', 'keyboard'),
  },
  // 03:01:* includes the boot mouse; the label says what it is.
  {
    name: 'storage + boot mouse',
    device: dev('08:06:50', '03:01:02'),
    expected: bad('USB flash drive with hidden mouse interface', 'storage', 'mouse'),
  },
  // PoisonTap shape: storage plus RNDIS.
  {
    name: 'storage + RNDIS',
    device: dev('08:06:50', 'e0:01:03', '0a:00:00'),
    expected: bad('USB flash drive with hidden network interface', 'storage', 'network'),
  },
  // P4wnP1 shape: everything at once, interface order shuffled.
  {
    name: 'storage + keyboard + mouse + RNDIS',
    device: dev('03:01:01', '03:01:02', 'e0:01:03', '0a:00:00', '08:06:50'),
    expected: bad(
      'USB flash drive with hidden keyboard, mouse and network interfaces',
      'storage',
      'network',
      'keyboard',
      'mouse',
    ),
  },
  // Fake CD-ROM with autorun plus a keyboard.
  {
    name: 'optical + keyboard',
    device: dev('08:02:50', '03:01:01'),
    expected: bad('USB optical drive (CD/DVD) with hidden keyboard interface', 'optical', 'keyboard'),
  },
  // LTE stick with a microSD slot: storage next to a network interface is flagged all the same.
  {
    name: 'storage + NCM',
    device: dev('08:06:50', '02:0d:00', '0a:00:01'),
    expected: bad('USB flash drive with hidden network interface', 'storage', 'network'),
  },

  // Flagged: any HID next to storage can type (USBGuard's example rejects 08:*:* with 03:00:*);
  // hardware-encrypted drives that use HID for their PIN pad show up here too, for a person to judge.
  {
    name: 'storage + generic HID',
    device: dev('08:06:50', '03:00:00'),
    expected: bad('USB flash drive with hidden HID interface', 'storage', 'hid'),
  },
  // Flagged: a mouse interface on a flash drive (non-boot subclass) is no less odd.
  {
    name: 'storage + non-boot mouse',
    device: dev('08:06:50', '03:00:02'),
    expected: bad('USB flash drive with hidden mouse interface', 'storage', 'mouse'),
  },
  // Not suspicious by definition, though a modem can network: ACM is a serial line.
  {
    name: 'storage + ACM serial',
    device: dev('08:06:50', '02:02:01', '0a:00:00'),
    expected: ok('USB flash drive + serial', 'storage', 'serial'),
  },
  // Keyboard next to a phone is odd, but the BadUSB rule is about storage.
  {
    name: 'phone + keyboard',
    device: dev('ff:42:01', '03:01:01'),
    expected: ok('Android phone (ADB) + keyboard', 'phone', 'keyboard'),
  },

  // No interfaces and no device class: nothing to go by.
  { name: 'empty interface list', device: dev(), expected: ok('USB device', 'other') },
  // The field is optional in device records.
  { name: 'no interfaces field', device: { id: '1234:5678' }, expected: ok('USB device', 'other') },
  // Every malformed shape at once is ignored.
  {
    name: 'only garbage interfaces',
    device: dev('', 'garbage', '08:06', '08:06:50:00', '0x8:06:50', 'zz:zz:zz', '*:*:*', '8:6:50', '08-06-50'),
    expected: ok('USB device', 'other'),
  },
  // Garbage is skipped, the good entry still counts.
  { name: 'garbage beside valid', device: dev('nonsense', '08:06:50'), expected: ok('USB flash drive', 'storage') },
  // Windows tools print hex in upper case.
  { name: 'uppercase hex', device: dev('E0:01:01'), expected: ok('Bluetooth adapter', 'bluetooth') },
  // Upper case in the suspicious check too.
  {
    name: 'uppercase suspicious',
    device: dev('08:06:50', 'EF:04:01'),
    expected: bad('USB flash drive with hidden network interface', 'storage', 'network'),
  },
  // USBGuard lists every interface, so dual-port adapters repeat types.
  {
    name: 'duplicates',
    device: dev('02:02:01', '0a:00:00', '02:02:01', '0a:00:00'),
    expected: ok('USB serial adapter / modem', 'serial'),
  },
  // Untyped JSON can put anything in the array.
  {
    name: 'non-string entries',
    device: { interfaces: [42, null, {}, ['08:06:50']] as unknown as string[] },
    expected: ok('USB device', 'other'),
  },
  // A non-array interfaces value from untyped JSON.
  { name: 'interfaces not an array', device: { interfaces: '08:06:50' as never }, expected: ok('USB device', 'other') },

  // No interfaces: the device class decides.
  { name: 'deviceClass hub', device: byClass('09'), expected: ok('USB hub', 'hub') },
  // A full device class triple refines like an interface.
  { name: 'deviceClass triple', device: byClass('e0:01:01'), expected: ok('Bluetooth adapter', 'bluetooth') },
  // With only the class, no subclass-specific rule can apply.
  { name: 'deviceClass e0 alone', device: byClass('e0'), expected: ok('wireless controller', 'wireless') },
  // 00 means "see the interfaces": no information.
  { name: 'deviceClass 00', device: byClass('00'), expected: ok('USB device', 'other') },
  // ef:02:01 is the interface-association marker: no information either.
  { name: 'deviceClass ef', device: byClass('ef:02:01'), expected: ok('USB device', 'other') },
  // A malformed device class is ignored.
  { name: 'deviceClass garbage', device: byClass('hub'), expected: ok('USB device', 'other') },
  // Only garbage interfaces: the device class still decides.
  { name: 'garbage then deviceClass', device: byClass('09', '??'), expected: ok('USB hub', 'hub') },
  // Interfaces win over the device class.
  { name: 'deviceClass ignored', device: byClass('09', '08:06:50'), expected: ok('USB flash drive', 'storage') },
  // The name is the attacker's choice and is never read.
  {
    name: 'name is ignored',
    device: { id: '046d:c31c', name: 'Logitech USB Keyboard', interfaces: ['08:06:50'] },
    expected: ok('USB flash drive', 'storage'),
  },
];

describe('device classification', () => {
  describe('classifyDevice', () => {
    for (const row of ROWS) {
      it(row.name, () => {
        expect(classifyDevice(row.device)).to.deep.equal(row.expected);
      });
    }

    it('has a row whose category is each of DEVICE_CATEGORIES', () => {
      const seen = new Set(ROWS.map((r) => r.expected.category));
      expect(DEVICE_CATEGORIES.filter((c) => !seen.has(c))).to.deep.equal([]);
    });

    it('never throws on arbitrary input and keeps category = categories[0]', () => {
      const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:* x'), maxLength: 10 });
      const entry = fc.oneof(hexish, fc.string(), fc.anything());
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 6 }), fc.option(hexish), (interfaces, deviceClass) => {
          const c = classifyDevice({ interfaces: interfaces as string[], deviceClass: deviceClass ?? undefined });
          expect(DEVICE_CATEGORIES).to.include(c.category);
          expect(c.categories[0]).to.equal(c.category);
          expect(c.label).to.be.a('string').and.not.equal('');
        }),
      );
    });
  });

  describe('parseInterfaceType', () => {
    const cases: readonly { name: string; input: string; expected: UsbInterfaceType | null }[] = [
      // The USBGuard form.
      { name: 'lower case', input: '08:06:50', expected: { cls: 0x08, subclass: 0x06, protocol: 0x50 } },
      { name: 'upper case', input: 'FF:42:01', expected: { cls: 0xff, subclass: 0x42, protocol: 0x01 } },
      { name: 'blanks trimmed', input: ' e0:01:01\n', expected: { cls: 0xe0, subclass: 0x01, protocol: 0x01 } },
      { name: 'all ff', input: 'ff:ff:ff', expected: { cls: 255, subclass: 255, protocol: 255 } },
      // Wildcards belong to rules, not to devices.
      { name: 'wildcards', input: '08:*:*', expected: null },
      { name: 'two fields', input: '08:06', expected: null },
      { name: 'four fields', input: '08:06:50:00', expected: null },
      { name: 'one digit', input: '8:6:50', expected: null },
      { name: 'three digits', input: '108:06:50', expected: null },
      { name: 'non hex', input: '08:06:5g', expected: null },
      { name: 'empty', input: '', expected: null },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(parseInterfaceType(c.input)).to.deep.equal(c.expected);
      });
    }
    it('returns null for a non-string at run time', () => {
      expect(parseInterfaceType(undefined as unknown as string)).to.equal(null);
    });
  });

  describe('class table', () => {
    // Every base class named in the USB-IF list that Portcullis relies on.
    const named: readonly [number, string][] = [
      [0x00, 'Per-interface (composite)'], [0x01, 'Audio'], [0x02, 'Communications (CDC control)'],
      [0x03, 'HID (human interface device)'], [0x05, 'Physical'], [0x06, 'Still imaging (PTP/MTP)'],
      [0x07, 'Printer'], [0x08, 'Mass storage'], [0x09, 'Hub'], [0x0a, 'CDC data'], [0x0b, 'Smart card'],
      [0x0d, 'Content security'], [0x0e, 'Video'], [0x0f, 'Personal healthcare'], [0x10, 'Audio/video'],
      [0x11, 'Billboard'], [0x12, 'USB Type-C bridge'], [0x3c, 'I3C'], [0xdc, 'Diagnostic'],
      [0xe0, 'Wireless controller'], [0xef, 'Miscellaneous'], [0xfe, 'Application specific'],
      [0xff, 'Vendor specific'],
    ];
    for (const [code, name] of named) {
      it(`names class ${code.toString(16).padStart(2, '0')}`, () => {
        expect(usbClassName(code)).to.equal(name);
      });
    }

    it('reports unassigned and impossible codes as unknown', () => {
      expect(usbClassName(0x04)).to.equal('unknown class 04');
      expect(usbClassName(0x42)).to.equal('unknown class 42');
      expect(usbClassName(256)).to.equal('unknown class');
      expect(usbClassName(-1)).to.equal('unknown class');
      expect(usbClassName(1.5)).to.equal('unknown class');
    });

    it('has unique byte codes', () => {
      const codes = USB_CLASS_TABLE.map((e) => e.code);
      expect(new Set(codes).size).to.equal(codes.length);
      expect(codes.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xff)).to.equal(true);
    });

    it('refines only known classes, each key once', () => {
      const classes = new Set(USB_CLASS_TABLE.map((e) => e.code));
      const keys = USB_REFINEMENT_TABLE.map((e) => `${e.cls}:${e.subclass ?? '*'}:${e.protocol ?? '*'}`);
      expect(USB_REFINEMENT_TABLE.filter((e) => !classes.has(e.cls))).to.deep.equal([]);
      expect(new Set(keys).size).to.equal(keys.length);
    });
  });

  describe('usbInterfaceName', () => {
    const cases: readonly { input: string; expected: string }[] = [
      // Subclass and transport are named separately for storage.
      { input: '08:06:50', expected: 'Mass storage: SCSI transparent, bulk-only' },
      { input: '08:02:62', expected: 'Mass storage: MMC-5 / ATAPI (optical CD/DVD), UAS' },
      // An exact triple wins over its parts.
      { input: '03:01:01', expected: 'HID (human interface device): boot keyboard' },
      { input: '03:01:00', expected: 'HID (human interface device): boot interface' },
      { input: '02:02:ff', expected: 'Communications (CDC control): RNDIS (Ethernet over USB)' },
      { input: '02:02:01', expected: 'Communications (CDC control): ACM (serial / modem)' },
      { input: 'e0:01:01', expected: 'Wireless controller: Bluetooth' },
      { input: 'ef:04:01', expected: 'Miscellaneous: RNDIS over Ethernet' },
      { input: 'fe:01:02', expected: 'Application specific: DFU mode' },
      { input: 'ff:42:01', expected: 'Vendor specific: Android Debug Bridge (ADB)' },
      // Nothing finer known: the class name alone.
      { input: 'ff:ff:00', expected: 'Vendor specific' },
      { input: '09:00:07', expected: 'Hub' },
      { input: '42:00:00', expected: 'unknown class 42' },
    ];
    for (const c of cases) {
      it(c.input, () => {
        const t = parseInterfaceType(c.input);
        expect(t).to.not.equal(null);
        if (t !== null) expect(usbInterfaceName(t)).to.equal(c.expected);
      });
    }
  });
});
