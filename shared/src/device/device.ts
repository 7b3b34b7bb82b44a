import { ErrorCodes, PortcullisError } from '../errors.js';

/**
 * A USB device as the agent sees it and as `portcullis-agent eval` reads it (DESIGN.md §6):
 *
 *     {"id":"0781:5567","name":"Cruzer Blade","serial":"4C53...","hash":"...","parentHash":"...",
 *      "viaPort":"1-2","interfaces":["08:06:50"],"connectType":"hotplug"}
 *
 * Only `id` is required; a missing string attribute is the empty string, as in USBGuard.
 */
export interface Device {
  readonly id: string;
  readonly name?: string;
  readonly serial?: string;
  readonly hash?: string;
  readonly parentHash?: string;
  readonly viaPort?: string;
  readonly interfaces?: readonly string[];
  readonly connectType?: string;
}

const STRING_FIELDS = ['name', 'serial', 'hash', 'parentHash', 'viaPort', 'connectType'] as const;
const MAX_STRING = 4096;
const MAX_INTERFACES = 256;

/**
 * Validates untrusted input (a JSON line, a WebSocket frame) into a Device. Unknown fields are
 * ignored so newer agents can add facts; wrong types and malformed ids are refused with a message
 * that names the field.
 */
export function parseDevice(value: unknown): Device {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('a device must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  const id = obj.id;
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/.test(id)) {
    throw invalid('"id" must be "vvvv:pppp" (4 hex digits each), e.g. "0781:5567"');
  }
  const device: { -readonly [K in keyof Device]: Device[K] } = { id: id.toLowerCase() };
  for (const field of STRING_FIELDS) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw invalid(`"${field}" must be a string`);
    if (v.length > MAX_STRING) throw invalid(`"${field}" is longer than ${MAX_STRING} characters`);
    device[field] = v;
  }
  const ifs = obj.interfaces;
  if (ifs !== undefined && ifs !== null) {
    if (!Array.isArray(ifs)) throw invalid('"interfaces" must be an array of "cc:ss:pp" strings');
    if (ifs.length > MAX_INTERFACES) throw invalid(`"interfaces" has more than ${MAX_INTERFACES} entries`);
    device.interfaces = ifs.map((i, n) => {
      if (typeof i !== 'string' || !/^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/.test(i)) {
        throw invalid(`"interfaces[${n}]" must be "cc:ss:pp" (hex), e.g. "08:06:50"`);
      }
      return i.toLowerCase();
    });
  }
  return device;
}

function invalid(message: string): PortcullisError {
  return new PortcullisError(ErrorCodes.DEVICE_INVALID, message);
}
