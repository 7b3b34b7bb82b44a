import {
  SET_OPERATORS,
  TARGETS,
  type Attribute,
  type Condition,
  type DeviceIdPattern,
  type InterfacePattern,
  type Rule,
  type SetOperator,
  type Target,
} from './ast.js';
import { toByteString } from './byte-string.js';
import { buildCondition } from './conditions.js';
import { RuleSyntaxError } from './rule-syntax-error.js';

/**
 * Parser for the USBGuard rule language, one rule per line, e.g.
 *
 *     allow id 0781:5567 serial "4C530001230523112463" with-interface equals { 08:06:50 }
 *     reject with-interface all-of { 08:*:* 03:00:* } if !localtime(08:00-18:00) # BadUSB
 *
 * It follows USBGuard's PEG grammar (src/Library/RuleParser/Grammar.hpp) token for token, with
 * errors that point at the offending character. Deliberate differences, all in the lenient
 * direction newer USBGuard releases also took: blanks before and after a rule and a CR before the
 * newline are accepted. The parser never throws anything but RuleSyntaxError.
 */

const MAX_LINE_LENGTH = 64 * 1024;
const IS_TARGET: ReadonlySet<string> = new Set(TARGETS);
const IS_OPERATOR: ReadonlySet<string> = new Set(SET_OPERATORS);

