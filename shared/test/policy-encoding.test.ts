import { expect } from 'chai';
import fc from 'fast-check';
import { ErrorCodes, PortcullisError, base64Decode, base64Encode, canonicalJson, parseIsoTimestamp } from '../src/index.js';

// The encodings a policy signature rests on: canonical JSON, base64, timestamps. A signer and a
// verifier that disagree on any of these disagree on every signature.

function thrownBy(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error('expected a PortcullisError');
}

/** The same value with every object's keys in a random order (fast-check picks the order). */
function shuffledKeys(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledKeys(v, order));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(order(Object.keys(record)).map((k) => [k, shuffledKeys(record[k], order)]));
}

describe('canonicalJson', () => {
  // Each row: a value → its one canonical text.
  const good: Array<{ name: string; value: unknown; expected: string }> = [
    // scalars
    { name: 'null', value: null, expected: 'null' },
    { name: 'booleans', value: [true, false], expected: '[true,false]' },
    { name: 'integers and fractions as JSON.stringify writes them', value: [0, -1, 1.5, 1e21, 1e-7], expected: '[0,-1,1.5,1e+21,1e-7]' },
    { name: 'negative zero is 0', value: -0, expected: '0' },
    { name: 'string escapes as JSON.stringify', value: 'a"b\\c\n\u0001é', expected: '"a\\"b\\\\c\\n\\u0001é"' },
    { name: 'a lone surrogate is escaped, not mangled', value: '\ud800', expected: '"\\ud800"' },
    // objects
    { name: 'keys sorted', value: { b: 1, a: 2, c: { z: 1, y: 2 } }, expected: '{"a":2,"b":1,"c":{"y":2,"z":1}}' },
    { name: 'undefined-valued properties left out', value: { a: undefined, b: 1 }, expected: '{"b":1}' },
    { name: 'empty object and array', value: { a: {}, b: [] }, expected: '{"a":{},"b":[]}' },
    { name: 'object without prototype is plain', value: Object.assign(Object.create(null) as object, { k: 1 }), expected: '{"k":1}' },
    { name: 'array order is kept', value: [3, 1, 2], expected: '[3,1,2]' },
    // JavaScript enumerates integer-like keys first (so JSON.stringify writes "9" before ""); JCS does not
    { name: 'integer-like keys sort as strings', value: { a: 3, '10': 1, '9': 2, '': 4 }, expected: '{"":4,"10":1,"9":2,"a":3}' },
    // RFC 8785 §3.2.3: sorting by UTF-16 code units puts U+1F600 (D83D DE00) before U+FB33
    {
      name: 'RFC 8785 sorting example',
      value: { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' },
      expected: '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    },
    // RFC 8785 §3.2.2 sample (its numbers and strings, which JSON.parse reads first)
    {
      name: 'RFC 8785 serialization example',
      value: JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}'),
      expected: '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    },
  ];
  for (const row of good) {
    it(row.name, () => expect(canonicalJson(row.value)).to.equal(row.expected));
  }

  // Each row: a value JSON.stringify would change or drop silently → refused, naming where.
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const bad: Array<{ name: string; value: unknown; match: RegExp }> = [
    { name: 'NaN', value: { a: NaN }, match: /a: NaN/ },
    { name: 'Infinity', value: [Infinity], match: /\[0\]: Infinity/ },
    { name: '-Infinity', value: -Infinity, match: /-Infinity/ },
    { name: 'undefined at the top', value: undefined, match: /undefined/ },
    { name: 'undefined in an array', value: [1, undefined], match: /\[1\]: undefined/ },
    { name: 'hole in an array', value: [1, , 2], match: /\[1\]/ },
    { name: 'function property', value: { f: () => 1 }, match: /f: a function/ },
    { name: 'symbol', value: Symbol('x'), match: /symbol/ },
    { name: 'bigint', value: { n: 1n }, match: /n: a bigint/ },
    { name: 'Date', value: { when: new Date(0) }, match: /when: .*Date/ },
    { name: 'Map', value: new Map(), match: /Map/ },
    { name: 'class instance', value: new (class Point { x = 1 })(), match: /Point/ },
    { name: 'typed array', value: new Uint8Array(2), match: /Uint8Array/ },
    { name: 'symbol-keyed property', value: { [Symbol('k')]: 1 }, match: /symbol-keyed/ },
    { name: 'cycle', value: cyclic, match: /cycle/ },
    { name: 'absurd depth', value: JSON.parse('['.repeat(300) + ']'.repeat(300)), match: /deeper than/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      const err = thrownBy(() => canonicalJson(row.value));
      expect(err.code).to.equal(ErrorCodes.JSON_UNSUPPORTED);
      expect(err.message).to.match(row.match);
    });
  }

  it('is a fixed point: canonicalJson(JSON.parse(canonicalJson(x))) === canonicalJson(x)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (x) => {
        const once = canonicalJson(x);
        expect(canonicalJson(JSON.parse(once))).to.equal(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on the order of keys in the input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), fc.infiniteStream(fc.nat()), (x, randoms) => {
        const shuffle = (keys: string[]): string[] => {
          const out = [...keys];
          for (let i = out.length - 1; i > 0; i--) {
            const j = (randoms.next().value as number) % (i + 1);
            [out[i], out[j]] = [out[j] as string, out[i] as string];
          }
          return out;
        };
        expect(canonicalJson(shuffledKeys(x, shuffle))).to.equal(canonicalJson(x));
      }),
      { numRuns: 1000 },
    );
  });

  it('is JSON that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'grapheme' }), (x) => {
        // JSON.stringify(-0) is "0", so compare through one JSON round trip.
        expect(JSON.parse(canonicalJson(x))).to.deep.equal(JSON.parse(JSON.stringify(x)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('base64 codec', () => {
  // RFC 4648 §10 test vectors.
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [text, encoded] of vectors) {
    it(`RFC 4648 vector ${JSON.stringify(text)} ↔ ${JSON.stringify(encoded)}`, () => {
      const bytes = new TextEncoder().encode(text);
      expect(base64Encode(bytes)).to.equal(encoded);
      expect(base64Decode(encoded)).to.deep.equal(bytes);
    });
  }

  it('uses + and / for the high values', () => {
    expect(base64Encode(new Uint8Array([0xfb, 0xff, 0xbf]))).to.equal('+/+/');
  });

  it('agrees with Buffer in both directions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const encoded = base64Encode(bytes);
        expect(encoded).to.equal(Buffer.from(bytes).toString('base64'));
        expect(base64Decode(encoded)).to.deep.equal(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts only the one encoding each byte string has', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n'), maxLength: 16 }), (text) => {
        let decoded: Uint8Array | undefined;
        try {
          decoded = base64Decode(text);
        } catch (err) {
          expect(err).to.be.instanceOf(PortcullisError);
          expect((err as PortcullisError).code).to.equal(ErrorCodes.ENCODING_INVALID);
          return;
        }
        expect(base64Encode(decoded)).to.equal(text);
      }),
      { numRuns: 3000 },
    );
  });

  // Each row: text that lenient decoders (atob, Buffer) would accept or guess at → refused.
  const malformed: Array<{ name: string; text: string; match: RegExp }> = [
    { name: 'length not a multiple of 4', text: 'Zm9', match: /multiple of 4/ },
    { name: 'missing padding', text: 'Zg', match: /multiple of 4/ },
    { name: 'padding in the middle', text: 'Zg==Zm9v', match: /padding/ },
    { name: 'three padding characters', text: 'Z===', match: /padding/ },
    { name: 'whitespace', text: 'Zm9 Zg==', match: /" " at position 3/ },
    { name: 'line break', text: 'Zm9\nZg==', match: /"\\n" at position 3/ },
    { name: 'URL-safe alphabet', text: '-_-_', match: /"-"/ },
    { name: 'non-zero unused bits', text: 'Zh==', match: /unused bits/ },
    { name: 'non-zero unused bits with one pad', text: 'Zm9=', match: /unused bits/ },
    { name: 'non-ASCII', text: 'Zm9é', match: /"é"/ },
  ];
  for (const row of malformed) {
    it(`refuses ${row.name}`, () => {
      const err = thrownBy(() => base64Decode(row.text));
      expect(err.code).to.equal(ErrorCodes.ENCODING_INVALID);
      expect(err.message).to.match(row.match);
    });
  }
});

