import { expect } from 'chai';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompiledPolicy,
  ErrorCodes,
  STARTER_POLICY_INPUT,
  buildPolicyDocument,
  parseRuleFile,
  prepareDevice,
  signPolicy,
  type Device,
  type PolicyDocument,
  type SignedPolicy,
} from '@portcullis/shared';
import { saveIdentity, loadIdentity, type AgentIdentity } from '../src/state/identity-store.js';
import { GOOD_POLICY_FILE, POLICY_FILE, PolicyCache, ed25519Verifier } from '../src/state/policy-cache.js';
import { StateError } from '../src/state/state-error.js';

const posix = process.platform !== 'win32';
const SECRET = 's3cr3t-Zq8vLw2PnR7kT4xY';

function ed25519(): { publicKeyPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

const SERVER_KEY = ed25519();
const OTHER_KEY = ed25519();
const KEY_ID = 'policy-2026';
/** Structure is all the identity store checks; TLS itself rejects a CA that is not one. */
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FGYWtlQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjO\nPQQDAjAaMRgwFgYDVQQDDA9Qb3J0Y3VsbGlzIENBMB4XDTI2\n-----END CERTIFICATE-----\n';

function identity(overrides: Partial<AgentIdentity> = {}): AgentIdentity {
  return {
    serverUrl: 'https://portcullis.example:8443',
    agentId: 'a-7f3c',
    secret: SECRET,
    group: 'default',
    caCertPem: CA_PEM,
    signingKeys: [{ keyId: KEY_ID, publicKeyPem: SERVER_KEY.publicKeyPem }],
    enrolledAt: '2026-11-25T10:00:00Z',
    ...overrides,
  };
}

function caught(fn: () => unknown): StateError {
  try {
    fn();
  } catch (err) {
    return err as StateError;
  }
  throw new Error('expected an error');
}

async function rejected(p: Promise<unknown>): Promise<StateError> {
  try {
    await p;
  } catch (err) {
    return err as StateError;
  }
  throw new Error('expected a rejection');
}

function writeRawIdentity(dir: string, value: unknown, mode = 0o600): void {
  const path = join(dir, 'identity.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value), { mode });
  chmodSync(path, mode);
}

const FLASH_DRIVE: Device = { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001230523112463', interfaces: ['08:06:50'] };
const KEYBOARD: Device = { id: '046d:c31c', name: 'USB Keyboard', interfaces: ['03:01:01', '03:00:00'] };

function decide(policy: PolicyDocument, device: Device): string {
  const compiled = new CompiledPolicy(parseRuleFile(policy.rules, 'policy'), policy.implicitTarget);
  return compiled.decide(prepareDevice(device), { now: new Date('2026-11-25T10:00:00Z'), utcOffsetMinutes: 0 }).target;
}

function doc(version: number, group = 'default', rules = STARTER_POLICY_INPUT.rules): PolicyDocument {
  return buildPolicyDocument({ ...STARTER_POLICY_INPUT, rules }, { group, version, createdAt: '2026-11-25T10:00:00Z', createdBy: 'admin@ministry' });
}

function signed(document: PolicyDocument, key: KeyObject = SERVER_KEY.privateKey, keyId = KEY_ID): SignedPolicy {
  return signPolicy(document, keyId, (payload) => cryptoSign(null, payload, key));
}

const verify = ed25519Verifier([{ keyId: KEY_ID, publicKeyPem: SERVER_KEY.publicKeyPem }]);

describe('state folder', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-state-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('identity store', () => {
    it('round-trips an identity', async () => {
      await saveIdentity(dir, identity());
      expect(await loadIdentity(dir)).to.deep.equal(identity());
    });

    it('creates the state folder 0700 and identity.json 0600, leaving no temporary file', async function () {
      if (!posix) this.skip();
      const state = join(dir, 'var', 'lib', 'portcullis');
      await saveIdentity(state, identity());
      expect(statSync(state).mode & 0o777).to.equal(0o700);
      expect(statSync(join(state, 'identity.json')).mode & 0o777).to.equal(0o600);
      expect(readdirSync(state)).to.deep.equal(['identity.json']);
    });

    it('replaces an existing identity atomically', async () => {
      await saveIdentity(dir, identity());
      await saveIdentity(dir, identity({ group: 'finance' }));
      expect((await loadIdentity(dir)).group).to.equal('finance');
      expect(readdirSync(dir)).to.deep.equal(['identity.json']);
    });

    const keyPem = SERVER_KEY.publicKeyPem;
    const x25519Pem = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const badFields: ReadonlyArray<{ name: string; value: Record<string, unknown>; field: string }> = [
      // Plain http would send the secret in clear text.
      { name: 'http server URL', value: { ...identity(), serverUrl: 'http://portcullis.example' }, field: 'serverUrl' },
      { name: 'server URL with the secret as password', value: { ...identity(), serverUrl: `https://a:${SECRET}@host` }, field: 'serverUrl' },
      { name: 'missing agent id', value: { ...identity(), agentId: undefined }, field: 'agentId' },
      { name: 'agent id with a space', value: { ...identity(), agentId: 'a 7f3c' }, field: 'agentId' },
      { name: 'secret too short', value: { ...identity(), secret: 'short' }, field: 'secret' },
      { name: 'secret not a string', value: { ...identity(), secret: 12345678901234567890 }, field: 'secret' },
      { name: 'empty group', value: { ...identity(), group: '' }, field: 'group' },
      { name: 'group on two lines', value: { ...identity(), group: 'a\nb' }, field: 'group' },
      { name: 'CA that is not a PEM certificate', value: { ...identity(), caCertPem: keyPem }, field: 'caCertPem' },
      { name: 'no signing keys', value: { ...identity(), signingKeys: [] }, field: 'signingKeys' },
      { name: 'signing key id with a space', value: { ...identity(), signingKeys: [{ keyId: 'a b', publicKeyPem: keyPem }] }, field: 'signingKeys[0].keyId' },
      // A key id pinned twice could verify with either key: ambiguous, refused.
      { name: 'duplicate key id', value: { ...identity(), signingKeys: [{ keyId: 'k', publicKeyPem: keyPem }, { keyId: 'k', publicKeyPem: keyPem }] }, field: 'signingKeys[1].keyId' },
      { name: 'signing key not PEM', value: { ...identity(), signingKeys: [{ keyId: 'k', publicKeyPem: 'nope' }] }, field: 'signingKeys[0].publicKeyPem' },
      { name: 'signing key not Ed25519', value: { ...identity(), signingKeys: [{ keyId: 'k', publicKeyPem: x25519Pem }] }, field: 'signingKeys[0].publicKeyPem' },
      { name: 'enrolledAt without a zone', value: { ...identity(), enrolledAt: '2026-11-25 10:00' }, field: 'enrolledAt' },
      { name: 'unknown field', value: { ...identity(), token: 'x' }, field: 'token' },
    ];
    for (const row of badFields) {
      it(`refuses ${row.name}, naming ${row.field}`, async () => {
        writeRawIdentity(dir, row.value);
        const err = await rejected(loadIdentity(dir));
        expect(err).to.be.instanceOf(StateError);
        expect(err.code).to.equal(ErrorCodes.STATE_INVALID);
        expect(err.code).to.equal('PORTCULLIS_ERR_STATE_INVALID');
        expect(err.field).to.equal(row.field);
        expect(err.message).to.contain(`"${row.field}"`);
        expect(err.message).not.to.contain(SECRET);
      });
    }

    it('saveIdentity refuses an invalid identity and writes nothing', async () => {
      const err = await rejected(saveIdentity(dir, identity({ agentId: '' })));
      expect(err.field).to.equal('agentId');
      expect(readdirSync(dir)).to.deep.equal([]);
    });

    for (const mode of [0o644, 0o640, 0o604]) {
      it(`refuses an identity file with mode ${mode.toString(8)} and says how to fix it`, async function () {
        if (!posix) this.skip();
        await saveIdentity(dir, identity());
        chmodSync(join(dir, 'identity.json'), mode);
        const err = await rejected(loadIdentity(dir));
        expect(err.code).to.equal(ErrorCodes.STATE_INVALID);
        expect(err.message).to.contain(`chmod 600 ${join(dir, 'identity.json')}`);
        expect(err.message).not.to.contain(SECRET);
      });
    }

    const leaks: ReadonlyArray<{ name: string; text: string }> = [
      // JSON.parse quotes the text around a syntax error: the secret must not ride along.
      { name: 'broken JSON next to the secret', text: `{"secret":"${SECRET}",}` },
      { name: 'a secret with a space in it', text: JSON.stringify({ ...identity(), secret: `${SECRET} x` }) },
      { name: 'the secret pasted into agentId', text: JSON.stringify({ ...identity(), agentId: `${SECRET} ${SECRET}` }) },
      { name: 'the secret as an unknown field name', text: JSON.stringify({ ...identity(), [SECRET]: 1 }) },
    ];
    for (const row of leaks) {
      it(`never puts the secret in an error message: ${row.name}`, async () => {
        writeRawIdentity(dir, row.text);
        const err = await rejected(loadIdentity(dir));
        expect(err.code).to.equal(ErrorCodes.STATE_INVALID);
        expect(err.message).not.to.contain(SECRET);
        expect(err.message).not.to.contain(SECRET.slice(0, 12));
      });
    }

    it('says to enroll when there is no identity', async () => {
      const err = await rejected(loadIdentity(dir));
      expect(err.code).to.equal(ErrorCodes.STATE_INVALID);
      expect(err.message).to.match(/not enrolled.*portcullis-agent enroll/);
    });
  });

  describe('ed25519Verifier', () => {
    const payload = new TextEncoder().encode('portcullis-policy-v1\n{}');

    it('verifies with the pinned key and answers false, never throwing, otherwise', () => {
      const sig = cryptoSign(null, payload, SERVER_KEY.privateKey);
      expect(verify(KEY_ID, payload, sig)).to.equal(true);
      expect(verify('unknown-key', payload, sig)).to.equal(false);
      expect(verify(KEY_ID, payload, cryptoSign(null, payload, OTHER_KEY.privateKey))).to.equal(false);
      expect(verify(KEY_ID, payload, new Uint8Array(3))).to.equal(false);
    });

    it('refuses a pinned key that is not an Ed25519 PEM when built', () => {
      const err = caught(() => ed25519Verifier([{ keyId: 'k', publicKeyPem: 'garbage' }]));
      expect(err.code).to.equal(ErrorCodes.STATE_INVALID);
      expect(err.field).to.equal('signingKeys[0].publicKeyPem');
    });
  });

  describe('policy cache', () => {
    const policyPath = (): string => join(dir, POLICY_FILE);
    const goodPath = (): string => join(dir, GOOD_POLICY_FILE);

    async function stored(cache: PolicyCache, s: SignedPolicy, current = 0): Promise<void> {
      const result = await cache.store(s, current, 'default', verify);
      expect(result, JSON.stringify(result)).to.include({ ok: true });
    }

    it('without a cached policy enforces the built-in default: flash drive blocked, keyboard allowed', async () => {
      const loaded = await new PolicyCache(dir).load(verify);
      expect(loaded).to.include({ source: 'built-in', tampered: null, signed: null });
      expect(loaded.policy).to.include({ group: 'default', version: 0, createdBy: 'built-in', implicitTarget: 'block' });
      expect(decide(loaded.policy, FLASH_DRIVE)).to.equal('block');
      expect(decide(loaded.policy, KEYBOARD)).to.equal('allow');
    });

    it('builds the built-in default for the group of the identity', async () => {
      const loaded = await new PolicyCache(dir, 'finance').load(verify);
      expect(loaded.policy.group).to.equal('finance');
    });

    it('stores a signed policy and loads it back, 0600, with a good copy and no temporary files', async () => {
      const cache = new PolicyCache(dir, 'default');
      const s = signed(doc(3, 'default', 'allow with-interface one-of { 08:*:* }\n'));
      await stored(cache, s);
      const loaded = await cache.load(verify);
      expect(loaded).to.include({ source: 'cache', tampered: null });
      expect(loaded.policy).to.deep.equal(s.document);
      expect(loaded.signed).to.deep.equal(s);
      expect(decide(loaded.policy, FLASH_DRIVE)).to.equal('allow');
      expect(readdirSync(dir).sort()).to.deep.equal([POLICY_FILE, GOOD_POLICY_FILE]);
      expect(readFileSync(goodPath(), 'utf8')).to.equal(readFileSync(policyPath(), 'utf8'));
      if (posix) {
        expect(statSync(policyPath()).mode & 0o777).to.equal(0o600);
        expect(statSync(goodPath()).mode & 0o777).to.equal(0o600);
      }
    });

    it('accepts the same version again (a re-delivery after reconnect)', async () => {
      const cache = new PolicyCache(dir);
      await stored(cache, signed(doc(2)));
      await stored(cache, signed(doc(2)), 2);
    });

    const tampers: ReadonlyArray<{ name: string; tamper: (text: string) => string; reason: RegExp }> = [
      // The classic: someone turns the storage block into an allow.
      { name: 'one byte of the rules changed', tamper: (t) => t.replace('block with-interface one-of { 08', 'allow with-interface one-of { 08'), reason: /policy\.json fails verification: the signature does not verify/ },
      { name: 'the version bumped', tamper: (t) => t.replace('"version":1', '"version":99'), reason: /signature does not verify/ },
      { name: 'a truncated file', tamper: (t) => t.slice(0, t.length / 2), reason: /policy\.json is not valid JSON/ },
      { name: 'the signature removed', tamper: (t) => JSON.stringify({ ...JSON.parse(t), signature: undefined }), reason: /not signed/ },
      { name: 're-signed with an unknown key', tamper: () => JSON.stringify(signed(doc(1, 'default', 'allow\n'), OTHER_KEY.privateKey, 'attacker')), reason: /key "attacker"/ },
      { name: 're-signed with another key under the pinned key id', tamper: () => JSON.stringify(signed(doc(1, 'default', 'allow\n'), OTHER_KEY.privateKey)), reason: /signature does not verify/ },
      // Validly signed, but for another group: copying a looser group's policy is tampering too.
      { name: 'replaced by a policy of another group', tamper: () => JSON.stringify(signed(doc(5, 'lab', 'allow\n'))), reason: /group "lab"/ },
      { name: 'not a signed policy at all', tamper: () => '[]', reason: /fails verification/ },
    ];
    for (const row of tampers) {
      it(`refuses a tampered policy.json (${row.name}) and keeps the last good policy`, async () => {
        const cache = new PolicyCache(dir, 'default');
        const good = signed(doc(1));
        await stored(cache, good);
        writeFileSync(policyPath(), row.tamper(readFileSync(policyPath(), 'utf8')));
        const loaded = await cache.load(verify);
        expect(loaded.tampered).to.match(row.reason);
        expect(loaded.source).to.equal('cache');
        expect(loaded.policy).to.deep.equal(good.document);
        expect(decide(loaded.policy, FLASH_DRIVE)).to.equal('block');
      });
    }

    it('falls back to the built-in default when policy.json is tampered and there is no good copy', async () => {
      const cache = new PolicyCache(dir, 'default');
      await stored(cache, signed(doc(4, 'default', 'allow\n')));
      unlinkSync(goodPath());
      writeFileSync(policyPath(), readFileSync(policyPath(), 'utf8').replace('"allow\\n"', '"allow \\n"'));
      const loaded = await cache.load(verify);
      expect(loaded.tampered).to.match(/signature does not verify/);
      expect(loaded).to.include({ source: 'built-in', signed: null });
      expect(loaded.policy.version).to.equal(0);
      expect(decide(loaded.policy, FLASH_DRIVE)).to.equal('block');
    });

    it('falls back to the built-in default when both copies are tampered', async () => {
      const cache = new PolicyCache(dir, 'default');
      await stored(cache, signed(doc(4)));
      writeFileSync(policyPath(), '{');
      writeFileSync(goodPath(), '{');
      const loaded = await cache.load(verify);
      expect(loaded.tampered).to.match(/not valid JSON/);
      expect(loaded.source).to.equal('built-in');
    });

    it('refuses an older signed policy put back in place of policy.json (rollback on disk)', async () => {
      const cache = new PolicyCache(dir, 'default');
      const v1 = signed(doc(1, 'default', 'allow\n'));
      const v2 = signed(doc(2));
      await stored(cache, v1);
      await stored(cache, v2, 1);
      writeFileSync(policyPath(), JSON.stringify(v1));
      const loaded = await cache.load(verify);
      expect(loaded.tampered).to.match(/version 1, older than the last good version 2/);
      expect(loaded.policy).to.deep.equal(v2.document);
    });

    it('treats a deleted policy.json beside a good copy as tampering, keeping the good copy', async () => {
      const cache = new PolicyCache(dir, 'default');
      const v1 = signed(doc(1));
      await stored(cache, v1);
      unlinkSync(policyPath());
      const loaded = await cache.load(verify);
      expect(loaded.tampered).to.match(/missing/);
      expect(loaded.policy).to.deep.equal(v1.document);
    });

    const refusals: ReadonlyArray<{ name: string; signed: () => unknown; current: number; reason: RegExp }> = [
      { name: 'a policy for another group', signed: () => signed(doc(5, 'lab')), current: 0, reason: /group "lab", this agent is in group "default"/ },
      // A replayed old policy carries a valid signature: only the version gives it away.
      { name: 'an older version', signed: () => signed(doc(2)), current: 3, reason: /version 2 is older than version 3/ },
      { name: 'a key id that is not pinned', signed: () => signed(doc(5), OTHER_KEY.privateKey, 'rogue'), current: 0, reason: /key "rogue"/ },
      { name: 'a signature by another key', signed: () => signed(doc(5), OTHER_KEY.privateKey), current: 0, reason: /does not verify/ },
      { name: 'an unsigned document', signed: () => ({ document: doc(5), keyId: KEY_ID }), current: 0, reason: /not signed/ },
      { name: 'a signed but altered document', signed: () => ({ ...signed(doc(5)), document: { ...doc(5), version: 6 } }), current: 0, reason: /does not verify/ },
    ];
    for (const row of refusals) {
      it(`store refuses ${row.name} and writes nothing`, async () => {
        const result = await new PolicyCache(dir).store(row.signed(), row.current, 'default', verify);
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.reason).to.match(row.reason);
        expect(existsSync(policyPath())).to.equal(false);
        expect(readdirSync(dir)).to.deep.equal([]);
      });
    }

    it('keeps the policy in force when a refused policy arrives', async () => {
      const cache = new PolicyCache(dir, 'default');
      const v3 = signed(doc(3));
      await stored(cache, v3);
      const result = await cache.store(signed(doc(2, 'default', 'allow\n')), 3, 'default', verify);
      expect(result.ok).to.equal(false);
      expect((await cache.load(verify)).policy).to.deep.equal(v3.document);
    });

    it('leaves no temporary files after many stores', async () => {
      const cache = new PolicyCache(dir, 'default');
      for (let v = 1; v <= 20; v++) await stored(cache, signed(doc(v)), v - 1);
      expect(readdirSync(dir).sort()).to.deep.equal([POLICY_FILE, GOOD_POLICY_FILE]);
      expect((await cache.load(verify)).policy.version).to.equal(20);
    });
  });
});