/** Parses a whole rule file; blank and comment-only lines are skipped. */
export function parseRuleFile(text: string, file = '<input>'): Rule[] {
  const rules: Rule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const rule = parseLine(stripCr(lines[i] ?? ''), file, i + 1);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** Parses one rule; an empty or comment-only line is an error here. */
export function parseRule(text: string, options: { file?: string; line?: number } = {}): Rule {
  const file = options.file ?? '<rule>';
  const line = options.line ?? 1;
  if (text.includes('\n')) {
    throw new RuleSyntaxError(file, line, text.indexOf('\n') + 1, 'a rule is a single line');
  }
  const rule = parseLine(stripCr(text), file, line);
  if (!rule) throw new RuleSyntaxError(file, line, 1, 'expected a rule target (allow, block, reject or readonly)');
  return rule;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function parseLine(src: string, file: string, line: number): Rule | null {
  if (src.length > MAX_LINE_LENGTH) {
    throw new RuleSyntaxError(file, line, MAX_LINE_LENGTH + 1, `rule longer than ${MAX_LINE_LENGTH} characters`);
  }
  return new LineParser(src, file, line, 0, false).parse();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type AttributeKey = Exclude<keyof Rule, 'target' | 'line'>;

const KEYWORDS: Readonly<Record<string, AttributeKey>> = {
  id: 'id',
  serial: 'serial',
  name: 'name',
  hash: 'hash',
  'parent-hash': 'parentHash',
  'via-port': 'viaPort',
  'with-interface': 'withInterface',
  'with-connect-type': 'withConnectType',
  label: 'label',
  if: 'conditions',
};

const DEVICE_ID_RE = /([0-9A-Fa-f]{4}|\*):([0-9A-Fa-f]{4}|\*)/y;
const INTERFACE_RE = /([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2}|\*):([0-9A-Fa-f]{2}|\*)/y;
const WORD_RE = /[A-Za-z0-9_-]+/y;
const CONDITION_NAME_RE = /[a-zA-Z-][a-zA-Z0-9-]*/y;

class LineParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly line: number,
    /** Column offset of src within the real line (for allowed-matches queries). */
    private readonly columnOffset: number,
    /** A query (allowed-matches) has attributes but no target. */
    private readonly partial: boolean,
  ) {}

  parse(): Rule | null {
    this.skipBlanks();
    if (this.atEnd() || this.peek() === '#') {
      if (this.partial) return { target: 'allow', line: this.line };
      return null;
    }
    const rule: Mutable<Rule> = { target: this.partial ? 'allow' : this.parseTarget(), line: this.line };
    let first = true;
    let needBlank = !this.partial;
    for (;;) {
      const blanks = this.skipBlanks();
      if (this.atEnd() || this.peek() === '#') break;
      if (needBlank && blanks === 0) this.fail(`expected a blank, '#' or end of line, found '${this.peek()}'`);
      needBlank = true;
      if (first && this.looksAt(DEVICE_ID_RE)) {
        // `allow 1d6b:0002` — a bare device id right after the target is the id attribute.
        rule.id = { operator: 'equals', values: [this.parseDeviceId()] };
        first = false;
        continue;
      }
      first = false;
      this.parseAttribute(rule);
    }
    return rule;
  }

  private parseTarget(): Target {
    const start = this.pos;
    const word = this.readWord();
    if (IS_TARGET.has(word)) return word as Target;
    if (word === 'match' || word === 'device') {
      this.fail(`target '${word}' is internal to USBGuard; a policy rule uses allow, block, reject or readonly`, start);
    }
    this.fail(
      word ? `unknown rule target '${word}' (expected allow, block, reject or readonly)` : 'expected a rule target (allow, block, reject or readonly)',
      start,
    );
  }

  private parseAttribute(rule: Mutable<Rule>): void {
    const start = this.pos;
    const word = this.readWord();
    const key = Object.hasOwn(KEYWORDS, word) ? KEYWORDS[word] : undefined;
    if (!key) this.fail(word ? `unknown attribute '${word}'` : `unexpected '${this.peek()}'`, start);
    const existing = rule[key];
    // USBGuard lets `label` repeat and merges the values (its duplicate check looks at the wrong token).
    if (existing && key !== 'label') {
      this.fail(word === 'if' ? 'conditions already defined' : `${word} attribute already defined`, start);
    }
    if (this.skipBlanks() === 0) this.fail(`expected a blank after '${word}'`);
    switch (key) {
      case 'id':
        rule.id = this.parseValues(() => this.parseDeviceId()).attr;
        break;
      case 'withInterface':
        rule.withInterface = this.parseValues(() => this.parseInterface()).attr;
        break;
      case 'conditions':
        rule.conditions = this.parseValues(() => this.parseCondition()).attr;
        break;
      case 'label': {
        const { attr, explicit } = this.parseValues(() => this.parseString());
        rule.label = rule.label
          ? { operator: explicit ? attr.operator : rule.label.operator, values: [...rule.label.values, ...attr.values] }
          : attr;
        break;
      }
      default:
        rule[key] = this.parseValues(() => this.parseString()).attr;
    }
  }

  /** `value`, `{ v1 v2 }` or `operator { v1 v2 }`; `explicit` tells whether an operator was written. */
  private parseValues<T>(value: () => T): { attr: Attribute<T>; explicit: boolean } {
    let operator: SetOperator = 'equals';
    const start = this.pos;
    const word = this.readWord();
    const explicit = IS_OPERATOR.has(word);
    if (explicit) {
      operator = word as SetOperator;
      if (this.skipBlanks() === 0) this.fail(`expected a blank after '${word}'`);
      if (this.peek() !== '{') this.fail(`expected '{' after set operator '${word}'`);
    } else {
      this.pos = start;
    }
    if (this.peek() !== '{') return { attr: { operator, values: [value()] }, explicit };
    const open = this.pos;
    this.pos++;
    this.skipBlanks();
    const values: T[] = [];
    let blanks = 1;
    for (;;) {
      if (this.atEnd()) this.fail("missing '}' to close the set", open);
      if (this.peek() === '}') {
        if (values.length === 0) this.fail('empty set: a set needs at least one value');
        this.pos++;
        break;
      }
      if (blanks === 0) this.fail(`expected a blank or '}' after a set value, found '${this.peek()}'`);
      values.push(value());
      blanks = this.skipBlanks();
    }
    return { attr: { operator, values }, explicit };
  }

  private parseDeviceId(): DeviceIdPattern {
    const start = this.pos;
    const m = this.match(DEVICE_ID_RE);
    if (!m) this.fail('expected a device id such as 0781:5567, 0781:* or *:*', start);
    const [text, v, p] = m as unknown as [string, string, string];
    if (v === '*' && p !== '*') this.fail(`invalid device id '${text}': a '*' vendor needs a '*' product (*:*)`, start);
    return { text, vendor: v === '*' ? null : v.toLowerCase(), product: p === '*' ? null : p.toLowerCase() };
  }

  private parseInterface(): InterfacePattern {
    const start = this.pos;
    const m = this.match(INTERFACE_RE);
    if (!m) this.fail('expected an interface type such as 08:06:50, 08:06:* or 08:*:*', start);
    const [text, c, s, p] = m as unknown as [string, string, string, string];
    if (s === '*' && p !== '*') {
      this.fail(`invalid interface type '${text}': a '*' subclass needs a '*' protocol (cc:*:*)`, start);
    }
    return {
      cls: parseInt(c, 16),
      subclass: s === '*' ? null : parseInt(s, 16),
      protocol: p === '*' ? null : parseInt(p, 16),
    };
  }

  /** A double-quoted string; returns its bytes (see byte-string.ts). */
  private parseString(): string {
    const open = this.pos;
    if (this.peek() !== '"') this.fail(`expected a quoted string, found '${this.peek() || 'end of line'}'`);
    this.pos++;
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('unterminated string: missing closing \'"\'', open);
      const ch = this.src[this.pos] as string;
      const code = ch.charCodeAt(0);
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '\r') this.fail('carriage return inside a string');
      if (ch === '\\') {
        const esc = this.src[this.pos + 1];
        if (esc === '"' || esc === '\\') {
          out += esc;
          this.pos += 2;
        } else if (esc === 'x') {
          const hex = this.src.slice(this.pos + 2, this.pos + 4);
          if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.fail('\\x must be followed by two hex digits');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
        } else if (esc === undefined) {
          this.fail('unterminated string: missing closing \'"\'', open);
        } else {
          this.fail(`unknown escape sequence '\\${esc}' (USBGuard accepts \\", \\\\ and \\xHH)`);
        }
        continue;
      }
      if (code < 0x80) {
        out += ch;
        this.pos++;
        continue;
      }
      const cp = this.src.codePointAt(this.pos) as number;
      const width = cp > 0xffff ? 2 : 1;
      out += toByteString(this.src.slice(this.pos, this.pos + width));
      this.pos += width;
    }
  }

  /** `[!]name[(param)]` */
  private parseCondition(): Condition {
    const start = this.pos;
    let negated = false;
    if (this.peek() === '!') {
      negated = true;
      this.pos++;
    }
    const name = this.match(CONDITION_NAME_RE)?.[0];
    if (!name) this.fail(`expected a condition such as localtime(08:00-18:00), true or false, found '${this.peek() || 'end of line'}'`);
    let param: string | null = null;
    let paramStart = this.pos;
    if (this.peek() === '(') {
      paramStart = this.pos + 1;
      param = this.readConditionArgument();
      if (param === '') this.fail(`empty parameter in ${name}()`, paramStart - 1);
    }
    const built = buildCondition(name, param, negated, (query) =>
      new LineParser(query, this.file, this.line, this.columnOffset + paramStart, true).parseQuery(),
    );
    if (typeof built === 'string') this.fail(built, start);
    return built;
  }

  parseQuery(): Rule {
    return this.parse() as Rule;
  }

  /** The raw text between `(` and `)`; USBGuard's bounded string with `)` as the boundary. */
  private readConditionArgument(): string {
    const open = this.pos;
    this.pos++;
    const from = this.pos;
    for (;;) {
      if (this.atEnd()) this.fail("missing ')' to close the condition parameter", open);
      const ch = this.src[this.pos];
      if (ch === ')') {
        const raw = this.src.slice(from, this.pos);
        this.pos++;
        return raw;
      }
      if (ch === '\r') this.fail('carriage return inside a condition parameter');
      if (ch === '\\') {
        const esc = this.src[this.pos + 1] ?? '';
        if (esc === 'x') {
          if (!/^[0-9A-Fa-f]{2}$/.test(this.src.slice(this.pos + 2, this.pos + 4))) {
            this.fail('\\x must be followed by two hex digits');
          }
          this.pos += 4;
        } else if (/^[0-9]$/.test(esc)) {
          // escaped_decbyte: one to three digits.
          let n = 1;
          while (n < 3 && /^[0-9]$/.test(this.src[this.pos + 1 + n] ?? '')) n++;
          this.pos += 1 + n;
        } else if ("abfnrtv\\')".includes(esc) && esc !== '') {
          this.pos += 2;
        } else {
          this.fail(esc ? `unknown escape sequence '\\${esc}' in a condition parameter` : "missing ')' to close the condition parameter");
        }
        continue;
      }
      this.pos++;
    }
  }

  private readWord(): string {
    return this.match(WORD_RE)?.[0] ?? '';
  }

  private match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (m) this.pos += m[0].length;
    return m;
  }

  private looksAt(re: RegExp): boolean {
    re.lastIndex = this.pos;
    return re.test(this.src);
  }

  private skipBlanks(): number {
    const from = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09) break;
      this.pos++;
    }
    return this.pos - from;
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private fail(reason: string, at = this.pos): never {
    throw new RuleSyntaxError(this.file, this.line, this.columnOffset + at + 1, reason);
  }
}
