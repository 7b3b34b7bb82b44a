/**
 * Checks for untrusted JSON-shaped values: an admin's PUT body, a cached policy file, a WebSocket
 * frame. Each check records what is wrong under the field's path ("exceptions[0].until") and
 * returns the value only when it is valid, so one pass reports every problem at once — an admin
 * fixing a policy should not have to resubmit once per typo. Nothing here throws.
 */

export interface Issue {
  /** Where the problem is: `rules`, `ports.serial`, `body.events[3].seq`; "" for the whole value. */
  readonly path: string;
  readonly message: string;
  /** 1-based position inside rule text, when the problem is a rule syntax error. */
  readonly line?: number;
  readonly column?: number;
}

const MAX_UNKNOWN_NAMED = 5;

/** Enough to fix a submission; a value with thousands of problems should not make thousands of objects. */
const MAX_ISSUES = 50;

export class Issues {
  readonly list: Issue[] = [];
  private dropped = 0;
  /** One problem per field is enough ("is required" makes "must be a string" noise); rule lines are kept apart. */
  private readonly fieldsWithIssues = new Set<string>();

  add(path: string, message: string, position?: { line: number; column: number }): void {
    if (!position) {
      if (this.fieldsWithIssues.has(path)) return;
      this.fieldsWithIssues.add(path);
    }
    if (this.list.length >= MAX_ISSUES) {
      this.dropped++;
      return;
    }
    this.list.push(position ? { path, message, line: position.line, column: position.column } : { path, message });
  }

