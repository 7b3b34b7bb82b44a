/**
 * The mail routes (DESIGN.md §5): the address registry, its CSV export and import, the groups'
 * mail policies and the policy service's stats. The app is built with a recording MailControl,
 * so a test sees every time a change asks the policy service to reload.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApi } from '../src/api/app.js';
import type { MailControl, ServerDeps } from '../src/api/deps.js';
import { hashSecret, newSecret } from '../src/auth/secrets.js';
import { bootstrap } from '../src/bootstrap.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { ROLES, type AuditRecord, type MailAddressRecord, type Role, type Store } from '../src/store/store.js';
import { HOUR_MS, START, expectError, useApi } from './api-support.js';

const V1 = '/api/v1';
const STATS = { since: new Date(START).toISOString(), decisions: 7, allowed: 5, messagesAccepted: 4, rejected: { 'sender-unregistered': 2 } };

interface MailApi {
  readonly store: Store;
  /** How many times the API asked the policy service to reload. */
  readonly reloads: { count: number };
  readonly tokens: Record<Role, string>;
  call(method: InjectOptions['method'], url: string, options?: { role?: Role; body?: unknown; type?: string }): Promise<LightMyRequestResponse>;
}

/**
 * An API on a fresh SQLite store with the `default` group (bootstrap), groups finance and hr,
 * one session per role, and `deps.mail` set to a recorder. Built once for the enclosing describe.
 */
