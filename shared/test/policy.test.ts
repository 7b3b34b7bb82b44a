import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompiledPolicy,
  ErrorCodes,
  POLICY_LIMITS,
  PolicyInvalidError,
  PortcullisError,
  STARTER_POLICY_INPUT,
  STARTER_POLICY_RULES,
  activeExceptions,
  base64Encode,
  buildPolicyDocument,
  canonicalJson,
  parsePolicyDocument,
  parseRuleFile,
  parseServerMessage,
  encodeMessage,
  policySigningPayload,
  printRule,
  prepareDevice,
  signPolicy,
  validatePolicyInput,
  verifySignedPolicy,
  type Device,
  type NormalizedPolicyInput,
  type PolicyDocument,
  type PolicyError,
  type PolicySignatureVerifier,
  type SignedPolicyDocument,
  type Target,
} from '../src/index.js';

const EXCEPTION = { id: 'x-1', rule: 'allow id 0781:5567 serial "4C53"', reason: 'audit', until: '2026-12-01T00:00:00Z', agentId: null };

/**
 * A document as signed before `compositeDevices` existed: such documents sit in stores and agent
 * caches, and LEGACY_PAYLOAD (the bytes their signatures cover) must never change.
 */
const LEGACY_DOC: SignedPolicyDocument = {
  schema: 1,
  group: 'default',
  version: 7,
  rules: 'allow id 1d6b:*\nblock with-interface one-of { 08:*:* }\n',
  implicitTarget: 'block',
  presentDevices: 'apply-policy',
  ports: { serial: 'block', parallel: 'block', bluetooth: 'allow', optical: 'readonly' },
  exceptions: [EXCEPTION],
  createdAt: '2026-11-25T10:00:00Z',
  createdBy: 'admin',
};

const LEGACY_PAYLOAD =
  'portcullis-policy-v1\n' +
  '{"createdAt":"2026-11-25T10:00:00Z","createdBy":"admin","exceptions":[{"agentId":null,"id":"x-1","reason":"audit",' +
  '"rule":"allow id 0781:5567 serial \\"4C53\\"","until":"2026-12-01T00:00:00Z"}],"group":"default","implicitTarget":"block",' +
  '"ports":{"bluetooth":"allow","optical":"readonly","parallel":"block","serial":"block"},"presentDevices":"apply-policy",' +
  '"rules":"allow id 1d6b:*\\nblock with-interface one-of { 08:*:* }\\n","schema":1,"version":7}';

/** A fixed document: its signing payload below is the contract between server and agent. */
const DOC: PolicyDocument = {
  ...LEGACY_DOC,
  compositeDevices: 'per-interface',
  mailEgress: { mode: 'enforce', servers: ['10.1.0.0/16', '2001:db8::25'] },
};

const EXPECTED_PAYLOAD =
  'portcullis-policy-v1\n' +
  '{"compositeDevices":"per-interface","createdAt":"2026-11-25T10:00:00Z","createdBy":"admin","exceptions":[{"agentId":null,"id":"x-1","reason":"audit",' +
  '"rule":"allow id 0781:5567 serial \\"4C53\\"","until":"2026-12-01T00:00:00Z"}],"group":"default","implicitTarget":"block",' +
  '"mailEgress":{"mode":"enforce","servers":["10.1.0.0/16","2001:db8::25"]},' +
  '"ports":{"bluetooth":"allow","optical":"readonly","parallel":"block","serial":"block"},"presentDevices":"apply-policy",' +
  '"rules":"allow id 1d6b:*\\nblock with-interface one-of { 08:*:* }\\n","schema":1,"version":7}';

function caught(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error('expected a PortcullisError');
}

