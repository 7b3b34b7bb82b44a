/**
 * The check of the mail accounts agents find on PCs (inventory section `mail`) against the
 * registry: judgeAccount and unapprovedAccountEvents as tables, then once end to end through
 * startServer (main.ts's wiring), from an agent's inventory message to a `mail.account.unapproved` event.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/main.js';
import { judgeAccount, unapprovedAccountEvents, type UnapprovedReason } from '../src/mail/mail-account-audit.js';
import type { MailSnapshot } from '../src/mail/mail-decider.js';
import { loadMailSnapshot } from '../src/mail/mail-directory.js';
import { DEFAULT_MAIL_POLICY } from '../src/mail/mail-policy.js';
import type { EventRecord, MailAddressRecord, MailAddressState, MailPolicyRecord } from '../src/store/store.js';
import { TestAgent, eventually } from './hub-support.js';

const AT = '2026-11-25T10:00:00.000Z';

function address(addr: string, group: string, state: MailAddressState = 'active'): MailAddressRecord {
  return { address: addr, owner: addr, group, logins: [], state, notes: '', createdAt: AT, updatedAt: AT };
}

function policy(group: string, internalDomains: string[]): MailPolicyRecord {
  return { group, policy: { ...DEFAULT_MAIL_POLICY, internalDomains }, updatedAt: AT, updatedBy: 'admin' };
}

/** A snapshot as the service loads it from the store (so "our" domains are computed the real way). */
function snapshotOf(addresses: MailAddressRecord[], policies: MailPolicyRecord[]): Promise<MailSnapshot> {
  return loadMailSnapshot({
    listMailAddresses: async (q) => addresses.filter((a) => q.after === undefined || a.address > q.after).slice(0, q.limit),
    listMailPolicies: async () => policies,
  });
}

/**
 * finance: internal mincom.gov.az; legal: internal justice.gov.az; hr: a policy without internal
 * domains; it: no policy. Registered: ali (finance, active), sus (suspended), old (retired), and
 * boss@ministry.az, whose domain no policy names but a registered address makes "ours".
 */
const REGISTRY = {
  addresses: [
    address('ali@mincom.gov.az', 'finance'),
    address('sus@mincom.gov.az', 'finance', 'suspended'),
    address('old@mincom.gov.az', 'finance', 'retired'),
    address('judge@justice.gov.az', 'legal'),
    address('boss@ministry.az', 'hr'),
  ],
  policies: [policy('finance', ['mincom.gov.az']), policy('legal', ['justice.gov.az']), policy('hr', [])],
};

