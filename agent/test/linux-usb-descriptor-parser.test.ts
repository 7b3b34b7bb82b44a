import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescriptorError,
  MAX_DESCRIPTORS_BYTES,
  parseUsbDescriptors,
  type ParsedUsbDescriptors,
} from '../src/platform/linux/usb-descriptor-parser.js';
import { buildDescriptors } from './support/fake-sysfs.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * Sample `descriptors` files. The trackball, keyboard, hub and webcam were recorded on a real
 * ThinkPad (USBGuard's src/Tests/UseCase/devices.umockdev); the flash drive and the gadget are
 * assembled by hand to the USB 2.0 spec in the shape those devices report (lsusb -v).
 */
const SAMPLES = {
  flashDrive: hex(`
    12 01 00 02 00 00 00 40 81 07 67 55 26 01 01 02 03 01
    09 02 20 00 01 01 00 80 64
    09 04 00 00 02 08 06 50 00
    07 05 81 02 00 02 00
    07 05 02 02 00 02 01`),
  trackball: hex('12010002000000087D04482000060102000109022200010100A0320904000001030102000921110100012252000705810308000A'),
  keyboard: hex(
    '12010002000000081111111120020102000109023B00020100A032090400000103010100092100010001225B00070581030F0001' +
      '090401000103010000092100010001226A0007058203040001',
  ),
  // A Linux USB gadget (libcomposite) with a HID keyboard and a mass-storage function: the
  // BadUSB shape per-interface authorization exists for.
  keyboardStorageGadget: hex(`
    12 01 00 02 ef 02 01 40 6b 1d 04 01 00 01 01 02 03 01
    09 02 39 00 02 01 00 80 fa
    09 04 00 00 01 03 01 01 00
    09 21 11 01 00 01 22 3f 00
    07 05 81 03 08 00 04
    09 04 01 00 02 08 06 50 00
    07 05 82 02 00 02 00
    07 05 01 02 00 02 01`),
  // Genesys Logic hub: interface 0 has alternate setting 1 (multi-TT), so two 09:00:xx entries.
  hub: hex(
    '1201000209000240E305140697010001000109022900010100E0320904000001090001000705810301000C' +
      '0904000101090002000705810301000C',
  ),
  webcam: hex(
    '12010002EF0201408659060712000102000109023E0402010080FA080B00020E03000409040000010E0100040D240100016D00006C' +
      'DC0201011224020101020000000000000000030E00000B240502010040027F15001D2406035A10B82613077048979DDA79444BB6' +
      '8E0101020404000000001D240604820661637050AB49B8CCB3855E8D221D20010304FFFF71000009240305010100040007058703' +
      '100008052503050409040100000E0200000F240102F2028100050201000100041B240401095955593200001000800000AA00389B' +
      '7110010000000022240501008002E001000065040000CA08006009001516050002151605002A2C0A0022240502004001B40000F0' +
      'D20000E0A50100C201001516050002151605002A2C0A0022240503004001F0000040190100803202005802001516050002151605' +
      '002A2C0A00222405040060012001004073010080E602001803001516050002151605002A2C0A002224050500A801F00000A87401' +
      '0050E902001B03001516050002151605002A2C0A0022240506008002680100C04B0300809706000807001516050002151605002A' +
      '2C0A001E240507005003E0010080C3070080C307006C0C0020A107000120A107001E24050800C0031C0200706A0700706A0700D2' +
      '0F002A2C0A00012A2C0A001E240509000005D0020000CA080000CA0800201C0040420F000140420F002B240300098002E0014001' +
      'B4004001F00060012001A801F000800268015003E001C0031C020005D002010106240D0101040B24060209010100000000222407' +
      '01008002E001000065040000CA08006009001516050002151605002A2C0A0022240702004001B40000F0D20000E0A50100C20100' +
      '1516050002151605002A2C0A0022240703004001F0000040190100803202005802001516050002151605002A2C0A002224070400' +
      '60012001004073010080E602001803001516050002151605002A2C0A002224070500A801F00000A874010050E902001B03001516' +
      '050002151605002A2C0A0022240706008002680100C04B0300809706000807001516050002151605002A2C0A0022240707005003' +
      'E00100A0D2050040A50B006C0C001516050002151605002A2C0A002224070800C0031C0200706A0700E0D40E00D20F0015160500' +
      '02151605002A2C0A0022240709000005D00200002F0D00005E1A00201C001516050002151605002A2C0A002E240300098002E001' +
      '4001B4004001F00060012001A801F000800268015003E001C0031C020005D0020401050A1406240D01010409040101010E020000' +
      '07058105C0000109040102010E0200000705810580010109040103010E0200000705810500020109040104010E02000007058105' +
      '80020109040105010E0200000705810520030109040106010E02000007058105B0030109040107010E02000007058105800A0109' +
      '040108010E02000007058105200B0109040109010E02000007058105E00B010904010A010E02000007058105C013010904010B01' +
      '0E02000007058105FC1301',
  ),
} as const;

type SampleName = keyof typeof SAMPLES;

describe('linux: USB descriptor parser', () => {
  describe('real-world dumps', () => {
    const rows: { sample: SampleName; id: string; interfaces: string[]; bytes: number; why: string }[] = [
      { sample: 'flashDrive', id: '0781:5567', interfaces: ['08:06:50'], bytes: 50, why: 'one bulk-only storage interface' },
      { sample: 'trackball', id: '047d:2048', interfaces: ['03:01:02'], bytes: 52, why: 'HID class descriptor between interface and endpoint is skipped' },
      { sample: 'keyboard', id: '1111:1111', interfaces: ['03:01:01', '03:01:00'], bytes: 77, why: 'boot keyboard plus a second HID interface' },
      { sample: 'keyboardStorageGadget', id: '1d6b:0104', interfaces: ['03:01:01', '08:06:50'], bytes: 75, why: 'composite: keyboard and storage in one device' },
      { sample: 'hub', id: '05e3:0614', interfaces: ['09:00:01', '09:00:02'], bytes: 59, why: 'alternate settings are listed, like USBGuard' },
      {
        sample: 'webcam',
        id: '5986:0706',
        interfaces: ['0e:01:00', ...Array<string>(12).fill('0e:02:00')],
        bytes: 1104,
        why: 'IAD, class-specific descriptors, 12 alternate settings of the streaming interface',
      },
    ];
    for (const row of rows) {
      it(`${row.sample}: ${row.why}`, () => {
        const parsed = parseUsbDescriptors(SAMPLES[row.sample]);
        const { idVendor, idProduct } = parsed.device;
        expect(`${idVendor.toString(16).padStart(4, '0')}:${idProduct.toString(16).padStart(4, '0')}`).to.equal(row.id);
        expect(parsed.interfaceTypes).to.deep.equal(row.interfaces);
        expect(parsed.bytesParsed).to.equal(row.bytes).and.equal(SAMPLES[row.sample].length);
        expect(parsed.configurations).to.have.length(1);
        expect(parsed.configurations[0]?.interfaces.length).to.equal(row.interfaces.length);
      });
    }

    it('lists the interfaces of every configuration, in file order', () => {
      const second = hex('09 02 12 00 01 02 00 80 32  09 04 00 00 00 ff 42 01 00');
      const parsed = parseUsbDescriptors(Buffer.concat([SAMPLES.flashDrive, second]));
      expect(parsed.configurations.map((c) => c.bConfigurationValue)).to.deep.equal([1, 2]);
      expect(parsed.interfaceTypes).to.deep.equal(['08:06:50', 'ff:42:01']);
    });

    it('reads the device descriptor fields little-endian', () => {
      const d = parseUsbDescriptors(SAMPLES.webcam).device;
      expect(d).to.include({ bcdUSB: 0x0200, bDeviceClass: 0xef, bDeviceSubClass: 0x02, bDeviceProtocol: 0x01, bcdDevice: 0x0012 });
      expect(d).to.include({ iManufacturer: 1, iProduct: 2, iSerialNumber: 0, bNumConfigurations: 1 });
    });
  });

  describe('malformed input is a DescriptorError naming the offset', () => {
    const device = SAMPLES.flashDrive.subarray(0, 18);
    const config = hex('09 02 20 00 01 01 00 80 64');
    const iface = hex('09 04 00 00 02 08 06 50 00');
    const endpoint = hex('07 05 81 02 00 02 00');
    const rows: { name: string; input: Uint8Array; offset: number; message: RegExp }[] = [
      { name: 'empty file', input: new Uint8Array(), offset: 0, message: /no device descriptor/ },
      { name: 'one byte', input: hex('12'), offset: 0, message: /header is cut short/ },
      { name: 'bLength 0 (would never advance)', input: hex('00 01'), offset: 0, message: /bLength 0 is shorter/ },
      { name: 'bLength 1', input: hex('01 01'), offset: 0, message: /bLength 1 is shorter/ },
      { name: 'device descriptor cut short', input: device.subarray(0, 10), offset: 0, message: /runs past the end/ },
      { name: 'device descriptor of 17 bytes', input: Buffer.concat([hex('11 01'), Buffer.alloc(15)]), offset: 0, message: /device descriptor of 17 bytes/ },
      { name: 'configuration of 10 bytes', input: Buffer.concat([device, hex('0a 02 00 00 00 00 00 00 00 00')]), offset: 18, message: /configuration descriptor of 10/ },
      { name: 'endpoint of 8 bytes', input: Buffer.concat([device, config, iface, hex('08 05 81 02 00 02 00 00')]), offset: 36, message: /endpoint descriptor of 8 bytes \(must be 7 or 9\)/ },
      { name: 'configuration before the device', input: Buffer.concat([config, device]), offset: 0, message: /before the device descriptor/ },
      { name: 'interface outside a configuration', input: Buffer.concat([device, iface]), offset: 18, message: /outside any configuration/ },
      { name: 'endpoint before any interface', input: Buffer.concat([device, config, endpoint]), offset: 27, message: /outside any interface/ },
      { name: 'endpoint of a new configuration before its interface', input: Buffer.concat([device, config, iface, config, endpoint]), offset: 45, message: /outside any interface/ },
      { name: 'a second device descriptor', input: Buffer.concat([device, device]), offset: 18, message: /second device descriptor/ },
      { name: 'only unknown descriptors', input: hex('04 24 00 00 04 24 00 00 04 24 00 00 04 24 00 00 04 24 00 00'), offset: 0, message: /no device descriptor/ },
      { name: 'last descriptor cut by one byte', input: SAMPLES.flashDrive.subarray(0, 49), offset: 43, message: /bLength 7 runs past the end of the data \(6 bytes left\)/ },
      { name: 'a stray trailing byte', input: Buffer.concat([SAMPLES.flashDrive, hex('00')]), offset: 50, message: /cut short/ },
      { name: 'a lying bLength 255 at the end', input: Buffer.concat([SAMPLES.flashDrive, hex('ff 24 00')]), offset: 50, message: /bLength 255 runs past/ },
      { name: 'more bytes than any device has', input: new Uint8Array(MAX_DESCRIPTORS_BYTES + 1), offset: 0, message: /more than a device can describe/ },
    ];
    for (const row of rows) {
      it(row.name, () => {
        const err = catchError(() => parseUsbDescriptors(row.input));
        expect(err).to.be.instanceOf(DescriptorError);
        expect((err as DescriptorError).code).to.equal('PORTCULLIS_ERR_DESCRIPTOR_INVALID');
        expect((err as DescriptorError).offset).to.equal(row.offset);
        expect((err as DescriptorError).message).to.match(row.message);
      });
    }
  });

  describe('fuzz (fast-check)', () => {
    const sampleList = Object.values(SAMPLES);

    it('random bytes: a result or a DescriptorError, nothing else (2000 runs)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
          checkTotal(bytes);
        }),
        { numRuns: 2000 },
      );
    });

    it('mutated real dumps (truncated, bytes overwritten): the same guarantee (3000 runs)', () => {
      const mutation = fc.record({
        sample: fc.nat({ max: sampleList.length - 1 }),
        cut: fc.option(fc.nat(), { nil: undefined }),
        writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      });
      fc.assert(
        fc.property(mutation, ({ sample, cut, writes }) => {
          const original = sampleList[sample] ?? SAMPLES.flashDrive;
          const bytes = Uint8Array.from(cut === undefined ? original : original.subarray(0, cut % (original.length + 1)));
          for (const [at, value] of writes) if (bytes.length > 0) bytes[at % bytes.length] = value;
          checkTotal(bytes);
        }),
        { numRuns: 3000 },
      );
    });

    it('any device the fake builds parses back to the interfaces it was built with (1000 runs)', () => {
      const triple = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }));
      fc.assert(
        fc.property(fc.array(triple, { maxLength: 12 }), (types) => {
          const interfaces = types.map((t) => t.map((n) => n.toString(16).padStart(2, '0')).join(':'));
          const parsed = parseUsbDescriptors(buildDescriptors({ port: '1-1', vendor: '1234', product: 'abcd', interfaces }));
          expect(parsed.interfaceTypes).to.deep.equal(interfaces);
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('agrees with `usbguard read-descriptor` (USBGuard 1.1.2, the reference)', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'portcullis-descriptors-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const name of Object.keys(SAMPLES) as SampleName[]) {
      it(`${name}: same interfaces, same byte count`, () => {
        const file = join(dir, `${name}.bin`);
        writeFileSync(file, SAMPLES[name]);
        const reference = readDescriptorReference(file);
        const ours = parseUsbDescriptors(SAMPLES[name]);
        expect(reference.ok).to.equal(true);
        expect(ours.interfaceTypes).to.deep.equal(reference.interfaces);
        expect(ours.bytesParsed).to.equal(reference.bytes);
      });
    }

    it('both refuse a descriptor that runs past the end, and a bLength below 2', () => {
      for (const [i, input] of [SAMPLES.flashDrive.subarray(0, 49), Buffer.concat([SAMPLES.flashDrive, hex('01 24')])].entries()) {
        const file = join(dir, `bad-${i}.bin`);
        writeFileSync(file, input);
        expect(readDescriptorReference(file).ok, `reference on bad-${i}`).to.equal(false);
        expect(catchError(() => parseUsbDescriptors(input))).to.be.instanceOf(DescriptorError);
      }
    });
  });
});