describe('validatePolicyInput', () => {
  const DEFAULTS: NormalizedPolicyInput = {
    rules: '',
    implicitTarget: 'block',
    presentDevices: 'apply-policy',
    compositeDevices: 'whole-device',
    ports: { serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' },
    mailEgress: { mode: 'off', servers: [] },
    exceptions: [],
  };
  // Each row: an admin's input → the normalized input (defaults filled in).
  const good: Array<{ name: string; input: unknown; expected: NormalizedPolicyInput }> = [
    { name: 'only rules: every default applies', input: { rules: '' }, expected: DEFAULTS },
    { name: 'rule text kept verbatim, comments and CRLF included', input: { rules: '# c\r\nallow id 1d6b:*\r\n' }, expected: { ...DEFAULTS, rules: '# c\r\nallow id 1d6b:*\r\n' } },
    { name: 'implicit target', input: { rules: '', implicitTarget: 'reject' }, expected: { ...DEFAULTS, implicitTarget: 'reject' } },
    { name: 'readonly implicit target (the Portcullis extension)', input: { rules: '', implicitTarget: 'readonly' }, expected: { ...DEFAULTS, implicitTarget: 'readonly' } },
    { name: 'present devices', input: { rules: '', presentDevices: 'keep' }, expected: { ...DEFAULTS, presentDevices: 'keep' } },
    { name: 'composite devices per interface', input: { rules: '', compositeDevices: 'per-interface' }, expected: { ...DEFAULTS, compositeDevices: 'per-interface' } },
    { name: 'composite devices whole-device, said out loud', input: { rules: '', compositeDevices: 'whole-device' }, expected: DEFAULTS },
    { name: 'one port given, the others block', input: { rules: '', ports: { bluetooth: 'allow' } }, expected: { ...DEFAULTS, ports: { ...DEFAULTS.ports, bluetooth: 'allow' } } },
    { name: 'every port given', input: { rules: '', ports: { serial: 'allow', parallel: 'readonly', bluetooth: 'allow', optical: 'readonly' } }, expected: { ...DEFAULTS, ports: { serial: 'allow', parallel: 'readonly', bluetooth: 'allow', optical: 'readonly' } } },
    { name: 'empty ports object', input: { rules: '', ports: {} }, expected: DEFAULTS },
    { name: 'an exception for every computer', input: { rules: '', exceptions: [EXCEPTION] }, expected: { ...DEFAULTS, exceptions: [EXCEPTION] } },
    { name: 'an exception for one computer, with offset time', input: { rules: '', exceptions: [{ ...EXCEPTION, agentId: 'agent-7', until: '2026-12-01T02:00:00+02:00' }] }, expected: { ...DEFAULTS, exceptions: [{ ...EXCEPTION, agentId: 'agent-7', until: '2026-12-01T02:00:00+02:00' }] } },
    { name: 'the starter rules', input: { rules: STARTER_POLICY_RULES }, expected: { ...DEFAULTS, rules: STARTER_POLICY_RULES } },
  ];
  for (const row of good) {
    it(`accepts ${row.name}`, () => {
      const result = validatePolicyInput(row.input);
      expect(result, JSON.stringify(result)).to.deep.equal({ ok: true, input: row.expected });
    });
  }

  // Each row: a bad input → the error (path, message pattern, and line/column for rule text).
  const bad: Array<{ name: string; input: unknown; path: string; match: RegExp; line?: number; column?: number }> = [
    // the whole input
    { name: 'not an object', input: 'allow', path: '', match: /must be a JSON object \(got a string\)/ },
    { name: 'an array', input: [], path: '', match: /got an array/ },
    { name: 'null', input: null, path: '', match: /got null/ },
    { name: 'an admin typo', input: { rules: '', implicitTaget: 'allow' }, path: 'implicitTaget', match: /unknown field; did you mean "implicitTarget"\?/ },
    { name: 'an unknown field', input: { rules: '', mail: {} }, path: 'mail', match: /^unknown field$/ },
    { name: 'a server-managed field', input: { rules: '', version: 3 }, path: 'version', match: /set by the server/ },
    // rules
    { name: 'rules missing', input: {}, path: 'rules', match: /is required/ },
    { name: 'rules not a string', input: { rules: ['allow'] }, path: 'rules', match: /string \(got an array\)/ },
    { name: 'a bad rule, with line and column', input: { rules: '# ok\nallow id 1d6b:*\nallow foo 1' }, path: 'rules', match: /^rules:3:7: /, line: 3, column: 7 },
    { name: 'a bad target', input: { rules: 'permit' }, path: 'rules', match: /^rules:1:1: /, line: 1, column: 1 },
    { name: 'rules over 1 MiB', input: { rules: '#'.repeat(POLICY_LIMITS.maxRulesBytes + 1) }, path: 'rules', match: /at most 1048576 bytes/ },
    { name: 'rules over 1 MiB in UTF-8 only', input: { rules: `#${'é'.repeat(POLICY_LIMITS.maxRulesBytes / 2)}` }, path: 'rules', match: /at most 1048576 bytes/ },
    // implicitTarget, presentDevices
    { name: 'implicit target unknown', input: { rules: '', implicitTarget: 'deny' }, path: 'implicitTarget', match: /one of "allow", "block", "reject", "readonly" \(got "deny"\)/ },
    { name: 'implicit target null', input: { rules: '', implicitTarget: null }, path: 'implicitTarget', match: /got null/ },
    { name: 'present devices: USBGuard reject is not offered', input: { rules: '', presentDevices: 'reject' }, path: 'presentDevices', match: /"apply-policy"/ },
    { name: 'present devices wrong type', input: { rules: '', presentDevices: 1 }, path: 'presentDevices', match: /got 1/ },
    // compositeDevices
    { name: 'composite devices unknown', input: { rules: '', compositeDevices: 'per-port' }, path: 'compositeDevices', match: /one of "whole-device", "per-interface" \(got "per-port"\)/ },
    { name: 'composite devices as a boolean', input: { rules: '', compositeDevices: true }, path: 'compositeDevices', match: /got true/ },
    { name: 'composite devices null', input: { rules: '', compositeDevices: null }, path: 'compositeDevices', match: /got null/ },
    // ports
    { name: 'ports not an object', input: { rules: '', ports: 'block' }, path: 'ports', match: /JSON object/ },
    { name: 'unknown port class', input: { rules: '', ports: { usb: 'block' } }, path: 'ports.usb', match: /serial, parallel, bluetooth, optical/ },
    { name: 'bad port action', input: { rules: '', ports: { serial: 'deny' } }, path: 'ports.serial', match: /"allow", "block", "readonly"/ },
    { name: 'reject is not a port action', input: { rules: '', ports: { optical: 'reject' } }, path: 'ports.optical', match: /got "reject"/ },
    // exceptions
    { name: 'exceptions not an array', input: { rules: '', exceptions: {} }, path: 'exceptions', match: /array/ },
    { name: 'more than 100 exceptions', input: { rules: '', exceptions: Array.from({ length: 101 }, (_, i) => ({ ...EXCEPTION, id: `x-${i}` })) }, path: 'exceptions', match: /at most 100 entries \(got 101\)/ },
    { name: 'exception not an object', input: { rules: '', exceptions: ['allow'] }, path: 'exceptions[0]', match: /an exception must be a JSON object/ },
    { name: 'exception id missing', input: { rules: '', exceptions: [{ ...EXCEPTION, id: undefined }] }, path: 'exceptions[0].id', match: /is required/ },
    { name: 'exception id with a space', input: { rules: '', exceptions: [{ ...EXCEPTION, id: 'x 1' }] }, path: 'exceptions[0].id', match: /letters, digits/ },
    { name: 'exception id too long', input: { rules: '', exceptions: [{ ...EXCEPTION, id: 'x'.repeat(65) }] }, path: 'exceptions[0].id', match: /at most 64 bytes/ },
    { name: 'duplicate exception ids', input: { rules: '', exceptions: [EXCEPTION, EXCEPTION] }, path: 'exceptions[1].id', match: /duplicate id "x-1" \(also exceptions\[0\]\)/ },
    { name: 'exception rule with a syntax error', input: { rules: '', exceptions: [{ ...EXCEPTION, rule: 'allow id 0781' }] }, path: 'exceptions[0].rule', match: /^exceptions\[0\]\.rule:1:10: /, line: 1, column: 10 },
    { name: 'exception rule: two rules', input: { rules: '', exceptions: [{ ...EXCEPTION, rule: 'allow\nallow' }] }, path: 'exceptions[0].rule', match: /single line/ },
    { name: 'exception rule: a comment only', input: { rules: '', exceptions: [{ ...EXCEPTION, rule: '# allow' }] }, path: 'exceptions[0].rule', match: /expected a rule target/ },
    { name: 'exception rule over 1 KiB', input: { rules: '', exceptions: [{ ...EXCEPTION, rule: `allow name "${'a'.repeat(1024)}"` }] }, path: 'exceptions[0].rule', match: /at most 1024 bytes/ },
    { name: 'exception reason empty', input: { rules: '', exceptions: [{ ...EXCEPTION, reason: '' }] }, path: 'exceptions[0].reason', match: /must not be empty/ },
    { name: 'exception reason over 1 KiB', input: { rules: '', exceptions: [{ ...EXCEPTION, reason: 'r'.repeat(1025) }] }, path: 'exceptions[0].reason', match: /at most 1024 bytes/ },
    { name: 'exception reason with a NUL', input: { rules: '', exceptions: [{ ...EXCEPTION, reason: 'a\u0000b' }] }, path: 'exceptions[0].reason', match: /control characters/ },
    { name: 'exception until without zone', input: { rules: '', exceptions: [{ ...EXCEPTION, until: '2026-12-01T00:00:00' }] }, path: 'exceptions[0].until', match: /ISO 8601 timestamp with a time zone/ },
    { name: 'exception until as epoch number', input: { rules: '', exceptions: [{ ...EXCEPTION, until: 1764547200000 }] }, path: 'exceptions[0].until', match: /got 1764547200000/ },
    { name: 'exception agentId missing (null is required, not absence)', input: { rules: '', exceptions: [{ ...EXCEPTION, agentId: undefined }] }, path: 'exceptions[0].agentId', match: /is required/ },
    { name: 'exception agentId empty', input: { rules: '', exceptions: [{ ...EXCEPTION, agentId: '' }] }, path: 'exceptions[0].agentId', match: /must not be empty/ },
    { name: 'exception extra field', input: { rules: '', exceptions: [{ ...EXCEPTION, device: 'x' }] }, path: 'exceptions[0].device', match: /unknown field/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      const input = JSON.parse(JSON.stringify(row.input) ?? 'null') as unknown;
      const result = validatePolicyInput(input);
      expect(result.ok).to.equal(false);
      const errors = (result as { errors: PolicyError[] }).errors;
      const error = errors.find((e) => e.path === row.path);
      expect(error, `no error at "${row.path}" in ${JSON.stringify(errors)}`).to.not.equal(undefined);
      expect(error?.message).to.match(row.match);
      if (row.line !== undefined) expect([error?.line, error?.column]).to.deep.equal([row.line, row.column]);
    });
  }

  it('reports every problem at once, every bad rule line included', () => {
    const result = validatePolicyInput({ rules: 'allow\nbogus\nallow id 1\nblock', implicitTaget: 'x', ports: { serial: 'open' } });
    expect(result.ok).to.equal(false);
    const errors = (result as { errors: PolicyError[] }).errors;
    expect(errors.map((e) => [e.path, e.line ?? null])).to.deep.equal([
      ['implicitTaget', null],
      ['rules', 2],
      ['rules', 3],
      ['ports.serial', null],
    ]);
  });

  it('refuses a policy too big to reach the agents in one frame', () => {
    // Under the 1 MiB rule limit and the frame by itself (each line break is two bytes as JSON);
    // over the frame once 100 exceptions are added.
    const rules = `# ${'x'.repeat(97)}\n`.repeat((POLICY_LIMITS.maxRulesBytes - 20_000) / 100);
    const exceptions = Array.from({ length: 100 }, (_, i) => ({ ...EXCEPTION, id: `x-${i}`, reason: 'r'.repeat(1000) }));
    expect(validatePolicyInput({ rules }).ok).to.equal(true);
    const result = validatePolicyInput({ rules, exceptions });
    expect(result.ok).to.equal(false);
    expect((result as { errors: PolicyError[] }).errors[0]?.message).to.match(/fit in the one message/);
  });
});