describe('mail account audit', () => {
  let snapshot: MailSnapshot;
  before(async () => {
    snapshot = await snapshotOf(REGISTRY.addresses, REGISTRY.policies);
  });

  describe('judgeAccount', () => {
    // Rows: an account's address, the PC's group, and the verdict (null: approved).
    const ROWS: ReadonlyArray<{ name: string; address: string; group: string; expected: UnapprovedReason | null }> = [
      { name: 'registered and active', address: 'ali@mincom.gov.az', group: 'finance', expected: null },
      { name: 'a private mailbox', address: 'ali.home@gmail.com', group: 'finance', expected: 'domain-not-allowed' },
      { name: 'our domain, not registered', address: 'ghost@mincom.gov.az', group: 'finance', expected: 'not-registered' },
      // a subdomain is inside its parent domain
      { name: 'a subdomain, not registered', address: 'x@mail.mincom.gov.az', group: 'finance', expected: 'not-registered' },
      // a look-alike is not a subdomain
      { name: 'a look-alike domain', address: 'ali@evilmincom.gov.az', group: 'finance', expected: 'domain-not-allowed' },
      { name: 'suspended', address: 'sus@mincom.gov.az', group: 'finance', expected: 'inactive' },
      { name: 'retired', address: 'old@mincom.gov.az', group: 'finance', expected: 'inactive' },
      // a group with its own domains allows only those, even another group's registered address
      { name: "another group's domain", address: 'judge@justice.gov.az', group: 'finance', expected: 'domain-not-allowed' },
      { name: 'its own domain in another group', address: 'judge@justice.gov.az', group: 'legal', expected: null },
      // a group whose policy names no domains falls back to every group's (and registered) domains
      { name: 'no own domains: any of ours, registered', address: 'judge@justice.gov.az', group: 'hr', expected: null },
      { name: 'no own domains: ours, not registered', address: 'new@mincom.gov.az', group: 'hr', expected: 'not-registered' },
      { name: "no own domains: a registered address's domain is ours", address: 'other@ministry.az', group: 'hr', expected: 'not-registered' },
      { name: 'no own domains: foreign', address: 'x@gmail.com', group: 'hr', expected: 'domain-not-allowed' },
      // a group with no policy at all falls back the same way
      { name: 'no policy: ours, inactive', address: 'sus@mincom.gov.az', group: 'it', expected: 'inactive' },
      { name: 'no policy: foreign', address: 'x@mail.ru', group: 'it', expected: 'domain-not-allowed' },
      // an address without a domain is in none of ours
      { name: 'no domain at all', address: 'ali', group: 'finance', expected: 'domain-not-allowed' },
    ];
    for (const row of ROWS) {
      it(`${row.name}: ${row.expected ?? 'approved'}`, () => {
        expect(judgeAccount(row.address, row.group, snapshot)).to.equal(row.expected);
      });
    }

    it('judges nothing when no domain is configured anywhere (a fresh install)', async () => {
      const empty = await snapshotOf([], [policy('finance', [])]);
      for (const a of ['ali.home@gmail.com', 'ghost@mincom.gov.az', 'x']) expect(judgeAccount(a, 'finance', empty), a).to.equal(null);
    });
  });

  describe('unapprovedAccountEvents', () => {
    const account = (addr: string, user = 'ali', client = 'thunderbird') => ({ address: addr, user, client, profile: '/home/ali/.thunderbird/x' });
    const inventory = (...accounts: unknown[]): Record<string, unknown> => ({ os: 'Ubuntu 24.04', mail: { accounts } });
    const reasons = (before: Record<string, unknown> | undefined, after: Record<string, unknown>, group = 'finance') =>
      unapprovedAccountEvents(before, after, group, snapshot, AT).map((e) => `${e.data.address}|${e.data.user}|${e.data.client}|${e.data.reason}`);

    it('makes one event per unapproved account, with the address, user, client and reason', () => {
      const events = unapprovedAccountEvents(undefined, inventory(account('ali@mincom.gov.az'), account('Ali.Home@GMAIL.com')), 'finance', snapshot, AT);
      expect(events).to.deep.equal([
        {
          seq: null,
          type: 'mail.account.unapproved',
          severity: 'medium',
          occurredAt: AT,
          data: { address: 'ali.home@gmail.com', user: 'ali', client: 'thunderbird', reason: 'domain-not-allowed' },
        },
      ]);
    });

    // Rows: the previous inventory, the new one, and the events (address|user|client|reason).
    const ROWS: ReadonlyArray<{ name: string; before?: Record<string, unknown>; after: Record<string, unknown>; group?: string; expected: string[] }> = [
      { name: 'first inventory', after: inventory(account('ghost@mincom.gov.az'), account('sus@mincom.gov.az')), expected: ['ghost@mincom.gov.az|ali|thunderbird|not-registered', 'sus@mincom.gov.az|ali|thunderbird|inactive'] },
      // the daily inventory does not repeat what the last one had
      { name: 'the same accounts again', before: inventory(account('ghost@mincom.gov.az')), after: inventory(account('ghost@mincom.gov.az')), expected: [] },
      { name: 'the same account, upper-cased', before: inventory(account('ghost@mincom.gov.az')), after: inventory(account('GHOST@mincom.gov.az')), expected: [] },
      { name: 'only the new one', before: inventory(account('ghost@mincom.gov.az')), after: inventory(account('ghost@mincom.gov.az'), account('x@gmail.com')), expected: ['x@gmail.com|ali|thunderbird|domain-not-allowed'] },
      // another user or another client on the same PC is another account
      { name: 'the same address, another user', before: inventory(account('x@gmail.com')), after: inventory(account('x@gmail.com', 'leyla')), expected: ['x@gmail.com|leyla|thunderbird|domain-not-allowed'] },
      { name: 'the same address, another client', before: inventory(account('x@gmail.com')), after: inventory(account('x@gmail.com', 'ali', 'evolution')), expected: ['x@gmail.com|ali|evolution|domain-not-allowed'] },
      // removed and then added back: reported again
      { name: 'back after a gap', before: inventory(), after: inventory(account('x@gmail.com')), expected: ['x@gmail.com|ali|thunderbird|domain-not-allowed'] },
      { name: 'twice in one inventory', after: inventory(account('x@gmail.com'), account('x@gmail.com')), expected: ['x@gmail.com|ali|thunderbird|domain-not-allowed'] },
      { name: 'judged by the PC’s group', after: inventory(account('judge@justice.gov.az')), group: 'legal', expected: [] },
      { name: 'no mail section', before: inventory(account('x@gmail.com')), after: { os: 'Ubuntu 24.04' }, expected: [] },
      // a previous inventory without a mail section hides nothing
      { name: 'a malformed previous section', before: { mail: 'broken' }, after: inventory(account('x@gmail.com')), expected: ['x@gmail.com|ali|thunderbird|domain-not-allowed'] },
      // malformed sections and entries are ignored, never thrown on
      { name: 'mail is a string', after: { mail: 'x@gmail.com' }, expected: [] },
      { name: 'mail is null', after: { mail: null }, expected: [] },
      { name: 'mail is an array', after: { mail: [account('x@gmail.com')] }, expected: [] },
      { name: 'accounts is an object', after: { mail: { accounts: { 0: account('x@gmail.com') } } }, expected: [] },
      {
        name: 'bad entries among good ones',
        after: inventory(null, 'x@gmail.com', 42, [], { address: 7 }, { user: 'ali' }, { address: `${'a'.repeat(250)}@gmail.com` }, account('y@gmail.com')),
        expected: ['y@gmail.com|ali|thunderbird|domain-not-allowed'],
      },
      // a missing user or client is empty; an over-long one is cut
      { name: 'no user, no client', after: inventory({ address: 'y@gmail.com' }), expected: ['y@gmail.com|||domain-not-allowed'] },
      { name: 'non-string user and client', after: inventory({ address: 'y@gmail.com', user: 5, client: {} }), expected: ['y@gmail.com|||domain-not-allowed'] },
      { name: 'an over-long user', after: inventory(account('y@gmail.com', 'u'.repeat(100), 'c'.repeat(40))), expected: [`y@gmail.com|${'u'.repeat(64)}|${'c'.repeat(32)}|domain-not-allowed`] },
    ];
    for (const row of ROWS) {
      it(row.name, () => expect(reasons(row.before, row.after, row.group)).to.deep.equal(row.expected));
    }

    it('reads at most 1000 accounts of one inventory', () => {
      const many = Array.from({ length: 1200 }, (_, i) => account(`u${i}@gmail.com`));
      expect(reasons(undefined, inventory(...many))).to.have.length(1000);
    });

    it('judges nothing when nothing is configured', async () => {
      const empty = await snapshotOf([], []);
      expect(unapprovedAccountEvents(undefined, inventory(account('x@gmail.com')), 'finance', empty, AT)).to.deep.equal([]);
    });
  });

  describe('end to end through startServer (main.ts wiring)', function () {
    this.timeout(20_000);
    const ADMIN_PASSWORD = 'correct-horse-battery-staple';
    let dir = '';
    let server: RunningServer | undefined;
    let session = '';
    const running = (): RunningServer => {
      if (!server) throw new Error('the server did not start (see the before hook)');
      return server;
    };
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const res = await running().app.inject({ method, url, headers: { authorization: `Bearer ${session}` }, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).to.be.oneOf([200, 201]);
      return res;
    };
    const unapproved = async (): Promise<EventRecord[]> =>
      (await call('GET', '/api/v1/events?type=mail.account.unapproved&limit=100')).json<{ events: EventRecord[] }>().events;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'portcullis-mail-accounts-'));
      const config = loadConfig(['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', dir], { PORTCULLIS_LOG_LEVEL: 'error' }, {});
      server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
      const login = await running().app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: ADMIN_PASSWORD } });
      session = login.json<{ token: string }>().token;
      // The registry, through the API: the policy service's snapshot reloads on each change.
      await call('PUT', '/api/v1/groups/default/mail-policy', {
        internalDomains: ['mincom.gov.az'],
        externalMode: 'deny-list',
        externalDomains: [],
        maxExternalBytes: 0,
        maxMessagesPerHour: 0,
        maxExternalRecipientsPerHour: 0,
      });
      await call('POST', '/api/v1/mail/addresses', { address: 'ali@mincom.gov.az', owner: 'Ali', group: 'default' });
    });
    after(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('an inventory with unapproved accounts raises mail.account.unapproved for the agent, once', async () => {
      const token = (await call('POST', '/api/v1/enrollment-tokens', { group: 'default' })).json<{ token: string }>().token;
      const enrolled = await running().app.inject({
        method: 'POST',
        url: '/api/v1/enroll',
        payload: { token, hostname: 'pc-mail-01', machineId: 'machine-mail-01', os: 'linux', agentVersion: '0.1.0' },
      });
      const { agentId, secret } = enrolled.json<{ agentId: string; secret: string }>();
      const ca = await readFile(join(dir, 'pki', 'ca.crt'));
      const client = await TestAgent.connect(`${running().url.replace(/^https:/, 'wss:')}/agent`, `Bearer ${agentId}.${secret}`, { ca });
      await client.next('welcome');
      const accounts = [
        { address: 'ali@mincom.gov.az', user: 'ali', client: 'thunderbird' }, // registered: fine
        { address: 'Ali.Home@Gmail.com', user: 'ali', client: 'thunderbird' }, // a private mailbox
        { address: 'ghost@mincom.gov.az', user: 'leyla', client: 'evolution' }, // ours, not registered
      ];
      const inventory = { v: 1, type: 'inventory', body: { kind: 'snapshot', inventory: { os: 'Ubuntu 24.04', mail: { accounts } } } };
      client.send(inventory);
      const events = await eventually('two mail.account.unapproved events', async () => {
        const found = await unapproved();
        return found.length >= 2 && found;
      });
      expect(events.map((e) => e.data).sort((a, b) => String(a.address).localeCompare(String(b.address)))).to.deep.equal([
        { agentId, hostname: 'pc-mail-01', address: 'ali.home@gmail.com', user: 'ali', client: 'thunderbird', reason: 'domain-not-allowed' },
        { agentId, hostname: 'pc-mail-01', address: 'ghost@mincom.gov.az', user: 'leyla', client: 'evolution', reason: 'not-registered' },
      ]);
      for (const e of events) expect(e).to.deep.include({ type: 'mail.account.unapproved', group: 'default', severity: 'medium' });

      // The same inventory again (the daily snapshot) raises nothing new; an event would have
      // been queued before the delta below is stored, and the sink flushes within 100 ms.
      client.send(inventory);
      client.send({ v: 1, type: 'inventory', body: { kind: 'delta', changes: { marker: 1 } } });
      await eventually('the delta stored', async () => {
        const res = await call('GET', `/api/v1/agents/${agentId}`);
        return JSON.stringify(res.json()).includes('marker');
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await unapproved()).to.have.length(2);
      await client.close();
      // Server events carry no agent sequence: the PC is named in the data, as agent.silent does.
      expect(events.map((e) => e.agentId)).to.deep.equal([null, null]);
    });
  });
});
