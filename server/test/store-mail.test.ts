/**
 * The store contract for the mail address registry and the groups' mail policies (DESIGN.md §5),
 * run on SQLite and PostgreSQL alike (STYLE.md §4).
 */
import { expect } from 'chai';
import { StoreError, StoreErrorCodes, type MailAddressQuery, type MailAddressRecord, type MailAddressState, type MailPolicyRecord } from '../src/store/store.js';
import { BACKENDS, at, seedFleet, useStore } from './store-backends.js';

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

/** A registry row of group g1, active, created and updated at minute 0 unless told. */
function mail(address: string, patch: Partial<MailAddressRecord> = {}): MailAddressRecord {
  return { address, owner: `Owner of ${address}`, group: 'g1', logins: [], state: 'active', notes: '', createdAt: at(0), updatedAt: at(0), ...patch };
}

const POLICY = {
  internalDomains: ['mincom.gov.az'],
  externalMode: 'allow-list',
  externalDomains: ['gmail.com'],
  maxExternalBytes: 10_485_760,
  maxMessagesPerHour: 200,
  maxExternalRecipientsPerHour: 100,
  maxMessagesPerDay: 0,
  maxExternalRecipientsPerDay: 0,
};

for (const backend of BACKENDS) {
  describe(`store contract (${backend.name}): mail`, function () {
    describe('addresses: create, read, update, delete', () => {
      const h = useStore(backend);
      before(() => seedFleet(h().store));

      it('creates and reads back a record as it was given', async () => {
        const { store } = h();
        const record = mail('ali.aliyev@mincom.gov.az', { owner: 'Ali Aliyev', logins: ['ali.aliyev', 'ali2'], notes: 'room 204', createdAt: at(1), updatedAt: at(2) });
        await store.createMailAddress(record);
        expect(await store.getMailAddress('ali.aliyev@mincom.gov.az')).to.deep.equal(record);
        expect(await store.getMailAddress('nobody@mincom.gov.az')).to.equal(undefined);
      });

      it('keeps times in UTC toISOString form, whatever offset they were given in', async () => {
        const { store } = h();
        await store.createMailAddress(mail('offset@mincom.gov.az', { createdAt: '2026-11-25T11:00:00+01:00', updatedAt: '2026-11-25T10:05:00Z' }));
        const found = await store.getMailAddress('offset@mincom.gov.az');
        expect([found?.createdAt, found?.updatedAt]).to.deep.equal([at(0), at(5)]);
      });

      it('refuses a time that does not parse (INVALID), on create, update and import', async () => {
        const { store } = h();
        await expectStoreError(store.createMailAddress(mail('badtime@mincom.gov.az', { createdAt: 'yesterday' })), StoreErrorCodes.INVALID);
        await expectStoreError(store.updateMailAddress(mail('offset@mincom.gov.az', { updatedAt: '2026-11-25' })), StoreErrorCodes.INVALID);
        await expectStoreError(store.importMailAddresses([mail('badtime@mincom.gov.az', { updatedAt: '' })]), StoreErrorCodes.INVALID);
        expect(await store.getMailAddress('badtime@mincom.gov.az')).to.equal(undefined);
      });

      it('refuses an address that exists (CONFLICT) and a group that does not (NOT_FOUND)', async () => {
        const { store } = h();
        await expectStoreError(store.createMailAddress(mail('ali.aliyev@mincom.gov.az', { owner: 'Someone else' })), StoreErrorCodes.CONFLICT);
        expect((await store.getMailAddress('ali.aliyev@mincom.gov.az'))?.owner).to.equal('Ali Aliyev');
        await expectStoreError(store.createMailAddress(mail('ghost@mincom.gov.az', { group: 'ghost' })), StoreErrorCodes.NOT_FOUND);
        expect(await store.getMailAddress('ghost@mincom.gov.az')).to.equal(undefined);
      });

      it('refuses a state outside active/suspended/retired at the database', async () => {
        const { store } = h();
        let failed = false;
        await store.createMailAddress(mail('odd@mincom.gov.az', { state: 'deleted' as MailAddressState })).catch(() => (failed = true));
        expect(failed).to.equal(true);
        expect(await store.getMailAddress('odd@mincom.gov.az')).to.equal(undefined);
      });

      it('updates every field but the key and createdAt; an unknown address reports false', async () => {
        const { store } = h();
        const changed = mail('ali.aliyev@mincom.gov.az', {
          owner: 'Ali Aliyev (finance)',
          group: 'g2',
          logins: [],
          state: 'suspended',
          notes: 'on leave',
          createdAt: at(50), // ignored: the creation time stays
          updatedAt: at(60),
        });
        expect(await store.updateMailAddress(changed)).to.equal(true);
        expect(await store.getMailAddress('ali.aliyev@mincom.gov.az')).to.deep.equal({ ...changed, createdAt: at(1) });
        expect(await store.updateMailAddress(mail('nobody@mincom.gov.az'))).to.equal(false);
        expect(await store.getMailAddress('nobody@mincom.gov.az')).to.equal(undefined);
      });

      it('refuses an update to an unknown group and keeps the record', async () => {
        const { store } = h();
        const before = await store.getMailAddress('ali.aliyev@mincom.gov.az');
        await expectStoreError(store.updateMailAddress(mail('ali.aliyev@mincom.gov.az', { group: 'ghost' })), StoreErrorCodes.NOT_FOUND);
        expect(await store.getMailAddress('ali.aliyev@mincom.gov.az')).to.deep.equal(before);
      });

      it('deletes a record once; an unknown address reports false', async () => {
        const { store } = h();
        expect(await store.deleteMailAddress('offset@mincom.gov.az')).to.equal(true);
        expect(await store.getMailAddress('offset@mincom.gov.az')).to.equal(undefined);
        expect(await store.deleteMailAddress('offset@mincom.gov.az')).to.equal(false);
        // the same address may be registered again after
        await store.createMailAddress(mail('offset@mincom.gov.az'));
        expect(await store.getMailAddress('offset@mincom.gov.az')).to.deep.equal(mail('offset@mincom.gov.az'));
      });
    });

    describe('addresses: listing', () => {
      const h = useStore(backend);
      before(async () => {
        const { store } = h();
        await seedFleet(store);
        for (const r of [
          mail('anna@mincom.gov.az', { owner: 'Anna Quliyeva' }),
          mail('bob@mincom.gov.az', { owner: 'Bob Smith', state: 'suspended' }),
          mail('carl@edu.gov.az', { owner: 'Carl ANDERSSON', group: 'g2' }),
          mail('dana_x@mincom.gov.az', { owner: '100% Office', group: 'g2', state: 'retired' }),
          mail('danaax@mincom.gov.az', { owner: 'Dana Plain' }),
          mail('erik@mincom.gov.az', { owner: 'Erik 50 percent' }),
        ]) {
          await store.createMailAddress(r);
        }
      });

      const addresses = async (q: MailAddressQuery) =>
        (await h().store.listMailAddresses(q)).map((r) => r.address);

      // Rows: a query and the addresses it lists, in address order.
      const ROWS: ReadonlyArray<{ name: string; q: Omit<MailAddressQuery, 'limit'>; expected: string[] }> = [
        // everything, sorted by address
        { name: 'no filter', q: {}, expected: ['anna@mincom.gov.az', 'bob@mincom.gov.az', 'carl@edu.gov.az', 'dana_x@mincom.gov.az', 'danaax@mincom.gov.az', 'erik@mincom.gov.az'] },
        { name: 'by group', q: { group: 'g2' }, expected: ['carl@edu.gov.az', 'dana_x@mincom.gov.az'] },
        { name: 'by state', q: { state: 'suspended' }, expected: ['bob@mincom.gov.az'] },
        { name: 'by group and state', q: { group: 'g1', state: 'active' }, expected: ['anna@mincom.gov.az', 'danaax@mincom.gov.az', 'erik@mincom.gov.az'] },
        { name: 'a group with none', q: { group: 'ghost' }, expected: [] },
        // q: a substring of the address, in any case
        { name: 'address substring, other case', q: { q: 'EDU.GOV' }, expected: ['carl@edu.gov.az'] },
        // q: a substring of the owner, in any case
        { name: 'owner substring, other case', q: { q: 'andersson' }, expected: ['carl@edu.gov.az'] },
        { name: 'owner substring', q: { q: 'quliyeva' }, expected: ['anna@mincom.gov.az'] },
        // `_` is a literal underscore, not LIKE's any-character (danaax must not match)
        { name: 'underscore is literal', q: { q: 'dana_' }, expected: ['dana_x@mincom.gov.az'] },
        // `%` is a literal percent sign, not LIKE's anything (Erik's "50 percent" must not match)
        { name: 'percent is literal', q: { q: '0%' }, expected: ['dana_x@mincom.gov.az'] },
        // a backslash is literal too (LIKE's escape character here)
        { name: 'backslash is literal', q: { q: '\\' }, expected: [] },
        { name: 'q with a group', q: { q: 'mincom', group: 'g2' }, expected: ['dana_x@mincom.gov.az'] },
        // an empty q filters nothing
        { name: 'empty q', q: { q: '', state: 'retired' }, expected: ['dana_x@mincom.gov.az'] },
        { name: 'no match', q: { q: 'zzz' }, expected: [] },
        // after: strictly after that address, even one not registered
        { name: 'after an address', q: { after: 'carl@edu.gov.az' }, expected: ['dana_x@mincom.gov.az', 'danaax@mincom.gov.az', 'erik@mincom.gov.az'] },
        { name: 'after an unregistered address', q: { after: 'c' }, expected: ['carl@edu.gov.az', 'dana_x@mincom.gov.az', 'danaax@mincom.gov.az', 'erik@mincom.gov.az'] },
        { name: 'after with a filter', q: { after: 'anna@mincom.gov.az', group: 'g1' }, expected: ['bob@mincom.gov.az', 'danaax@mincom.gov.az', 'erik@mincom.gov.az'] },
      ];
      for (const row of ROWS) {
        it(`lists ${row.name}`, async () => {
          expect(await addresses({ ...row.q, limit: 100 })).to.deep.equal(row.expected);
        });
      }

      it('pages with limit and after, each address once', async () => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await addresses({ limit: 4, ...(after !== undefined ? { after } : {}) });
          seen.push(...page);
          if (page.length < 4) break;
          after = page[page.length - 1];
        }
        expect(seen).to.deep.equal(await addresses({ limit: 100 }));
        expect(await addresses({ limit: 2 })).to.deep.equal(['anna@mincom.gov.az', 'bob@mincom.gov.az']);
      });

      it('returns whole records', async () => {
        const [first] = await h().store.listMailAddresses({ limit: 1, q: 'bob' });
        expect(first).to.deep.equal(mail('bob@mincom.gov.az', { owner: 'Bob Smith', state: 'suspended' }));
      });
    });

    describe('addresses: import', () => {
      const h = useStore(backend);
      before(async () => {
        const { store } = h();
        await seedFleet(store);
        await store.createMailAddress(mail('same@mincom.gov.az', { logins: ['same'], notes: 'n' }));
        await store.createMailAddress(mail('moved@mincom.gov.az'));
      });

      it('creates new rows, updates changed ones and counts equal ones as unchanged (times aside)', async () => {
        const { store } = h();
        const counts = await store.importMailAddresses([
          mail('new1@mincom.gov.az', { createdAt: at(10), updatedAt: at(10) }),
          mail('new2@mincom.gov.az', { group: 'g2', logins: ['n2'], createdAt: at(10), updatedAt: at(10) }),
          // equal but for the times: left alone
          mail('same@mincom.gov.az', { logins: ['same'], notes: 'n', createdAt: at(10), updatedAt: at(10) }),
          // another group: updated, its creation time kept
          mail('moved@mincom.gov.az', { group: 'g2', createdAt: at(10), updatedAt: at(10) }),
        ]);
        expect(counts).to.deep.equal({ created: 2, updated: 1, unchanged: 1 });
        expect(await store.getMailAddress('new2@mincom.gov.az')).to.deep.equal(mail('new2@mincom.gov.az', { group: 'g2', logins: ['n2'], createdAt: at(10), updatedAt: at(10) }));
        expect(await store.getMailAddress('same@mincom.gov.az')).to.deep.equal(mail('same@mincom.gov.az', { logins: ['same'], notes: 'n' }));
        expect(await store.getMailAddress('moved@mincom.gov.az')).to.deep.equal(mail('moved@mincom.gov.az', { group: 'g2', updatedAt: at(10) }));
      });

      // Rows: one field changed on an existing record; each makes the row "updated".
      const CHANGES: ReadonlyArray<[string, Partial<MailAddressRecord>]> = [
        ['owner', { owner: 'New Owner' }],
        ['logins', { logins: ['same', 'other'] }],
        ['login order', { logins: ['other', 'same'] }], // stored as given: a different list
        ['state', { state: 'retired' }],
        ['notes', { notes: '' }],
      ];
      for (const [field, patch] of CHANGES) {
        it(`counts a changed ${field} as updated`, async () => {
          const { store } = h();
          const current = (await store.getMailAddress('same@mincom.gov.az')) as MailAddressRecord;
          const next = { ...current, ...patch, updatedAt: at(20) };
          expect(await store.importMailAddresses([next])).to.deep.equal({ created: 0, updated: 1, unchanged: 0 });
          expect(await store.getMailAddress('same@mincom.gov.az')).to.deep.equal({ ...next, createdAt: current.createdAt });
          expect(await store.importMailAddresses([next])).to.deep.equal({ created: 0, updated: 0, unchanged: 1 });
        });
      }

      it('an empty import changes nothing', async () => {
        expect(await h().store.importMailAddresses([])).to.deep.equal({ created: 0, updated: 0, unchanged: 0 });
      });

      it('is all or nothing: a row with an unknown group stores none of the rows before or after it', async () => {
        const { store } = h();
        const before = await store.listMailAddresses({ limit: 100 });
        await expectStoreError(
          store.importMailAddresses([
            mail('first@mincom.gov.az'),
            mail('same@mincom.gov.az', { owner: 'Changed By A Failed Import' }),
            mail('bad@mincom.gov.az', { group: 'ghost' }),
            mail('last@mincom.gov.az'),
          ]),
          StoreErrorCodes.NOT_FOUND,
        );
        expect(await store.listMailAddresses({ limit: 100 })).to.deep.equal(before);
        // the store is usable after the rolled-back transaction
        expect(await store.importMailAddresses([mail('first@mincom.gov.az')])).to.deep.equal({ created: 1, updated: 0, unchanged: 0 });
      });
    });

    describe('mail policies', () => {
      const h = useStore(backend);
      before(() => seedFleet(h().store));

      it('has none until one is put', async () => {
        expect(await h().store.getMailPolicy('g1')).to.equal(undefined);
        expect(await h().store.listMailPolicies()).to.deep.equal([]);
      });

      it('puts and reads a policy back', async () => {
        const { store } = h();
        const record: MailPolicyRecord = { group: 'g2', policy: POLICY, updatedAt: at(1), updatedBy: 'alice' };
        await store.putMailPolicy(record);
        expect(await store.getMailPolicy('g2')).to.deep.equal(record);
      });

      it('keeps updatedAt in UTC and refuses one that does not parse', async () => {
        const { store } = h();
        await store.putMailPolicy({ group: 'g1', policy: POLICY, updatedAt: '2026-11-25T14:00:00+04:00', updatedBy: 'alice' });
        expect((await store.getMailPolicy('g1'))?.updatedAt).to.equal(at(0));
        await expectStoreError(store.putMailPolicy({ group: 'g1', policy: POLICY, updatedAt: 'now', updatedBy: 'alice' }), StoreErrorCodes.INVALID);
      });

      it('a second put replaces the first (an upsert)', async () => {
        const { store } = h();
        const record: MailPolicyRecord = { group: 'g2', policy: { ...POLICY, externalMode: 'deny-list', externalDomains: [] }, updatedAt: at(2), updatedBy: 'bob' };
        await store.putMailPolicy(record);
        expect(await store.getMailPolicy('g2')).to.deep.equal(record);
      });

      it('lists every group’s policy by group', async () => {
        const { store } = h();
        await store.putMailPolicy({ group: 'g1', policy: POLICY, updatedAt: at(3), updatedBy: 'alice' });
        const list = await store.listMailPolicies();
        expect(list.map((p) => [p.group, p.updatedBy])).to.deep.equal([
          ['g1', 'alice'],
          ['g2', 'bob'],
        ]);
        expect(list[0]?.policy).to.deep.equal(POLICY);
      });

      it('refuses a policy for an unknown group (NOT_FOUND) and stores nothing', async () => {
        const { store } = h();
        await expectStoreError(store.putMailPolicy({ group: 'ghost', policy: POLICY, updatedAt: at(4), updatedBy: 'alice' }), StoreErrorCodes.NOT_FOUND);
        expect(await store.getMailPolicy('ghost')).to.equal(undefined);
        expect((await store.listMailPolicies()).map((p) => p.group)).to.deep.equal(['g1', 'g2']);
      });
    });
  });
}
