/**
 * Who may call what: one row per REST route, checked against the routes the app itself documents
 * (GET /api/docs), so a new route gets a failing test until it has a row here.
 */
import { expect } from 'chai';
import type { Access } from '../src/api/app.js';
import { ROLES, type Role } from '../src/store/store.js';
import { HOUR_MS, SESSION_TTL_HOURS, documentedOperations, expectError, key, seedAgent, useApi } from './api-support.js';

interface Seeded {
  readonly agentId: string;
  readonly eventId: number;
  readonly tokenId: string;
  readonly mailAddress: string;
}

interface Row {
  /** The role DESIGN.md §4 gives the route; must match what the route declares. */
  readonly access: Access;
  readonly url: (s: Seeded) => string;
}

const V1 = '/api/v1';

const ROWS: Readonly<Record<string, Row>> = {
  // log in: anyone, or nobody could
  'POST /api/v1/session': { access: 'public', url: () => `${V1}/session` },
  // log out: any logged-in user
  'DELETE /api/v1/session': { access: 'viewer', url: () => `${V1}/session` },
  // who am I
  'GET /api/v1/me': { access: 'viewer', url: () => `${V1}/me` },
  'PUT /api/v1/me/password': { access: 'viewer', url: () => `${V1}/me/password` },
  'GET /api/v1/events/since': { access: 'viewer', url: () => `${V1}/events/since` },
  'POST /api/v1/events/triage': { access: 'security', url: () => `${V1}/events/triage` },
  'GET /api/v1/events/{id}/rules': { access: 'viewer', url: (s) => `${V1}/events/${s.eventId}/rules` },
  'GET /api/v1/overview': { access: 'viewer', url: () => `${V1}/overview` },
  'GET /api/v1/usb-devices': { access: 'viewer', url: () => `${V1}/usb-devices` },
  'GET /api/v1/audit/search': { access: 'security', url: () => `${V1}/audit/search` },
  'GET /api/v1/audit/verify': { access: 'admin', url: () => `${V1}/audit/verify` },
  'PATCH /api/v1/users/{username}': { access: 'admin', url: () => `${V1}/users/viewer` },
  'GET /api/v1/server-info': { access: 'admin', url: () => `${V1}/server-info` },
  // users, their roles and passwords are the admin's alone
  'GET /api/v1/users': { access: 'admin', url: () => `${V1}/users` },
  'POST /api/v1/users': { access: 'admin', url: () => `${V1}/users` },
  'PUT /api/v1/users/{username}/password': { access: 'admin', url: () => `${V1}/users/viewer/password` },
  // groups and policies: everyone reads, admins change
  'GET /api/v1/groups': { access: 'viewer', url: () => `${V1}/groups` },
  'POST /api/v1/groups': { access: 'admin', url: () => `${V1}/groups` },
  'GET /api/v1/groups/{group}/policy': { access: 'viewer', url: () => `${V1}/groups/default/policy` },
  'PUT /api/v1/groups/{group}/policy': { access: 'admin', url: () => `${V1}/groups/default/policy` },
  'GET /api/v1/groups/{group}/policy/versions': { access: 'viewer', url: () => `${V1}/groups/default/policy/versions` },
  // a simulation saves nothing, so a reader may run one
  'POST /api/v1/groups/{group}/policy/simulate': { access: 'viewer', url: () => `${V1}/groups/default/policy/simulate` },
  // enrollment tokens let a PC join the fleet: admin only
  'POST /api/v1/enrollment-tokens': { access: 'admin', url: () => `${V1}/enrollment-tokens` },
  'GET /api/v1/enrollment-tokens': { access: 'admin', url: () => `${V1}/enrollment-tokens` },
  'DELETE /api/v1/enrollment-tokens/{id}': { access: 'admin', url: (s) => `${V1}/enrollment-tokens/${s.tokenId}` },
  // agents authenticate with the enrollment token in the body, not a session
  'POST /api/v1/enroll': { access: 'public', url: () => `${V1}/enroll` },
  // agents: everyone reads, admins move and revoke
  'GET /api/v1/agents': { access: 'viewer', url: () => `${V1}/agents` },
  'GET /api/v1/agents/{id}': { access: 'viewer', url: (s) => `${V1}/agents/${s.agentId}` },
  'PUT /api/v1/agents/{id}/group': { access: 'admin', url: (s) => `${V1}/agents/${s.agentId}/group` },
  'POST /api/v1/agents/{id}/revoke': { access: 'admin', url: (s) => `${V1}/agents/${s.agentId}/revoke` },
  // a command runs on the PC (rescan, temporary grant…): admin only
  'POST /api/v1/agents/{id}/commands': { access: 'admin', url: (s) => `${V1}/agents/${s.agentId}/commands` },
  // an uninstall code lets the agent be removed from its PC (tamper protection): admin only
  'POST /api/v1/agents/{id}/uninstall-code': { access: 'admin', url: (s) => `${V1}/agents/${s.agentId}/uninstall-code` },
  // events: everyone reads; security triages and exports
  'GET /api/v1/events': { access: 'viewer', url: () => `${V1}/events` },
  'GET /api/v1/events/{id}': { access: 'viewer', url: (s) => `${V1}/events/${s.eventId}` },
  'PATCH /api/v1/events/{id}': { access: 'security', url: (s) => `${V1}/events/${s.eventId}` },
  'GET /api/v1/events/export': { access: 'security', url: () => `${V1}/events/export` },
  // the audit trail: security watches the admins
  'GET /api/v1/audit': { access: 'security', url: () => `${V1}/audit` },
  // the mail address registry: everyone reads, admins change it
  'GET /api/v1/mail/addresses': { access: 'viewer', url: () => `${V1}/mail/addresses` },
  'POST /api/v1/mail/addresses': { access: 'admin', url: () => `${V1}/mail/addresses` },
  'GET /api/v1/mail/addresses/{address}': { access: 'viewer', url: (s) => `${V1}/mail/addresses/${s.mailAddress}` },
  'PATCH /api/v1/mail/addresses/{address}': { access: 'admin', url: (s) => `${V1}/mail/addresses/${s.mailAddress}` },
  // an address nobody registered: the seeded one stays for the other rows
  'DELETE /api/v1/mail/addresses/{address}': { access: 'admin', url: () => `${V1}/mail/addresses/nobody@mincom.gov.az` },
  'POST /api/v1/mail/addresses/import': { access: 'admin', url: () => `${V1}/mail/addresses/import` },
  // the whole registry (owners, logins) in one file: an export, like the events'
  'GET /api/v1/mail/addresses/export': { access: 'security', url: () => `${V1}/mail/addresses/export` },
  // a group's mail policy: everyone reads, admins change
  'GET /api/v1/groups/{group}/mail-policy': { access: 'viewer', url: () => `${V1}/groups/default/mail-policy` },
  'PUT /api/v1/groups/{group}/mail-policy': { access: 'admin', url: () => `${V1}/groups/default/mail-policy` },
  // the policy service's counters
  'GET /api/v1/mail/stats': { access: 'viewer', url: () => `${V1}/mail/stats` },
};