describe('buildPolicyDocument and parsePolicyDocument', () => {
  const META = { group: 'default', version: 7, createdAt: '2026-11-25T10:00:00Z', createdBy: 'admin' };
  const INPUT: NormalizedPolicyInput = {
    rules: DOC.rules,
    implicitTarget: 'block',
    presentDevices: 'apply-policy',
    compositeDevices: 'per-interface',
    ports: DOC.ports,
    mailEgress: DOC.mailEgress,
    exceptions: [EXCEPTION],
  };

  it('builds the document from input and meta', () => {
    expect(buildPolicyDocument(INPUT, META)).to.deep.equal(DOC);
  });

  it('builds the default group from the starter input', () => {
    const doc = buildPolicyDocument(STARTER_POLICY_INPUT, { ...META, version: 1 });
    expect(parsePolicyDocument(JSON.parse(JSON.stringify(doc)))).to.deep.equal(doc);
  });

  // Each row: meta or a hand-assembled input the server might pass → refused before signing.
  const badBuilds: Array<{ name: string; input?: Partial<NormalizedPolicyInput>; meta?: Partial<typeof META>; match: RegExp }> = [
    { name: 'version 0', meta: { version: 0 }, match: /version: must be a positive integer/ },
    { name: 'fractional version', meta: { version: 1.5 }, match: /version/ },
    { name: 'empty group', meta: { group: '' }, match: /group: must not be empty/ },
    { name: 'createdAt from toString()', meta: { createdAt: 'Wed Nov 25 2026' }, match: /createdAt: must be an ISO 8601/ },
    { name: 'createdBy with a line break', meta: { createdBy: 'a\nb' }, match: /createdBy: .*line breaks/ },
    { name: 'an exception appended without validation', input: { exceptions: [EXCEPTION, { ...EXCEPTION, id: 'x-2', rule: 'allow bogus' }] }, match: /exceptions\[1\]\.rule/ },
    { name: 'a 101st exception', input: { exceptions: Array.from({ length: 101 }, (_, i) => ({ ...EXCEPTION, id: `x-${i}` })) }, match: /at most 100/ },
  ];
  for (const row of badBuilds) {
    it(`refuses to build with ${row.name}`, () => {
      const err = caught(() => buildPolicyDocument({ ...INPUT, ...row.input }, { ...META, ...row.meta }));
      expect(err).to.be.instanceOf(PolicyInvalidError);
      expect(err.code).to.equal(ErrorCodes.POLICY_INVALID);
      expect(err.message).to.match(row.match);
    });
  }

  it('parses a document that went through JSON', () => {
    expect(parsePolicyDocument(JSON.parse(JSON.stringify(DOC)))).to.deep.equal(DOC);
  });

  it('reads a document signed before compositeDevices existed as whole-device', () => {
    expect(parsePolicyDocument(JSON.parse(JSON.stringify(LEGACY_DOC)))).to.deep.equal({ ...LEGACY_DOC, compositeDevices: 'whole-device', mailEgress: { mode: 'off', servers: [] } });
  });

  it('names compositeDevices when a wrong value is nested in a message', () => {
    const err = caught(() => parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed: { document: { ...DOC, compositeDevices: 'split' as 'per-interface' }, keyId: 'k', signature: base64Encode(new Uint8Array(64)) } } })));
    expect(err.message).to.match(/body\.signed\.document\.compositeDevices: must be one of/);
  });

  it('writes compositeDevices into every new document (the starter one: whole-device)', () => {
    const doc = buildPolicyDocument(STARTER_POLICY_INPUT, { ...META, version: 1 });
    expect(doc.compositeDevices).to.equal('whole-device');
    expect(canonicalJson(doc)).to.match(/^\{"compositeDevices":"whole-device","createdAt":/);
    expect(canonicalJson(buildPolicyDocument(INPUT, META))).to.match(/^\{"compositeDevices":"per-interface",/);
  });

  // Each row: a change to a valid document → the path of the problem it causes.
  const badDocs: Array<{ name: string; change: Record<string, unknown>; path: string; match?: RegExp }> = [
    { name: 'a newer schema: say "update"', change: { schema: 2, extra: 1 }, path: 'schema', match: /schema 2 is not supported.*update/ },
    { name: 'schema as a string', change: { schema: '1' }, path: 'schema', match: /must be 1/ },
    { name: 'an unknown field', change: { mail: {} }, path: 'mail' },
    { name: 'a missing field', change: { presentDevices: undefined }, path: 'presentDevices', match: /is required/ },
    { name: 'a wrong compositeDevices', change: { compositeDevices: 'split' }, path: 'compositeDevices', match: /one of "whole-device", "per-interface" \(got "split"\)/ },
    { name: 'compositeDevices null (absent is fine, null is not)', change: { compositeDevices: null }, path: 'compositeDevices', match: /got null/ },
    { name: 'a port missing', change: { ports: { serial: 'block', parallel: 'block', bluetooth: 'block' } }, path: 'ports.optical', match: /is required/ },
    { name: 'version as a string', change: { version: '7' }, path: 'version' },
    { name: 'version beyond 2^53', change: { version: 2 ** 53 }, path: 'version' },
    { name: 'a bad rule line', change: { rules: 'allow\nallow id x' }, path: 'rules', match: /rules:2:10/ },
    { name: 'a bad exception', change: { exceptions: [{ ...EXCEPTION, until: 'soon' }] }, path: 'exceptions[0].until' },
    { name: 'createdAt on a day that does not exist', change: { createdAt: '2026-02-30T10:00:00Z' }, path: 'createdAt' },
  ];
  for (const row of badDocs) {
    it(`refuses a document with ${row.name}`, () => {
      const err = caught(() => parsePolicyDocument(JSON.parse(JSON.stringify({ ...DOC, ...row.change }))));
      expect(err).to.be.instanceOf(PolicyInvalidError);
      const errors = (err as PolicyInvalidError).errors;
      const error = errors.find((e) => e.path === row.path);
      expect(error, JSON.stringify(errors)).to.not.equal(undefined);
      if (row.match) expect(error?.message).to.match(row.match);
    });
  }

  it('keeps only active exceptions for this computer, in order', () => {
    const doc: PolicyDocument = {
      ...DOC,
      exceptions: [
        { ...EXCEPTION, id: 'all', until: '2026-12-01T00:00:00Z' },
        { ...EXCEPTION, id: 'mine', agentId: 'pc-1', until: '2026-12-01T00:00:00Z' },
        { ...EXCEPTION, id: 'other', agentId: 'pc-2', until: '2026-12-01T00:00:00Z' },
        { ...EXCEPTION, id: 'expired', until: '2026-11-25T09:59:59Z' },
        { ...EXCEPTION, id: 'expires-now', until: '2026-11-25T10:00:00Z' },
      ],
    };
    const ids = activeExceptions(doc, new Date('2026-11-25T10:00:00Z'), 'pc-1').map((x) => x.id);
    expect(ids).to.deep.equal(['all', 'mine']);
  });
});

