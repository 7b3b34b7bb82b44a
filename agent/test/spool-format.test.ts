import { expect } from 'chai';
import fc from 'fast-check';
import { HEADER_BYTES, RECORD_MAGIC, RecordKinds, decodeAt, encodeRecord, resync, scanSegment } from '../src/spool/record-format.js';
import { encodeEventPayload } from '../src/spool/spool-events.js';
import { usbEvent } from './support/spool-fixtures.js';

const payload = (tag: string) => encodeEventPayload(usbEvent(tag));

describe('spool record format', () => {
  it('round-trips seq, kind and payload', () => {
    const rec = encodeRecord(2 ** 40 + 7, RecordKinds.report, payload('a'));
    expect(rec.subarray(0, 4).equals(RECORD_MAGIC)).to.equal(true);
    expect(decodeAt(rec, 0, 0)).to.deep.equal({ ok: true, seq: 2 ** 40 + 7, kind: RecordKinds.report, size: rec.length });
  });

  it('says incomplete for a cut record and invalid for a damaged one', () => {
    const rec = encodeRecord(1, RecordKinds.event, payload('a'));
    // Each row: a prefix length of the record; all are cut short.
    for (const cut of [1, 3, HEADER_BYTES - 1, HEADER_BYTES, rec.length - 1]) {
      expect(decodeAt(rec.subarray(0, cut), 0, 0), `cut at ${cut}`).to.deep.equal({ ok: false, incomplete: true });
    }
    const bad = Buffer.from(rec);
    bad[HEADER_BYTES + 3]! ^= 0x01;
    expect(decodeAt(bad, 0, 0)).to.deep.equal({ ok: false, incomplete: false });
  });

  it('refuses a seq that does not increase', () => {
    const rec = encodeRecord(5, RecordKinds.event, payload('a'));
    expect(decodeAt(rec, 0, 5).ok).to.equal(false);
    expect(decodeAt(rec, 0, 4).ok).to.equal(true);
  });

  it('detects any single damaged byte of a record (CRC covers header and payload)', () => {
    const rec = encodeRecord(12345, RecordKinds.event, payload('abc'));
    fc.assert(
      fc.property(fc.nat(rec.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(rec);
        bad[at]! ^= xor;
        expect(decodeAt(bad, 0, 0).ok).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a payload never contains the magic, whatever the text (0xFF and 0xFE are not UTF-8)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const p = encodeEventPayload({ ...usbEvent('x'), data: { text } });
        expect(p.indexOf(RECORD_MAGIC)).to.equal(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('resync finds the next whole record after garbage', () => {
    const a = encodeRecord(1, RecordKinds.event, payload('a'));
    const b = encodeRecord(2, RecordKinds.event, payload('b'));
    const garbage = Buffer.concat([RECORD_MAGIC, Buffer.from('not a record at all'), RECORD_MAGIC.subarray(0, 2)]);
    const buf = Buffer.concat([a, garbage, b]);
    expect(resync(buf, a.length, 1)).to.equal(a.length + garbage.length);
    const scan = scanSegment(buf, 0);
    expect(scan.records.map((r) => r.seq)).to.deep.equal([1, 2]);
    expect(scan.holes).to.deep.equal([{ start: a.length, end: a.length + garbage.length, prevSeq: 1, nextSeq: 2 }]);
    expect(scan.tail).to.equal(null);
  });

  it('a damaged end with no record after it is a tail', () => {
    const a = encodeRecord(1, RecordKinds.event, payload('a'));
    const b = encodeRecord(2, RecordKinds.event, payload('b'));
    const buf = Buffer.concat([a, b.subarray(0, b.length - 5)]);
    expect(scanSegment(buf, 0).tail).to.deep.equal({ start: a.length, end: buf.length, prevSeq: 1, nextSeq: null });
  });
});