const RANK: Readonly<Record<Role, number>> = { viewer: 1, security: 2, admin: 3 };

/** Authorization headers that are not `Bearer <token>`; each must be refused, never ignored. */
const MALFORMED_AUTHORIZATION = [
  'Basic YWRtaW46cGFzc3dvcmQ=', // another scheme
  'Bearer', // no token
  'Bearer short', // too short to be one of ours
  'Bearer abc def ghi jkl mno pqr', // spaces inside
  'Bearer ../../../../etc/passwd!', // characters a token never has
];

// The routes as the app documents them, read before mocha collects the tests.
const OPERATIONS = await documentedOperations();

describe('REST API roles', () => {
  const api = useApi();
  const seeded: { value?: Seeded } = {};
  const tokens = {} as Record<Role, string>;

  before(async () => {
    const { store, clock } = api();
    await seedAgent(store, { id: 'agt_roles', group: 'default', hostname: 'pc-roles-01' });
    await store.ingestEvents('agt_roles', 'default', [
      { seq: 1, type: 'device.blocked', severity: 'medium', occurredAt: clock.now().toISOString(), data: { name: 'stick' } },
    ], clock.now().toISOString());
    const [event] = await store.queryEvents({ limit: 1 });
    await store.createEnrollmentToken({
      id: 'tok_roles',
      tokenHash: 'f'.repeat(64),
      group: 'default',
      createdAt: clock.now().toISOString(),
      createdBy: 'admin',
      expiresAt: new Date(clock.now().getTime() + 24 * HOUR_MS).toISOString(),
    });
    const now = clock.now().toISOString();
    await store.createMailAddress({ address: 'roles@mincom.gov.az', owner: 'Roles Test', group: 'default', logins: [], state: 'active', notes: '', createdAt: now, updatedAt: now });
    seeded.value = { agentId: 'agt_roles', eventId: event?.id ?? -1, tokenId: 'tok_roles', mailAddress: 'roles@mincom.gov.az' };
    for (const role of ROLES) tokens[role] = await api().login(role);
  });

  const urlOf = (row: Row): string => row.url(seeded.value as Seeded);

  it('has one row per documented route, and no row for a route that is gone', () => {
    const documented = OPERATIONS.map(key).sort();
    expect(Object.keys(ROWS).sort()).to.deep.equal(documented);
  });

  for (const op of OPERATIONS) {
    describe(key(op), () => {
      const row = ROWS[key(op)];

      it(`declares the role in the table (${row?.access ?? 'no row'})`, () => {
        expect(row, `add a row for ${key(op)} to ROWS`).to.not.equal(undefined);
        expect(op.access).to.equal(row?.access);
      });
      if (row === undefined) return;
      const method = op.method as 'GET';

      if (row.access === 'public') {
        it('needs no session', async () => {
          const res = await api().call(method, urlOf(row));
          expect(res.statusCode, res.body).to.not.be.oneOf([401, 403]);
        });
        return;
      }
      const access = row.access;

      it('refuses a request without credentials with 401', async () => {
        expect(expectError(await api().call(method, urlOf(row)), 401).code).to.equal('PORTCULLIS_ERR_UNAUTHENTICATED');
      });

      it('refuses a malformed Authorization header with 401, even beside a valid cookie', async () => {
        for (const authorization of MALFORMED_AUTHORIZATION) {
          const res = await api().call(method, urlOf(row), { headers: { authorization, cookie: `portcullis_session=${tokens.admin}` } });
          expect(expectError(res, 401).code, authorization).to.equal('PORTCULLIS_ERR_UNAUTHENTICATED');
        }
      });

      it('refuses a well-formed token that is no session with 401', async () => {
        const res = await api().call(method, urlOf(row), { token: 'x'.repeat(43) });
        expectError(res, 401);
      });

      it(`refuses a session older than ${SESSION_TTL_HOURS} h with 401`, async () => {
        const { clock } = api();
        const now = clock.now().getTime();
        clock.advance(SESSION_TTL_HOURS * HOUR_MS + 1000);
        try {
          expectError(await api().call(method, urlOf(row), { token: tokens[access] }), 401);
        } finally {
          clock.set(now);
        }
      });

      for (const role of ROLES.filter((r) => RANK[r] < RANK[access])) {
        it(`refuses ${role} with 403`, async () => {
          const res = await api().call(method, urlOf(row), { token: tokens[role] });
          expect(expectError(res, 403).code).to.equal('PORTCULLIS_ERR_FORBIDDEN');
        });
      }

      if (op.method === 'GET') {
        // HEAD routes are off (exposeHeadRoutes: false): a HEAD must never run a GET's handler
        // (an export would be audited for it), for anyone.
        it('does not answer HEAD', async () => {
          for (const token of [undefined, tokens.admin]) {
            const res = await api().call('HEAD', urlOf(row), token ? { token } : {});
            expect(res.statusCode).to.equal(404);
          }
        });
      }

      for (const role of ROLES.filter((r) => RANK[r] >= RANK[access])) {
        it(`lets ${role} through to the handler`, async () => {
          // A fresh session: the call may be a log-out.
          const res = await api().call(method, urlOf(row), { token: await api().session(role) });
          expect(res.statusCode, res.body).to.be.oneOf([200, 201, 204, 400, 404]);
        });
      }
    });
  }
});