  /** Problems found, including those past the ones kept in `list`. */
  get total(): number {
    return this.list.length + this.dropped;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** The first problem for a one-line error message, and how many more there are. */
  summary(): string {
    const first = this.list[0];
    if (!first) return 'no problems';
    const more = this.list.length - 1 + this.dropped;
    return `${formatIssue(first)}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''}`;
  }
}

/** `path: message`; a message that already starts with its path (a rule syntax error) is left alone. */
export function formatIssue(issue: Issue): string {
  if (issue.path === '' || issue.message.startsWith(`${issue.path}:`)) return issue.message;
  return `${issue.path}: ${issue.message}`;
}

export function field(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * The path of a key someone else chose (an unknown field): plain keys read as `a.b`, anything
 * else is quoted, `a["x y"]`, so a key cannot break or forge the path in a log line.
 */
export function keyPath(path: string, key: string): string {
  if (/^[A-Za-z0-9_$-]{1,64}$/.test(key)) return field(path, key);
  return `${path}[${quote(key, 64)}]`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** A JSON object: not null, not an array, not a Date or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An own property only: `obj.constructor` on a plain object must not look like a field. */
export function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * The value as an object with exactly these fields: unknown fields are errors (an admin's
 * `implicitTaget` must not be silently ignored), missing required fields are errors. Returns
 * the object even when fields are wrong, so the caller goes on checking the fields it knows.
 */
export function readObject(
  value: unknown,
  path: string,
  issues: Issues,
  shape: { what: string; required: readonly string[]; optional?: readonly string[]; unknownHint?: (key: string) => string | undefined },
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    issues.add(path, `${shape.what} must be a JSON object (got ${kindOf(value)})`);
    return undefined;
  }
  const known = [...shape.required, ...(shape.optional ?? [])];
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  // A frame can carry a hundred thousand junk keys; name a few, count the rest.
  for (const key of unknown.slice(0, MAX_UNKNOWN_NAMED)) {
    const hint = shape.unknownHint?.(key) ?? didYouMean(key, known);
    issues.add(keyPath(path, key), `unknown field${hint ? `; ${hint}` : ''}`);
  }
  if (unknown.length > MAX_UNKNOWN_NAMED) issues.add(path, `${unknown.length - MAX_UNKNOWN_NAMED} more unknown fields`);
  for (const key of shape.required) {
    if (!Object.hasOwn(value, key)) issues.add(field(path, key), 'is required');
  }
  return value;
}

export interface TextLimits {
  /** Maximum length in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Default 1: an empty string is almost always a client bug. */
  readonly minLength?: number;
  /** Allow line breaks and tabs (free text such as reasons and error messages). */
  readonly multiline?: boolean;
  readonly pattern?: RegExp;
  /** Says what the pattern allows, for the error message. */
  readonly patternHint?: string;
}

// Control characters in names end up in logs and the console; only free text may break lines.
const SINGLE_LINE_CONTROL = /[\u0000-\u001f\u007f]/;
const MULTI_LINE_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

export function readText(value: unknown, path: string, issues: Issues, limits: TextLimits): string | undefined {
  if (typeof value !== 'string') {
    issues.add(path, `must be a string (got ${kindOf(value)})`);
    return undefined;
  }
  const min = limits.minLength ?? 1;
  if (value.length < min) {
    issues.add(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
    return undefined;
  }
  if (exceedsUtf8(value, limits.maxBytes)) {
    issues.add(path, `must be at most ${limits.maxBytes} bytes of UTF-8 (got ${utf8Length(value)})`);
    return undefined;
  }
  if ((limits.multiline ? MULTI_LINE_CONTROL : SINGLE_LINE_CONTROL).test(value)) {
    issues.add(path, `must not contain control characters${limits.multiline ? '' : ' or line breaks'}`);
    return undefined;
  }
  if (limits.pattern && !limits.pattern.test(value)) {
    issues.add(path, `must be ${limits.patternHint ?? `like ${String(limits.pattern)}`} (got ${quote(value)})`);
    return undefined;
  }
  return value;
}

export function readEnum<T extends string>(value: unknown, path: string, issues: Issues, options: readonly T[]): T | undefined {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
  issues.add(path, `must be one of ${options.map((o) => `"${o}"`).join(', ')} (got ${describeValue(value)})`);
  return undefined;
}

/** A safe integer ≥ min: sequence numbers and versions must survive a JSON round trip exactly. */
export function readInteger(value: unknown, path: string, issues: Issues, min: number): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
  issues.add(path, `must be ${what} no larger than 2^53-1 (got ${describeValue(value)})`);
  return undefined;
}

export function readBoolean(value: unknown, path: string, issues: Issues): boolean | undefined {
  if (typeof value === 'boolean') return value;
  issues.add(path, `must be true or false (got ${describeValue(value)})`);
  return undefined;
}

export function readArray(value: unknown, path: string, issues: Issues, limits: { min: number; max: number }): readonly unknown[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(path, `must be an array (got ${kindOf(value)})`);
    return undefined;
  }
  if (value.length < limits.min || value.length > limits.max) {
    const range = limits.min === 0 ? `at most ${limits.max}` : `${limits.min} to ${limits.max}`;
    issues.add(path, `must hold ${range} entries (got ${value.length})`);
    return undefined;
  }
  return value;
}

/** Nesting any deeper is an attack on the recursive code that reads it next, not data. */
export const MAX_JSON_DEPTH = 32;

/**
 * A free-form JSON object (event data, inventory, command args), bounded in depth and, when
 * `maxBytes` is given, in serialized size. The value must come from JSON.parse or be JSON-safe.
 */
export function readJsonObject(value: unknown, path: string, issues: Issues, maxBytes?: number): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    issues.add(path, `must be a JSON object (got ${kindOf(value)})`);
    return undefined;
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    issues.add(path, `must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    return undefined;
  }
  if (maxBytes !== undefined) {
    const json = JSON.stringify(value);
    const size = json.length * 3 <= maxBytes ? 0 : utf8Length(json);
    if (size > maxBytes) {
      issues.add(path, `must be at most ${maxBytes} bytes as JSON (got ${size})`);
      return undefined;
    }
  }
  return value;
}

/** Depth of nested objects and arrays, counting stops a little past `limit` (iterative: no stack to exhaust). */
function jsonDepth(root: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [value, depth] = top;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return max;
}

/** Bytes of the UTF-8 encoding; a lone surrogate counts as U+FFFD (3 bytes), as TextEncoder writes it. */
/**
 * Whether `text` takes more than `limit` bytes as UTF-8, counting only when it must: a UTF-16
 * unit is at most 3 bytes, so short text is under any limit three times its length (the hot path:
 * every event of every batch passes here).
 */
export function exceedsUtf8(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return false;
  return text.length > limit || utf8Length(text) > limit;
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** "a string", "null", "an array": the kind of a value, for "got …" in messages. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' || t === 'undefined' ? 'an object' : t === 'string' ? 'a string' : `a ${t}`;
}

/** A short rendering of a scalar (the value itself), or its kind for anything bigger. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return kindOf(value);
}

/** A JSON-quoted excerpt: untrusted text must not make error messages long or multi-line. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** "did you mean "implicitTarget"?" for a key one or two edits away from a known one. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  // A short key is a few edits from anything; only suggest what is plausibly a typo.
  let bestDistance = Math.min(3, Math.floor(key.length / 3) + 1);
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best === undefined ? undefined : `did you mean "${best}"?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
