/** The console's admin routes: audit search and verification, disabling users, server identity. */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRODUCT_VERSION } from '@portcullis/shared';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../src/api/app.js';
import { auditMatches, disableRefusal, roleRefusal } from '../src/api/routes/admin-extra-routes.js';
import { hashSecret, newSecret } from '../src/auth/secrets.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Role, Store } from '../src/store/store.js';
import { HOUR_MS, START, expectError, useApi } from './api-support.js';

const V1 = '/api/v1';

interface AuditView {
  id: number;
  actor: string;
  action: string;
  target: string;
  at: string;
}
interface SearchAnswer {
  records: AuditView[];
  nextCursor: string | null;
  scanned: number;
}
interface ChainView {
  ok: boolean;
  records?: number;
  firstBroken?: { id: number; reason: string };
}

describe('auditMatches', () => {
  const record = { actor: 'alice', action: 'user.create', at: '2026-11-25T10:00:00.000Z' };
  const rows: Array<[string, Parameters<typeof auditMatches>[1], boolean]> = [
    // no filter: everything
    ['empty filter', {}, true],
    ['same actor', { actor: 'alice' }, true],
    // actor is exact, not a substring: "ali" is another person
    ['actor prefix', { actor: 'ali' }, false],
    ['exact action', { action: 'user.create' }, true],
    // a family name matches every action of the family
    ['action family', { action: 'user' }, true],
    // …but not a family that merely starts with the same letters
    ['action near-prefix', { action: 'use' }, false],
    ['other action', { action: 'token' }, false],
    // since is inclusive, until exclusive, compared as instants whatever the zone
    ['since equal', { since: '2026-11-25T10:00:00Z' }, true],
    ['since later', { since: '2026-11-25T10:00:01Z' }, false],
    ['until equal', { until: '2026-11-25T14:00:00+04:00' }, false],
    ['until later', { until: '2026-11-25T10:00:01Z' }, true],
  ];
  for (const [name, filter, expected] of rows) {
    it(name, () => expect(auditMatches(record, filter)).to.equal(expected));
  }
});

