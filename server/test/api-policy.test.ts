/** Groups and their signed policies: save, version, publish, refuse bad input, simulate. */
import { expect } from 'chai';
import type { SignedPolicy } from '@portcullis/shared';
import { MAX_BODY_BYTES } from '../src/api/app.js';
import { expectError, seedAgent, useApi } from './api-support.js';

const RULES = 'allow id 1d6b:*\nallow with-interface equals { 03:*:* }\n';

interface Simulation {
  group: string;
  evaluatedAt: string;
  totals: Record<string, number>;
  devices: Array<{ key: string; label: string; target: string; line: number | null; rule: string | null; computers: string[] }>;
}

describe('REST API groups and policies', () => {
  const api = useApi();
  let admin: string;
  let viewer: string;
  before(async () => {
    admin = await api().session('admin');
    viewer = await api().session('viewer');
  });
  // Every save needs a comment (api-policy-extra.test.ts covers it); a body that is not an object is sent as it is.
  const withComment = (body: unknown): unknown =>
    typeof body === 'object' && body !== null && !Array.isArray(body) && !('comment' in body) ? { ...body, comment: 'test save' } : body;
  const put = (group: string, body: unknown) => api().call('PUT', `/api/v1/groups/${group}/policy`, { token: admin, body: withComment(body) });
  const versionsOf = async (group: string): Promise<number[]> => {
    const res = await api().call('GET', `/api/v1/groups/${group}/policy/versions`, { token: viewer });
    expect(res.statusCode, res.body).to.equal(200);
    return (res.json() as { versions: Array<{ version: number }> }).versions.map((v) => v.version);
  };

  describe('groups', () => {
    it('creates a group (201), audited, and lists it with no policy yet beside default', async () => {
      const res = await api().call('POST', '/api/v1/groups', { token: admin, body: { name: 'lab', description: 'Computer lab' } });
      expect(res.statusCode, res.body).to.equal(201);
      expect(res.json()).to.deep.equal({ name: 'lab', description: 'Computer lab' });
      const list = await api().call('GET', '/api/v1/groups', { token: viewer });
      const groups = (list.json() as { groups: Array<{ name: string; policyVersion: number | null }> }).groups;
      expect(groups.map((g) => [g.name, g.policyVersion])).to.deep.equal([
        ['default', 1],
        ['lab', null],
      ]);
      const [last] = await api().store.listAudit(1);
      expect(last).to.deep.include({ actor: 'admin', action: 'group.create', target: 'lab' });
    });

    it('refuses a duplicate with 409 and a bad name with 400', async () => {
      expectError(await api().call('POST', '/api/v1/groups', { token: admin, body: { name: 'lab' } }), 409);
      for (const name of ['Lab', '-lab', 'lab/x', 'a'.repeat(65), '']) {
        expectError(await api().call('POST', '/api/v1/groups', { token: admin, body: { name } }), 400);
      }
    });
  });

  describe('saving a policy', () => {
    it('answers 404 for the policy of a group that has none, and of a group that does not exist', async () => {
      expectError(await api().call('GET', '/api/v1/groups/lab/policy', { token: viewer }), 404);
      expectError(await api().call('GET', '/api/v1/groups/nowhere/policy', { token: viewer }), 404);
      expectError(await put('nowhere', { rules: RULES }), 404);
      expect(await versionsOf('lab')).to.deep.equal([]);
    });

    it('signs each save as the next version (1, 2, 3), publishes it to the group and audits it', async () => {
      const saved: SignedPolicy[] = [];
      for (const version of [1, 2, 3]) {
        api().clock.advance(60_000);
        const res = await put('lab', { rules: RULES, implicitTarget: version === 3 ? 'reject' : 'block' });
        expect(res.statusCode, res.body).to.equal(200);
        const signed = res.json() as SignedPolicy;
        expect(Object.keys(signed).sort()).to.deep.equal(['document', 'keyId', 'signature']);
        expect(signed.keyId).to.equal(api().keyId);
        const doc = api().verify(signed);
        expect(doc).to.deep.include({ group: 'lab', version, rules: RULES, createdBy: 'admin', createdAt: api().clock.now().toISOString() });
        saved.push(signed);
      }
      expect(api().published).to.deep.equal(saved.map((signed) => ({ group: 'lab', signed })));
      expect(await versionsOf('lab')).to.deep.equal([3, 2, 1]);
      const current = await api().call('GET', '/api/v1/groups/lab/policy', { token: viewer });
      expect(current.json()).to.deep.equal(saved[2]);
      expect(api().verify(current.json()).implicitTarget).to.equal('reject');
      const audits = (await api().store.listAudit(3)).map((a) => [a.action, a.target, a.details.version]);
      expect(audits).to.deep.equal([
        ['policy.save', 'lab', 3],
        ['policy.save', 'lab', 2],
        ['policy.save', 'lab', 1],
      ]);
    });

    it('fills in the defaults the input leaves out (fail closed)', async () => {
      const doc = api().verify((await put('lab', { rules: RULES })).json());
      expect(doc).to.deep.include({ implicitTarget: 'block', presentDevices: 'apply-policy', compositeDevices: 'whole-device' });
      expect(doc.ports).to.deep.equal({ serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' });
    });

    it('signs compositeDevices: per-interface into the document when the admin asks for it', async () => {
      const res = await put('lab', { rules: RULES, compositeDevices: 'per-interface' });
      expect(res.statusCode, res.body).to.equal(200);
      expect(api().verify(res.json()).compositeDevices).to.equal('per-interface');
      expect((res.json() as SignedPolicy).document.compositeDevices).to.equal('per-interface');
    });

    it('documents the policy body of PUT and simulate in the OpenAPI document', async () => {
      const doc = (await api().call('GET', '/api/docs')).json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
      expect(doc.paths['/api/v1/groups/{group}/policy']?.put?.requestBody, 'PUT policy').to.not.equal(undefined);
      expect(doc.paths['/api/v1/groups/{group}/policy/simulate']?.post?.requestBody, 'simulate').to.not.equal(undefined);
    });

    it('lists versions without the document or the signature', async () => {
      const res = await api().call('GET', '/api/v1/groups/lab/policy/versions', { token: viewer });
      const [first] = (res.json() as { versions: Array<Record<string, unknown>> }).versions;
      expect(first).to.have.all.keys('group', 'version', 'keyId', 'createdAt', 'createdBy', 'comment');
    });

    it('gives 5 concurrent saves 5 distinct versions, with no 500', async () => {
      const before = (await versionsOf('lab'))[0] ?? 0;
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => put('lab', { rules: `${RULES}# save ${n}\n` })));
      for (const res of results) expect(res.statusCode, res.body).to.equal(200);
      const versions = results.map((r) => (r.json() as SignedPolicy).document.version).sort((a, b) => a - b);
      expect(versions).to.deep.equal([1, 2, 3, 4, 5].map((n) => before + n));
      expect((await versionsOf('lab')).slice(0, 5)).to.deep.equal([...versions].reverse());
    });
  });

  describe('refusing a bad policy', () => {
    let versions: number[];
    before(async () => {
      versions = await versionsOf('lab');
      api().published.length = 0;
    });

    it('a rule error: 400 with the path, line and column', async () => {
      const error = expectError(await put('lab', { rules: 'allow id 1d6b:*\nallow with-interfaze equals { 03:*:* }\n' }), 400);
      expect(error.code).to.equal('PORTCULLIS_ERR_POLICY_INVALID');
      expect(error.details).to.deep.equal([{ path: 'rules', line: 2, column: 7, message: "rules:2:7: unknown attribute 'with-interfaze'" }]);
    });

    it('an unknown field: 400 naming it, with a suggestion', async () => {
      const error = expectError(await put('lab', { rules: RULES, implicitTaget: 'allow' }), 400);
      expect(error.details).to.deep.equal([{ path: 'implicitTaget', message: 'unknown field; did you mean "implicitTarget"?' }]);
    });

    it('a compositeDevices the agents do not know: 400 naming it', async () => {
      const error = expectError(await put('lab', { rules: RULES, compositeDevices: 'per-port' }), 400);
      expect(JSON.stringify(error)).to.match(/compositeDevices/);
    });

    for (const field of ['version', 'group', 'createdBy', 'schema', 'createdAt']) {
      it(`the server-managed field "${field}": 400`, async () => {
        const error = expectError(await put('lab', { rules: RULES, [field]: field === 'version' ? 99 : 'x' }), 400);
        expect((error.details as Array<{ path: string; message: string }>)[0]).to.deep.include({ path: field });
        expect(JSON.stringify(error.details)).to.include('set by the server');
      });
    }

    const notObjects: Array<[string, string]> = [
      ['an array', '[{"rules":"allow"}]'],
      ['a string', '"allow id 1d6b:*"'],
      ['a number', '42'],
      ['null', 'null'],
      ['invalid JSON', '{"rules": "allow",'],
      ['an empty body', ''],
    ];
    for (const [name, text] of notObjects) {
      it(`a body that is ${name}: 400`, async () => {
        expectError(await put('lab', text), 400);
      });
    }

    it('a body over 2 MiB: 413', async () => {
      const text = JSON.stringify({ rules: `# ${'x'.repeat(MAX_BODY_BYTES)}\nallow\n` });
      const error = expectError(await put('lab', text), 413);
      expect(error.code).to.match(/^PORTCULLIS_ERR_/);
    });

    it('a policy under 2 MiB that is too large for one message to the agents: 400', async () => {
      const error = expectError(await put('lab', { rules: `# ${'x'.repeat(1024 * 1024)}\nallow\n` }), 400);
      expect(JSON.stringify(error.details)).to.match(/bytes/);
    });

    it('(after all the above) saved and published none of them', async () => {
      expect(await versionsOf('lab')).to.deep.equal(versions);
      expect(api().published).to.deep.equal([]);
    });
  });

  describe('simulating a policy', () => {
    const flash = { id: '0781:5567', name: 'Cruzer Blade', serial: '4C530001', interfaces: ['08:06:50'], hash: 'h-flash', connectType: 'hotplug' };
    const keyboard = { id: '046d:c31c', name: 'USB Keyboard', interfaces: ['03:01:01'], hash: 'h-kbd', connectType: 'hotplug' };
    const nic = { id: '0bda:8153', name: 'USB 10/100/1000 LAN', interfaces: ['ff:ff:00'], hash: 'h-nic', connectType: 'hotplug' };
    const camera = { id: '04a9:3218', name: 'Camera', interfaces: ['06:01:01'], hash: 'h-cam', connectType: 'hotplug' };
    const simulate = (group: string, body: unknown) => api().call('POST', `/api/v1/groups/${group}/policy/simulate`, { token: viewer, body });

    before(async () => {
      const { store, clock } = api();
      await api().call('POST', '/api/v1/groups', { token: admin, body: { name: 'finance' } });
      await seedAgent(store, { id: 'agt_fin2', group: 'finance', hostname: 'pc-fin-02' });
      await seedAgent(store, { id: 'agt_fin1', group: 'finance', hostname: 'pc-fin-01' });
      await seedAgent(store, { id: 'agt_lab1', group: 'lab', hostname: 'pc-lab-01' });
      const at = clock.now().toISOString();
      await store.recordUsbSeen('agt_fin1', [{ key: 'h-flash', device: flash }, { key: 'h-kbd', device: keyboard }], at);
      await store.recordUsbSeen('agt_fin2', [{ key: 'h-flash', device: flash }, { key: 'h-nic', device: nic }], at);
      // Seen only in another group: not part of finance's answer.
      await store.recordUsbSeen('agt_lab1', [{ key: 'h-cam', device: camera }], at);
      api().published.length = 0;
    });

    it("decides every device seen on the group's PCs, with totals, targets, lines and computers", async () => {
      const rules = '# finance\nallow id 0781:5567 serial "4C530001"\nblock with-interface one-of { 08:*:* }\nallow with-interface equals { 03:*:* }\n';
      const res = await simulate('finance', { rules, implicitTarget: 'reject' });
      expect(res.statusCode, res.body).to.equal(200);
      const sim = res.json() as Simulation;
      expect(sim.group).to.equal('finance');
      expect(sim.evaluatedAt).to.equal(api().clock.now().toISOString());
      expect(sim.totals).to.deep.equal({ allow: 2, block: 0, reject: 1, readonly: 0 });
      const byKey = Object.fromEntries(sim.devices.map((d) => [d.key, d]));
      expect(Object.keys(byKey).sort()).to.deep.equal(['h-flash', 'h-kbd', 'h-nic']);
      expect(byKey['h-flash']).to.deep.include({ target: 'allow', line: 2, computers: ['pc-fin-01', 'pc-fin-02'] });
      expect(byKey['h-flash']?.rule).to.match(/^allow id 0781:5567/);
      expect(byKey['h-kbd']).to.deep.include({ target: 'allow', line: 4, computers: ['pc-fin-01'] });
      expect(byKey['h-nic']).to.deep.include({ target: 'reject', line: null, rule: null, computers: ['pc-fin-02'] });
    });

    it('applies the temporary exceptions of the proposed policy before its rules, as agents do', async () => {
      const { clock } = api();
      const until = (ms: number) => new Date(clock.now().getTime() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const exceptions = [
        { id: 'x-audit', rule: 'allow id 0781:5567', reason: 'audit week', until: until(86_400_000), agentId: null },
        { id: 'x-old', rule: 'allow id 0bda:8153', reason: 'expired', until: until(-60_000), agentId: null },
      ];
      const res = await simulate('finance', { rules: 'block with-interface one-of { 08:*:* }\nallow with-interface equals { 03:*:* }\n', exceptions });
      expect(res.statusCode, res.body).to.equal(200);
      const byKey = Object.fromEntries((res.json() as Simulation).devices.map((d) => [d.key, d.target]));
      expect(byKey).to.deep.equal({ 'h-flash': 'allow', 'h-kbd': 'allow', 'h-nic': 'block' });
    });

    it('saves and publishes nothing', async () => {
      const before = await versionsOf('finance');
      await simulate('finance', { rules: 'block' });
      expect(await versionsOf('finance')).to.deep.equal(before);
      expect(api().published).to.deep.equal([]);
    });

    it('refuses bad rules (400, with line and column), a bad body (400) and an unknown group (404)', async () => {
      const error = expectError(await simulate('finance', { rules: 'allow\nallow id 12345:1\n' }), 400);
      expect((error.details as Array<{ path: string; line?: number }>)[0]).to.deep.include({ path: 'rules', line: 2 });
      expectError(await simulate('finance', { rules: 'allow', implicitTaget: 'allow' }), 400);
      expectError(await simulate('finance', '[]'), 400);
      expectError(await simulate('nowhere', { rules: 'allow' }), 404);
    });
  });
});