function useMailApi(): () => MailApi {
  let fixture: (MailApi & { app: FastifyInstance; dir: string }) | undefined;
  before(async function () {
    this.timeout(10_000);
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-api-mail-'));
    const store = await openSqliteStore(join(dir, 'portcullis.db'));
    await store.migrate();
    const now = new Date(START);
    const reloads = { count: 0 };
    const mail: MailControl = { registryChanged: async () => void reloads.count++, stats: () => STATS };
    const deps: ServerDeps = {
      store,
      clock: () => now,
      signer: { keyId: 'k', publicKeyPem: '', sign: () => 'sig' },
      publisher: { publish: () => undefined, agentChanged: async () => undefined, sendCommand: () => null },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      options: { sessionTtlHours: 12, secureCookies: true },
      mail,
    };
    const tokens = {} as Record<Role, string>;
    for (const role of ROLES) {
      // Sessions go straight to the store: no password is ever checked here.
      await store.createUser({ username: role, role, passwordHash: 'not-a-hash' }, now.toISOString());
      tokens[role] = newSecret();
      await store.createSession({ tokenHash: hashSecret(tokens[role]), username: role, createdAt: now.toISOString(), expiresAt: new Date(START + HOUR_MS).toISOString() });
    }
    await bootstrap(deps, {}, () => undefined);
    for (const name of ['finance', 'hr']) await store.createGroup({ name, description: '', createdAt: now.toISOString() });
    const app = await buildApi(deps);
    const call: MailApi['call'] = (method, url, options = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${tokens[options.role ?? 'admin']}` };
      const inject: InjectOptions = { method, url, headers };
      if (options.type !== undefined) headers['content-type'] = options.type;
      if (options.body !== undefined) inject.payload = options.body as InjectOptions['payload'];
      return app.inject(inject);
    };
    fixture = { store, reloads, tokens, call, app, dir };
  });
  after(async () => {
    await fixture?.app.close();
    await fixture?.store.close();
    if (fixture) await rm(fixture.dir, { recursive: true, force: true });
  });
  return () => {
    if (fixture === undefined) throw new Error('the mail API fixture did not build (see the before hook)');
    return fixture;
  };
}

const CSV = 'text/csv';

describe('REST API mail', () => {
  const api = useMailApi();
  const post = (body: unknown) => api().call('POST', `${V1}/mail/addresses`, { body });
  const csvImport = (text: string, type = CSV) => api().call('POST', `${V1}/mail/addresses/import`, { body: text, type });
  const listed = async (query = ''): Promise<MailAddressRecord[]> => {
    const res = await api().call('GET', `${V1}/mail/addresses${query}`, { role: 'viewer' });
    expect(res.statusCode, res.body).to.equal(200);
    return (res.json() as { addresses: MailAddressRecord[] }).addresses;
  };
  const lastAudit = async (): Promise<AuditRecord> => {
    const res = await api().call('GET', `${V1}/audit?limit=1`, { role: 'security' });
    expect(res.statusCode, res.body).to.equal(200);
    return (res.json() as { records: AuditRecord[] }).records[0] as AuditRecord;
  };
  /** Runs a change and checks it was audited and asked the policy service to reload once. */
  const change = async (run: () => Promise<LightMyRequestResponse>, status: number, action: string, target: string): Promise<LightMyRequestResponse> => {
    const reloadsBefore = api().reloads.count;
    const res = await run();
    expect(res.statusCode, res.body).to.equal(status);
    expect(await lastAudit()).to.deep.include({ actor: 'admin', action, target });
    expect(api().reloads.count, 'registryChanged calls').to.equal(reloadsBefore + 1);
    return res;
  };

  describe('the address registry', () => {
    it('registers an address (201), lower-cased, with defaults; audited; the service reloads', async () => {
      const res = await change(() => post({ address: ' Ali.Aliyev@MinCom.Gov.AZ ', owner: ' Ali Aliyev ', group: 'finance' }), 201, 'mail.address.create', 'ali.aliyev@mincom.gov.az');
      const at = new Date(START).toISOString();
      const expected = { address: 'ali.aliyev@mincom.gov.az', owner: 'Ali Aliyev', group: 'finance', logins: [], state: 'active', notes: '', createdAt: at, updatedAt: at };
      expect(res.json()).to.deep.equal(expected);
      expect(await api().store.getMailAddress('ali.aliyev@mincom.gov.az')).to.deep.equal(expected);
    });

    it('reads one address, by any case of it', async () => {
      for (const address of ['ali.aliyev@mincom.gov.az', 'ALI.ALIYEV@MINCOM.GOV.AZ']) {
        const res = await api().call('GET', `${V1}/mail/addresses/${encodeURIComponent(address)}`, { role: 'viewer' });
        expect(res.statusCode, res.body).to.equal(200);
        expect(res.json()).to.include({ address: 'ali.aliyev@mincom.gov.az', owner: 'Ali Aliyev' });
      }
      expectError(await api().call('GET', `${V1}/mail/addresses/nobody@mincom.gov.az`, { role: 'viewer' }), 404);
    });

    it('changes fields with PATCH; createdAt stays; the audit says from and to', async () => {
      const body = { owner: 'Ali Aliyev (HR)', group: 'hr', logins: ['ali.aliyev', 'aaliyev'], state: 'suspended', notes: 'moved' };
      const res = await change(() => api().call('PATCH', `${V1}/mail/addresses/Ali.Aliyev@mincom.gov.az`, { body }), 200, 'mail.address.update', 'ali.aliyev@mincom.gov.az');
      expect(res.json()).to.deep.include({ address: 'ali.aliyev@mincom.gov.az', ...body, createdAt: new Date(START).toISOString() });
      expect(await api().store.getMailAddress('ali.aliyev@mincom.gov.az')).to.deep.include(body);
      expect((await lastAudit()).details).to.deep.include({ group: { from: 'finance', to: 'hr' }, state: { from: 'active', to: 'suspended' } });
    });

    it('lists by address with filters and pages with next', async () => {
      for (const [address, group, state] of [
        ['kadr@mincom.gov.az', 'hr', 'active'],
        ['b.smith@mincom.gov.az', 'finance', 'retired'],
        ['zeynab@edu.gov.az', 'finance', 'active'],
      ] as const) {
        expect((await post({ address, owner: `Owner ${address}`, group, state })).statusCode).to.equal(201);
      }
      expect((await listed()).map((a) => a.address)).to.deep.equal(['ali.aliyev@mincom.gov.az', 'b.smith@mincom.gov.az', 'kadr@mincom.gov.az', 'zeynab@edu.gov.az']);
      expect((await listed('?group=hr')).map((a) => a.address)).to.deep.equal(['ali.aliyev@mincom.gov.az', 'kadr@mincom.gov.az']);
      expect((await listed('?state=retired')).map((a) => a.address)).to.deep.equal(['b.smith@mincom.gov.az']);
      expect((await listed('?q=EDU.gov')).map((a) => a.address)).to.deep.equal(['zeynab@edu.gov.az']);
      expect((await listed('?q=owner%20kadr')).map((a) => a.address)).to.deep.equal(['kadr@mincom.gov.az']);
      const page1 = (await api().call('GET', `${V1}/mail/addresses?limit=3`, { role: 'viewer' })).json() as { addresses: MailAddressRecord[]; next: string | null };
      expect([page1.addresses.length, page1.next]).to.deep.equal([3, 'kadr@mincom.gov.az']);
      const page2 = (await api().call('GET', `${V1}/mail/addresses?limit=3&after=${page1.next}`, { role: 'viewer' })).json() as { addresses: MailAddressRecord[]; next: string | null };
      expect([page2.addresses.map((a) => a.address), page2.next]).to.deep.equal([['zeynab@edu.gov.az'], null]);
    });

    it('deletes an address (204), audited; then it is gone (404)', async () => {
      await change(() => api().call('DELETE', `${V1}/mail/addresses/ZEYNAB@edu.gov.az`), 204, 'mail.address.delete', 'zeynab@edu.gov.az');
      expectError(await api().call('GET', `${V1}/mail/addresses/zeynab@edu.gov.az`, { role: 'viewer' }), 404);
      expectError(await api().call('DELETE', `${V1}/mail/addresses/zeynab@edu.gov.az`), 404);
    });

    describe('refuses bad requests, storing nothing and reloading nothing', () => {
      // Rows: a request and the status it gets.
      const ROWS: ReadonlyArray<{ name: string; method: 'POST' | 'PATCH' | 'GET' | 'DELETE'; url: string; body?: unknown; status: number }> = [
        { name: 'not an address', method: 'POST', url: '/mail/addresses', body: { address: 'ali.aliyev', owner: 'A', group: 'hr' }, status: 400 },
        { name: 'a domain with one label', method: 'POST', url: '/mail/addresses', body: { address: 'ali@localhost', owner: 'A', group: 'hr' }, status: 400 },
        { name: 'a display name', method: 'POST', url: '/mail/addresses', body: { address: 'Ali <ali@mincom.gov.az>', owner: 'A', group: 'hr' }, status: 400 },
        { name: 'an unknown field', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'hr', phone: '1' }, status: 400 },
        { name: 'a bad state', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'hr', state: 'deleted' }, status: 400 },
        { name: 'a login with a space', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'hr', logins: ['ali aliyev'] }, status: 400 },
        { name: 'a login with a comma', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'hr', logins: ['a,b'] }, status: 400 },
        { name: 'a login twice', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'hr', logins: ['a', 'a'] }, status: 400 },
        { name: 'no owner', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', group: 'hr' }, status: 400 },
        { name: 'an empty owner', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: '', group: 'hr' }, status: 400 },
        { name: 'an owner of spaces', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: '   ', group: 'hr' }, status: 400 },
        { name: 'a bad group name', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'HR!' }, status: 400 },
        { name: 'an unknown group', method: 'POST', url: '/mail/addresses', body: { address: 'new@mincom.gov.az', owner: 'A', group: 'ghost' }, status: 404 },
        { name: 'a JSON array', method: 'POST', url: '/mail/addresses', body: [], status: 400 },
        // the same address in another case is the same address
        { name: 'a duplicate', method: 'POST', url: '/mail/addresses', body: { address: 'KADR@mincom.gov.az', owner: 'A', group: 'hr' }, status: 409 },
        { name: 'an empty PATCH', method: 'PATCH', url: '/mail/addresses/kadr@mincom.gov.az', body: {}, status: 400 },
        { name: 'a PATCH of the address', method: 'PATCH', url: '/mail/addresses/kadr@mincom.gov.az', body: { address: 'x@mincom.gov.az' }, status: 400 },
        { name: 'a PATCH to an unknown group', method: 'PATCH', url: '/mail/addresses/kadr@mincom.gov.az', body: { group: 'ghost' }, status: 404 },
        { name: 'a PATCH to an owner of spaces', method: 'PATCH', url: '/mail/addresses/kadr@mincom.gov.az', body: { owner: ' \t ' }, status: 400 },
        { name: 'a PATCH with a bad state', method: 'PATCH', url: '/mail/addresses/kadr@mincom.gov.az', body: { state: 'gone' }, status: 400 },
        { name: 'a PATCH of an unknown address', method: 'PATCH', url: '/mail/addresses/nobody@mincom.gov.az', body: { notes: 'x' }, status: 404 },
        { name: 'a PATCH of a bad address', method: 'PATCH', url: '/mail/addresses/not-an-address', body: { notes: 'x' }, status: 400 },
        { name: 'a DELETE of a bad address', method: 'DELETE', url: '/mail/addresses/not-an-address', status: 400 },
        { name: 'a GET of a bad address', method: 'GET', url: '/mail/addresses/a@b@c', status: 400 },
        { name: 'a list with a bad state', method: 'GET', url: '/mail/addresses?state=gone', status: 400 },
        { name: 'a list with a bad limit', method: 'GET', url: '/mail/addresses?limit=-1', status: 400 },
        { name: 'a list with an unknown parameter', method: 'GET', url: '/mail/addresses?owner=x', status: 400 },
      ];
      for (const row of ROWS) {
        it(`${row.name}: ${row.status}`, async () => {
          const before = await listed('?limit=1000');
          const reloads = api().reloads.count;
          expectError(await api().call(row.method, `${V1}${row.url}`, { body: row.body }), row.status);
          expect(await listed('?limit=1000')).to.deep.equal(before);
          expect(api().reloads.count).to.equal(reloads);
        });
      }
    });
  });

  describe('CSV export and import', () => {
    const exported = async (): Promise<string> => {
      const res = await api().call('GET', `${V1}/mail/addresses/export`, { role: 'security' });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/csv/);
      expect(res.headers['content-disposition']).to.match(/^attachment; filename=/);
      return res.body;
    };

    it('exports every address under the header, quoting commas and quotes and defusing formulas; audited', async () => {
      const reloads = api().reloads.count;
      await post({ address: 'shared@mincom.gov.az', owner: 'Kadrlar şöbəsi, ümumi', group: 'hr', logins: ['kadr1', 'kadr2'], notes: 'says "hi"' });
      await post({ address: 'formula@mincom.gov.az', owner: '=cmd|/C calc', group: 'hr', notes: '+1-2' });
      const lines = (await exported()).split('\r\n');
      expect(lines[0]).to.equal('address,owner,group,logins,state,notes');
      expect(lines).to.include('shared@mincom.gov.az,"Kadrlar şöbəsi, ümumi",hr,kadr1 kadr2,active,"says ""hi"""');
      expect(lines).to.include("formula@mincom.gov.az,'=cmd|/C calc,hr,,active,'+1-2");
      expect(lines.at(-1)).to.equal(''); // every row ends with CR LF
      expect(lines.slice(1, -1).map((l) => l.split(',')[0])).to.deep.equal((await listed()).map((a) => a.address));
      expect(await lastAudit()).to.deep.include({ actor: 'security', action: 'mail.address.export', target: 'csv' });
      expect(api().reloads.count).to.equal(reloads + 2); // the two creates; an export changes nothing
    });

    it('imports its own export as all unchanged', async () => {
      const before = await listed();
      const res = await change(async () => csvImport(await exported()), 200, 'mail.address.import', 'csv');
      expect(res.json()).to.deep.equal({ created: 0, updated: 0, unchanged: before.length });
      expect(await listed()).to.deep.equal(before);
      expect((await api().store.getMailAddress('formula@mincom.gov.az'))?.owner).to.equal('=cmd|/C calc');
    });

    it('creates, updates and leaves alone, with columns in any order; the audit has the counts', async () => {
      const text = ['group,address,owner,state', 'hr,kadr@mincom.gov.az,Owner kadr@mincom.gov.az,active', 'hr,b.smith@mincom.gov.az,Bob Smith,active', 'finance,New.One@mincom.gov.az,New One,'].join('\n');
      const res = await change(() => csvImport(text), 200, 'mail.address.import', 'csv');
      expect(res.json()).to.deep.equal({ created: 1, updated: 1, unchanged: 1 });
      expect(await api().store.getMailAddress('b.smith@mincom.gov.az')).to.deep.include({ owner: 'Bob Smith', group: 'hr', state: 'active', logins: [] });
      expect(await api().store.getMailAddress('new.one@mincom.gov.az')).to.deep.include({ owner: 'New One', group: 'finance', state: 'active', notes: '' });
      expect((await lastAudit()).details).to.deep.include({ rows: 3, created: 1, updated: 1, unchanged: 1 });
    });

    // Rows: a file the import accepts, how it is sent, and what one address looks like after.
    const GOOD: ReadonlyArray<{ name: string; text: string; type?: string; address: string; expected: Partial<MailAddressRecord> }> = [
      { name: 'a BOM before the header', text: '\ufeffaddress,owner,group\nbom@mincom.gov.az,Bom,hr\n', address: 'bom@mincom.gov.az', expected: { owner: 'Bom' } },
      { name: 'CR LF line ends', text: 'address,owner,group,notes\r\ncrlf@mincom.gov.az,Crlf,hr,x\r\n', address: 'crlf@mincom.gov.az', expected: { owner: 'Crlf', notes: 'x' } },
      { name: 'a quoted field with a newline', text: 'address,owner,group,notes\nnl@mincom.gov.az,Nl,hr,"line one\nline two"\n', address: 'nl@mincom.gov.az', expected: { notes: 'line one\nline two' } },
      { name: 'text/plain', text: 'address,owner,group\nplain@mincom.gov.az,Plain,hr', type: 'text/plain; charset=utf-8', address: 'plain@mincom.gov.az', expected: { owner: 'Plain' } },
      { name: 'a header in capitals, logins split by spaces', text: 'ADDRESS,Owner,Group,Logins\nlog@mincom.gov.az,Log,hr,a  b\n', address: 'log@mincom.gov.az', expected: { logins: ['a', 'b'] } },
      { name: "a defused formula, taken back", text: "address,owner,group\nf2@mincom.gov.az,'=SUM(A1),hr\n", address: 'f2@mincom.gov.az', expected: { owner: '=SUM(A1)' } },
    ];
    for (const row of GOOD) {
      it(`accepts ${row.name}`, async () => {
        const res = await csvImport(row.text, row.type);
        expect(res.statusCode, res.body).to.equal(200);
        expect(res.json()).to.deep.include({ created: 1 });
        expect(await api().store.getMailAddress(row.address)).to.deep.include(row.expected);
      });
    }

    // Rows: a file with problems and the lines the error names; nothing of it may be stored.
    const BAD: ReadonlyArray<{ name: string; text: string; lines: number[]; message?: RegExp }> = [
      { name: 'a bad address on the last line', text: 'address,owner,group\nok1@mincom.gov.az,A,hr\nok2@mincom.gov.az,B,hr\nnot-an-address,C,hr\n', lines: [4] },
      { name: 'bad rows on several lines', text: 'address,owner,group,state\nok1@mincom.gov.az,,hr,active\nok2@mincom.gov.az,B,ghost,active\nok3@mincom.gov.az,C,hr,deleted\n', lines: [2, 3, 4] },
      { name: 'an address twice (in any case)', text: 'address,owner,group\nok1@mincom.gov.az,A,hr\nOK1@mincom.gov.az,B,hr\n', lines: [3], message: /already on line 2/ },
      { name: 'an unknown column', text: 'address,owner,group,phone\nok1@mincom.gov.az,A,hr,1\n', lines: [1], message: /unknown column/ },
      { name: 'a missing column', text: 'address,owner\nok1@mincom.gov.az,A\n', lines: [1], message: /missing column/ },
      { name: 'a row with too many fields', text: 'address,owner,group\nok1@mincom.gov.az,A,hr\nok2@mincom.gov.az,B,hr,extra\n', lines: [3] },
      { name: 'an unclosed quote', text: 'address,owner,group\nok1@mincom.gov.az,"A,hr\n', lines: [2] },
      // a quoted newline moves the next record's line number on
      { name: 'a bad row after a quoted newline', text: 'address,owner,group,notes\nok1@mincom.gov.az,A,hr,"x\ny"\nbad,B,hr,\n', lines: [4] },
      { name: 'an empty file', text: '', lines: [1], message: /empty/ },
    ];
    for (const row of BAD) {
      it(`refuses ${row.name} (400, lines ${row.lines.join(', ')}), storing nothing`, async () => {
        const before = await listed('?limit=1000');
        const reloads = api().reloads.count;
        const auditBefore = (await lastAudit()).id;
        const err = expectError(await csvImport(row.text), 400);
        const errors = (err.details as { errors: Array<{ line: number; message: string }> }).errors;
        expect([...new Set(errors.map((e) => e.line))]).to.deep.equal(row.lines);
        if (row.message) expect(errors.map((e) => e.message).join('; ')).to.match(row.message);
        expect(err.message).to.match(/nothing was stored/);
        expect(await listed('?limit=1000')).to.deep.equal(before);
        expect(api().reloads.count).to.equal(reloads);
        expect((await lastAudit()).id).to.equal(auditBefore);
      });
    }

    it('refuses a JSON body, even a JSON string of CSV', async () => {
      const before = await listed('?limit=1000');
      expectError(await api().call('POST', `${V1}/mail/addresses/import`, { body: { csv: 'address,owner,group' } }), 400);
      const err = expectError(await csvImport(JSON.stringify('address,owner,group\njson@mincom.gov.az,J,hr'), 'application/json'), 400);
      expect(err.message).to.include('Content-Type: text/csv');
      expect(await listed('?limit=1000')).to.deep.equal(before);
    });
  });

  describe('mail policy per group', () => {
    const POLICY = {
      internalDomains: ['MinCom.gov.az.', 'mincom.gov.az', 'edu.gov.az'],
      externalMode: 'allow-list',
      externalDomains: ['Gmail.com'],
      maxExternalBytes: 10_485_760,
      maxMessagesPerHour: 200,
      maxExternalRecipientsPerHour: 100,
    };
    const put = (body: unknown, group = 'finance') => api().call('PUT', `${V1}/groups/${group}/mail-policy`, { body });
    const get = (group = 'finance') => api().call('GET', `${V1}/groups/${group}/mail-policy`, { role: 'viewer' });

    it('gives a group never set the default policy, with updatedAt null', async () => {
      const res = await get();
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.equal({
        group: 'finance',
        policy: { internalDomains: [], externalMode: 'deny-list', externalDomains: [], maxExternalBytes: 0, maxMessagesPerHour: 0, maxExternalRecipientsPerHour: 0, maxMessagesPerDay: 0, maxExternalRecipientsPerDay: 0 },
        updatedAt: null,
        updatedBy: null,
      });
      expectError(await get('ghost'), 404);
    });

    it('sets a policy with domains normalised (case, trailing dot, duplicates) and reads it back; audited', async () => {
      const res = await change(() => put(POLICY), 200, 'mail.policy.set', 'finance');
      const expected = {
        group: 'finance',
        policy: { ...POLICY, internalDomains: ['edu.gov.az', 'mincom.gov.az'], externalDomains: ['gmail.com'], maxMessagesPerDay: 0, maxExternalRecipientsPerDay: 0 },
        updatedAt: new Date(START).toISOString(),
        updatedBy: 'admin',
      };
      expect(res.json()).to.deep.equal(expected);
      expect((await get()).json()).to.deep.equal(expected);
      expect((await lastAudit()).details).to.deep.include({ from: null, to: expected.policy });
    });

    it('replaces it; the audit has the old and the new', async () => {
      const next = { ...POLICY, externalMode: 'deny-list', externalDomains: ['mail.ru'], maxMessagesPerDay: 1000, maxExternalRecipientsPerDay: 500 };
      const res = await change(() => put(next), 200, 'mail.policy.set', 'finance');
      expect((res.json() as { policy: Record<string, unknown> }).policy).to.deep.include({ externalMode: 'deny-list', externalDomains: ['mail.ru'], maxMessagesPerDay: 1000 });
      const details = (await lastAudit()).details as { from: { externalMode: string }; to: { externalMode: string } };
      expect([details.from.externalMode, details.to.externalMode]).to.deep.equal(['allow-list', 'deny-list']);
    });

    // Rows: a bad policy and the status; `problems` are in error.details when the domains are at fault.
    const { maxExternalBytes: _dropped, ...WITHOUT_SIZE } = POLICY;
    const BAD: ReadonlyArray<{ name: string; body: unknown; group?: string; status: number; problems?: RegExp }> = [
      { name: 'a bad domain', body: { ...POLICY, internalDomains: ['mincom.gov.az', 'bad_domain.az', 'nodot'] }, status: 400, problems: /internalDomains\[1\].*internalDomains\[2\]/ },
      { name: 'an IP address as a domain', body: { ...POLICY, externalDomains: ['10.0.0.1'] }, status: 400, problems: /externalDomains\[0\]/ },
      { name: 'a domain both internal and external', body: { ...POLICY, externalDomains: ['MINCOM.gov.az'] }, status: 400, problems: /mincom\.gov\.az cannot be both internal and external/ },
      { name: 'a missing field', body: WITHOUT_SIZE, status: 400 },
      { name: 'an unknown field', body: { ...POLICY, maxBytes: 1 }, status: 400 },
      { name: 'a bad mode', body: { ...POLICY, externalMode: 'block-all' }, status: 400 },
      { name: 'a negative limit', body: { ...POLICY, maxMessagesPerHour: -1 }, status: 400 },
      { name: 'a fractional limit', body: { ...POLICY, maxExternalBytes: 1.5 }, status: 400 },
      { name: 'a limit as a string', body: { ...POLICY, maxMessagesPerHour: '200' }, status: 400 },
      { name: 'an unknown group', body: POLICY, group: 'ghost', status: 404 },
    ];
    for (const row of BAD) {
      it(`refuses ${row.name} (${row.status}) and keeps the policy`, async () => {
        const before = (await get()).json() as unknown;
        const reloads = api().reloads.count;
        const err = expectError(await put(row.body, row.group), row.status);
        if (row.problems) expect((err.details as { problems: string[] }).problems.join('; ')).to.match(row.problems);
        expect((await get()).json()).to.deep.equal(before);
        expect(api().reloads.count).to.equal(reloads);
      });
    }
  });

  it('GET /mail/stats gives the policy service’s counters when it runs', async () => {
    const res = await api().call('GET', `${V1}/mail/stats`, { role: 'viewer' });
    expect(res.statusCode, res.body).to.equal(200);
    expect(res.json()).to.deep.equal({ enabled: true, ...STATS });
  });
});

describe('REST API mail without the policy service', () => {
  const api = useApi();

  it('GET /mail/stats says enabled: false, with every count 0', async () => {
    const res = await api().call('GET', `${V1}/mail/stats`, { token: await api().session('viewer') });
    expect(res.statusCode, res.body).to.equal(200);
    expect(res.json()).to.deep.equal({
      enabled: false,
      since: null,
      decisions: 0,
      allowed: 0,
      messagesAccepted: 0,
      rejected: { 'sender-unregistered': 0, 'sender-inactive': 0, 'login-mismatch': 0, 'external-domain': 0, size: 0, rate: 0 },
    });
  });

  it('still takes registry changes (nothing to reload)', async () => {
    const res = await api().call('POST', `${V1}/mail/addresses`, { token: await api().session('admin'), body: { address: 'x@mincom.gov.az', owner: 'X', group: 'default' } });
    expect(res.statusCode, res.body).to.equal(201);
  });
});
