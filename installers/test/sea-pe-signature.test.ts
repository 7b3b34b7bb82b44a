import { expect } from 'chai';
import { certificateTable, peChecksum, setPeChecksum, stripAuthenticode } from '../src/sea/pe-signature.js';

interface PeShape {
  magic?: number;
  /** Bytes of certificate table appended at the end (0: unsigned). */
  certificate?: number;
  /** Bytes after the certificate table (not the usual layout). */
  trailer?: number;
  /** Number of data directories declared. */
  directories?: number;
}

/** A minimal PE image: MZ header, "PE\0\0" at 0x80, COFF header, optional header, some body. */
function makePe(shape: PeShape = {}): Buffer {
  const magic = shape.magic ?? 0x20b;
  const pe = 0x80;
  const opt = pe + 24;
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const directories = shape.directories ?? 16;
  const optionalSize = dirs - opt + directories * 8;
  const body = 0x400;
  const certificate = shape.certificate ?? 0;
  const trailer = shape.trailer ?? 0;
  const image = Buffer.alloc(body + certificate + trailer, 0x5a);
  image.fill(0, 0, opt + optionalSize);
  image.write('MZ', 0, 'latin1');
  image.writeUInt32LE(pe, 0x3c);
  image.write('PE\0\0', pe, 'latin1');
  image.writeUInt16LE(optionalSize, pe + 20);
  image.writeUInt16LE(magic, opt);
  image.writeUInt32LE(0x12345678, opt + 64);
  image.writeUInt32LE(directories, opt + (magic === 0x20b ? 108 : 92));
  if (certificate > 0 && directories > 4) {
    image.writeUInt32LE(body, dirs + 4 * 8);
    image.writeUInt32LE(certificate, dirs + 4 * 8 + 4);
  }
  return image;
}

describe('sea: removing the Authenticode signature node.exe carries', () => {
  const rows: { name: string; shape: PeShape; removed: number; length: number }[] = [
    // node.exe's case: PE32+ with its certificate table last.
    { name: 'signed PE32+', shape: { certificate: 0x100 }, removed: 0x100, length: 0x400 },
    // 32-bit images keep their data directories 16 bytes earlier.
    { name: 'signed PE32', shape: { magic: 0x10b, certificate: 0x80 }, removed: 0x80, length: 0x400 },
    // Nothing to remove: the image is returned as it is.
    { name: 'unsigned PE32+', shape: {}, removed: 0, length: 0x400 },
  ];
  for (const row of rows) {
    it(`${row.name}: removes ${row.removed} bytes`, () => {
      const input = makePe(row.shape);
      const { image, removed } = stripAuthenticode(input);
      expect(removed).to.equal(row.removed);
      expect(image.length).to.equal(row.length);
      expect(certificateTable(image)).to.deep.equal([0, 0]);
      if (removed > 0) expect(peChecksum(image)).to.equal(image.readUInt32LE(0x80 + 24 + 64));
      expect(image.subarray(0x200, 0x400).equals(input.subarray(0x200, 0x400)), 'the body is untouched').to.equal(true);
    });
  }

  const bad: { name: string; image: () => Buffer; error: RegExp }[] = [
    // Not an executable at all.
    { name: 'a text file', image: () => Buffer.from('hello, this is not a program at all, only text; long enough for a header'), error: /no MZ header/ },
    // An MZ stub whose e_lfanew points at no PE signature.
    { name: 'a DOS program', image: () => makePe().fill(0, 0x80, 0x84), error: /no PE signature/ },
    // An unknown optional header (ROM image).
    { name: 'a ROM image', image: () => { const b = makePe(); b.writeUInt16LE(0x107, 0x80 + 24); return b; }, error: /unknown optional header magic 0x107/ },
    // Signed, but something follows the table: cutting it off would lose data.
    { name: 'a table not at the end', image: () => makePe({ certificate: 0x100, trailer: 0x10 }), error: /not at the end/ },
    // Too few data directories to hold a certificate table.
    { name: 'four directories', image: () => makePe({ directories: 4 }), error: /no certificate table directory/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      expect(() => stripAuthenticode(row.image())).to.throw(row.error);
    });
  }

  it('computes the PE checksum without the CheckSum field itself, plus the length', () => {
    const image = makePe();
    const first = peChecksum(image);
    image.writeUInt32LE(0xdeadbeef, 0x80 + 24 + 64);
    expect(peChecksum(image)).to.equal(first);
    setPeChecksum(image);
    expect(image.readUInt32LE(0x80 + 24 + 64)).to.equal(first);
    // One more word of 0x0001 adds one to the sum (and two bytes to the length).
    const longer = Buffer.concat([image, Buffer.from([1, 0])]);
    expect(peChecksum(longer)).to.equal(first + 1 + 2);
  });
});
