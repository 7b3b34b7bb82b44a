/** Logging in and out, the login rate limit, and the users API. */
import { expect } from 'chai';
import { verifyPassword } from '../src/auth/passwords.js';
import { HOUR_MS, PASSWORDS, SESSION_TTL_HOURS, START, expectError, useApi, type ApiFixture } from './api-support.js';

const SESSION = '/api/v1/session';
const MINUTE_MS = 60_000;

/** Each login from its own address, so the per-address limit of one test does not leak into the next. */
let nextAddress = 1;
const freshAddress = (): string => `10.0.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

/** Every response body of this file, searched for passwords at the end. */
const bodies: string[] = [];

async function loginFrom(api: ApiFixture, remoteAddress: string, username: string, password: string) {
  const res = await api.app.inject({ method: 'POST', url: SESSION, remoteAddress, payload: { username, password } });
  bodies.push(res.body);
  return res;
}

/** Every password these tests use, to look for in logs and responses. */
const SECRETS = [...Object.values(PASSWORDS), 'Brand-new-user-pw-5521', 'Changed-viewer-pw-8804', 'Wrong-pw-but-logged-3390'];

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) expect(text, where).to.not.include(secret);
  expect(text, where).to.not.match(/scrypt\$\d+\$/);
}

describe('REST API sessions', () => {
  const api = useApi();

  describe('log in', () => {
    it('returns a token, the role and the expiry, and sets a strict, secure, HttpOnly cookie', async () => {
      const res = await loginFrom(api(), freshAddress(), 'security', PASSWORDS.security);
      expect(res.statusCode, res.body).to.equal(200);
      const body = res.json() as { token: string; username: string; role: string; expiresAt: string };
      expect(body.token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(body).to.include({ username: 'security', role: 'security' });
      expect(body.expiresAt).to.equal(new Date(api().clock.now().getTime() + SESSION_TTL_HOURS * HOUR_MS).toISOString());
      const cookie = String(res.headers['set-cookie']);
      const attributes = cookie.split(';').map((p) => p.trim());
      expect(attributes[0]).to.equal(`portcullis_session=${body.token}`);
      expect(attributes).to.include.members(['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/', `Max-Age=${SESSION_TTL_HOURS * 3600}`]);
      expect(res.headers['cache-control']).to.equal('no-store');
    });

    it('answers a wrong password and an unknown user alike: 401, same message', async () => {
      const wrong = await loginFrom(api(), freshAddress(), 'viewer', 'Wrong-pw-but-logged-3390');
      const unknown = await loginFrom(api(), freshAddress(), 'nobody', 'Wrong-pw-but-logged-3390');
      expect(expectError(wrong, 401)).to.deep.equal(expectError(unknown, 401));
      expect(expectError(wrong, 401).message).to.equal('wrong username or password');
    });

    it('refuses a disabled user with 401, and ends the sessions they already have', async () => {
      const { store, call } = api();
      await store.createUser({ username: 'leaver', role: 'viewer', passwordHash: (await store.getUser('viewer'))?.passwordHash ?? '' }, new Date(START).toISOString());
      const token = (await loginFrom(api(), freshAddress(), 'leaver', PASSWORDS.viewer).then((r) => r.json())) as { token: string };
      expect(await store.setUserDisabled('leaver', true)).to.equal(true);
      expectError(await loginFrom(api(), freshAddress(), 'leaver', PASSWORDS.viewer), 401);
      expectError(await call('GET', '/api/v1/me', { token: token.token }), 401);
    });
  });

  describe('rate limit', () => {
    // Each test starts with every failure of the one before outside the window.
    beforeEach(() => api().clock.advance(15 * MINUTE_MS));

    it('refuses the 6th attempt with 429 and Retry-After, even with the right password', async () => {
      const ip = freshAddress();
      for (let i = 0; i < 5; i++) expectError(await loginFrom(api(), ip, 'viewer', `Wrong-pw-but-logged-3390`), 401);
      const limited = await loginFrom(api(), ip, 'viewer', PASSWORDS.viewer);
      expect(expectError(limited, 429).code).to.equal('PORTCULLIS_ERR_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).to.be.within(1, 15 * 60);
    });

    it('limits the address: another username from it is refused too, until the window has passed', async () => {
      const ip = freshAddress();
      const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
      for (const name of names) expectError(await loginFrom(api(), ip, name, 'Wrong-pw-but-logged-3390'), 401);
      expectError(await loginFrom(api(), ip, 'admin', PASSWORDS.admin), 429);
      // The user key was not hit: the same admin from elsewhere gets in.
      expect((await loginFrom(api(), freshAddress(), 'admin', PASSWORDS.admin)).statusCode).to.equal(200);
      api().clock.advance(15 * MINUTE_MS);
      expect((await loginFrom(api(), ip, 'admin', PASSWORDS.admin)).statusCode).to.equal(200);
    });

    it('counts guesses sent all at once: 20 in parallel get at most 5 evaluated, the right password among them is refused', async () => {
      const ip = freshAddress();
      const guesses = Array.from({ length: 20 }, (_, i) => (i === 19 ? PASSWORDS.viewer : `Wrong-pw-but-logged-3390-${i}`));
      const results = await Promise.all(guesses.map((password) => loginFrom(api(), ip, 'viewer', password)));
      const statuses = results.map((r) => r.statusCode);
      expect(statuses.filter((s) => s !== 429), `statuses ${statuses.join(',')}`).to.have.length.at.most(5);
      expect(statuses[19], 'the right password, sent after 19 guesses').to.equal(429);
    });

    it('limits the username: many addresses cannot guess one account', async () => {
      for (let i = 0; i < 5; i++) expectError(await loginFrom(api(), freshAddress(), 'security', 'Wrong-pw-but-logged-3390'), 401);
      expectError(await loginFrom(api(), freshAddress(), 'security', PASSWORDS.security), 429);
      api().clock.advance(15 * MINUTE_MS);
      expect((await loginFrom(api(), freshAddress(), 'security', PASSWORDS.security)).statusCode).to.equal(200);
    });
  });

  describe('sessions', () => {
    it('accepts the session cookie instead of a bearer token', async () => {
      const token = await api().login('viewer');
      const res = await api().call('GET', '/api/v1/me', { headers: { cookie: `theme=dark; portcullis_session=${token}` } });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.equal({ username: 'viewer', role: 'viewer' });
    });

    it('ends the session at log-out: the token then gets 401, and the cookie is cleared', async () => {
      const token = await api().login('viewer');
      const out = await api().call('DELETE', SESSION, { token });
      expect(out.statusCode).to.equal(204);
      expect(String(out.headers['set-cookie'])).to.match(/^portcullis_session=;.*Max-Age=0/);
      expectError(await api().call('GET', '/api/v1/me', { token }), 401);
    });

    it(`expires a session after ${SESSION_TTL_HOURS} h`, async () => {
      const token = await api().session('viewer');
      api().clock.advance(SESSION_TTL_HOURS * HOUR_MS - 1000);
      expect((await api().call('GET', '/api/v1/me', { token })).statusCode).to.equal(200);
      api().clock.advance(1000);
      expectError(await api().call('GET', '/api/v1/me', { token }), 401);
    });
  });

  describe('users', () => {
    let admin: string;
    before(async () => {
      admin = await api().session('admin');
    });
    const users = async (body: unknown) => {
      const res = await api().call('POST', '/api/v1/users', { token: admin, body });
      bodies.push(res.body);
      return res;
    };

    it('creates a user (201) who can then log in, and lists them without the hash', async () => {
      const res = await users({ username: 'new.user', password: 'Brand-new-user-pw-5521', role: 'security' });
      expect(res.statusCode, res.body).to.equal(201);
      expect(res.json()).to.deep.equal({ username: 'new.user', role: 'security' });
      expect((await loginFrom(api(), freshAddress(), 'new.user', 'Brand-new-user-pw-5521')).statusCode).to.equal(200);
      const list = await api().call('GET', '/api/v1/users', { token: admin });
      bodies.push(list.body);
      const listed = (list.json() as { users: Array<Record<string, unknown>> }).users.find((u) => u.username === 'new.user');
      expect(listed).to.deep.equal({ username: 'new.user', role: 'security', createdAt: api().clock.now().toISOString(), disabled: false });
    });

    it('refuses a duplicate with 409', async () => {
      expect(expectError(await users({ username: 'viewer', password: 'Brand-new-user-pw-5521', role: 'viewer' }), 409).code).to.equal(
        'PORTCULLIS_ERR_CONFLICT',
      );
    });

    it('refuses a weak password with 400 naming the rule', async () => {
      const error = expectError(await users({ username: 'weak', password: 'short', role: 'viewer' }), 400);
      expect(error.message).to.equal('password must be at least 12 characters');
      expect(await api().store.getUser('weak')).to.equal(undefined);
    });

    const badBodies: Array<[string, unknown]> = [
      ['an upper-case username', { username: 'Admin2', password: 'Brand-new-user-pw-5521', role: 'viewer' }],
      ['a username with a space', { username: 'a b', password: 'Brand-new-user-pw-5521', role: 'viewer' }],
      ['a one-letter username', { username: 'a', password: 'Brand-new-user-pw-5521', role: 'viewer' }],
      ['a role that does not exist', { username: 'rooty', password: 'Brand-new-user-pw-5521', role: 'root' }],
      ['an unknown field', { username: 'extra', password: 'Brand-new-user-pw-5521', role: 'viewer', isAdmin: true }],
      ['no role', { username: 'norole', password: 'Brand-new-user-pw-5521' }],
    ];
    for (const [name, body] of badBodies) {
      it(`refuses ${name} with 400`, async () => {
        expectError(await users(body), 400);
      });
    }

    it('sets a password (204): the old one then fails, the new one works', async () => {
      const res = await api().call('PUT', '/api/v1/users/viewer/password', { token: admin, body: { password: 'Changed-viewer-pw-8804' } });
      expect(res.statusCode, res.body).to.equal(204);
      expectError(await loginFrom(api(), freshAddress(), 'viewer', PASSWORDS.viewer), 401);
      expect((await loginFrom(api(), freshAddress(), 'viewer', 'Changed-viewer-pw-8804')).statusCode).to.equal(200);
      expect(await verifyPassword('Changed-viewer-pw-8804', (await api().store.getUser('viewer'))?.passwordHash ?? '')).to.equal(true);
    });

    it('ends the sessions the user had when an admin sets a new password', async () => {
      // A reset is what an admin does when an account is stolen: the thief's session must end too.
      const stolen = await api().session('security');
      const res = await api().call('PUT', '/api/v1/users/security/password', { token: admin, body: { password: 'Changed-viewer-pw-8804' } });
      expect(res.statusCode, res.body).to.equal(204);
      expectError(await api().call('GET', '/api/v1/me', { token: stolen }), 401);
    });

    it('refuses to set a weak password (400) or one of a user who does not exist (404)', async () => {
      expectError(await api().call('PUT', '/api/v1/users/viewer/password', { token: admin, body: { password: 'short' } }), 400);
      expectError(await api().call('PUT', '/api/v1/users/ghost/password', { token: admin, body: { password: 'Brand-new-user-pw-5521' } }), 404);
      expectError(await api().call('PUT', '/api/v1/users/viewer/password', { token: admin, body: { password: 'Brand-new-user-pw-5521', old: 'x' } }), 400);
    });

    it('audits user changes with actor, action and target, and no password or hash', async () => {
      const res = await api().call('GET', '/api/v1/audit', { token: await api().session('security') });
      bodies.push(res.body);
      expect(res.statusCode).to.equal(200);
      const records = (res.json() as { records: Array<{ actor: string; action: string; target: string; details: Record<string, unknown> }> }).records;
      const mine = records.filter((r) => r.action.startsWith('user.') && r.actor === 'admin');
      expect(mine.map((r) => [r.action, r.target])).to.deep.include.members([
        ['user.create', 'new.user'],
        ['user.password', 'viewer'],
      ]);
      expect(mine.find((r) => r.action === 'user.create')?.details).to.include({ role: 'security' });
      expectNoSecret(res.body, 'the audit trail');
    });
  });

  // Last (mocha runs describes in order): everything logged and answered above, searched for a password.
  describe('secrets', () => {
    it('never puts a password or a password hash in a log entry or a response', () => {
      expect(api().logs.some((l) => l.message === 'login failed'), 'failed logins are logged').to.equal(true);
      expectNoSecret(JSON.stringify(api().logs), 'the server log');
      expect(bodies.length).to.be.above(10);
      for (const body of bodies) expectNoSecret(body, 'a response');
    });
  });
});
