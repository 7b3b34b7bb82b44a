import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError, StoreErrorCodes, type PolicyVersionRecord, type Role, type Store } from '../src/store/store.js';
import { openStore } from '../src/store/open-store.js';
import { BACKENDS, PG_ADMIN_URL, at, seedFleet, useStore } from './store-backends.js';

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(StoreError);
    expect((err as StoreError).code).to.equal(code);
    return;
  }
  expect.fail(`expected a StoreError ${code}`);
}

function policy(group: string, version: number, createdBy = 'alice'): PolicyVersionRecord {
  return { group, version, document: `{"group":"${group}","version":${version}}`, signature: `sig-${version}`, keyId: 'k1', createdAt: at(version), createdBy, comment: `save ${version}` };
}

/** Saves the next version the way the API does: read the latest, try latest + 1, retry on a lost race. */
async function saveNextVersion(store: Store, group: string, by: string): Promise<number> {
  for (;;) {
    const next = ((await store.latestPolicy(group))?.version ?? 0) + 1;
    if (await store.addPolicyVersion(policy(group, next, by))) return next;
  }
}

for (const backend of BACKENDS) {
  describe(`store contract (${backend.name}): accounts, fleet, inventory`, function () {
    const h = useStore(backend);

    it('migrating again is harmless and keeps the data', async () => {
      await h().store.createGroup({ name: 'kept', description: '', createdAt: at(0) });
      await h().store.migrate();
      await h().store.migrate();
      expect(await h().store.getGroup('kept')).to.deep.equal({ name: 'kept', description: '', createdAt: at(0) });
    });

    describe('users and sessions', () => {
      it('creates, reads and lists users (sorted, enabled by default)', async () => {
        const { store } = h();
        await store.createUser({ username: 'zoe', role: 'viewer', passwordHash: 'h-zoe' }, at(1));
        await store.createUser({ username: 'alice', role: 'admin', passwordHash: 'h-alice' }, at(2));
        expect(await store.getUser('alice')).to.deep.equal({ username: 'alice', role: 'admin', passwordHash: 'h-alice', createdAt: at(2), disabled: false });
        expect(await store.getUser('nobody')).to.equal(undefined);
        expect((await store.listUsers()).map((u) => u.username)).to.deep.equal(['alice', 'zoe']);
      });

      it('refuses a second user with the same name', async () => {
        await expectStoreError(h().store.createUser({ username: 'alice', role: 'viewer', passwordHash: 'x' }, at(3)), StoreErrorCodes.CONFLICT);
      });

      it('refuses a role outside admin/security/viewer at the database', async () => {
        let failed = false;
        await h().store.createUser({ username: 'mallory', role: 'root' as Role, passwordHash: 'x' }, at(3)).catch(() => (failed = true));
        expect(failed).to.equal(true);
        expect(await h().store.getUser('mallory')).to.equal(undefined);
      });

      it('changes a password hash and disables a user; unknown users report false', async () => {
        const { store } = h();
        expect(await store.setPasswordHash('zoe', 'h-zoe-2')).to.equal(true);
        expect(await store.setUserDisabled('zoe', true)).to.equal(true);
        expect(await store.getUser('zoe')).to.include({ passwordHash: 'h-zoe-2', disabled: true });
        expect(await store.setUserDisabled('zoe', false)).to.equal(true);
        expect((await store.getUser('zoe'))?.disabled).to.equal(false);
        expect(await store.setPasswordHash('nobody', 'x')).to.equal(false);
        expect(await store.setUserDisabled('nobody', true)).to.equal(false);
      });

      it('changes a user\u2019s role; an unknown user reports false', async () => {
        const { store } = h();
        expect(await store.setUserRole('zoe', 'security')).to.equal(true);
        expect((await store.getUser('zoe'))?.role).to.equal('security');
        expect(await store.setUserRole('nobody', 'admin')).to.equal(false);
      });

      it('creates, reads and deletes sessions; expiry sweeps only expired ones', async () => {
        const { store } = h();
        await store.createSession({ tokenHash: 's1', username: 'alice', createdAt: at(0), expiresAt: at(10) });
        await store.createSession({ tokenHash: 's2', username: 'alice', createdAt: at(0), expiresAt: at(20) });
        await store.createSession({ tokenHash: 's3', username: 'zoe', createdAt: at(0), expiresAt: at(30) });
        expect(await store.getSession('s1')).to.deep.equal({ tokenHash: 's1', username: 'alice', createdAt: at(0), expiresAt: at(10) });
        await store.deleteSession('s3');
        expect(await store.getSession('s3')).to.equal(undefined);
        // expires_at <= now: s1 (10) and s2 (20) are expired at 20.
        expect(await store.deleteExpiredSessions(at(20))).to.equal(2);
        expect(await store.deleteExpiredSessions(at(20))).to.equal(0);
      });

      it("ends every session of one user and no one else's", async () => {
        const { store } = h();
        await store.createSession({ tokenHash: 'u1', username: 'alice', createdAt: at(0), expiresAt: at(90) });
        await store.createSession({ tokenHash: 'u2', username: 'alice', createdAt: at(0), expiresAt: at(90) });
        await store.createSession({ tokenHash: 'u3', username: 'zoe', createdAt: at(0), expiresAt: at(90) });
        expect(await store.deleteSessionsOf('alice')).to.equal(2);
        expect(await store.getSession('u1')).to.equal(undefined);
        expect(await store.getSession('u3')).to.include({ username: 'zoe' });
        expect(await store.deleteSessionsOf('nobody')).to.equal(0);
      });

      it('refuses a session for an unknown user', async () => {
        await expectStoreError(h().store.createSession({ tokenHash: 's9', username: 'ghost', createdAt: at(0), expiresAt: at(1) }), StoreErrorCodes.NOT_FOUND);
      });
    });

    describe('groups and policy versions', () => {
      before(() => seedFleet(h().store));

      it('lists groups by name and refuses a duplicate', async () => {
        expect((await h().store.listGroups()).map((g) => g.name)).to.deep.equal(['g1', 'g2', 'kept']);
        await expectStoreError(h().store.createGroup({ name: 'g1', description: '', createdAt: at(0) }), StoreErrorCodes.CONFLICT);
      });

      it('stores versions 1, 2, 3 and reads the latest, one, and the list (newest first)', async () => {
        const { store } = h();
        for (const v of [1, 2, 3]) expect(await store.addPolicyVersion(policy('g1', v))).to.equal(true);
        expect(await store.latestPolicy('g1')).to.deep.equal(policy('g1', 3));
        expect(await store.getPolicyVersion('g1', 2)).to.deep.equal(policy('g1', 2));
        expect(await store.getPolicyVersion('g1', 9)).to.equal(undefined);
        expect(await store.latestPolicy('g2')).to.equal(undefined);
        expect(await store.listPolicyVersions('g1')).to.deep.equal(
          [3, 2, 1].map((v) => ({ group: 'g1', version: v, keyId: 'k1', createdAt: at(v), createdBy: 'alice', comment: `save ${v}` })),
        );
      });

      it('lets exactly one of 10 concurrent saves of the same version win', async () => {
        const { store } = h();
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.addPolicyVersion(policy('g1', 4, `admin${i}`))));
        expect(results.filter((won) => won)).to.have.length(1);
        const winner = `admin${results.indexOf(true)}`;
        expect((await store.getPolicyVersion('g1', 4))?.createdBy).to.equal(winner);
      });

      it('gives 10 concurrent savers that retry 10 distinct consecutive versions', async () => {
        const { store } = h();
        const versions = await Promise.all(Array.from({ length: 10 }, (_, i) => saveNextVersion(store, 'g2', `admin${i}`)));
        expect([...versions].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect((await store.listPolicyVersions('g2')).map((v) => v.version)).to.deep.equal([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      });

      it('refuses a version for an unknown group', async () => {
        await expectStoreError(h().store.addPolicyVersion(policy('ghost', 1)), StoreErrorCodes.NOT_FOUND);
      });
    });

    describe('enrollment tokens', () => {
      const token = (id: string, expiresAt: string) => ({ id, tokenHash: `hash-${id}`, group: 'g1', createdAt: at(0), createdBy: 'alice', expiresAt });

      it('counts each use of a valid token', async () => {
        const { store } = h();
        await store.createEnrollmentToken(token('t1', at(60)));
        expect(await store.useEnrollmentToken('hash-t1', at(1))).to.deep.include({ id: 't1', group: 'g1', uses: 1, revokedAt: null });
        expect((await store.useEnrollmentToken('hash-t1', at(2)))?.uses).to.equal(2);
      });

      it('refuses an expired token (at its expiry time too) without counting it', async () => {
        const { store } = h();
        await store.createEnrollmentToken(token('t2', at(10)));
        expect(await store.useEnrollmentToken('hash-t2', at(10))).to.equal(undefined);
        expect(await store.useEnrollmentToken('hash-t2', at(11))).to.equal(undefined);
        expect((await store.listEnrollmentTokens()).find((t) => t.id === 't2')?.uses).to.equal(0);
      });

      it('refuses a revoked token; revoking keeps the first time; unknown ids report false', async () => {
        const { store } = h();
        expect(await store.revokeEnrollmentToken('t1', at(5))).to.equal(true);
        expect(await store.revokeEnrollmentToken('t1', at(6))).to.equal(true);
        expect(await store.useEnrollmentToken('hash-t1', at(7))).to.equal(undefined);
        expect(await store.useEnrollmentToken('no-such-hash', at(7))).to.equal(undefined);
        expect(await store.revokeEnrollmentToken('nope', at(5))).to.equal(false);
        const t1 = (await store.listEnrollmentTokens()).find((t) => t.id === 't1');
        expect(t1).to.deep.equal({ ...token('t1', at(60)), revokedAt: at(5), uses: 2 });
      });

      it('compares times as instants, whatever ISO form the caller wrote', async () => {
        const { store } = h();
        // 11:00+01:00 is 10:00Z: as text it would sort after 10:00:00.500Z and look unexpired.
        await store.createEnrollmentToken(token('t4', '2026-11-25T11:00:00+01:00'));
        expect((await store.listEnrollmentTokens()).find((t) => t.id === 't4')?.expiresAt).to.equal('2026-11-25T10:00:00.000Z');
        expect(await store.useEnrollmentToken('hash-t4', '2026-11-25T10:00:00.500Z')).to.equal(undefined);
        expect((await store.useEnrollmentToken('hash-t4', '2026-11-25T09:59:59Z'))?.uses).to.equal(1);
      });

      it('refuses a time that does not parse', async () => {
        await expectStoreError(h().store.useEnrollmentToken('hash-t4', 'yesterday'), StoreErrorCodes.INVALID);
        await expectStoreError(h().store.createEnrollmentToken(token('t5', '2026-13-45T99:00:00Z')), StoreErrorCodes.INVALID);
      });

      it('refuses a duplicate id or a token for an unknown group', async () => {
        await expectStoreError(h().store.createEnrollmentToken(token('t1', at(60))), StoreErrorCodes.CONFLICT);
        await expectStoreError(h().store.createEnrollmentToken({ ...token('t3', at(60)), group: 'ghost' }), StoreErrorCodes.NOT_FOUND);
      });
    });

    describe('agents', () => {
      it('reads an agent as enrolled', async () => {
        expect(await h().store.getAgent('a1')).to.deep.equal({
          id: 'a1',
          secretHash: 'secret-a1',
          group: 'g1',
          hostname: 'PC-Finance-01',
          machineId: 'machine-a1',
          os: 'linux',
          agentVersion: '0.1.0',
          enrolledAt: at(0),
          lastSeenAt: null,
          appliedVersion: null,
          revokedAt: null,
        });
        expect(await h().store.getAgent('nope')).to.equal(undefined);
      });

      const filters = [
        // No filter: every agent that is not revoked, by hostname.
        { filter: {}, ids: ['a1', 'a2'] },
        { filter: { group: 'g2' }, ids: ['a2'] },
        // hostname is a case-insensitive substring.
        { filter: { hostname: 'pc-fin' }, ids: ['a1'] },
        { filter: { hostname: 'PC-' }, ids: ['a1', 'a2'] },
        { filter: { machineId: 'machine-a2' }, ids: ['a2'] },
        { filter: { group: 'g1', hostname: 'legal' }, ids: [] },
      ];
      for (const { filter, ids } of filters) {
        it(`lists agents for ${JSON.stringify(filter)}`, async () => {
          expect((await h().store.listAgents(filter)).map((a) => a.id)).to.deep.equal(ids);
        });
      }

      it('moves, updates, touches and revokes agents', async () => {
        const { store } = h();
        expect(await store.setAgentGroup('a2', 'g1')).to.equal(true);
        expect(await store.setAgentGroup('nope', 'g1')).to.equal(false);
        await store.setAgentApplied('a2', 3);
        await store.touchAgent('a2', at(42));
        expect(await store.revokeAgent('a2', at(50))).to.equal(true);
        expect(await store.revokeAgent('nope', at(50))).to.equal(false);
        expect(await store.getAgent('a2')).to.deep.include({ group: 'g1', appliedVersion: 3, lastSeenAt: at(42), revokedAt: at(50) });
        expect((await store.listAgents({ group: 'g1' })).map((a) => a.id)).to.deep.equal(['a1']);
        expect((await store.listAgents({ group: 'g1', includeRevoked: true })).map((a) => a.id)).to.deep.equal(['a1', 'a2']);
      });

      it('stores many applied versions and signs of life at once', async () => {
        const { store } = h();
        await store.setAgentsApplied([{ id: 'a1', version: 7 }]);
        await store.setAgentsApplied([]);
        await store.touchAgents(['a1', 'a2', 'nope'], at(77));
        await store.touchAgents([], at(78));
        expect(await store.getAgent('a1')).to.deep.include({ appliedVersion: 7, lastSeenAt: at(77) });
        expect((await store.getAgent('a2'))?.lastSeenAt).to.equal(at(77));
      });

      it('refuses a duplicate agent, an unknown group, and a move to an unknown group', async () => {
        const { store } = h();
        const agent = { id: 'a1', secretHash: 's', group: 'g1', hostname: 'h', machineId: 'm', os: 'linux', agentVersion: '0.1.0', enrolledAt: at(0) };
        await expectStoreError(store.createAgent(agent), StoreErrorCodes.CONFLICT);
        await expectStoreError(store.createAgent({ ...agent, id: 'a9', group: 'ghost' }), StoreErrorCodes.NOT_FOUND);
        await expectStoreError(store.setAgentGroup('a1', 'ghost'), StoreErrorCodes.NOT_FOUND);
      });
    });

    describe('inventory and USB sightings', () => {
      it('puts, replaces and reads an inventory; an older snapshot changes nothing', async () => {
        const { store } = h();
        expect(await store.getInventory('a1')).to.equal(undefined);
        await store.putInventory('a1', { os: { name: 'Debian' }, disks: [1] }, at(10));
        await store.putInventory('a1', { os: { name: 'Debian 12' } }, at(20));
        await store.putInventory('a1', { stale: true }, at(15));
        expect(await store.getInventory('a1')).to.deep.equal({ inventory: { os: { name: 'Debian 12' } }, updatedAt: at(20) });
        await expectStoreError(store.putInventory('ghost', {}, at(1)), StoreErrorCodes.NOT_FOUND);
      });

      it('keeps the first sighting and moves the last one forward, per device and agent', async () => {
        const { store } = h();
        await store.recordUsbSeen('a1', [{ key: 'k1', device: { name: 'Stick' } }, { key: 'k2', device: { name: 'Mouse' } }], at(10));
        await store.recordUsbSeen('a1', [{ key: 'k1', device: { name: 'Stick v2' } }], at(20));
        await store.recordUsbSeen('a1', [{ key: 'k1', device: { name: 'Stick v0' } }], at(5));
        await store.recordUsbSeen('a2', [{ key: 'k1', device: { name: 'Stick' } }], at(30));
        await store.recordUsbSeen('a2', [], at(31));
        expect(await store.listUsbSeen()).to.deep.equal([
          { key: 'k1', agentId: 'a2', device: { name: 'Stick' }, firstSeenAt: at(30), lastSeenAt: at(30) },
          { key: 'k1', agentId: 'a1', device: { name: 'Stick v2' }, firstSeenAt: at(10), lastSeenAt: at(20) },
          { key: 'k2', agentId: 'a1', device: { name: 'Mouse' }, firstSeenAt: at(10), lastSeenAt: at(10) },
        ]);
        await expectStoreError(store.recordUsbSeen('ghost', [{ key: 'k1', device: {} }], at(1)), StoreErrorCodes.NOT_FOUND);
      });
    });
  });
}

describe('opening a store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the SQLite file, its -wal and -shm at 0600 in a new 0700 folder', async () => {
    const dataDir = join(dir, 'data', 'nested');
    const store = await openStore(undefined, dataDir);
    try {
      await store.migrate();
      await store.createGroup({ name: 'g', description: '', createdAt: at(0) });
      expect((await stat(join(dir, 'data'))).mode & 0o777).to.equal(0o700);
      expect((await stat(dataDir)).mode & 0o777).to.equal(0o700);
      for (const suffix of ['', '-wal', '-shm']) {
        expect((await stat(join(dataDir, `portcullis.db${suffix}`))).mode & 0o777, `portcullis.db${suffix}`).to.equal(0o600);
      }
    } finally {
      await store.close();
    }
  });

  it('opens PostgreSQL for postgres:// and postgresql:// URLs', async () => {
    for (const url of [PG_ADMIN_URL, PG_ADMIN_URL.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore(url, dir);
      await store.close();
    }
  });

  const badUrls = [
    // Another database product.
    'mysql://root:hunter2@db/portcullis',
    // A path is not a URL: the SQLite file is chosen by leaving the URL unset.
    '/var/lib/portcullis/portcullis.db',
    'sqlite:///tmp/x.db',
  ];
  for (const url of badUrls) {
    it(`refuses the database URL ${url} with a clear error that hides any password`, async () => {
      await expectStoreError(openStore(url, dir), StoreErrorCodes.DATABASE_URL);
      const message = await openStore(url, dir).catch((err: Error) => err.message);
      expect(message).to.match(/unsupported database URL/).and.not.include('hunter2');
    });
  }

  it('names an unreachable PostgreSQL server without its password', async () => {
    const message = await openStore('postgres://portcullis:hunter2@127.0.0.1:1/portcullis', dir).then(
      () => 'opened',
      (err: Error) => err.message,
    );
    expect(message).to.match(/cannot reach PostgreSQL at postgres:\/\/portcullis:\*\*\*@127\.0\.0\.1:1\/portcullis/).and.not.include('hunter2');
  });
});
