import { expect } from 'chai';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTER_POLICY_INPUT, buildPolicyDocument, parseRule, printRule, signPolicy } from '@portcullis/shared';
import { run } from '../src/cli.js';
import { devicesCommand } from '../src/commands/devices-command.js';
import { CommandError } from '../src/commands/io.js';
import { saveIdentity } from '../src/state/identity-store.js';
import { PolicyCache, builtInPolicy, ed25519Verifier } from '../src/state/policy-cache.js';
import { FakeSysfs } from './support/fake-sysfs.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const KEY_ID = 'policy-2026';
const KEY = generateKeyPairSync('ed25519');
const SIGNING_KEYS = [{ keyId: KEY_ID, publicKeyPem: KEY.publicKey.export({ type: 'spki', format: 'pem' }).toString() }];
/** Structure is all the identity store checks of the CA; devices never opens a connection. */
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FGYWtlQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjO\n-----END CERTIFICATE-----\n';

const KEYBOARD = { vendor: '046d', product: 'c31c', productName: 'USB Keyboard', manufacturer: 'Logitech', interfaces: ['03:01:01'] };
const FLASH = { vendor: '0781', product: '5567', productName: 'Cruzer Blade', manufacturer: 'SanDisk', serial: '4C530001230523112463', interfaces: ['08:06:50'] };
const WEBCAM = { vendor: '04f2', product: 'b604', productName: 'Integrated Camera', interfaces: ['0e:01:00', '0e:02:00'] };

/** The policy a finance PC caches: line 2's condition never holds, line 3 blocks storage, line 4 allows HID. */
const FINANCE_RULES = `# finance policy
allow id 0781:5567 serial "4C530001230523112463" if false
block with-interface one-of { 08:*:* }
allow with-interface equals { 03:*:* }
`;

interface JsonLine {
  name: string;
  label: string;
  device: { id: string; serial?: string; interfaces?: string[] };
  authorized: boolean;
  decision: { target: string; source: string; line: number | null; rule: string | null; exceptionId: string | null; reason: string; conditionsNotMet: number[] };
}

/** 1-based line of `rule` in `text`: the expected traces come from the policy itself. */
function lineOf(text: string, rule: string): number {
  const i = text.split('\n').findIndex((l) => l.trim() === rule);
  if (i < 0) throw new Error(`no line ${rule}`);
  return i + 1;
}