describe('policy signing', () => {
  const SIG = new Uint8Array(64).fill(7);
  const SIGNED = { document: DOC, keyId: 'policy-2026', signature: base64Encode(SIG) };
  /** A fake verifier that accepts exactly SIG over DOC's payload with key "policy-2026". */
  const fakeVerify: PolicySignatureVerifier = (keyId, payload, signature) =>
    keyId === 'policy-2026' && new TextDecoder().decode(payload) === EXPECTED_PAYLOAD && signature.every((b) => b === 7);

  it('signs a fixed document as a fixed payload (domain prefix + canonical JSON)', () => {
    expect(new TextDecoder().decode(policySigningPayload(DOC))).to.equal(EXPECTED_PAYLOAD);
  });

  it('gives the same payload whatever the key order of the document', () => {
    const reordered = JSON.parse(canonicalJson(DOC).replace(/^\{/, '{"version":7,').replace(/,"version":7\}$/, '}')) as PolicyDocument;
    expect(Object.keys(reordered)[0]).to.equal('version');
    expect(policySigningPayload(reordered)).to.deep.equal(policySigningPayload(DOC));
  });

  it('verifies a good signed policy and returns the document', () => {
    expect(verifySignedPolicy(JSON.parse(JSON.stringify(SIGNED)), fakeVerify)).to.deep.equal(DOC);
  });

  // Each row: a change to a good signed policy → the code and message it is refused with.
  const bad: Array<{ name: string; signed: unknown; code: string; match: RegExp; verify?: PolicySignatureVerifier }> = [
    { name: 'not an object', signed: 'x', code: ErrorCodes.POLICY_INVALID, match: /JSON object/ },
    { name: 'no signature', signed: { document: DOC, keyId: 'policy-2026' }, code: ErrorCodes.SIGNATURE_INVALID, match: /not signed/ },
    { name: 'signature not a string', signed: { ...SIGNED, signature: [1, 2] }, code: ErrorCodes.SIGNATURE_INVALID, match: /base64 string/ },
    { name: 'signature not base64', signed: { ...SIGNED, signature: 'not base64!' }, code: ErrorCodes.SIGNATURE_INVALID, match: /not valid base64/ },
    { name: 'signature of the wrong length', signed: { ...SIGNED, signature: base64Encode(new Uint8Array(63)) }, code: ErrorCodes.SIGNATURE_INVALID, match: /64 bytes \(got 63\)/ },
    { name: 'no keyId', signed: { document: DOC, signature: SIGNED.signature }, code: ErrorCodes.POLICY_INVALID, match: /keyId/ },
    { name: 'keyId with a space', signed: { ...SIGNED, keyId: 'a b' }, code: ErrorCodes.POLICY_INVALID, match: /keyId/ },
    { name: 'an extra field', signed: { ...SIGNED, trusted: true }, code: ErrorCodes.POLICY_INVALID, match: /unknown field "trusted"/ },
    { name: 'document not an object', signed: { ...SIGNED, document: 'x' }, code: ErrorCodes.POLICY_INVALID, match: /"document" must be a JSON object/ },
    { name: 'a tampered document', signed: { ...SIGNED, document: { ...DOC, implicitTarget: 'allow' } }, code: ErrorCodes.SIGNATURE_INVALID, match: /does not verify with key "policy-2026"/ },
    { name: 'an unknown key', signed: { ...SIGNED, keyId: 'stolen' }, code: ErrorCodes.SIGNATURE_INVALID, match: /does not verify with key "stolen"/ },
    { name: 'a bad signature', signed: { ...SIGNED, signature: base64Encode(new Uint8Array(64)) }, code: ErrorCodes.SIGNATURE_INVALID, match: /does not verify/ },
    { name: 'a verifier that throws', signed: SIGNED, code: ErrorCodes.SIGNATURE_INVALID, match: /failed: bad key file/, verify: () => { throw new Error('bad key file'); } },
    { name: 'a verifier that returns a truthy non-boolean', signed: SIGNED, code: ErrorCodes.SIGNATURE_INVALID, match: /does not verify/, verify: () => 1 as unknown as boolean },
    { name: 'a validly signed but invalid document', signed: { ...SIGNED, document: { ...DOC, rules: 'allow bogus' } }, code: ErrorCodes.POLICY_INVALID, match: /rules:1:7/, verify: () => true },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      const err = caught(() => verifySignedPolicy(JSON.parse(JSON.stringify(row.signed)), row.verify ?? fakeVerify));
      expect(err.code).to.equal(row.code);
      expect(err.message).to.match(row.match);
    });
  }

  it('checks the signature before it parses the document', () => {
    let parsedFirst = true;
    const err = caught(() =>
      verifySignedPolicy({ ...SIGNED, document: { ...DOC, rules: 'allow bogus' } }, () => {
        parsedFirst = false;
        return false;
      }),
    );
    expect([parsedFirst, err.code]).to.deep.equal([false, ErrorCodes.SIGNATURE_INVALID]);
  });

  it('works with real Ed25519 (node:crypto), end to end', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signed = signPolicy(DOC, 'k1', (payload) => sign(null, payload, privateKey));
    const wire = JSON.parse(JSON.stringify(signed)) as unknown;
    const realVerify: PolicySignatureVerifier = (keyId, payload, signature) => keyId === 'k1' && verify(null, payload, publicKey, signature);
    expect(verifySignedPolicy(wire, realVerify)).to.deep.equal(DOC);
    const tampered = { ...signed, document: { ...DOC, ports: { ...DOC.ports, serial: 'allow' } } };
    expect(caught(() => verifySignedPolicy(tampered, realVerify)).code).to.equal(ErrorCodes.SIGNATURE_INVALID);
    const other = generateKeyPairSync('ed25519');
    const otherVerify: PolicySignatureVerifier = (_k, payload, signature) => verify(null, payload, other.publicKey, signature);
    expect(caught(() => verifySignedPolicy(wire, otherVerify)).code).to.equal(ErrorCodes.SIGNATURE_INVALID);
  });

  describe('a document signed before compositeDevices existed', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const realVerify: PolicySignatureVerifier = (keyId, payload, signature) => keyId === 'old' && verify(null, payload, publicKey, signature);
    /** Signed as the server signed it then: over the legacy payload, bytes fixed above. */
    const legacy = { document: LEGACY_DOC, keyId: 'old', signature: base64Encode(sign(null, new TextEncoder().encode(LEGACY_PAYLOAD), privateKey)) };

    it('still has the payload it was signed with', () => {
      expect(new TextDecoder().decode(policySigningPayload(LEGACY_DOC))).to.equal(LEGACY_PAYLOAD);
    });

    it('verifies, and its parsed document reads as whole-device', () => {
      expect(verifySignedPolicy(JSON.parse(JSON.stringify(legacy)), realVerify)).to.deep.equal({
        ...LEGACY_DOC,
        compositeDevices: 'whole-device',
        mailEgress: { mode: 'off', servers: [] },
      });
    });

    it('verifies after the agent parsed the frame it came in (the parsed message keeps the field out)', () => {
      const msg = parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed: legacy } }));
      if (msg.type !== 'policy') throw new Error(`expected a policy message, got ${msg.type}`);
      expect(Object.hasOwn(msg.body.signed.document, 'compositeDevices')).to.equal(false);
      expect(verifySignedPolicy(JSON.parse(JSON.stringify(msg.body.signed)), realVerify).compositeDevices).to.equal('whole-device');
    });

    it('would stop verifying if the default were written into it (why it is only read as whole-device)', () => {
      const filledIn = { ...legacy, document: { ...LEGACY_DOC, compositeDevices: 'whole-device' } };
      expect(caught(() => verifySignedPolicy(filledIn, realVerify)).code).to.equal(ErrorCodes.SIGNATURE_INVALID);
    });

    it('a new document parsed from a frame keeps its compositeDevices', () => {
      const signed = signPolicy(DOC, 'old', (payload) => sign(null, payload, privateKey));
      const msg = parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed } }));
      if (msg.type !== 'policy') throw new Error(`expected a policy message, got ${msg.type}`);
      expect(msg.body.signed.document.compositeDevices).to.equal('per-interface');
      expect(verifySignedPolicy(msg.body.signed, realVerify)).to.deep.equal(DOC);
    });
  });

  it('refuses to sign with a signer that does not return 64 bytes', () => {
    expect(caught(() => signPolicy(DOC, 'k1', () => new Uint8Array(32))).code).to.equal(ErrorCodes.SIGNATURE_INVALID);
  });
});