describe('REST API admin extras', () => {
  const api = useApi();
  const tokens = {} as Record<Role, string>;

  before(async () => {
    const { store, clock } = api();
    // 30 records an hour apart from START: actors alternate, actions cycle through three.
    const actions = ['user.create', 'token.create', 'policy.save'];
    for (let i = 0; i < 30; i++) {
      clock.set(START + i * HOUR_MS);
      await store.appendAudit({ actor: i % 2 === 0 ? 'alice' : 'bob', action: actions[i % 3] as string, target: `t${i}`, details: {} }, clock.now().toISOString());
    }
    clock.set(START + 30 * HOUR_MS);
    for (const role of ['admin', 'security', 'viewer'] as const) tokens[role] = await api().session(role);
  });

  describe('access', () => {
    const routes: Array<[string, string, Role, unknown?]> = [
      ['GET', `${V1}/audit/search`, 'security'],
      ['GET', `${V1}/audit/verify`, 'admin'],
      ['PATCH', `${V1}/users/viewer`, 'admin', { disabled: false }],
      ['GET', `${V1}/server-info`, 'admin'],
    ];
    const rank: Record<Role, number> = { viewer: 1, security: 2, admin: 3 };
    for (const [method, url, lowest, body] of routes) {
      it(`${method} ${url} needs ${lowest}`, async () => {
        expectError(await api().call(method as 'GET', url, { body }), 401);
        for (const role of ['viewer', 'security', 'admin'] as const) {
          const res = await api().call(method as 'GET', url, { token: tokens[role], body });
          if (rank[role] < rank[lowest]) expect(expectError(res, 403).code, role).to.equal('PORTCULLIS_ERR_FORBIDDEN');
          else expect(res.statusCode, `${role}: ${res.body}`).to.equal(200);
        }
      });
    }
  });

  describe('GET /audit/search', () => {
    const search = async (query: string): Promise<SearchAnswer> => {
      const res = await api().call('GET', `${V1}/audit/search${query}`, { token: tokens.security });
      expect(res.statusCode, res.body).to.equal(200);
      return res.json() as SearchAnswer;
    };

    it('filters by actor and action family, newest first', async () => {
      const { records } = await search('?actor=alice&action=user');
      expect(records.length).to.be.greaterThan(0);
      for (const r of records) expect([r.actor, r.action]).to.deep.equal(['alice', 'user.create']);
      const ids = records.map((r) => r.id);
      expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    });

    it('keeps to the time window and stops reading at since', async () => {
      const since = new Date(START + 20 * HOUR_MS).toISOString();
      const until = new Date(START + 25 * HOUR_MS).toISOString();
      const answer = await search(`?since=${since}&until=${until}`);
      expect(answer.records.map((r) => r.target)).to.deep.equal(['t24', 't23', 't22', 't21', 't20']);
      expect(answer.nextCursor).to.equal(null);
      // It read the ten newer records and the one that ended the window, not the whole trail.
      expect(answer.scanned).to.be.lessThan(15);
    });

    it('pages with the cursor without losing or repeating a record', async () => {
      const seen: string[] = [];
      let cursor: string | null = '';
      for (let guard = 0; cursor !== null && guard < 20; guard++) {
        const answer: SearchAnswer = await search(`?actor=bob&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...answer.records.map((r) => r.target));
        cursor = answer.nextCursor;
      }
      expect(cursor).to.equal(null);
      expect(seen).to.have.length(15);
      expect(new Set(seen).size).to.equal(15);
    });

    it('refuses bad parameters', async () => {
      for (const query of ['?since=yesterday', '?action=User Create', '?limit=-1', '?cursor=abc', '?since=2026-13-45', '?colour=red']) {
        const res = await api().call('GET', `${V1}/audit/search${query}`, { token: tokens.admin });
        expect(expectError(res, 400).code, query).to.equal('PORTCULLIS_ERR_BAD_REQUEST');
      }
    });
  });

  describe('PATCH /users/:username', () => {
    it('disables a user, ends their sessions, audits it, and enables them again', async () => {
      const { store } = api();
      const session = await api().session('viewer');
      const res = await api().call('PATCH', `${V1}/users/viewer`, { token: tokens.admin, body: { disabled: true } });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.include({ username: 'viewer', role: 'viewer', disabled: true });
      expect((await store.getUser('viewer'))?.disabled).to.equal(true);
      expectError(await api().call('GET', `${V1}/me`, { token: session }), 401);
      const [last] = await store.listAudit(1);
      expect(last).to.include({ actor: 'admin', action: 'user.disable', target: 'viewer' });

      const back = await api().call('PATCH', `${V1}/users/viewer`, { token: tokens.admin, body: { disabled: false } });
      expect(back.json()).to.include({ disabled: false });
      expect((await store.listAudit(1))[0]).to.include({ action: 'user.enable', target: 'viewer' });
      tokens.viewer = await api().session('viewer');
    });

    it('does not audit a change that changes nothing', async () => {
      const before = (await api().store.listAudit(1))[0]?.id;
      const res = await api().call('PATCH', `${V1}/users/security`, { token: tokens.admin, body: { disabled: false } });
      expect(res.statusCode).to.equal(200);
      expect((await api().store.listAudit(1))[0]?.id).to.equal(before);
    });

    it('refuses an admin disabling themselves with 409', async () => {
      const err = expectError(await api().call('PATCH', `${V1}/users/admin`, { token: tokens.admin, body: { disabled: true } }), 409);
      expect(err.message).to.match(/your own/);
      expect((await api().store.getUser('admin'))?.disabled).to.equal(false);
    });

    it('changes a role, ends the user\u2019s sessions and audits it; refuses changing one\u2019s own role', async () => {
      const { store } = api();
      const session = await api().session('viewer');
      const res = await api().call('PATCH', `${V1}/users/viewer`, { token: tokens.admin, body: { role: 'security' } });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.include({ username: 'viewer', role: 'security', disabled: false });
      expect((await store.getUser('viewer'))?.role).to.equal('security');
      expectError(await api().call('GET', `${V1}/me`, { token: session }), 401);
      expect((await store.listAudit(1))[0]).to.deep.include({ action: 'user.role', target: 'viewer' });
      expect(JSON.stringify((await store.listAudit(1))[0])).to.contain('"to":"security"');
      await api().call('PATCH', `${V1}/users/viewer`, { token: tokens.admin, body: { role: 'viewer' } });
      tokens.viewer = await api().session('viewer');

      const own = expectError(await api().call('PATCH', `${V1}/users/admin`, { token: tokens.admin, body: { role: 'viewer' } }), 409);
      expect(own.message).to.match(/your own role/);
      expect((await store.getUser('admin'))?.role).to.equal('admin');
    });

    it('refuses bad input: unknown user, bad name, unknown or missing fields, an unknown role', async () => {
      expectError(await api().call('PATCH', `${V1}/users/nobody`, { token: tokens.admin, body: { disabled: true } }), 404);
      const bad: Array<[string, unknown]> = [
        ['Not A Name', { disabled: true }],
        ['viewer', {}],
        ['viewer', { disabled: 'yes' }],
        ['viewer', { disabled: true, colour: 'red' }],
        // not a role
        ['viewer', { role: 'root' }],
      ];
      for (const [name, body] of bad) {
        const res = await api().call('PATCH', `${V1}/users/${encodeURIComponent(name)}`, { token: tokens.admin, body });
        expect(expectError(res, 400).code, JSON.stringify(body)).to.equal('PORTCULLIS_ERR_BAD_REQUEST');
      }
    });
  });

  describe('GET /server-info', () => {
    it('answers nulls when the server was not told its URL', async () => {
      const res = await api().call('GET', `${V1}/server-info`, { token: tokens.admin });
      expect(res.json()).to.deep.equal({ url: null, caFingerprint256: null, agentVersion: PRODUCT_VERSION });
    });
  });
});

describe('roleRefusal', () => {
  const admin = { username: 'admin', role: 'admin' as const, disabled: false };
  const admin2 = { username: 'admin2', role: 'admin' as const, disabled: false };
  const admin2Off = { ...admin2, disabled: true };
  const sec = { username: 'sec', role: 'security' as const, disabled: false };
  const rows: Array<[string, string, typeof admin | typeof sec, 'admin' | 'security' | 'viewer', Array<typeof admin | typeof sec>, RegExp | null]> = [
    // an admin promotes or demotes someone else
    ['promote a security user', 'admin', sec, 'admin', [admin, sec], null],
    // nobody changes their own role, even to the same rank elsewhere
    ['own role', 'admin', admin, 'viewer', [admin, admin2], /your own role/],
    // one of two active admins may be demoted
    ['one of two admins', 'admin', admin2, 'security', [admin, admin2], null],
    // the last active admin keeps the role, whoever asks
    ['last active admin', 'admin2', admin, 'viewer', [admin, admin2Off], /last active/],
    // the same role is no change at all
    ['no change', 'admin', admin, 'admin', [admin], null],
  ];
  for (const [name, actor, target, role, users, expected] of rows) {
    it(name, () => {
      const refusal = roleRefusal(actor, target, role, users);
      if (expected === null) expect(refusal).to.equal(null);
      else expect(refusal).to.match(expected);
    });
  }
});

describe('disableRefusal', () => {
  const admin = { username: 'admin', role: 'admin' as const, disabled: false };
  const admin2 = { username: 'admin2', role: 'admin' as const, disabled: false };
  const admin2Off = { ...admin2, disabled: true };
  const sec = { username: 'sec', role: 'security' as const, disabled: false };
  const rows: Array<[string, string, typeof admin | typeof sec, boolean, Array<typeof admin | typeof sec>, RegExp | null]> = [
    // an ordinary user may be disabled by an admin
    ['other user', 'admin', sec, true, [admin, sec], null],
    // nobody disables themselves, even with other admins around
    ['self', 'admin', admin, true, [admin, admin2], /your own/],
    // another admin may go while one stays active
    ['one of two admins', 'admin', admin2, true, [admin, admin2], null],
    // the only active admin may not go, whoever asks (a race with a disable of the other)
    ['last active admin', 'admin2', admin, true, [admin, admin2Off], /last active/],
    // enabling is always allowed, and so is a no-op
    ['enable', 'admin', admin2Off, false, [admin, admin2Off], null],
    ['already disabled', 'admin', admin2Off, true, [admin, admin2Off], null],
  ];
  for (const [name, actor, target, disabled, users, expected] of rows) {
    it(name, () => {
      const refusal = disableRefusal(actor, target, disabled, users);
      if (expected === null) expect(refusal).to.equal(null);
      else expect(refusal).to.match(expected);
    });
  }
});

describe('REST API admin extras on a server with a URL, and a tampered database', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let token: string;
  const warnings: string[] = [];

  before(async function () {
    this.timeout(10_000);
    dir = await mkdtemp(join(tmpdir(), 'portcullis-admin-extra-'));
    store = await openSqliteStore(join(dir, 'portcullis.db'));
    await store.migrate();
    const at = new Date(START).toISOString();
    await store.createUser({ username: 'admin', role: 'admin', passwordHash: 'scrypt$unused' }, at);
    token = newSecret();
    await store.createSession({ tokenHash: hashSecret(token), username: 'admin', createdAt: at, expiresAt: new Date(START + HOUR_MS).toISOString() });
    app = await buildApi({
      store,
      clock: () => new Date(START),
      signer: { keyId: 'k', publicKeyPem: '', sign: () => '' },
      publisher: { publish: () => undefined, agentChanged: async () => undefined, sendCommand: () => null },
      logger: { info: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined },
      options: { sessionTtlHours: 1, secureCookies: true, publicUrl: 'https://portcullis.example.az:8443', caFingerprint256: 'AB:CD:EF' },
    });
    for (let i = 1; i <= 3; i++) await store.appendAudit({ actor: 'admin', action: 'user.create', target: `u${i}`, details: {} }, at);
    await store.ingestEvents(null, null, [{ seq: null, type: 'server.test', severity: 'info', occurredAt: at, data: { n: 1 } }], at);
  });
  after(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('GET /server-info tells the URL, the CA fingerprint and the agent version', async () => {
    expect((await get(`${V1}/server-info`)).json()).to.deep.equal({ url: 'https://portcullis.example.az:8443', caFingerprint256: 'AB:CD:EF', agentVersion: PRODUCT_VERSION });
  });

  it('GET /audit/verify reports both chains intact with their sizes', async () => {
    const res = await get(`${V1}/audit/verify`);
    expect(res.statusCode, res.body).to.equal(200);
    expect(res.json()).to.deep.equal({ auditTrail: { ok: true, records: 3 }, eventLog: { ok: true, records: 1 }, checkedAt: new Date(START).toISOString() });
    expect(warnings).to.deep.equal([]);
  });

  it('GET /audit/verify names the first altered record of each chain', async () => {
    const db = new BetterSqlite3(join(dir, 'portcullis.db'));
    try {
      expect(db.prepare(`UPDATE audit SET actor = 'someone-else' WHERE id = 2`).run().changes).to.equal(1);
      expect(db.prepare(`UPDATE events SET data = '{"n":2}' WHERE id = 1`).run().changes).to.equal(1);
    } finally {
      db.close();
    }
    const body = (await get(`${V1}/audit/verify`)).json() as { auditTrail: ChainView; eventLog: ChainView };
    expect(body.auditTrail.ok).to.equal(false);
    expect(body.auditTrail.firstBroken?.id).to.equal(2);
    expect(body.auditTrail.firstBroken?.reason).to.match(/altered/);
    expect(body.eventLog.ok).to.equal(false);
    expect(body.eventLog.firstBroken?.id).to.equal(1);
    expect(warnings).to.deep.equal(['hash chain broken']);
  });
});
