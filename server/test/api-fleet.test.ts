/** Enrollment tokens, agent enrollment and the agents API; secrets shown once, never logged. */
import { expect } from 'chai';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { SignedPolicy } from '@portcullis/shared';
import { hashSecret } from '../src/auth/secrets.js';
import { expectError, useApi, type Call } from './api-support.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

interface Enrolled {
  agentId: string;
  secret: string;
  group: string;
  serverTime: string;
  signingKeys: Array<{ keyId: string; publicKeyPem: string }>;
  policy: SignedPolicy | null;
}

interface AgentView {
  id: string;
  group: string;
  hostname: string;
  status: string;
  latestVersion: number | null;
  appliedVersion: number | null;
  drift: boolean;
  revokedAt: string | null;
}

describe('REST API fleet', () => {
  const api = useApi();
  let admin: string;
  let viewer: string;
  /** Every response of this file but enrollments, searched for secrets at the end. */
  const responses: string[] = [];
  const enrollBodies: string[] = [];
  /** Every enrollment token and agent secret handed out. */
  const secrets: string[] = [];

  const call = async (method: InjectOptions['method'], url: string, options: Call = {}): Promise<LightMyRequestResponse> => {
    const res = await api().call(method, url, options);
    (url === '/api/v1/enroll' ? enrollBodies : responses).push(res.body);
    return res;
  };
  const createToken = async (body: Record<string, unknown>): Promise<{ id: string; token: string; group: string; expiresAt: string }> => {
    const res = await call('POST', '/api/v1/enrollment-tokens', { token: admin, body });
    expect(res.statusCode, res.body).to.equal(201);
    const created = res.json() as { id: string; token: string; group: string; expiresAt: string };
    secrets.push(created.token);
    return created;
  };
  const enroll = async (token: string, patch: Record<string, unknown> = {}): Promise<LightMyRequestResponse> => {
    const body = { token, hostname: 'PC-FIN-01', machineId: '4c4c4544-0042-3510-8051-b4c04f4d3732', os: 'Windows 11 Pro 23H2', agentVersion: '0.1.0', ...patch };
    const res = await call('POST', '/api/v1/enroll', { body });
    if (res.statusCode === 201) secrets.push((res.json() as Enrolled).secret);
    return res;
  };
  const agents = async (query = ''): Promise<AgentView[]> => {
    const res = await call('GET', `/api/v1/agents${query}`, { token: viewer });
    expect(res.statusCode, res.body).to.equal(200);
    return (res.json() as { agents: AgentView[] }).agents;
  };

  before(async () => {
    admin = await api().session('admin');
    viewer = await api().session('viewer');
    for (const name of ['finance', 'legal']) await call('POST', '/api/v1/groups', { token: admin, body: { name } });
  });

  describe('enrollment tokens', () => {
    it('creates a token (201) shown once, valid 7 days by default; the list never shows it or its hash', async () => {
      const created = await createToken({ group: 'default' });
      expect(created.token).to.match(/^pct_[A-Za-z0-9_-]{43}$/);
      expect(created.id).to.match(/^tok_/);
      expect(created.expiresAt).to.equal(new Date(api().clock.now().getTime() + 7 * DAY_MS).toISOString());
      const list = await call('GET', '/api/v1/enrollment-tokens', { token: admin });
      const listed = (list.json() as { tokens: Array<Record<string, unknown>> }).tokens.find((t) => t.id === created.id);
      expect(listed).to.deep.equal({ id: created.id, group: 'default', createdAt: api().clock.now().toISOString(), createdBy: 'admin', expiresAt: created.expiresAt, revokedAt: null, uses: 0 });
      expect(list.body).to.not.include(created.token).and.not.include(hashSecret(created.token));
    });

    const lifetimes: Array<[string, number]> = [['30m', 30 * MINUTE_MS], ['24h', DAY_MS], ['2w', 14 * DAY_MS], ['90d', 90 * DAY_MS]];
    for (const [expiresIn, ms] of lifetimes) {
      it(`accepts expiresIn "${expiresIn}"`, async () => {
        const created = await createToken({ group: 'finance', expiresIn });
        expect(created.expiresAt).to.equal(new Date(api().clock.now().getTime() + ms).toISOString());
      });
    }

    const badLifetimes = ['91d', '13w', '2161h', 'soon', '0d', '-1d', '7', 'd', '1.5d', '7 d', ''];
    for (const expiresIn of badLifetimes) {
      it(`refuses expiresIn "${expiresIn}" with 400`, async () => {
        expectError(await call('POST', '/api/v1/enrollment-tokens', { token: admin, body: { group: 'finance', expiresIn } }), 400);
      });
    }

    it('refuses an unknown group (404), a bad group name or an unknown field (400)', async () => {
      expectError(await call('POST', '/api/v1/enrollment-tokens', { token: admin, body: { group: 'nowhere' } }), 404);
      expectError(await call('POST', '/api/v1/enrollment-tokens', { token: admin, body: { group: 'No Where' } }), 400);
      expectError(await call('POST', '/api/v1/enrollment-tokens', { token: admin, body: { group: 'finance', uses: 1 } }), 400);
    });

    it('revokes a token (204, audited): enrolling with it then gets 401', async () => {
      const created = await createToken({ group: 'finance' });
      const res = await call('DELETE', `/api/v1/enrollment-tokens/${created.id}`, { token: admin });
      expect(res.statusCode, res.body).to.equal(204);
      expectError(await enroll(created.token), 401);
      expectError(await call('DELETE', '/api/v1/enrollment-tokens/tok_nothing', { token: admin }), 404);
      const actions = (await api().store.listAudit(20)).map((a) => [a.action, a.target]);
      expect(actions).to.deep.include.members([['token.create', created.id], ['token.revoke', created.id]]);
    });
  });

  describe('enrolling', () => {
    let first: Enrolled;

    it('enrolls with a good token: 201 with the identity, the signing key and the signed policy', async () => {
      const { token, id } = await createToken({ group: 'default' });
      const res = await enroll(token);
      expect(res.statusCode, res.body).to.equal(201);
      first = res.json() as Enrolled;
      expect(first.agentId).to.match(/^agt_/);
      expect(first.secret).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(first.group).to.equal('default');
      expect(first.serverTime).to.equal(api().clock.now().toISOString());
      expect(first.signingKeys).to.have.length(1);
      expect(first.signingKeys[0]?.keyId).to.equal(api().keyId);
      expect(api().verify(first.policy)).to.deep.include({ group: 'default', version: 1 });
      const agent = await api().store.getAgent(first.agentId);
      expect(agent).to.deep.include({ group: 'default', hostname: 'PC-FIN-01', secretHash: hashSecret(first.secret), revokedAt: null });
      const tokens = (await call('GET', '/api/v1/enrollment-tokens', { token: admin })).json() as { tokens: Array<{ id: string; uses: number }> };
      expect(tokens.tokens.find((t) => t.id === id)?.uses).to.equal(1);
    });

    it('stores an agent.enrolled event without the secret', async () => {
      const [event] = await api().store.queryEvents({ type: 'agent.enrolled', limit: 1 });
      expect(event).to.deep.include({ agentId: null, group: 'default', type: 'agent.enrolled', severity: 'info' });
      expect(event?.data).to.deep.include({ agentId: first.agentId, hostname: 'PC-FIN-01', replaced: [] });
      expect(JSON.stringify(event)).to.not.include(first.secret);
    });

    it('gives a group with no policy yet a null policy', async () => {
      const { token } = await createToken({ group: 'legal' });
      const res = await enroll(token, { hostname: 'pc-legal-01', machineId: 'legal-machine-0001' });
      expect(res.statusCode, res.body).to.equal(201);
      expect((res.json() as Enrolled).policy).to.equal(null);
    });

    it('replaces the old identity when the same machine enrolls again', async () => {
      const { token } = await createToken({ group: 'finance' });
      const res = await enroll(token, { hostname: 'PC-FIN-01-new' });
      expect(res.statusCode, res.body).to.equal(201);
      const second = res.json() as Enrolled;
      expect((await api().store.getAgent(first.agentId))?.revokedAt).to.equal(api().clock.now().toISOString());
      expect((await agents()).map((a) => a.id)).to.include(second.agentId).and.not.include(first.agentId);
      const [event] = await api().store.queryEvents({ type: 'agent.enrolled', limit: 1 });
      expect(event?.data).to.deep.include({ agentId: second.agentId, replaced: [first.agentId] });
    });

    it('refuses an expired token with 401', async () => {
      const { token } = await createToken({ group: 'finance', expiresIn: '30m' });
      api().clock.advance(30 * MINUTE_MS);
      expectError(await enroll(token, { machineId: 'expired-machine-01' }), 401);
      expectError(await enroll('pct_not-a-token-at-all', { machineId: 'expired-machine-01' }), 401);
    });

    const badBodies: Array<[string, Record<string, unknown>]> = [
      ['a hostname with a space', { hostname: 'PC FIN' }],
      ['a hostname starting with a dash', { hostname: '-pc' }],
      ['a hostname with a slash', { hostname: 'pc/../01' }],
      ['an empty hostname', { hostname: '' }],
      ['a machine id too short', { machineId: 'abc' }],
      ['a machine id with a semicolon', { machineId: 'abcdefgh;drop' }],
      ['a machine id with spaces', { machineId: 'abcd efgh ijkl' }],
      ['an agent version with a space', { agentVersion: '0.1 beta' }],
      ['an unknown field', { role: 'admin' }],
      ['no os', { os: undefined }],
    ];
    for (const [name, patch] of badBodies) {
      it(`refuses ${name} with 400`, async () => {
        const { token } = await createToken({ group: 'finance' });
        expectError(await enroll(token, patch), 400);
      });
    }
  });

  describe('agents', () => {
    before(async () => {
      const { store, clock } = api();
      const token = (await createToken({ group: 'legal' })).token;
      for (const [hostname, machineId] of [['pc-legal-02', 'legal-machine-0002'], ['pc-legal-03', 'legal-machine-0003']]) {
        expect((await enroll(token, { hostname, machineId })).statusCode).to.equal(201);
      }
      const now = clock.now().getTime();
      const [l1, l2] = await store.listAgents({ group: 'legal' });
      await store.touchAgent(l1?.id ?? '', new Date(now - 30_000).toISOString()); // online
      await store.touchAgent(l2?.id ?? '', new Date(now - 5 * MINUTE_MS).toISOString()); // stale
      // pc-legal-03 has never connected: offline
    });

    it('lists agents, filtered by group, hostname (any case, part of it) and status, without secret hashes', async () => {
      expect((await agents('?group=legal')).map((a) => [a.hostname, a.status])).to.deep.equal([
        ['pc-legal-01', 'online'],
        ['pc-legal-02', 'stale'],
        ['pc-legal-03', 'offline'],
      ]);
      expect((await agents('?hostname=LEGAL-0')).map((a) => a.hostname)).to.deep.equal(['pc-legal-01', 'pc-legal-02', 'pc-legal-03']);
      expect((await agents('?group=legal&status=stale')).map((a) => a.hostname)).to.deep.equal(['pc-legal-02']);
      expect((await agents('?status=revoked')).map((a) => a.hostname)).to.deep.equal(['PC-FIN-01']);
      expect(await agents('?group=lab')).to.deep.equal([]);
      expect(responses.join('\n')).to.not.match(/secretHash/);
      expectError(await call('GET', '/api/v1/agents?status=gone', { token: viewer }), 400);
      expectError(await call('GET', '/api/v1/agents?colour=red', { token: viewer }), 400);
    });

    it('shows one agent with its inventory and its policy drift', async () => {
      const { store, clock } = api();
      const [agent] = await store.listAgents({ hostname: 'pc-legal-01' });
      const id = agent?.id ?? '';
      const inventory = { usb: [{ id: '046d:c31c', name: 'Keyboard' }], os: 'Windows 11' };
      await store.putInventory(id, inventory, clock.now().toISOString());
      const detail = async () => (await call('GET', `/api/v1/agents/${id}`, { token: viewer })).json() as { agent: AgentView; inventory: unknown };
      // The group has no policy yet: nothing to drift from.
      expect((await detail()).agent).to.deep.include({ latestVersion: null, appliedVersion: null, drift: false });
      await call('PUT', '/api/v1/groups/legal/policy', { token: admin, body: { rules: 'allow', comment: 'test' } });
      const drifting = await detail();
      expect(drifting.agent).to.deep.include({ id, hostname: 'pc-legal-01', group: 'legal', latestVersion: 1, appliedVersion: null, drift: true });
      expect(drifting.agent).to.not.have.property('secretHash');
      expect(drifting.inventory).to.deep.equal({ inventory, updatedAt: clock.now().toISOString() });
      await store.setAgentApplied(id, 1);
      expect((await detail()).agent).to.deep.include({ latestVersion: 1, appliedVersion: 1, drift: false });
      await call('PUT', '/api/v1/groups/legal/policy', { token: admin, body: { rules: 'block', comment: 'test' } });
      expect((await detail()).agent).to.deep.include({ latestVersion: 2, appliedVersion: 1, drift: true });
      expectError(await call('GET', '/api/v1/agents/agt_nobody', { token: viewer }), 404);
    });

    it('moves an agent to another group (admin, audited, the hub told)', async () => {
      const [agent] = await api().store.listAgents({ hostname: 'pc-legal-03' });
      const id = agent?.id ?? '';
      const res = await call('PUT', `/api/v1/agents/${id}/group`, { token: admin, body: { group: 'finance' } });
      expect(res.statusCode, res.body).to.equal(200);
      expect((res.json() as { agent: AgentView }).agent).to.deep.include({ id, group: 'finance' });
      expect(api().changed).to.include(id);
      const [last] = await api().store.listAudit(1);
      expect(last).to.deep.include({ actor: 'admin', action: 'agent.move', target: id });
      expect(last?.details).to.deep.include({ from: 'legal', to: 'finance' });
      expectError(await call('PUT', `/api/v1/agents/${id}/group`, { token: admin, body: { group: 'nowhere' } }), 404);
      expectError(await call('PUT', '/api/v1/agents/agt_nobody/group', { token: admin, body: { group: 'finance' } }), 404);
      expectError(await call('PUT', `/api/v1/agents/${id}/group`, { token: await api().session('security'), body: { group: 'legal' } }), 403);
    });

    it('sends a command to a connected agent (202, audited) and refuses one to an agent that is not (409)', async () => {
      const [agent] = await api().store.listAgents({ hostname: 'pc-legal-01' });
      const id = agent?.id ?? '';
      expectError(await call('POST', `/api/v1/agents/${id}/commands`, { token: admin, body: { name: 'rescan' } }), 409);
      api().connected.add(id);
      const res = await call('POST', `/api/v1/agents/${id}/commands`, { token: admin, body: { name: 'rescan' } });
      expect(res.statusCode, res.body).to.equal(202);
      expect(api().commands.at(-1)).to.deep.include({ agentId: id, name: 'rescan', actor: 'admin', commandId: (res.json() as { commandId: string }).commandId });
      expect((await api().store.listAudit(1))[0]).to.deep.include({ action: 'agent.command', target: id });
      expectError(await call('POST', `/api/v1/agents/${id}/commands`, { token: admin, body: { name: 'format-disk' } }), 400);
    });

    it('revokes an agent (204, audited, the hub told): gone from the list, listed as revoked', async () => {
      const [agent] = await api().store.listAgents({ hostname: 'pc-legal-02' });
      const id = agent?.id ?? '';
      expect((await call('POST', `/api/v1/agents/${id}/revoke`, { token: admin })).statusCode).to.equal(204);
      expect(api().changed.at(-1)).to.equal(id);
      expect((await api().store.listAudit(1))[0]).to.deep.include({ actor: 'admin', action: 'agent.revoke', target: id });
      expect((await agents('?group=legal')).map((a) => a.id)).to.not.include(id);
      expect((await agents('?status=revoked')).map((a) => a.id)).to.include(id);
      api().connected.add(id);
      expectError(await call('POST', `/api/v1/agents/${id}/commands`, { token: admin, body: { name: 'rescan' } }), 404);
      expectError(await call('POST', '/api/v1/agents/agt_nobody/revoke', { token: admin }), 404);
    });
  });

  describe('secrets', () => {
    it('shows enrollment tokens and agent secrets only in their one response, and never logs them', async () => {
      expect(secrets.length).to.be.above(10);
      const logged = JSON.stringify(api().logs);
      const audit = JSON.stringify(await api().store.listAudit(1000));
      const events = JSON.stringify(await api().store.queryEvents({ limit: 1000 }));
      for (const secret of secrets) {
        expect(logged, 'the server log').to.not.include(secret).and.not.include(hashSecret(secret));
        expect(audit, 'the audit trail').to.not.include(secret);
        expect(events, 'the event log').to.not.include(secret);
        const shown = [...responses, ...enrollBodies].filter((body) => body.includes(secret));
        expect(shown, 'responses showing it').to.have.length(1);
      }
    });
  });
});
