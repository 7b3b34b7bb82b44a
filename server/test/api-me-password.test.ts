/** A user changing their own password (the console's "change password" page). */
import { expect } from 'chai';
import { PASSWORDS, expectError, useApi } from './api-support.js';

const URL = '/api/v1/me/password';
const NEW = 'Fresh-viewer-pass-7731';

describe('PUT /api/v1/me/password', () => {
  const api = useApi();

  it('changes the password with the current one: the new one signs in, the old one does not, other sessions end', async () => {
    const { call, store } = api();
    const mine = await api().login('viewer');
    const other = await api().session('viewer');
    const res = await api().app.inject({ method: 'PUT', url: URL, headers: { authorization: `Bearer ${mine}` }, payload: { current: PASSWORDS.viewer, password: NEW } });
    expect(res.statusCode, res.body).to.equal(204);
    // The caller's browser gets a fresh session cookie; the other session is gone.
    expect(String(res.headers['set-cookie'])).to.match(/^portcullis_session=[A-Za-z0-9_-]{43};/);
    expectError(await call('GET', '/api/v1/me', { token: other }), 401);
    expect((await call('POST', '/api/v1/session', { body: { username: 'viewer', password: NEW } })).statusCode).to.equal(200);
    expectError(await call('POST', '/api/v1/session', { body: { username: 'viewer', password: PASSWORDS.viewer } }), 401);
    expect((await store.listAudit(1))[0]).to.deep.include({ actor: 'viewer', action: 'user.password', target: 'viewer' });
    expect(JSON.stringify(await store.listAudit(5))).to.not.include(NEW);
  });

  it('refuses a wrong current password (401) and a weak new one (400), changing nothing', async () => {
    const { call, store } = api();
    const token = await api().session('security');
    const before = (await store.getUser('security'))?.passwordHash;
    expect(expectError(await call('PUT', URL, { token, body: { current: 'not-the-password-000', password: 'Another-good-pass-1234' } }), 401).message).to.match(
      /current password/,
    );
    expectError(await call('PUT', URL, { token, body: { current: PASSWORDS.security, password: 'short' } }), 400);
    expect((await store.getUser('security'))?.passwordHash).to.equal(before);
  });

  const bad: Array<[string, unknown]> = [
    // No current password: a stolen session alone must not take over the account.
    ['no current password', { password: 'Another-good-pass-1234' }],
    ['an unknown field', { current: 'x', password: 'Another-good-pass-1234', role: 'admin' }],
    ['a number for a password', { current: 'x', password: 123456789012 }],
    ['an empty body', {}],
  ];
  for (const [name, body] of bad) {
    it(`refuses ${name} with 400`, async () => {
      const token = await api().session('security');
      expect(expectError(await api().call('PUT', URL, { token, body }), 400).code).to.equal('PORTCULLIS_ERR_BAD_REQUEST');
    });
  }

  it('does not count successful changes as failed sign-ins from the address (regression: six changes locked the office out)', async () => {
    const { app } = api();
    let password: string = PASSWORDS.admin;
    const token = await api().session('admin');
    let session = token;
    for (let i = 0; i < 6; i++) {
      const next = `Rotated-admin-pass-${i}-9x`;
      const res = await app.inject({
        method: 'PUT',
        url: URL,
        remoteAddress: '10.9.9.9',
        headers: { authorization: `Bearer ${session}` },
        payload: { current: password, password: next },
      });
      expect(res.statusCode, res.body).to.equal(204);
      session = /portcullis_session=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1] ?? '';
      password = next;
    }
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '10.9.9.9', payload: { username: 'security', password: PASSWORDS.security } });
    expect(signIn.statusCode, signIn.body).to.equal(200);
  });
});