describe('starter policy', () => {
  const policy = new CompiledPolicy(parseRuleFile(STARTER_POLICY_RULES, 'starter'), 'block');
  const ctx = { now: new Date('2026-11-25T10:00:00Z'), utcOffsetMinutes: 0 };
  const decide = (d: Device): { target: Target; implicit: boolean } => {
    const decision = policy.decide(prepareDevice(d), ctx);
    return { target: decision.target, implicit: decision.implicit };
  };

  it('parses, every rule line included', () => {
    expect(parseRuleFile(STARTER_POLICY_RULES).length).to.equal(9);
  });

  it('is real USBGuard: usbguard-rule-parser (the reference) reads it and prints what we print', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-starter-'));
    try {
      writeFileSync(join(dir, 'rules.conf'), STARTER_POLICY_RULES);
      const run = spawnSync('usbguard-rule-parser', ['-f', join(dir, 'rules.conf')], { encoding: 'utf8' });
      expect(run.error, 'usbguard-rule-parser must be installed (see usbguard-agreement.test.ts)').to.equal(undefined);
      expect(run.status, run.stderr).to.equal(0);
      const printed = run.stdout.split('\n').filter((l) => l.startsWith('OUTPUT: ') && l.length > 8).map((l) => l.slice(8));
      expect(printed).to.deep.equal(parseRuleFile(STARTER_POLICY_RULES).map(printRule));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each row: a device → the starter policy's decision, and whether a rule or the implicit target made it.
  const rows: Array<{ name: string; device: Device; target: Target; implicit: boolean }> = [
    { name: 'keyboard (boot keyboard + consumer control)', device: { id: '046d:c31c', interfaces: ['03:01:01', '03:00:00'] }, target: 'allow', implicit: false },
    { name: 'mouse', device: { id: '046d:c077', interfaces: ['03:01:02'] }, target: 'allow', implicit: false },
    { name: 'keyboard with three HID interfaces', device: { id: '1532:0227', interfaces: ['03:01:01', '03:00:01', '03:00:02'] }, target: 'allow', implicit: false },
    { name: 'root hub (USB 2)', device: { id: '1d6b:0002', interfaces: ['09:00:00'] }, target: 'allow', implicit: false },
    { name: 'root hub (USB 3)', device: { id: '1d6b:0003', interfaces: ['09:00:00'] }, target: 'allow', implicit: false },
    { name: 'external multi-TT hub', device: { id: '05e3:0610', interfaces: ['09:00:01', '09:00:02'] }, target: 'allow', implicit: false },
    { name: 'flash drive', device: { id: '0781:5567', interfaces: ['08:06:50'] }, target: 'block', implicit: false },
    { name: 'BadUSB: flash drive that is also a keyboard', device: { id: '0781:5567', interfaces: ['08:06:50', '03:01:01'] }, target: 'block', implicit: false },
    { name: 'phone over MTP with adb', device: { id: '18d1:4ee2', interfaces: ['ff:ff:00', 'ff:42:01'] }, target: 'block', implicit: false },
    { name: 'camera or phone over PTP', device: { id: '04a9:3218', interfaces: ['06:01:01'] }, target: 'block', implicit: false },
    { name: 'iPhone (PTP, audio, usbmux)', device: { id: '05ac:12a8', interfaces: ['06:01:01', '01:01:00', '01:02:00', 'ff:fe:02'] }, target: 'block', implicit: false },
    { name: 'Android RNDIS tethering', device: { id: '18d1:4ee3', interfaces: ['e0:01:03', '0a:00:00'] }, target: 'block', implicit: false },
    { name: 'RNDIS as Windows-style CDC', device: { id: '0525:a4a2', interfaces: ['02:02:ff', '0a:00:00'] }, target: 'block', implicit: false },
    { name: 'USB Ethernet (CDC ECM)', device: { id: '0bda:8153', interfaces: ['02:06:00', '0a:00:00'] }, target: 'block', implicit: false },
    { name: 'LTE modem (MBIM)', device: { id: '1199:9071', interfaces: ['02:0e:00', '0a:00:02'] }, target: 'block', implicit: false },
    { name: 'Pi Zero gadget posing as Linux Foundation (RNDIS + storage + HID)', device: { id: '1d6b:0104', interfaces: ['e0:01:03', '0a:00:00', '08:06:50', '03:01:01'] }, target: 'block', implicit: false },
    { name: 'Linux Foundation id with a keyboard and a vendor interface', device: { id: '1d6b:0104', interfaces: ['03:01:01', 'ff:00:00'] }, target: 'block', implicit: true },
    { name: 'keyboard with a vendor interface (e.g. an ASIX NIC behind it)', device: { id: '0b95:1790', interfaces: ['03:01:01', 'ff:ff:00'] }, target: 'block', implicit: true },
    { name: 'keyboard with audio', device: { id: '1b1c:1b2e', interfaces: ['03:01:01', '01:01:00', '01:02:00'] }, target: 'block', implicit: true },
    { name: '"hub" with a storage interface', device: { id: '05e3:0610', interfaces: ['09:00:00', '08:06:50'] }, target: 'block', implicit: false },
    { name: 'webcam', device: { id: '046d:085e', interfaces: ['0e:01:00', '0e:02:00'] }, target: 'block', implicit: true },
    { name: 'device reporting no interfaces', device: { id: '1234:5678' }, target: 'block', implicit: true },
  ];
  for (const row of rows) {
    it(`${row.target}s ${row.name}`, () => expect(decide(row.device)).to.deep.equal({ target: row.target, implicit: row.implicit }));
  }

  // Regression: USBGuard's `equals` does not pair interfaces up, so the textbook keyboard rule
  // `allow with-interface equals { 03:*:* 03:*:* }` placed before the storage block lets a
  // storage+keyboard device through. The starter policy blocks first and uses equals-ordered.
  it('would let BadUSB through with the textbook equals rule before the blocks (why it is not written so)', () => {
    const textbook = new CompiledPolicy(parseRuleFile('allow with-interface equals { 03:*:* 03:*:* }\nblock with-interface one-of { 08:*:* }'));
    const badUsb = prepareDevice({ id: '0781:5567', interfaces: ['08:06:50', '03:01:01'] });
    expect(textbook.decide(badUsb, ctx).target).to.equal('allow');
    expect(policy.decide(badUsb, ctx).target).to.equal('block');
  });
});