describe('devices command', () => {
  let fake: FakeSysfs;
  let state: string;

  beforeEach(async () => {
    fake = await FakeSysfs.create();
    state = mkdtempSync(join(tmpdir(), 'portcullis-devices-'));
    await fake.plug({ port: '1-1', ...KEYBOARD });
    // Plugged while the agent holds the bus closed: present, not authorized.
    await fake.writeAttr('usb1', 'authorized_default', '0');
    await fake.plug({ port: '1-2', ...FLASH });
  });

  afterEach(async () => {
    await fake.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  async function devices(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s) };
    try {
      return { code: await devicesCommand(['--state', state, '--sysfs-root', fake.root, ...argv], io, { now: () => NOW }), out, err };
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      return { code: e.exitCode, out, err: `${err}${e.message}\n` };
    }
  }

  function parseLines(out: string): JsonLine[] {
    return out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonLine);
  }

  async function enrollWith(rules: string, exceptions: unknown[] = []): Promise<void> {
    await saveIdentity(state, { serverUrl: 'https://portcullis.example:8443', agentId: 'agt_Fin1', secret: 's3cr3t-Zq8vLw2PnR7kT4xY', group: 'finance', caCertPem: CA_PEM, signingKeys: SIGNING_KEYS, enrolledAt: '2026-11-25T09:00:00Z' });
    const doc = buildPolicyDocument({ ...STARTER_POLICY_INPUT, rules, exceptions } as typeof STARTER_POLICY_INPUT, { group: 'finance', version: 5, createdAt: '2026-11-25T09:00:00Z', createdBy: 'admin@ministry' });
    const signed = signPolicy(doc, KEY_ID, (payload) => cryptoSign(null, payload, KEY.privateKey));
    const stored = await new PolicyCache(state, 'finance').store(signed, 0, 'finance', ed25519Verifier(SIGNING_KEYS));
    expect(stored.ok).to.equal(true);
  }

  it('not enrolled: decides by the built-in policy, keyboard allowed and flash drive blocked, with their lines', async () => {
    const rules = builtInPolicy().rules;
    const r = await devices('--json');
    expect(r).to.deep.include({ code: 0, err: '' });
    const lines = parseLines(r.out);
    // Root hubs are not listed.
    expect(lines.map((l) => l.name)).to.deep.equal(['1-1', '1-2']);
    const [keyboard, flash] = lines;
    expect(keyboard).to.deep.include({ label: 'keyboard', authorized: true });
    expect(keyboard?.device).to.deep.include({ id: '046d:c31c', interfaces: ['03:01:01'] });
    expect(keyboard?.decision).to.deep.equal({
      target: 'allow',
      source: 'rule',
      line: lineOf(rules, 'allow with-interface equals { 03:*:* }'),
      // As USBGuard prints it: a one-item `equals` set loses its braces.
      rule: printRule(parseRule('allow with-interface equals { 03:*:* }')),
      exceptionId: null,
      reason: `rule at line ${lineOf(rules, 'allow with-interface equals { 03:*:* }')}`,
      conditionsNotMet: [],
    });
    expect(flash).to.deep.include({ label: 'USB flash drive', authorized: false });
    expect(flash?.device).to.deep.include({ id: '0781:5567', serial: '4C530001230523112463' });
    expect(flash?.decision).to.deep.include({ target: 'block', source: 'rule', line: lineOf(rules, 'block with-interface one-of { 08:*:* }'), rule: printRule(parseRule('block with-interface one-of { 08:*:* }')) });
  });

  it('prints a block per device for people, saying which policy decides', async () => {
    const rules = builtInPolicy().rules;
    const r = await devices();
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^Policy in force: the built-in policy \(this computer is not enrolled\)\n/);
    const blockLine = lineOf(rules, 'block with-interface one-of { 08:*:* }');
    expect(r.out).to.include(
      [
        '1-2: SanDisk Cruzer Blade — USB flash drive',
        '  id:             0781:5567',
        '  serial:         4C530001230523112463',
        '  interfaces:     08:06:50',
        '  authorized now: no',
        '  decision:       block',
        `  trace:          rule at line ${blockLine}: block with-interface one-of { 08:*:* }`,
      ].join('\n'),
    );
    expect(r.out).to.include('1-1: Logitech USB Keyboard — keyboard\n');
    expect(r.out).to.include('  serial:         (none)\n');
    expect(r.out).to.include('  authorized now: yes\n');
    expect(r.out).not.to.include('usb1');
  });

  it('enrolled: decides by the cached signed policy, with its lines, unmet conditions and exceptions', async () => {
    await fake.plug({ port: '1-3', ...WEBCAM });
    await enrollWith(FINANCE_RULES, [{ id: 'x-17', rule: 'allow id 04f2:b604', reason: 'video call', until: '2026-12-01T00:00:00Z', agentId: null }]);
    const r = await devices('--json');
    expect(r).to.deep.include({ code: 0, err: '' });
    const byName = new Map(parseLines(r.out).map((l) => [l.name, l.decision]));
    expect(byName.get('1-1')).to.deep.include({ target: 'allow', source: 'rule', line: 4, conditionsNotMet: [] });
    // Line 2 names this very drive, but its condition does not hold: the trace says so.
    expect(byName.get('1-2')).to.deep.include({ target: 'block', source: 'rule', line: 3, conditionsNotMet: [2] });
    expect(byName.get('1-3')).to.deep.equal({
      target: 'allow',
      source: 'exception',
      line: null,
      rule: 'allow id 04f2:b604',
      exceptionId: 'x-17',
      reason: 'exception x-17',
      conditionsNotMet: [],
    });

    const human = await devices();
    expect(human.out).to.match(/^Policy in force: group finance, version 5 \(signed, cached from the server\)\n/);
    expect(human.out).to.include('  conditions not met at line: 2\n');
    expect(human.out).to.include('  trace:          exception x-17: allow id 04f2:b604\n  exception:      x-17\n');
  });

  it('enrolled but with no policy yet: the built-in policy, and says why', async () => {
    await saveIdentity(state, { serverUrl: 'https://portcullis.example:8443', agentId: 'agt_Fin1', secret: 's3cr3t-Zq8vLw2PnR7kT4xY', group: 'finance', caCertPem: CA_PEM, signingKeys: SIGNING_KEYS, enrolledAt: '2026-11-25T09:00:00Z' });
    const r = await devices();
    expect(r.out).to.match(/^Policy in force: the built-in policy \(no policy received from the server yet\)\n/);
  });

  it('warns when the cached policy was tampered with, and shows the fallback', async () => {
    await enrollWith(FINANCE_RULES);
    writeFileSync(join(state, 'policy.json'), '{"document":{},"keyId":"x","signature":"AAAA"}');
    const r = await devices('--json');
    expect(r.code).to.equal(0);
    expect(r.err).to.match(/^devices: warning: the cached policy was refused \(policy\.json fails verification/);
    // policy.json.good still holds version 5, so its lines decide.
    expect(parseLines(r.out).find((l) => l.name === '1-2')?.decision.line).to.equal(3);
  });

  it('escapes control characters a device puts in its name', async () => {
    await fake.plug({ port: '1-4', vendor: '1234', product: '5678', productName: 'Evil\u001b[2JName', interfaces: ['03:01:01'] });
    const r = await devices();
    expect(r.out).to.include('Evil\\x1b[2JName');
    expect(r.out).not.to.include('\u001b');
  });

  it('reports a sysfs root that does not exist, exit 1, through the CLI', async () => {
    let err = '';
    const code = await run(['devices', '--state', state, '--sysfs-root', join(state, 'no-sysfs')], { stdout: () => undefined, stderr: (s) => (err += s) });
    expect(code).to.equal(1);
    expect(err).to.equal(`devices: cannot read the USB devices under ${join(state, 'no-sysfs')}: ENOENT\n`);
  });

  it('reports a broken identity, exit 1', async () => {
    writeFileSync(join(state, 'identity.json'), '{', { mode: 0o600 });
    const r = await devices();
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^devices: .*identity\.json is not valid JSON\n$/);
  });
});