/** Parse must return a well-formed result or throw a DescriptorError; anything else fails. */
function checkTotal(bytes: Uint8Array): void {
  let parsed: ParsedUsbDescriptors;
  try {
    parsed = parseUsbDescriptors(bytes);
  } catch (err) {
    if (err instanceof DescriptorError) return;
    throw err;
  }
  expect(parsed.bytesParsed).to.equal(bytes.length);
  let at = 0;
  for (const d of parsed.descriptors) {
    expect(d.offset).to.equal(at);
    expect(d.length).to.be.at.least(2);
    at += d.length;
  }
  expect(at).to.equal(bytes.length);
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const INSTALL_HINT =
  'usbguard was not found on PATH. It is the reference for this test (USBGuard 1.1.2): install ' +
  "Debian's usbguard package (apt-get install usbguard) and run the tests again.";

/** `usbguard read-descriptor FILE`: the interface types it prints, and "Bytes parsed". */
function readDescriptorReference(file: string): { ok: boolean; interfaces: string[]; bytes: number } {
  const run = spawnSync('usbguard', ['read-descriptor', file], { encoding: 'utf8', timeout: 15_000 });
  if (run.error) {
    if ((run.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(INSTALL_HINT);
    throw run.error;
  }
  const interfaces: string[] = [];
  const field = (block: string, key: string): string =>
    Number(new RegExp(`${key}: (\\d+)`).exec(block)?.[1] ?? NaN)
      .toString(16)
      .padStart(2, '0');
  for (const block of run.stdout.split('\n\n')) {
    if (!block.startsWith('Interface Descriptor')) continue;
    interfaces.push(`${field(block, 'bInterfaceClass')}:${field(block, 'bInterfaceSubClass')}:${field(block, 'bInterfaceProtocol')}`);
  }
  const bytes = Number(/Bytes parsed: (\d+)/.exec(run.stdout)?.[1] ?? NaN);
  return { ok: run.status === 0, interfaces, bytes };
}
