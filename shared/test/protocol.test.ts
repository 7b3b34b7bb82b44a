import { expect } from 'chai';
import fc from 'fast-check';
import {
  ErrorCodes,
  MAX_EVENTS_PER_BATCH,
  MAX_FRAME_BYTES,
  POLICY_LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  STARTER_POLICY_INPUT,
  base64Encode,
  buildPolicyDocument,
  canonicalJson,
  dispatch,
  encodeMessage,
  eventsThatFit,
  parseAgentMessage,
  parseServerMessage,
  signPolicy,
  validatePolicyInput,
  type AgentEvent,
  type AgentMessage,
  type MessageHandlers,
  type ServerMessage,
} from '../src/index.js';

const EVENT: AgentEvent = { seq: 1, type: 'usb.blocked', severity: 'high', occurredAt: '2026-11-25T10:00:00Z', data: { device: { id: '0781:5567' } } };
const HELLO = { agentVersion: '0.1.0', hostname: 'pc-0042', os: 'Windows 11 Pro 23H2', appliedVersion: null, spoolDepth: 0 };
const DOCUMENT = buildPolicyDocument(STARTER_POLICY_INPUT, { group: 'default', version: 1, createdAt: '2026-11-25T10:00:00Z', createdBy: 'setup' });
const SIGNED = signPolicy(DOCUMENT, 'policy-2026', () => new Uint8Array(64).fill(1));

function frame(type: string, body: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, type, ...extra, body });
}

