/**
 * POST /api/v1/agents/:id/uninstall-code (issue 7): an admin gets the code that lets one PC's
 * agent be removed. The code must be the one the agent derives offline from its own secret, and
 * the request is audited without the code.
 */
import { createHash, createHmac } from 'node:crypto';
import { expect } from 'chai';
import { checkUninstallCode, type UninstallMac } from '@portcullis/shared';
import { uninstallMac } from '../src/api/routes/agent-routes.js';
import { HOUR_MS, expectError, useApi } from './api-support.js';

interface Issued {
  agentId: string;
  hostname: string;
  code: string;
  validUntil: string;
}

/** The agent's side: the key is SHA-256 of the secret in its identity file. */
function agentMac(secret: string): UninstallMac {
  const key = createHash('sha256').update(secret, 'utf8').digest();
  return (message) => createHmac('sha256', key).update(message, 'utf8').digest();
}

describe('REST API uninstall codes', () => {
  const api = useApi();
  let admin: string;
  let agentId: string;
  let secret: string;
  const path = () => `/api/v1/agents/${agentId}/uninstall-code`;

  before(async () => {
    admin = await api().session('admin');
    const token = await api().call('POST', '/api/v1/enrollment-tokens', { token: admin, body: { group: 'default' } });
    expect(token.statusCode, token.body).to.equal(201);
    const enrolled = await api().call('POST', '/api/v1/enroll', {
      body: { token: (token.json() as { token: string }).token, hostname: 'PC-HR-07', machineId: 'machine-hr-07', os: 'Ubuntu 24.04', agentVersion: '0.1.0' },
    });
    expect(enrolled.statusCode, enrolled.body).to.equal(201);
    ({ agentId, secret } = enrolled.json() as { agentId: string; secret: string });
  });

  it('gives an admin the code the agent derives from its own secret, valid to the end of the next UTC day (201)', async () => {
    const res = await api().call('POST', path(), { token: admin });
    expect(res.statusCode, res.body).to.equal(201);
    expect(res.headers['cache-control']).to.equal('no-store');
    const issued = res.json() as Issued;
    expect(Object.keys(issued).sort()).to.deep.equal(['agentId', 'code', 'hostname', 'validUntil']);
    expect(issued).to.include({ agentId, hostname: 'PC-HR-07', validUntil: '2026-11-27T00:00:00.000Z' });
    expect(issued.code).to.match(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    // The agent accepts it today, tomorrow, and no later.
    const now = api().clock.now().getTime();
    expect(checkUninstallCode(agentMac(secret), agentId, issued.code, new Date(now))).to.deep.equal({ ok: true, day: '2026-11-25' });
    expect(checkUninstallCode(agentMac(secret), agentId, issued.code, new Date('2026-11-26T23:59:59Z')).ok).to.equal(true);
    expect(checkUninstallCode(agentMac(secret), agentId, issued.code, new Date(issued.validUntil))).to.deep.include({ ok: false, reason: 'expired' });
  });

  it('audits who asked for which PC, never the code itself', async () => {
    const res = await api().call('POST', path(), { token: admin });
    const { code } = res.json() as Issued;
    const [entry] = await api().store.listAudit(1);
    expect(entry).to.deep.include({ actor: 'admin', action: 'agent.uninstall-code', target: agentId });
    expect(entry?.details).to.deep.include({ hostname: 'PC-HR-07', day: '2026-11-25', validUntil: '2026-11-27T00:00:00.000Z' });
    const everything = JSON.stringify(await api().store.listAudit(100)) + JSON.stringify(api().logs);
    expect(everything).to.not.contain(code);
    expect(everything).to.not.contain(code.replace(/-/g, ''));
  });

  it('gives the same code all day and a new one the next day', async () => {
    const first = (await api().call('POST', path(), { token: admin })).json() as Issued;
    const again = (await api().call('POST', path(), { token: admin })).json() as Issued;
    expect(again.code).to.equal(first.code);
    const start = api().clock.now().getTime();
    api().clock.advance(24 * HOUR_MS);
    try {
      // Sessions last 12 h: a fresh one for the next day.
      const next = (await api().call('POST', path(), { token: await api().session('admin') })).json() as Issued;
      expect(next.code).to.not.equal(first.code);
      expect(next.validUntil).to.equal('2026-11-28T00:00:00.000Z');
    } finally {
      api().clock.set(start);
    }
  });

  it('derives the key from the stored hash as the agent does from the secret', () => {
    const stored = createHash('sha256').update(secret, 'utf8').digest('hex');
    const message = `portcullis-uninstall:v1:${agentId}:2026-11-25`;
    expect(Buffer.from(uninstallMac(stored)(message)).toString('hex')).to.equal(Buffer.from(agentMac(secret)(message)).toString('hex'));
  });

  it('refuses a stored hash that is not SHA-256 hex rather than keying the MAC with part of it', () => {
    for (const bad of ['', 'zz'.repeat(32), 'AB'.repeat(32), 'ab'.repeat(31)]) expect(() => uninstallMac(bad), bad).to.throw(/not SHA-256 hex/);
  });

  const refused: Array<{ name: string; id: () => string; body?: unknown; status: number }> = [
    // nobody by that id
    { name: 'an unknown agent', id: () => 'agt_nobody01', status: 404 },
    // an id longer than any agent id
    { name: 'an over-long id', id: () => `agt_${'x'.repeat(80)}`, status: 400 },
    // the request takes no body: a body is a mistake, not ignored
    { name: 'a request with a body', id: () => agentId, body: { day: '2026-11-30' }, status: 400 },
  ];
  for (const row of refused) {
    it(`refuses ${row.name} (${row.status}) and audits nothing`, async () => {
      const before = (await api().store.listAudit(1))[0]?.id;
      const res = await api().call('POST', `/api/v1/agents/${encodeURIComponent(row.id())}/uninstall-code`, { token: admin, ...(row.body === undefined ? {} : { body: row.body }) });
      expectError(res, row.status);
      expect((await api().store.listAudit(1))[0]?.id).to.equal(before);
    });
  }

  it('refuses security and viewer (403): only an admin may open a PC to removal', async () => {
    for (const role of ['security', 'viewer'] as const) {
      const res = await api().call('POST', path(), { token: await api().session(role) });
      expect(expectError(res, 403).code).to.equal('PORTCULLIS_ERR_FORBIDDEN');
    }
  });

  it('refuses a revoked agent (404): it has no identity left to protect', async () => {
    expect((await api().call('POST', `/api/v1/agents/${agentId}/revoke`, { token: admin })).statusCode).to.equal(204);
    expectError(await api().call('POST', path(), { token: admin }), 404);
  });
});