describe('parseIsoTimestamp', () => {
  // Each row: text → epoch milliseconds, or null when refused.
  const rows: Array<{ name: string; text: string; expected: number | null }> = [
    { name: 'UTC', text: '2026-11-25T10:00:00Z', expected: Date.UTC(2026, 10, 25, 10) },
    { name: 'milliseconds', text: '2026-11-25T10:00:00.123Z', expected: Date.UTC(2026, 10, 25, 10, 0, 0, 123) },
    { name: 'one fraction digit', text: '2026-11-25T10:00:00.5Z', expected: Date.UTC(2026, 10, 25, 10, 0, 0, 500) },
    { name: 'nanoseconds are truncated to milliseconds', text: '2026-11-25T10:00:00.123456789Z', expected: Date.UTC(2026, 10, 25, 10, 0, 0, 123) },
    { name: 'positive offset', text: '2026-11-25T12:00:00+02:00', expected: Date.UTC(2026, 10, 25, 10) },
    { name: 'negative offset crossing midnight', text: '2026-11-24T23:30:00-10:30', expected: Date.UTC(2026, 10, 25, 10) },
    { name: 'leap day', text: '2024-02-29T00:00:00Z', expected: Date.UTC(2024, 1, 29) },
    { name: 'before the epoch', text: '1969-12-31T23:59:59Z', expected: -1000 },
    { name: 'no zone is refused', text: '2026-11-25T10:00:00', expected: null },
    { name: 'date only is refused', text: '2026-11-25', expected: null },
    { name: 'no seconds is refused', text: '2026-11-25T10:00Z', expected: null },
    { name: 'lower-case t is refused', text: '2026-11-25t10:00:00Z', expected: null },
    { name: 'space separator is refused', text: '2026-11-25 10:00:00Z', expected: null },
    { name: 'February 29 of a common year', text: '2026-02-29T00:00:00Z', expected: null },
    { name: 'February 29, 1900 (not a leap year)', text: '1900-02-29T00:00:00Z', expected: null },
    { name: 'month 13', text: '2026-13-01T00:00:00Z', expected: null },
    { name: 'day 0', text: '2026-01-00T00:00:00Z', expected: null },
    { name: 'hour 24', text: '2026-01-01T24:00:00Z', expected: null },
    { name: 'leap second', text: '2016-12-31T23:59:60Z', expected: null },
    { name: 'offset without colon', text: '2026-11-25T10:00:00+0200', expected: null },
    { name: 'trailing text', text: '2026-11-25T10:00:00Zjunk', expected: null },
    { name: 'empty', text: '', expected: null },
  ];
  for (const row of rows) {
    it(row.name, () => expect(parseIsoTimestamp(row.text)).to.equal(row.expected));
  }

  it('agrees with Date.parse on every instant Date#toISOString writes', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        expect(parseIsoTimestamp(d.toISOString())).to.equal(d.getTime());
      }),
      { numRuns: 2000 },
    );
  });
});