function refusal(parse: (text: string) => unknown, text: string): ProtocolError {
  try {
    parse(text);
  } catch (err) {
    expect(err).to.be.instanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error(`expected ${text.slice(0, 200)} to be refused`);
}

describe('protocol: agent → server', () => {
  // Each row: a frame an agent sends → the message the server gets.
  const good: Array<{ name: string; text: string; expected: AgentMessage }> = [
    { name: 'hello before the first policy', text: frame('hello', HELLO), expected: { v: 1, type: 'hello', body: HELLO } },
    { name: 'hello with a policy applied and a correlation id', text: frame('hello', { ...HELLO, appliedVersion: 7, spoolDepth: 12 }, { id: 'h-1' }), expected: { v: 1, type: 'hello', id: 'h-1', body: { ...HELLO, appliedVersion: 7, spoolDepth: 12 } } },
    { name: 'one event', text: frame('events', { events: [EVENT] }), expected: { v: 1, type: 'events', body: { events: [EVENT] } } },
    { name: 'events with gaps in seq (still increasing)', text: frame('events', { events: [{ ...EVENT, seq: 5 }, { ...EVENT, seq: 9 }] }), expected: { v: 1, type: 'events', body: { events: [{ ...EVENT, seq: 5 }, { ...EVENT, seq: 9 }] } } },
    { name: 'an event with every severity and an offset time', text: frame('events', { events: [{ ...EVENT, severity: 'critical', occurredAt: '2026-11-25T12:00:00.5+02:00' }] }), expected: { v: 1, type: 'events', body: { events: [{ ...EVENT, severity: 'critical', occurredAt: '2026-11-25T12:00:00.5+02:00' }] } } },
    { name: '500 events, the most a batch holds', text: frame('events', { events: Array.from({ length: 500 }, (_, i) => ({ ...EVENT, seq: i + 1 })) }), expected: { v: 1, type: 'events', body: { events: Array.from({ length: 500 }, (_, i) => ({ ...EVENT, seq: i + 1 })) } } },
    { name: 'inventory snapshot', text: frame('inventory', { kind: 'snapshot', inventory: { os: { name: 'Debian' } } }), expected: { v: 1, type: 'inventory', body: { kind: 'snapshot', inventory: { os: { name: 'Debian' } } } } },
    { name: 'inventory delta', text: frame('inventory', { kind: 'delta', changes: { software: { added: ['vlc'] } } }), expected: { v: 1, type: 'inventory', body: { kind: 'delta', changes: { software: { added: ['vlc'] } } } } },
    { name: 'usb devices, normalized by parseDevice', text: frame('usb-devices', { devices: [{ id: '0781:55AB', interfaces: ['08:06:50'], future: 1 }] }), expected: { v: 1, type: 'usb-devices', body: { devices: [{ id: '0781:55ab', interfaces: ['08:06:50'] }] } } },
    { name: 'no usb devices', text: frame('usb-devices', { devices: [] }), expected: { v: 1, type: 'usb-devices', body: { devices: [] } } },
    { name: 'applied', text: frame('applied', { version: 7 }), expected: { v: 1, type: 'applied', body: { version: 7 } } },
    { name: 'command succeeded with a result', text: frame('command-result', { commandId: 'c-1', ok: true, result: { rescanned: 3 } }), expected: { v: 1, type: 'command-result', body: { commandId: 'c-1', ok: true, result: { rescanned: 3 } } } },
    { name: 'command failed with an error', text: frame('command-result', { commandId: 'c-1', ok: false, error: 'sysfs: permission denied\n(at rescan)' }), expected: { v: 1, type: 'command-result', body: { commandId: 'c-1', ok: false, error: 'sysfs: permission denied\n(at rescan)' } } },
  ];
  for (const row of good) {
    it(`reads ${row.name}, and encodes it back to the same message`, () => {
      const msg = parseAgentMessage(row.text);
      expect(msg).to.deep.equal(row.expected);
      expect(parseAgentMessage(encodeMessage(msg))).to.deep.equal(msg);
    });
  }

  const big = 'x'.repeat(16 * 1024);
  // Each row: a bad frame → the field path the ProtocolError names, and what it says.
  const bad: Array<{ name: string; text: string; path: string; match: RegExp }> = [
    // the frame and the envelope
    { name: 'empty frame', text: '', path: '', match: /not JSON/ },
    { name: 'not JSON', text: '{"v":1,', path: '', match: /not JSON/ },
    { name: 'JSON null', text: 'null', path: '', match: /JSON object \(got null\)/ },
    { name: 'JSON array', text: '[1]', path: '', match: /got an array/ },
    { name: 'frame over 1 MiB', text: frame('hello', { ...HELLO, os: 'x'.repeat(MAX_FRAME_BYTES) }), path: '', match: /the limit is 1048576/ },
    { name: 'no version', text: JSON.stringify({ type: 'hello', body: HELLO }), path: 'v', match: /is required; this side speaks protocol version 1/ },
    { name: 'a newer version', text: JSON.stringify({ v: 2, type: 'hello', body: HELLO }), path: 'v', match: /version 2 is not supported; this side speaks version 1/ },
    { name: 'version as a string', text: JSON.stringify({ v: '1', type: 'hello', body: HELLO }), path: 'v', match: /version "1" is not supported/ },
    { name: 'no type', text: JSON.stringify({ v: 1, body: HELLO }), path: 'type', match: /must be a string/ },
    { name: 'a server message type', text: frame('welcome', {}), path: 'type', match: /unknown agent→server message type "welcome"/ },
    { name: 'a near-miss type', text: frame('helo', HELLO), path: 'type', match: /did you mean "hello"/ },
    { name: 'an Object.prototype name as type', text: frame('constructor', {}), path: 'type', match: /unknown/ },
    { name: 'empty id', text: frame('applied', { version: 1 }, { id: '' }), path: 'id', match: /must not be empty/ },
    { name: 'id over 64 characters', text: frame('applied', { version: 1 }, { id: 'i'.repeat(65) }), path: 'id', match: /at most 64 bytes/ },
    { name: 'id with a space', text: frame('applied', { version: 1 }, { id: 'a b' }), path: 'id', match: /letters, digits/ },
    { name: 'id as a number', text: frame('applied', { version: 1 }, { id: 7 }), path: 'id', match: /must be a string/ },
    { name: 'an extra envelope field', text: frame('applied', { version: 1 }, { ts: 1 }), path: 'ts', match: /unknown envelope field/ },
    { name: 'no body', text: JSON.stringify({ v: 1, type: 'applied' }), path: 'body', match: /is required/ },
    { name: 'body an array', text: frame('applied', [7]), path: 'body', match: /JSON object \(got an array\)/ },
    // hello
    { name: 'hello without hostname', text: frame('hello', { ...HELLO, hostname: undefined }), path: 'body.hostname', match: /is required/ },
    { name: 'hello with an extra field', text: frame('hello', { ...HELLO, ip: '10.0.0.1' }), path: 'body.ip', match: /unknown field/ },
    { name: 'hello with an odd extra key, quoted in the path', text: frame('hello', { ...HELLO, 'a b\n': 1 }), path: 'body["a b\\n"]', match: /unknown field/ },
    { name: 'hello with an empty hostname', text: frame('hello', { ...HELLO, hostname: '' }), path: 'body.hostname', match: /must not be empty/ },
    { name: 'hello with a 256-byte hostname', text: frame('hello', { ...HELLO, hostname: 'h'.repeat(256) }), path: 'body.hostname', match: /at most 255 bytes/ },
    { name: 'hello with a line break in the hostname', text: frame('hello', { ...HELLO, hostname: 'pc\nfake log line' }), path: 'body.hostname', match: /line breaks/ },
    { name: 'hello with a numeric agentVersion', text: frame('hello', { ...HELLO, agentVersion: 1 }), path: 'body.agentVersion', match: /must be a string \(got a number\)/ },
    { name: 'hello with os missing', text: frame('hello', { ...HELLO, os: undefined }), path: 'body.os', match: /is required/ },
    { name: 'hello with appliedVersion 0', text: frame('hello', { ...HELLO, appliedVersion: 0 }), path: 'body.appliedVersion', match: /positive integer/ },
    { name: 'hello with appliedVersion as a string', text: frame('hello', { ...HELLO, appliedVersion: '7' }), path: 'body.appliedVersion', match: /got "7"/ },
    { name: 'hello with a negative spoolDepth', text: frame('hello', { ...HELLO, spoolDepth: -1 }), path: 'body.spoolDepth', match: /non-negative integer/ },
    { name: 'hello with a fractional spoolDepth', text: frame('hello', { ...HELLO, spoolDepth: 1.5 }), path: 'body.spoolDepth', match: /got 1.5/ },
    // events
    { name: 'no events', text: frame('events', { events: [] }), path: 'body.events', match: /1 to 500 entries \(got 0\)/ },
    { name: '501 events', text: frame('events', { events: Array.from({ length: 501 }, (_, i) => ({ ...EVENT, seq: i + 1 })) }), path: 'body.events', match: /got 501/ },
    { name: 'events not an array', text: frame('events', { events: EVENT }), path: 'body.events', match: /must be an array/ },
    { name: 'seq 0', text: frame('events', { events: [{ ...EVENT, seq: 0 }] }), path: 'body.events[0].seq', match: /positive integer/ },
    { name: 'seq past 2^53', text: frame('events', { events: [{ ...EVENT, seq: 2 ** 53 }] }), path: 'body.events[0].seq', match: /2\^53-1/ },
    { name: 'seq repeated', text: frame('events', { events: [EVENT, EVENT] }), path: 'body.events[1].seq', match: /greater than the previous event's seq 1/ },
    { name: 'seq going back', text: frame('events', { events: [{ ...EVENT, seq: 5 }, { ...EVENT, seq: 4 }] }), path: 'body.events[1].seq', match: /previous event's seq 5/ },
    { name: 'type with capitals', text: frame('events', { events: [{ ...EVENT, type: 'USB.Blocked' }] }), path: 'body.events[0].type', match: /lower-case letters/ },
    { name: 'type with a space', text: frame('events', { events: [{ ...EVENT, type: 'usb blocked' }] }), path: 'body.events[0].type', match: /lower-case letters/ },
    { name: 'type over 64 bytes', text: frame('events', { events: [{ ...EVENT, type: 'a'.repeat(65) }] }), path: 'body.events[0].type', match: /at most 64/ },
    { name: 'unknown severity', text: frame('events', { events: [{ ...EVENT, severity: 'warning' }] }), path: 'body.events[0].severity', match: /"info", "low", "medium", "high", "critical"/ },
    { name: 'occurredAt without zone', text: frame('events', { events: [{ ...EVENT, occurredAt: '2026-11-25 10:00' }] }), path: 'body.events[0].occurredAt', match: /ISO 8601/ },
    { name: 'data an array', text: frame('events', { events: [{ ...EVENT, data: [] }] }), path: 'body.events[0].data', match: /JSON object \(got an array\)/ },
    { name: 'data null', text: frame('events', { events: [{ ...EVENT, data: null }] }), path: 'body.events[0].data', match: /got null/ },
    { name: 'data over 16 KiB', text: frame('events', { events: [{ ...EVENT, data: { big } }] }), path: 'body.events[0].data', match: /at most 16384 bytes as JSON/ },
    { name: 'data nested 40 deep', text: frame('events', { events: [{ ...EVENT, data: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }] }), path: 'body.events[0].data', match: /deeper than 32/ },
    { name: 'event with an extra field', text: frame('events', { events: [{ ...EVENT, agentId: 'x' }] }), path: 'body.events[0].agentId', match: /unknown field/ },
    { name: 'event without data', text: frame('events', { events: [{ ...EVENT, data: undefined }] }), path: 'body.events[0].data', match: /is required/ },
    { name: 'the third event bad', text: frame('events', { events: [EVENT, { ...EVENT, seq: 2 }, { ...EVENT, seq: 3, severity: 1 }] }), path: 'body.events[2].severity', match: /got 1/ },
    // inventory
    { name: 'inventory without kind', text: frame('inventory', { inventory: {} }), path: 'body.kind', match: /"snapshot", "delta"/ },
    { name: 'inventory of an unknown kind', text: frame('inventory', { kind: 'full', inventory: {} }), path: 'body.kind', match: /got "full"/ },
    { name: 'a snapshot carrying changes', text: frame('inventory', { kind: 'snapshot', changes: {} }), path: 'body.changes', match: /unknown field/ },
    { name: 'a delta without changes', text: frame('inventory', { kind: 'delta' }), path: 'body.changes', match: /is required/ },
    { name: 'a snapshot that is an array', text: frame('inventory', { kind: 'snapshot', inventory: [] }), path: 'body.inventory', match: /JSON object/ },
    // usb-devices
    { name: 'devices not an array', text: frame('usb-devices', { devices: {} }), path: 'body.devices', match: /must be an array/ },
    { name: 'a device with a bad id', text: frame('usb-devices', { devices: [{ id: '0781:5567' }, { id: 'usb1' }] }), path: 'body.devices[1]', match: /"id" must be "vvvv:pppp"/ },
    { name: 'a device with a bad interface', text: frame('usb-devices', { devices: [{ id: '0781:5567', interfaces: ['8:6:50'] }] }), path: 'body.devices[0]', match: /interfaces\[0\]/ },
    { name: '1025 devices', text: frame('usb-devices', { devices: Array.from({ length: 1025 }, () => ({ id: '0781:5567' })) }), path: 'body.devices', match: /at most 1024 entries/ },
    // applied
    { name: 'applied version 0', text: frame('applied', { version: 0 }), path: 'body.version', match: /positive integer/ },
    { name: 'applied without version', text: frame('applied', {}), path: 'body.version', match: /is required/ },
    // command-result
    { name: 'a failure without error', text: frame('command-result', { commandId: 'c-1', ok: false }), path: 'body.error', match: /required when ok is false/ },
    { name: 'a success with an error', text: frame('command-result', { commandId: 'c-1', ok: true, error: 'x' }), path: 'body.error', match: /left out when ok is true/ },
    { name: 'ok as a string', text: frame('command-result', { commandId: 'c-1', ok: 'yes' }), path: 'body.ok', match: /true or false/ },
    { name: 'a bad commandId', text: frame('command-result', { commandId: '../x', ok: true }), path: 'body.commandId', match: /letters, digits/ },
    { name: 'result an array', text: frame('command-result', { commandId: 'c-1', ok: true, result: [] }), path: 'body.result', match: /JSON object/ },
    { name: 'error over 4 KiB', text: frame('command-result', { commandId: 'c-1', ok: false, error: 'e'.repeat(4097) }), path: 'body.error', match: /at most 4096 bytes/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name} (at "${row.path}")`, () => {
      const err = refusal(parseAgentMessage, row.text);
      expect(err.code).to.equal(ErrorCodes.PROTOCOL_INVALID);
      expect(err.path).to.equal(row.path);
      expect(err.reason).to.match(row.match);
      if (row.path !== '') expect(err.message).to.include(`${row.path}: `);
    });
  }

  it('names the message type and id in errors past the envelope, for the reply', () => {
    const err = refusal(parseAgentMessage, frame('applied', { version: -1 }, { id: 'a-9' }));
    expect([err.messageType, err.messageId]).to.deep.equal(['applied', 'a-9']);
    expect(err.message).to.match(/^invalid "applied" message: body\.version: /);
  });

  it('counts the problems it does not name', () => {
    const err = refusal(parseAgentMessage, frame('hello', { agentVersion: 1, hostname: 2, os: 3, appliedVersion: 0, spoolDepth: -1 }));
    expect(err.message).to.match(/\(and 4 more problems\)$/);
  });
});

describe('protocol: server → agent', () => {
  const command = (name: string) => frame('command', { commandId: 'c-7', name, args: {} }, { id: 'c-7' });
  // Each row: a frame the server sends → the message the agent gets.
  const good: Array<{ name: string; text: string; expected: ServerMessage }> = [
    { name: 'welcome', text: frame('welcome', { agentId: 'agent-01HZX', serverTime: '2026-11-25T10:00:00.000Z' }), expected: { v: 1, type: 'welcome', body: { agentId: 'agent-01HZX', serverTime: '2026-11-25T10:00:00.000Z' } } },
    { name: 'a signed policy', text: frame('policy', { signed: SIGNED }), expected: { v: 1, type: 'policy', body: { signed: SIGNED } } },
    { name: 'ack of nothing stored yet', text: frame('ack', { seq: 0 }), expected: { v: 1, type: 'ack', body: { seq: 0 } } },
    { name: 'ack', text: frame('ack', { seq: 120 }), expected: { v: 1, type: 'ack', body: { seq: 120 } } },
    { name: 'command refresh-inventory', text: command('refresh-inventory'), expected: { v: 1, type: 'command', id: 'c-7', body: { commandId: 'c-7', name: 'refresh-inventory', args: {} } } },
    { name: 'command reapply-policy', text: command('reapply-policy'), expected: { v: 1, type: 'command', id: 'c-7', body: { commandId: 'c-7', name: 'reapply-policy', args: {} } } },
    { name: 'command rescan', text: command('rescan'), expected: { v: 1, type: 'command', id: 'c-7', body: { commandId: 'c-7', name: 'rescan', args: {} } } },
    { name: 'command grant-temporary with args', text: frame('command', { commandId: 'c-8', name: 'grant-temporary', args: { rule: 'allow id 0781:5567' } }), expected: { v: 1, type: 'command', body: { commandId: 'c-8', name: 'grant-temporary', args: { rule: 'allow id 0781:5567' } } } },
    { name: 'error', text: frame('error', { code: 'PORTCULLIS_ERR_PROTOCOL_INVALID', message: 'invalid "applied" message: body.version: …' }), expected: { v: 1, type: 'error', body: { code: 'PORTCULLIS_ERR_PROTOCOL_INVALID', message: 'invalid "applied" message: body.version: …' } } },
  ];
  for (const row of good) {
    it(`reads ${row.name}, and encodes it back to the same message`, () => {
      const msg = parseServerMessage(row.text);
      expect(msg).to.deep.equal(row.expected);
      expect(parseServerMessage(encodeMessage(msg))).to.deep.equal(msg);
    });
  }

  const signedWith = (change: Record<string, unknown>) => frame('policy', { signed: { ...SIGNED, ...change } });
  // Each row: a bad frame → the field path the ProtocolError names.
  const bad: Array<{ name: string; text: string; path: string; match: RegExp }> = [
    { name: 'an agent message type', text: frame('hello', HELLO), path: 'type', match: /unknown server→agent message type "hello"/ },
    { name: 'welcome without agentId', text: frame('welcome', { serverTime: '2026-11-25T10:00:00Z' }), path: 'body.agentId', match: /is required/ },
    { name: 'welcome with epoch serverTime', text: frame('welcome', { agentId: 'a', serverTime: 1764064800000 }), path: 'body.serverTime', match: /ISO 8601/ },
    { name: 'policy without signed', text: frame('policy', {}), path: 'body.signed', match: /is required/ },
    { name: 'policy with a bare document', text: frame('policy', { signed: DOCUMENT }), path: 'body.signed.schema', match: /unknown field/ },
    { name: 'signature not base64', text: signedWith({ signature: 'AAAA!' }), path: 'body.signed.signature', match: /not valid base64/ },
    { name: 'signature too short', text: signedWith({ signature: base64Encode(new Uint8Array(32)) }), path: 'body.signed.signature', match: /64 bytes \(got 32\)/ },
    { name: 'keyId missing', text: signedWith({ keyId: undefined }), path: 'body.signed.keyId', match: /is required/ },
    { name: 'a document with a bad rule', text: signedWith({ document: { ...DOCUMENT, rules: 'allow\nallow bogus' } }), path: 'body.signed.document.rules', match: /rules:2:7/ },
    { name: 'a document of a newer schema', text: signedWith({ document: { ...DOCUMENT, schema: 2 } }), path: 'body.signed.document.schema', match: /schema 2 is not supported/ },
    { name: 'ack -1', text: frame('ack', { seq: -1 }), path: 'body.seq', match: /non-negative integer/ },
    { name: 'ack as a string', text: frame('ack', { seq: '1' }), path: 'body.seq', match: /got "1"/ },
    { name: 'an unknown command', text: frame('command', { commandId: 'c', name: 'format-disk', args: {} }), path: 'body.name', match: /"refresh-inventory", "reapply-policy", "grant-temporary", "rescan"/ },
    { name: 'a command without args', text: frame('command', { commandId: 'c', name: 'rescan' }), path: 'body.args', match: /is required/ },
    { name: 'args an array', text: frame('command', { commandId: 'c', name: 'rescan', args: [] }), path: 'body.args', match: /JSON object/ },
    { name: 'an error code with a space', text: frame('error', { code: 'BAD CODE', message: 'x' }), path: 'body.code', match: /letters, digits/ },
    { name: 'an error message over 4 KiB', text: frame('error', { code: 'E', message: 'm'.repeat(4097) }), path: 'body.message', match: /at most 4096 bytes/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name} (at "${row.path}")`, () => {
      const err = refusal(parseServerMessage, row.text);
      expect(err.code).to.equal(ErrorCodes.PROTOCOL_INVALID);
      expect(err.path).to.equal(row.path);
      expect(err.reason).to.match(row.match);
    });
  }

  it('delivers the largest policy the server accepts in one frame', () => {
    // group and createdBy of 1 KiB of quotes double once escaped: the worst case for the allowance.
    const quotes = '"'.repeat(1024);
    let rules = `${`#${'x'.repeat(998)}\n`.repeat(1030)}#`;
    const limit = POLICY_LIMITS.maxDocumentBytes - 5 * 1024;
    const size = (r: string) => Buffer.byteLength(canonicalJson({ ...STARTER_POLICY_INPUT, rules: r }));
    rules += 'x'.repeat(limit - size(rules));
    expect(size(rules)).to.equal(limit);
    const result = validatePolicyInput({ rules });
    expect(result.ok).to.equal(true);
    const input = (result as { ok: true; input: typeof STARTER_POLICY_INPUT }).input;
    const doc = buildPolicyDocument(input, { group: quotes, version: Number.MAX_SAFE_INTEGER, createdAt: '2026-11-25T10:00:00.123456789+02:00', createdBy: quotes });
    const signed = signPolicy(doc, 'k'.repeat(128), () => new Uint8Array(64));
    const text = encodeMessage({ v: PROTOCOL_VERSION, type: 'policy', id: 'i'.repeat(64), body: { signed } });
    expect(Buffer.byteLength(text)).to.be.at.most(MAX_FRAME_BYTES);
    expect(parseServerMessage(text).type).to.equal('policy');
    expect(validatePolicyInput({ rules: `${rules}x` }).ok).to.equal(false);
  });
});

describe('protocol: encoding', () => {
  it('writes v, type, id and body, in that order, with no whitespace', () => {
    expect(encodeMessage({ v: 1, type: 'ack', id: 'a-1', body: { seq: 3 } })).to.equal('{"v":1,"type":"ack","id":"a-1","body":{"seq":3}}');
    expect(encodeMessage({ v: 1, type: 'ack', body: { seq: 3 } })).to.equal('{"v":1,"type":"ack","body":{"seq":3}}');
  });

  it('refuses to encode a frame the peer would refuse for size', () => {
    const data = { blob: 'x'.repeat(16_000) };
    const events = Array.from({ length: 100 }, (_, i) => ({ ...EVENT, seq: i + 1, data }));
    expect(() => encodeMessage({ v: 1, type: 'events', body: { events } })).to.throw(ProtocolError, /limit is 1048576/);
  });

  // Each row: a spool's head → how many events one frame carries.
  const rows: Array<{ name: string; events: AgentEvent[]; expected: number | 'fits' }> = [
    { name: 'nothing to send', events: [], expected: 0 },
    { name: 'small events: the batch limit decides', events: Array.from({ length: 600 }, (_, i) => ({ ...EVENT, seq: i + 1 })), expected: MAX_EVENTS_PER_BATCH },
    { name: 'large events: the frame size decides', events: Array.from({ length: 200 }, (_, i) => ({ ...EVENT, seq: i + 1, data: { blob: 'é'.repeat(8000) } })), expected: 'fits' },
  ];
  for (const row of rows) {
    it(`eventsThatFit: ${row.name}`, () => {
      const n = eventsThatFit(row.events);
      if (row.expected !== 'fits') expect(n).to.equal(row.expected);
      if (n === 0) return;
      const text = encodeMessage({ v: 1, type: 'events', id: 'i'.repeat(64), body: { events: row.events.slice(0, n) } });
      expect(parseAgentMessage(text).type).to.equal('events');
      if (n < row.events.length && n < MAX_EVENTS_PER_BATCH) {
        expect(() => encodeMessage({ v: 1, type: 'events', id: 'i'.repeat(64), body: { events: row.events.slice(0, n + 1) } })).to.throw(ProtocolError);
      }
    });
  }
});

describe('protocol: dispatch', () => {
  const handlers: MessageHandlers<AgentMessage, string> = {
    hello: (m) => `hello from ${m.body.hostname}`,
    events: (m) => `${m.body.events.length} events`,
    inventory: (m) => (m.body.kind === 'snapshot' ? 'snapshot' : 'delta'),
    'usb-devices': (m) => `${m.body.devices.length} devices`,
    applied: (m) => `applied ${m.body.version}`,
    'command-result': (m) => `${m.body.commandId} ${m.body.ok ? 'ok' : 'failed'}`,
  };

  it('calls the handler of the message type, with the narrowed message', () => {
    expect(dispatch(handlers, parseAgentMessage(frame('hello', HELLO)))).to.equal('hello from pc-0042');
    expect(dispatch(handlers, parseAgentMessage(frame('applied', { version: 7 })))).to.equal('applied 7');
    expect(dispatch(handlers, parseAgentMessage(frame('inventory', { kind: 'delta', changes: {} })))).to.equal('delta');
  });

  it('does not compile without a handler for every type', () => {
    // @ts-expect-error -- 'ack' has no handler: adding a message type breaks the build until handled.
    const partial: MessageHandlers<ServerMessage, void> = { welcome: () => undefined, policy: () => undefined, command: () => undefined, error: () => undefined };
    const ack: ServerMessage = { v: 1, type: 'ack', body: { seq: 1 } };
    expect(() => dispatch(partial, ack)).to.throw(ProtocolError, /no handler for message type "ack"/);
  });
});

/** Parses, or refuses with a ProtocolError; a message it accepts survives encode → parse unchanged. */
function parsesOrRefuses(parse: (text: string) => unknown, text: string): void {
  let msg: unknown;
  try {
    msg = parse(text);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    expect(err.code).to.equal(ErrorCodes.PROTOCOL_INVALID);
    return;
  }
  expect(parse(encodeMessage(msg as AgentMessage))).to.deep.equal(msg);
}

/** Every object/array inside a value, with a way to change it: the places a mutation can hit. */
function containers(value: unknown, out: Array<Record<string, unknown> | unknown[]> = []): Array<Record<string, unknown> | unknown[]> {
  if (typeof value === 'object' && value !== null) {
    out.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

const VALID_AGENT_FRAMES = [
  frame('hello', HELLO),
  frame('events', { events: [EVENT, { ...EVENT, seq: 2, severity: 'low' }] }),
  frame('inventory', { kind: 'snapshot', inventory: { os: { name: 'Debian' } } }),
  frame('usb-devices', { devices: [{ id: '0781:5567', interfaces: ['08:06:50'], serial: 'S' }] }),
  frame('applied', { version: 7 }, { id: 'x' }),
  frame('command-result', { commandId: 'c-1', ok: false, error: 'e', result: {} }),
];
const VALID_SERVER_FRAMES = [
  frame('welcome', { agentId: 'a-1', serverTime: '2026-11-25T10:00:00Z' }),
  frame('policy', { signed: { ...SIGNED, document: { ...DOCUMENT, rules: 'allow id 1d6b:*' } } }),
  frame('ack', { seq: 4 }),
  frame('command', { commandId: 'c-1', name: 'rescan', args: { deep: true } }),
  frame('error', { code: 'E', message: 'm' }),
];

const mutation = fc.record({
  pick: fc.nat(),
  where: fc.nat(),
  kind: fc.constantFrom('delete', 'replace', 'add', 'text-delete', 'text-insert', 'text-replace'),
  value: fc.jsonValue({ maxDepth: 3 }),
  key: fc.string({ maxLength: 8 }),
  char: fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }),
});

/** One random change to one valid frame, at the JSON level or at the character level. */
function mutate(frames: string[], m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): string {
  const original = frames[m.pick % frames.length] as string;
  const at = m.where % original.length;
  switch (m.kind) {
    case 'text-delete':
      return original.slice(0, at) + original.slice(at + 1);
    case 'text-insert':
      return original.slice(0, at) + m.char + original.slice(at);
    case 'text-replace':
      return original.slice(0, at) + m.char + original.slice(at + m.char.length);
  }
  const value = JSON.parse(original) as unknown;
  const places = containers(value);
  const target = places[m.where % places.length] as Record<string, unknown>;
  const keys = Object.keys(target);
  const key = keys.length > 0 ? (keys[m.where % keys.length] as string) : '0';
  if (m.kind === 'delete') delete target[key];
  else if (m.kind === 'replace') target[key] = m.value;
  else target[Array.isArray(target) ? String(keys.length) : m.key] = m.value;
  return JSON.stringify(value);
}

describe('protocol: parsers never throw anything but ProtocolError (fast-check)', () => {
  const parsers = [
    ['parseAgentMessage', parseAgentMessage, VALID_AGENT_FRAMES],
    ['parseServerMessage', parseServerMessage, VALID_SERVER_FRAMES],
  ] as const;
  for (const [name, parse, frames] of parsers) {
    it(`${name}: random strings`, () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => parsesOrRefuses(parse, text)), { numRuns: 2000 });
    });

    it(`${name}: random JSON`, () => {
      fc.assert(fc.property(fc.jsonValue(), (value) => parsesOrRefuses(parse, JSON.stringify(value) ?? '')), { numRuns: 2000 });
    });

    it(`${name}: random bodies in a valid envelope`, () => {
      const types = frames.map((f) => (JSON.parse(f) as { type: string }).type);
      fc.assert(
        fc.property(fc.constantFrom(...types), fc.jsonValue(), (type, body) => parsesOrRefuses(parse, frame(type, body))),
        { numRuns: 2000 },
      );
    });

    it(`${name}: mutated valid frames`, () => {
      for (const f of frames) parsesOrRefuses(parse, f);
      fc.assert(fc.property(mutation, (m) => parsesOrRefuses(parse, mutate([...frames], m))), { numRuns: 4000 });
    });
  }
});
