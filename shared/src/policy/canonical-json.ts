import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * Deterministic JSON, the bytes a policy signature covers (in the spirit of RFC 8785, JCS):
 * object keys sorted by UTF-16 code units, no whitespace, strings and numbers written exactly as
 * JSON.stringify writes them (which is what JCS specifies for ECMAScript), properties whose value
 * is `undefined` left out. Server and agent serialize the same document to the same text however
 * its keys were ordered, so the agent can re-serialize what it parsed and check the signature.
 *
 * Anything that JSON.stringify would change or silently drop is refused instead, because a signer
 * and a verifier that disagree about it would disagree about the signature: NaN and ±Infinity,
 * `undefined` in an array, functions, symbols, bigints, Dates, Maps and other non-plain objects,
 * cycles.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, [], '');
  return parts.join('');
}

/** Deeper than any document Portcullis signs; refusing it keeps a RangeError from escaping. */
const MAX_DEPTH = 256;

function write(value: unknown, out: string[], ancestors: object[], path: string): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw unsupported(path, `${String(value)} has no JSON form`);
      out.push(JSON.stringify(value));
      return;
    case 'object':
      if (value === null) {
        out.push('null');
        return;
      }
      break;
    default:
      throw unsupported(path, `a ${typeof value} has no JSON form`);
  }
  if (ancestors.includes(value)) throw unsupported(path, 'the value contains itself (a cycle)');
  if (ancestors.length >= MAX_DEPTH) throw unsupported(path, `nested deeper than ${MAX_DEPTH} levels`);
  ancestors.push(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw unsupported(path, 'not a plain array');
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const element: unknown = value[i];
      if (element === undefined) throw unsupported(`${path}[${i}]`, 'undefined (or a hole) inside an array has no JSON form');
      write(element, out, ancestors, `${path}[${i}]`);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw unsupported(path, `only plain objects have a canonical form (got ${typeof name === 'string' ? name : 'an object with a prototype'})`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) throw unsupported(path, 'symbol-keyed properties have no JSON form');
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(record).sort();
    out.push('{');
    let first = true;
    for (const key of keys) {
      const v = record[key];
      if (v === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(v, out, ancestors, path === '' ? key : `${path}.${key}`);
    }
    out.push('}');
  }
  ancestors.pop();
}

function unsupported(path: string, reason: string): PortcullisError {
  return new PortcullisError(ErrorCodes.JSON_UNSUPPORTED, `canonical JSON: ${path === '' ? '' : `${path}: `}${reason}`);
}
