/**
 * Removes the Authenticode signature from a PE image. node.exe as published is signed by the
 * OpenJS Foundation; injecting the SEA blob changes the image, so that signature no longer
 * matches (postject says "The signature seems corrupted!") and Windows would show a tampered
 * file. An unsigned executable is the honest state until we sign it ourselves.
 *
 * What is read (PE/COFF specification), e.g. node.exe 20.20.2:
 *   0x3c                u32  e_lfanew → 0x138, where "PE\0\0" stands
 *   e_lfanew + 20       u16  SizeOfOptionalHeader (240 for PE32+)
 *   e_lfanew + 24       u16  optional header magic: 0x10b PE32, 0x20b PE32+
 *   opt + 64            u32  CheckSum
 *   opt + 92 / + 108    u32  NumberOfRvaAndSizes (PE32 / PE32+)
 *   opt + 96 / + 112    data directories, 8 bytes each; index 4 is the certificate table:
 *                       u32 file offset (72435712), u32 size (10448), at the very end of the file
 */
export interface UnsignedImage {
  image: Buffer;
  /** Bytes of certificate table removed; 0 when the image was not signed. */
  removed: number;
}

const SECURITY_DIRECTORY = 4;

export function stripAuthenticode(input: Buffer): UnsignedImage {
  const fail = (why: string): never => {
    throw new Error(`not a PE image this tool can unsign: ${why}`);
  };
  if (input.length < 0x40 || input.toString('latin1', 0, 2) !== 'MZ') fail('no MZ header');
  const pe = input.readUInt32LE(0x3c);
  if (pe + 24 > input.length || input.toString('latin1', pe, pe + 4) !== 'PE\0\0') fail('no PE signature at e_lfanew');
  const optionalSize = input.readUInt16LE(pe + 20);
  const opt = pe + 24;
  if (opt + optionalSize > input.length) fail('optional header past the end of the file');
  const magic = input.readUInt16LE(opt);
  if (magic !== 0x10b && magic !== 0x20b) fail(`unknown optional header magic 0x${magic.toString(16)}`);
  const countAt = opt + (magic === 0x20b ? 108 : 92);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const entry = dirs + SECURITY_DIRECTORY * 8;
  if (entry + 8 > opt + optionalSize || input.readUInt32LE(countAt) <= SECURITY_DIRECTORY) fail('no certificate table directory');
  const offset = input.readUInt32LE(entry);
  const size = input.readUInt32LE(entry + 4);
  if (offset === 0 && size === 0) return { image: input, removed: 0 };
  // Only the usual layout is handled: the table last in the file, so cutting it off loses nothing else.
  if (offset < entry + 8 || offset + size !== input.length) fail(`certificate table at ${offset}+${size} is not at the end of the ${input.length}-byte file`);
  const image = Buffer.from(input.subarray(0, offset));
  image.writeUInt32LE(0, entry);
  image.writeUInt32LE(0, entry + 4);
  setPeChecksum(image);
  return { image, removed: size };
}

/** Offset of the CheckSum field of a PE image (the header checks are stripAuthenticode's). */
function checksumOffset(image: Buffer): number {
  return image.readUInt32LE(0x3c) + 24 + 64;
}

/**
 * The PE checksum (as imagehlp's CheckSumMappedFile computes it): 16-bit one's-complement-style
 * sum of the file with the CheckSum field read as zero, plus the file length. Windows checks it
 * only for drivers, but tools (osslsigncode, signtool) report a wrong one as a damaged file.
 */
export function peChecksum(image: Buffer): number {
  const skip = checksumOffset(image);
  let sum = 0;
  for (let i = 0; i < image.length; i += 2) {
    if (i === skip || i === skip + 2) continue;
    sum += (image[i] as number) | ((image[i + 1] ?? 0) << 8);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + image.length) >>> 0;
}

/** Writes the right CheckSum into a PE image (after the blob is injected: injecting changes it). */
export function setPeChecksum(image: Buffer): void {
  image.writeUInt32LE(peChecksum(image), checksumOffset(image));
}

/** The certificate table directory of a PE image, for tests and checks: [offset, size]. */
export function certificateTable(image: Buffer): [number, number] {
  const pe = image.readUInt32LE(0x3c);
  const opt = pe + 24;
  const entry = opt + (image.readUInt16LE(opt) === 0x20b ? 112 : 96) + SECURITY_DIRECTORY * 8;
  return [image.readUInt32LE(entry), image.readUInt32LE(entry + 4)];
}
