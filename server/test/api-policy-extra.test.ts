/**
 * What the console's policies page relies on beyond the base API: a save needs a comment, kept
 * beside the version (not signed), listed in the history; an earlier version can be read back
 * (for the diff and the rollback, which the console does by saving the old fields again).
 */
import { expect } from 'chai';
import type { SignedPolicy } from '@portcullis/shared';
import { expectError, useApi } from './api-support.js';

const RULES = 'allow id 1d6b:*\nallow with-interface equals { 03:*:* }\n';

interface VersionRow {
  group: string;
  version: number;
  createdAt: string;
  createdBy: string;
  comment: string;
}

describe('REST API policy comments and earlier versions', () => {
  const api = useApi();
  let admin: string;
  let viewer: string;
  before(async () => {
    admin = await api().session('admin');
    viewer = await api().session('viewer');
    const res = await api().call('POST', '/api/v1/groups', { token: admin, body: { name: 'office' } });
    expect(res.statusCode, res.body).to.equal(201);
  });
  const put = (body: unknown) => api().call('PUT', '/api/v1/groups/office/policy', { token: admin, body });
  const versions = async (): Promise<VersionRow[]> => {
    const res = await api().call('GET', '/api/v1/groups/office/policy/versions', { token: viewer });
    expect(res.statusCode, res.body).to.equal(200);
    return (res.json() as { versions: VersionRow[] }).versions;
  };

  describe('refusing a save without a usable comment (400 naming comment, nothing saved)', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      // the field left out
      ['missing', { rules: RULES }],
      // present but empty
      ['empty', { rules: RULES, comment: '' }],
      // only blanks: explains nothing
      ['blank', { rules: RULES, comment: ' \n\t ' }],
      // over the 500-character limit
      ['too long', { rules: RULES, comment: 'x'.repeat(501) }],
      // not text
      ['a number', { rules: RULES, comment: 42 }],
    ];
    for (const [name, body] of cases) {
      it(`a comment that is ${name}`, async () => {
        const error = expectError(await put(body), 400);
        expect(error.message).to.match(/comment/);
      });
    }

    it('saved and published none of them', async () => {
      expect(await versions()).to.deep.equal([]);
      expect(api().published.filter((p) => p.group === 'office')).to.deep.equal([]);
    });
  });

  describe('saving with a comment, reading versions back', () => {
    it('stores the trimmed comment with the version, lists it, audits it, and leaves it out of the signed document', async () => {
      const res = await put({ rules: RULES, comment: '  allow keyboards for the lab  ' });
      expect(res.statusCode, res.body).to.equal(200);
      const signed = res.json() as SignedPolicy;
      const doc = api().verify(signed);
      expect(doc).to.not.have.property('comment');
      expect(JSON.stringify(signed)).to.not.contain('allow keyboards');
      const [first] = await versions();
      expect(first).to.deep.equal({
        group: 'office',
        version: 1,
        keyId: api().keyId,
        createdAt: api().clock.now().toISOString(),
        createdBy: 'admin',
        comment: 'allow keyboards for the lab',
      });
      const [audit] = await api().store.listAudit(1);
      expect(audit).to.deep.include({ action: 'policy.save', target: 'office' });
      expect(audit?.details).to.deep.include({ version: 1, comment: 'allow keyboards for the lab' });
    });

    it('accepts a comment of exactly 500 characters', async () => {
      const res = await put({ rules: RULES, implicitTarget: 'reject', comment: 'y'.repeat(500) });
      expect(res.statusCode, res.body).to.equal(200);
      expect((await versions()).map((v) => [v.version, v.comment.length])).to.deep.equal([
        [2, 500],
        [1, 27],
      ]);
    });

    it('reads an earlier version with ?version=N, the latest without it, 404 for one that does not exist', async () => {
      const v1 = await api().call('GET', '/api/v1/groups/office/policy?version=1', { token: viewer });
      expect(v1.statusCode, v1.body).to.equal(200);
      expect(api().verify(v1.json())).to.deep.include({ version: 1, implicitTarget: 'block', rules: RULES });
      const latest = await api().call('GET', '/api/v1/groups/office/policy', { token: viewer });
      expect(api().verify(latest.json())).to.deep.include({ version: 2, implicitTarget: 'reject' });
      expectError(await api().call('GET', '/api/v1/groups/office/policy?version=9', { token: viewer }), 404);
      expectError(await api().call('GET', '/api/v1/groups/office/policy?version=0', { token: viewer }), 400);
      expectError(await api().call('GET', '/api/v1/groups/office/policy?version=abc', { token: viewer }), 400);
      expectError(await api().call('GET', '/api/v1/groups/office/policy?other=1', { token: viewer }), 400);
    });

    it('rolls back as the console does: the old fields saved again as a new version with its own comment', async () => {
      const old = api().verify((await api().call('GET', '/api/v1/groups/office/policy?version=1', { token: viewer })).json());
      const { rules, implicitTarget, presentDevices, compositeDevices, ports, exceptions } = old;
      const res = await put({ rules, implicitTarget, presentDevices, compositeDevices, ports, exceptions, comment: 'roll back to version 1' });
      expect(res.statusCode, res.body).to.equal(200);
      const doc = api().verify(res.json());
      expect(doc).to.deep.include({ version: 3, rules, implicitTarget: 'block' });
      expect((await versions())[0]).to.deep.include({ version: 3, comment: 'roll back to version 1' });
    });

    it('simulates the body a save would send, comment and all (the comment changes nothing)', async () => {
      const res = await api().call('POST', '/api/v1/groups/office/policy/simulate', { token: viewer, body: { rules: RULES, comment: 'try' } });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.include({ group: 'office' });
    });

    it('gives the first start\'s starter policy a comment', async () => {
      const res = await api().call('GET', '/api/v1/groups/default/policy/versions', { token: viewer });
      const [starter] = (res.json() as { versions: VersionRow[] }).versions;
      expect(starter).to.deep.include({ version: 1, createdBy: 'system', comment: 'starter policy' });
    });
  });
});
