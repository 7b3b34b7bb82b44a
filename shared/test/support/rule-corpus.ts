/**
 * Seeded rule corpora for the differential test against `usbguard-rule-parser` (USBGuard 1.1.2,
 * Debian's usbguard package). A valid line looks like
 *
 *     allow 0781:*  name one-of { "a\"b" "é" }	if !localtime(08:00-18:00) # c
 *
 * and every line stays inside the ground both parsers define the same way: no `readonly`,
 * `match` or `device` target, no `rule-evaluated` (1.1.2 prints it as `rule-applied`), no blanks
 * before or after the rule, no CR, and only well-formed condition parameters (1.1.2 accepts
 * `localtime(08:00x)` or `random(2)`, where Portcullis is strict on purpose, and checks
 * `HH:MM:SS` ranges on their seconds alone). An invalid line is rejected by both for a reason
 * that does not depend on those differences. Same seed, same lines: the PRNG is mulberry32,
 * never Math.random.
 */

export type Random = () => number;

/** mulberry32: tiny, fast, good enough to spread test cases; returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly random: Random) {}

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}

export const CORPUS_TARGETS = ['allow', 'block', 'reject'] as const;
export const CORPUS_OPERATORS = ['all-of', 'one-of', 'none-of', 'equals', 'equals-ordered', 'match-all'] as const;
export const CORPUS_CONDITIONS = ['true', 'false', 'localtime', 'random', 'rule-applied', 'allowed-matches'] as const;
const STRING_KEYWORDS = ['serial', 'name', 'hash', 'parent-hash', 'via-port', 'with-connect-type', 'label'] as const;
const KINDS = ['id', ...STRING_KEYWORDS, 'with-interface', 'if'] as const;
type Kind = (typeof KINDS)[number];

const HEX_ANY_CASE = '0123456789abcdefABCDEF';
const HEX = '0123456789abcdef';

// Raw non-ASCII text, printed by USBGuard as the \xHH of its UTF-8 bytes. U+0085, U+2028 and
// U+00A0 are here on purpose: JavaScript treats them as line breaks or white space.
const RAW_UNICODE = ['é', 'ü', 'ß', 'Ж', 'Ω', '€', '日本', '😀', '\u00a0', '\u0085', '\u2028', '\u200b', 'ñ'];
// Raw control characters inside a string (NUL, LF and CR left out: they end a line somewhere).
const RAW_CONTROL = [
  ...Array.from({ length: 8 }, (_, i) => String.fromCharCode(1 + i)),
  '\t',
  '\x0b',
  '\x0c',
  ...Array.from({ length: 18 }, (_, i) => String.fromCharCode(0x0e + i)),
  '\x7f',
];
const PLAIN_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter(
  (c) => c !== '"' && c !== '\\',
);
const REALISTIC_STRINGS = [
  'USB Keyboard',
  'Mass Storage',
  '4C530001230523112463',
  '1-1.2',
  '2-1',
  'usb1',
  'hotplug',
  'hardwired',
  'not used',
  'unknown',
  'kOwCq4/Zx9D8y7ZWtYGf6Q8+TFKrNyJWkr2X5XkXcQ0=',
  'jEP/6WzviqdJ5VSeTUY8PatCNBKeaREvo2OqdplND/o=',
  'office-printers',
  '',
];

function blank(g: Gen): string {
  if (!g.chance(0.15)) return ' ';
  return g.pick(['  ', '\t', ' \t', '\t ', '   ', '\t\t', ' \t \t']);
}

function hexDigits(g: Gen, n: number, alphabet = HEX_ANY_CASE): string {
  let out = '';
  for (let i = 0; i < n; i++) out += g.pick([...alphabet]);
  return out;
}

function deviceId(g: Gen): string {
  const r = g.int(0, 9);
  if (r < 7) return `${hexDigits(g, 4)}:${hexDigits(g, 4)}`;
  if (r < 9) return `${hexDigits(g, 4)}:*`;
  return '*:*';
}

function interfaceType(g: Gen): string {
  const r = g.int(0, 19);
  if (r < 12) return `${hexDigits(g, 2)}:${hexDigits(g, 2)}:${hexDigits(g, 2)}`;
  if (r < 17) return `${hexDigits(g, 2)}:${hexDigits(g, 2)}:*`;
  return `${hexDigits(g, 2)}:*:*`;
}

function stringPiece(g: Gen): string {
  const r = g.int(0, 99);
  if (r < 45) {
    let run = '';
    for (let i = g.int(1, 6); i > 0; i--) run += g.pick(PLAIN_ASCII);
    return run;
  }
  if (r < 55) return '\\"';
  if (r < 63) return '\\\\';
  if (r < 78) return `\\x${hexDigits(g, 2)}`;
  if (r < 90) return g.pick(RAW_UNICODE);
  return g.pick(RAW_CONTROL);
}

/** A double-quoted rule string (quotes included). */
function quoted(g: Gen): string {
  if (g.chance(0.3)) return `"${g.pick(REALISTIC_STRINGS)}"`;
  let body = '';
  for (let i = g.int(0, 5); i > 0; i--) body += stringPiece(g);
  return `"${body}"`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `HH:MM` or `HH:MM:SS` from a minute of the day and a second. */
function clock(minute: number, second: number | null): string {
  const hm = `${two(Math.floor(minute / 60))}:${two(minute % 60)}`;
  return second === null ? hm : `${hm}:${two(second)}`;
}

/**
 * A localtime parameter with begin <= end. USBGuard 1.1.2 reads `HH:MM:SS` as its seconds field
 * alone when it checks the range (it accepts `10:00:10-09:00:20`, rejects `14:00:21-14:42:15` and
 * every `HH:MM-HH:MM:SS`), so ranges here are in order both ways.
 */
function localtimeParam(g: Gen): string {
  const a = g.int(0, 1439);
  if (g.chance(0.25)) return clock(a, g.chance(0.5) ? g.int(0, 59) : null);
  const b = g.int(a, 1439);
  const form = g.int(0, 2);
  if (form === 0) return `${clock(a, null)}-${clock(b, null)}`;
  if (form === 1) {
    // 1.1.2 checks begin <= end on the seconds field alone when both carry seconds.
    const sa = g.int(0, 59);
    return `${clock(a, sa)}-${clock(b, g.int(sa, 59))}`;
  }
  const end = a === 1439 ? a : g.int(a + 1, 1439);
  return end === a ? clock(a, 0) + '-' + clock(a, null) : `${clock(a, g.int(0, 59))}-${clock(end, null)}`;
}

function ruleAppliedParam(g: Gen): string {
  const r = g.int(0, 2);
  if (r === 0) return two(g.int(0, 59));
  if (r === 1) return clock(g.int(0, 1439), null);
  return clock(g.int(0, 1439), g.int(0, 59));
}

/** Attributes of allowed-matches(...): simple values, no `)`, `#` or escapes inside. */
function allowedMatchesParam(g: Gen): string {
  const simple = (): string => {
    let s = '';
    for (let i = g.int(1, 8); i > 0; i--) s += g.pick([...'abcdefXYZ0123456789-. ']);
    return `"${s}"`;
  };
  const parts = g.shuffle(['id', 'name', 'serial', 'via-port', 'with-interface', 'hash'] as const).slice(0, g.int(1, 3));
  const sep = (): string => (g.chance(0.1) ? '  ' : ' ');
  return parts
    .map((kw) => {
      if (kw === 'id') return `id${sep()}${deviceId(g)}`;
      if (kw === 'with-interface') {
        return g.chance(0.5)
          ? `with-interface${sep()}${interfaceType(g)}`
          : `with-interface${sep()}{ ${interfaceType(g)} ${interfaceType(g)} }`;
      }
      return `${kw}${sep()}${simple()}`;
    })
    .join(' ');
}

const PROBABILITIES = ['0', '1', '0.5', '0.25', '0.125', '0.75', '1.0', '0.0', '0.999', '0.001'];

function condition(g: Gen): string {
  const neg = g.chance(0.3) ? '!' : '';
  const kind = g.pick(CORPUS_CONDITIONS);
  switch (kind) {
    case 'true':
    case 'false':
      // USBGuard drops a parameter of true/false when it prints.
      return neg + kind + (g.chance(0.15) ? `(${g.pick(['x', 'abc', '1', 'yes'])})` : '');
    case 'localtime':
      return `${neg}localtime(${localtimeParam(g)})`;
    case 'random':
      return neg + 'random' + (g.chance(0.4) ? '' : `(${g.pick(PROBABILITIES)})`);
    case 'rule-applied':
      return neg + 'rule-applied' + (g.chance(0.4) ? '' : `(${ruleAppliedParam(g)})`);
    case 'allowed-matches':
      return `${neg}allowed-matches(${allowedMatchesParam(g)})`;
  }
}

function singleValue(g: Gen, kind: Kind): string {
  if (kind === 'id') return deviceId(g);
  if (kind === 'with-interface') return interfaceType(g);
  if (kind === 'if') return condition(g);
  return quoted(g);
}

/** `{ a b }` with odd but valid blanks (none after `{` or before `}` is fine). */
function setOf(g: Gen, values: readonly string[]): string {
  const inner = (): string => g.pick(['', ' ', ' ', ' ', ' ', '  ', '\t']);
  return `{${inner()}${values.map((v, i) => (i === 0 ? v : blank(g) + v)).join('')}${inner()}}`;
}

/** The value part of an attribute: a single value, or an optional operator and a set. */
function attributeValue(g: Gen, kind: Kind, allowOperator = true): string {
  if (g.chance(0.45)) return singleValue(g, kind);
  const values = Array.from({ length: g.int(1, 4) }, () => singleValue(g, kind));
  const op = allowOperator && g.chance(0.75) ? g.pick(CORPUS_OPERATORS) + blank(g) : '';
  return op + setOf(g, values);
}

function attribute(g: Gen, kind: Kind, allowOperator = true): string {
  return kind + blank(g) + attributeValue(g, kind, allowOperator);
}

const COMMENT_ASCII = [...PLAIN_ASCII, '"', '\\', '#', '\t'];

function commentText(g: Gen): string {
  let text = '';
  for (let i = g.int(0, 12); i > 0; i--) {
    text += g.chance(0.85) ? g.pick(COMMENT_ASCII) : g.pick(RAW_UNICODE);
  }
  return text.replace(/[ \t\u00a0]+$/, '');
}

function validRule(g: Gen): string {
  if (g.chance(0.03)) return '#' + commentText(g);
  let line: string = g.pick(CORPUS_TARGETS);
  const kinds = g.shuffle(KINDS).slice(0, g.int(0, 6));
  if (kinds[0] === 'id' && g.chance(0.35)) {
    line += blank(g) + deviceId(g); // the bare id form: `allow 1234:5678`
    kinds.shift();
  }
  for (const kind of kinds) {
    line += blank(g) + attribute(g, kind);
    // label may repeat; later occurrences without an operator just add values.
    if (kind === 'label') {
      for (let i = g.chance(0.3) ? g.int(1, 2) : 0; i > 0; i--) line += blank(g) + attribute(g, 'label', false);
    }
  }
  if (g.chance(0.15)) line += (g.chance(0.7) ? blank(g) : '') + '#' + commentText(g);
  return line;
}

/** Hand-picked lines, so every feature is covered whatever the seed. */
export const FIXED_VALID: readonly string[] = [
  'allow',
  'block',
  'reject',
  'allow id 1d6b:0002',
  'allow 1d6b:*',
  'block *:*',
  'allow id ABCD:ef01',
  'allow id aBcD:*',
  'allow id { 1234:5678 abcd:* *:* }',
  'allow with-interface 03:01:02',
  'allow with-interface AB:CD:EF',
  'allow with-interface 08:06:*',
  'allow with-interface 0E:*:*',
  'allow with-interface equals { 03:*:* }',
  'allow with-interface equals { 03:*:* 08:06:50 }',
  'block with-interface one-of { 08:*:* 06:*:* }',
  'block with-interface all-of { 08:*:* 03:00:* }',
  'block with-interface none-of { 08:*:* }',
  'block with-interface equals-ordered { 03:01:01 03:01:02 }',
  'block with-interface match-all { 03:*:* FF:FF:FF }',
  'allow name {"a"}',
  'allow name {"a" "b"}',
  'allow name equals { "a" }',
  'allow name one-of\t{ "a" }',
  'allow name all-of  {\t"a"\t"b"\t}',
  'allow serial ""',
  'allow serial "4C530001230523112463" hash "kOwCq4/Zx9D8y7ZWtYGf6Q8+TFKrNyJWkr2X5XkXcQ0="',
  'allow parent-hash "jEP/6WzviqdJ5VSeTUY8PatCNBKeaREvo2OqdplND/o=" via-port "1-1.2"',
  'allow with-connect-type "hotplug"',
  'allow with-connect-type { "hotplug" "hardwired" }',
  'allow label "a" label "b"',
  'allow label { "a" "b" } label "c"',
  'allow label one-of { "a" } label "b"',
  'allow label "a" label "a"',
  'allow name "\\"quoted\\"" serial "back\\\\slash"',
  'allow name "a\\x41\\x7E\\x7f\\x00\\xFF\\xc3\\xa9"',
  'allow name "\\x22\\x5c\\x20"',
  'allow name "é"',
  'allow name "日本語 😀"',
  'allow name "tab\there"',
  'allow name "ctl\x01\x1b[0m\x7f"',
  'allow name "line\u2028sep\u0085nel\u00a0nbsp"',
  'allow name "#not a comment"',
  'allow name "{ } ( ) ! if"',
  'allow if true',
  'allow if false',
  'allow if !true',
  'allow if true(x)',
  'allow if !false(abc)',
  'allow if localtime(08:00)',
  'allow if localtime(08:00:30)',
  'allow if localtime(08:00-18:00)',
  'allow if localtime(08:00:00-18:00:59)',
  'allow if localtime(07:15:30-07:16)',
  'allow if localtime(00:00-23:59)',
  'allow if localtime(12:00-12:00)',
  'reject id 05ac:* if !localtime(08:00-18:00)',
  'allow if random',
  'allow if random(0.5)',
  'allow if random(0)',
  'allow if random(1)',
  'allow if !random(0.25)',
  'allow if rule-applied',
  'allow if rule-applied(30)',
  'allow if rule-applied(01:30)',
  'allow if rule-applied(01:30:15)',
  'allow if !rule-applied(10)',
  'allow if allowed-matches(id 1234:5678)',
  'allow if allowed-matches(id 1234:5678 name "x y")',
  'allow if allowed-matches(with-interface { 03:*:* 08:*:* })',
  'allow if allowed-matches(id  1234:5678)',
  'allow if !allowed-matches(serial "abc")',
  'allow if { true false }',
  'allow if {true !false}',
  'allow if equals { true }',
  'allow if equals { true false }',
  'allow if all-of { true !false }',
  'allow if one-of { !true false }',
  'allow if none-of { localtime(08:00) random(0.5) }',
  'allow if equals-ordered { true false }',
  'allow if match-all { rule-applied(10) !random }',
  'allow#x',
  'allow # comment',
  'allow\t# tab comment',
  'allow id 1234:5678#c',
  'allow name "x"#c',
  'allow name "a" # "quote \\ backslash é',
  '#',
  '# a comment line',
  '#allow id 1234:5678',
  'allow  id  1234:5678',
  'allow\tid\t1234:5678',
  'allow \t id \t 1234:5678 \t name \t "x"',
  'allow serial "x" hash "y" name "z" id 1234:5678 label "l" with-connect-type "c" if true via-port "p" ' +
    'with-interface 03:*:* parent-hash "ph"',
  'allow id 1234:5678 with-interface 03:*:* if { true }',
  'allow name "a" label "x" id 1234:5678 label "y"',
];

/** At least `n` lines USBGuard 1.1.2 and Portcullis both accept (the fixed lines first). */
export function validCorpus(seed: number, n: number): string[] {
  const g = new Gen(mulberry32(seed));
  const out = FIXED_VALID.slice(0, n);
  while (out.length < n) out.push(validRule(g));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Invalid lines: a bad fragment in a valid context. `last` fragments end the line (an unclosed
// string, set or parameter would swallow what follows).

interface Fragment {
  readonly text: string;
  /** The attribute kind the fragment uses, kept out of the context so the reason stays the one meant. */
  readonly kind?: Kind;
  readonly last?: boolean;
  /** The whole line, without target or context. */
  readonly whole?: boolean;
}

function reversedLocaltime(g: Gen): string {
  const b = g.int(0, 1438);
  const a = g.int(b + 1, 1439);
  if (g.chance(0.5)) return `${clock(a, null)}-${clock(b, null)}`;
  const sa = g.int(1, 59);
  return `${clock(a, sa)}-${clock(b, g.int(0, sa - 1))}`;
}

/** Picks one of the words, after a prefix: `word(g, 'if ', [...])`. */
function word(g: Gen, prefix: string, words: readonly string[]): string {
  return prefix + g.pick(words);
}

const BAD_TARGETS = ['deny', 'permit', 'Allow', 'ALLOW', 'allowed', 'blocks', 'rejected', 'allow-all', 'drop'];
const NO_TARGET = ['id 1234:5678', 'name "x"', '"allow"', '!allow', 'allow!', '{ "a" }', 'allow,name "x"', 'if true'];
const BAD_KEYWORDS = [
  'vendor', 'Name', 'names', 'port', 'via_port', 'connect-type', 'with_interface', 'product-id', 'ID', 'labels', 'If',
];
const BAD_IDS = [
  '12g4:5678', '123:5678', '12345:5678', '1234:567', '1234:56789', '1234-5678', '1234', ':5678', '1234:', '*:1234',
  '*:abcd', '**:*', '1234:*5', '1234:**', '0x12:3456', 'zzzz:zzzz', '*', '"1234:5678"',
];
const BAD_INTERFACES = [
  '08:*:05', '*:*:*', '*:01:02', '3:01:02', '003:01:02', '0g:01:02', '03:01', '03', '03:01:02:04', '03-01-02',
  '03:*:0*', '"03:01:02"', '03:1:02',
];
const BAD_ESCAPES = [
  '\\t', '\\n', '\\r', '\\0', '\\1', '\\101', '\\a', "\\'", '\\?', '\\ ', '\\/', '\\X41', '\\u0041',
  '\\e', '\\b', '\\f', '\\v',
];
const BAD_OPERATORS = ['oneof', 'any-of', 'all', 'none', 'equal', 'equals_ordered', 'ONE-OF', 'match'];
const GLUED_LINES = [
  'allowid 1234:5678', 'allowname "x"', 'allow // comment', 'allow one-of { "a" }', 'allow { 1234:5678 }',
  'allow name "x" 1234:5678',
];
const NOT_BLANKS = ['\x0b', '\x0c', '\u00a0', '\u2028', '\u3000'];
const BAD_CONDITIONS = [
  'foo', 'True', 'FALSE', 'rule-evaluate', 'local-time(08:00)', 'always', 'never', 'localtime2(08:00)', 'randomly',
  'name "x"',
];
const BAD_NEGATIONS = [
  '!!true', '!!false', '!!!true', '!!localtime(08:00)', '! true', '!{ true }', '!', '{ true !!false }', 'none-of { !!true }',
];
const EMPTY_PARAMETERS = [
  'true()', 'false()', 'random()', 'localtime()', 'localtime', 'allowed-matches', 'allowed-matches()', 'rule-applied()',
];
const UNCLOSED_PARAMETERS = ['localtime(08:00', 'random(0.5', 'rule-applied(10', 'allowed-matches(id 1234:5678'];
const BAD_CONDITION_SYNTAX = [
  '(true)', 'true)', 'true false', '{ true false', 'rule-applied(x)', 'random(x)', 'allowed-matches(foo)',
  'allowed-matches(id 1234)', 'allowed-matches(allow)',
];

const INVALID_FRAGMENTS: ReadonlyArray<(g: Gen) => Fragment> = [
  // unknown target, no target, two targets
  (g) => ({ whole: true, text: word(g, '', BAD_TARGETS) + g.pick(['', ' id 1234:5678', ' name "x"']) }),
  (g) => ({ whole: true, text: g.pick(NO_TARGET) }),
  (g) => ({ text: g.pick(CORPUS_TARGETS) }),
  // unknown attribute keyword
  (g) => ({ text: word(g, '', BAD_KEYWORDS) + word(g, ' ', ['"x"', '1234:5678', '03:*:*', 'true']) }),
  // bad device id, bad interface type
  (g) => ({ kind: 'id', text: word(g, 'id ', BAD_IDS) }),
  (g) => ({ kind: 'id', text: g.pick(['*:1234', '12345:1', '123:4567', 'abcd:efgh', '1234:5678:9']) }),
  (g) => ({ kind: 'with-interface', text: word(g, 'with-interface ', BAD_INTERFACES) }),
  (g) => ({ kind: 'with-interface', text: `with-interface { ${interfaceType(g)} ${g.pick(['08:*:05', '*:*:*', '0:0:0'])} }` }),
  // duplicated attribute (label is the one that may repeat)
  (g) => {
    const kind = g.pick(KINDS.filter((k) => k !== 'label'));
    return { kind, text: attribute(g, kind) + blank(g) + attribute(g, kind) };
  },
  (g) => ({ kind: 'id', text: `${deviceId(g)} id ${deviceId(g)}` }),
  // unknown or broken escapes
  (g) => ({ kind: 'name', text: `name "a${g.pick(BAD_ESCAPES)}b"` }),
  (g) => ({ kind: 'serial', text: `serial "${g.pick(['\\x', '\\x4', '\\xg0', '\\xZZ', '\\x 1', '\\x4"'])}"` }),
  // unterminated string, not a string
  (g) => ({ kind: 'name', last: true, text: g.pick(['name "abc', 'name "abc\\"', 'name "a\\\\\\"', 'name "', 'name "a\\']) }),
  (g) => ({ kind: 'hash', last: true, text: `hash { "a" "b${g.pick(['', ' }', '\\" }'])}` }),
  (g) => ({ kind: 'via-port', text: word(g, 'via-port ', ['1-2', "'1-2'", '1-2"', '"1-2" "1-3"', '{ "1-2" 1-3 }']) }),
  // empty set
  (g) => {
    const kind = g.pick(KINDS);
    const op = g.chance(0.5) ? g.pick(CORPUS_OPERATORS) + ' ' : '';
    return { kind, text: `${kind} ${op}${g.pick(['{ }', '{}', '{\t}', '{   }'])}` };
  },
  // missing blank between an operator and its set
  (g) => {
    const kind = g.pick(KINDS);
    return { kind, text: `${kind} ${g.pick(CORPUS_OPERATORS)}{ ${singleValue(g, kind)} }` };
  },
  // unknown operator, or an operator without a set
  (g) => ({ kind: 'name', text: `name ${g.pick(BAD_OPERATORS)} { "a" }` }),
  (g) => {
    const kind = g.pick(['name', 'id', 'with-interface'] as const);
    return { kind, text: `${kind} ${g.pick(CORPUS_OPERATORS)} ${singleValue(g, kind)}` };
  },
  // unclosed set, nested set, wrong type in a set
  (g) => ({ kind: 'label', last: true, text: `label { "a" "b"${g.pick(['', ' # c', ' "c'])}` }),
  (g) => ({ kind: 'name', text: g.pick(['name { "a" { "b" } }', 'name { "a" 1234:5678 }', 'name { "a" true }']) }),
  (g) => ({ kind: 'id', text: g.pick(['id { 1234:5678 "x" }', 'id { 1234:5678 03:01:02 }', 'id { { 1234:5678 } }']) }),
  // missing value
  (g) => ({ kind: 'name', last: true, text: g.pick(KINDS) + g.pick(['', ' #']) }),
  // glued tokens, two values, stray characters
  (g) => ({ kind: 'name', text: g.pick(['name"a"', 'name "a"name "b"', 'name "a" "b"', 'name "a",', 'name "a";']) }),
  (g) => ({ kind: 'id', text: g.pick(['id1234:5678', 'id 1234:5678 1234:5678', 'id 1234:5678name "a"', 'id 1234:5678;']) }),
  (g) => ({ whole: true, text: g.pick(GLUED_LINES) }),
  // white space that is not a blank (only space and tab separate tokens)
  (g) => ({ whole: true, text: `allow${g.pick(NOT_BLANKS)}${g.pick(['id 1234:5678', 'name "x"'])}` }),
  (g) => ({ whole: true, text: `allow id${g.pick(NOT_BLANKS)}1234:5678` }),
  // unknown condition
  (g) => ({ kind: 'if', text: word(g, 'if ', BAD_CONDITIONS) }),
  (g) => ({ kind: 'if', text: `if { ${condition(g)} ${g.pick(['foo', 'bar(1)', 'Random'])} }` }),
  // reversed localtime range
  (g) => ({ kind: 'if', text: `if ${g.chance(0.3) ? '!' : ''}localtime(${reversedLocaltime(g)})` }),
  (g) => ({ kind: 'if', text: `if ${g.pick(CORPUS_OPERATORS)} { ${condition(g)} localtime(${reversedLocaltime(g)}) }` }),
  // negation twice, negation apart from its condition
  (g) => ({ kind: 'if', text: word(g, 'if ', BAD_NEGATIONS) }),
  // empty, missing, unclosed or malformed condition parameter
  (g) => ({ kind: 'if', text: word(g, 'if ', EMPTY_PARAMETERS) }),
  (g) => ({ kind: 'if', last: true, text: word(g, 'if ', UNCLOSED_PARAMETERS) }),
  (g) => ({ kind: 'if', text: word(g, 'if ', BAD_CONDITION_SYNTAX) }),
  // conditions twice
  (g) => ({ kind: 'if', text: `if ${condition(g)}${blank(g)}if ${condition(g)}` }),
];

function invalidLine(g: Gen, fragment: Fragment): string {
  if (fragment.whole) return fragment.text;
  const free = g.shuffle(KINDS.filter((k) => k !== fragment.kind && k !== 'label'));
  const before = free.slice(0, g.int(0, 2));
  const after = fragment.last ? [] : free.slice(before.length, before.length + g.int(0, 1));
  let line: string = g.pick(CORPUS_TARGETS);
  for (const kind of before) line += blank(g) + attribute(g, kind);
  line += blank(g) + fragment.text;
  for (const kind of after) line += blank(g) + attribute(g, kind);
  if (!fragment.last && g.chance(0.1)) line += ' # ' + commentText(g);
  return line;
}

/** `n` lines USBGuard 1.1.2 and Portcullis both reject; every kind of mistake comes in turn. */
export function invalidCorpus(seed: number, n: number): string[] {
  const g = new Gen(mulberry32(seed));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const make = INVALID_FRAGMENTS[i % INVALID_FRAGMENTS.length];
    if (!make) throw new Error('no invalid fragment makers');
    out.push(invalidLine(g, make(g)));
  }
  return out;
}
