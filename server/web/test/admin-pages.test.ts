import { expect } from 'chai';
import { auditSearchPath, detailPairs, filterFromQuery, localToIso } from '../src/pages/audit/audit-query.js';
import { expiresInUntil, installLines, tokenState, type ServerInfo } from '../src/pages/tokens/token-logic.js';
import { USERNAME_PATTERN, sortUsers, type UserView } from '../src/pages/users/user-logic.js';

const NOW = new Date('2026-11-25T10:00:00.000Z');
const HOUR = 3_600_000;

describe('tokens page logic', () => {
  describe('expiresInUntil', () => {
    const rows: Array<[string, number, string | null]> = [
      // exactly one hour ahead
      ['one hour', HOUR, '1h'],
      // a part of an hour rounds up: the token never dies before the chosen moment
      ['61 minutes', HOUR + 60_000, '2h'],
      ['ninety days', 90 * 24 * HOUR, '2160h'],
      // beyond the server's 90-day limit
      ['ninety days and a minute', 90 * 24 * HOUR + 60_000, null],
      // now or the past is no expiry
      ['now', 0, null],
      ['yesterday', -24 * HOUR, null],
    ];
    for (const [name, offset, expected] of rows) {
      it(name, () => expect(expiresInUntil(new Date(NOW.getTime() + offset), NOW)).to.equal(expected));
    }
    it('refuses an unreadable date', () => expect(expiresInUntil(new Date(''), NOW)).to.equal(null));
  });

  describe('installLines', () => {
    // The builders themselves are tested in shared/test/install-commands.test.ts; here, which
    // lines the page offers from what GET /server-info told it.
    const FULL: ServerInfo = { url: 'https://portcullis.example.az:8443/', caFingerprint256: 'AB:CD:EF', agentVersion: '0.1.0' };
    const rows: Array<[string, ServerInfo, { deb: { command: string; file: string } | null; enroll: string }]> = [
      // everything known: the package line for a new PC and the enroll line for an installed agent
      [
        'both lines',
        FULL,
        {
          deb: {
            command: 'PORTCULLIS_SERVER=https://portcullis.example.az:8443 PORTCULLIS_TOKEN=pct_AbC-d_9 PORTCULLIS_FINGERPRINT=AB:CD:EF dpkg -i portcullis-agent_0.1.0_amd64.deb',
            file: 'portcullis-agent_0.1.0_amd64.deb',
          },
          enroll: 'sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server https://portcullis.example.az:8443 --fingerprint AB:CD:EF',
        },
      ],
      // no public URL: the browser's address stands in, in both lines
      [
        'URL guessed',
        { ...FULL, url: null },
        {
          deb: {
            command: 'PORTCULLIS_SERVER=https://h:8443 PORTCULLIS_TOKEN=pct_AbC-d_9 PORTCULLIS_FINGERPRINT=AB:CD:EF dpkg -i portcullis-agent_0.1.0_amd64.deb',
            file: 'portcullis-agent_0.1.0_amd64.deb',
          },
          enroll: 'sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server https://h:8443 --fingerprint AB:CD:EF',
        },
      ],
      // no fingerprint: postinst would refuse the package line, so only the enroll line (without --fingerprint)
      ['no fingerprint', { ...FULL, caFingerprint256: null }, { deb: null, enroll: 'sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server https://portcullis.example.az:8443' }],
      // an older server that does not tell the agent version: no file to name
      ['no agent version', { ...FULL, agentVersion: null }, { deb: null, enroll: 'sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server https://portcullis.example.az:8443 --fingerprint AB:CD:EF' }],
      // a version that cannot name a file is not offered rather than breaking the page
      ['unusable agent version', { ...FULL, agentVersion: '../x' }, { deb: null, enroll: 'sudo PORTCULLIS_ENROLL_TOKEN=pct_AbC-d_9 portcullis-agent enroll --server https://portcullis.example.az:8443 --fingerprint AB:CD:EF' }],
    ];
    for (const [name, info, expected] of rows) {
      it(name, () => expect(installLines('pct_AbC-d_9', info, 'https://h:8443')).to.deep.equal(expected));
    }
  });

  describe('tokenState', () => {
    const rows: Array<[string, { expiresAt: string; revokedAt: string | null }, string]> = [
      ['in the future', { expiresAt: '2026-11-25T11:00:00.000Z', revokedAt: null }, 'active'],
      // expiry is exclusive: at the very moment the token is dead
      ['at expiry', { expiresAt: NOW.toISOString(), revokedAt: null }, 'expired'],
      // revoked wins over everything
      ['revoked and expired', { expiresAt: '2026-01-01T00:00:00.000Z', revokedAt: '2025-12-01T00:00:00.000Z' }, 'revoked'],
    ];
    for (const [name, token, expected] of rows) it(name, () => expect(tokenState(token, NOW)).to.equal(expected));
  });
});

describe('audit page logic', () => {
  it('reads the filter from the hash and leaves missing fields empty', () => {
    expect(filterFromQuery(new URLSearchParams('actor=alice&since=2026-11-25T10:00'))).to.deep.equal({ actor: 'alice', action: '', since: '2026-11-25T10:00', until: '' });
  });

  it('builds the search query: trimmed, lower-case action, local times as instants, cursor last', () => {
    const path = auditSearchPath({ actor: ' alice ', action: 'User', since: '2026-11-25T10:00', until: '' }, 100, '42');
    const [base, qs] = path.split('?') as [string, string];
    expect(base).to.equal('/audit/search');
    const q = new URLSearchParams(qs);
    expect(q.get('actor')).to.equal('alice');
    expect(q.get('action')).to.equal('user');
    expect(q.get('since')).to.equal(new Date('2026-11-25T10:00').toISOString());
    expect(q.has('until')).to.equal(false);
    expect(q.get('limit')).to.equal('100');
    expect(q.get('cursor')).to.equal('42');
  });

  it('sends only the limit for an empty filter', () => {
    expect(auditSearchPath({ actor: '', action: '', since: '', until: '' }, 50)).to.equal('/audit/search?limit=50');
  });

  it('drops an unreadable time instead of sending it', () => {
    expect(localToIso('not a time')).to.equal(undefined);
    expect(localToIso('  ')).to.equal(undefined);
  });

  it('shows details as key: value, nested values as JSON', () => {
    expect(detailPairs({ role: 'admin', ip: '127.0.0.1', rules: { n: 2 } })).to.deep.equal(['role: admin', 'ip: 127.0.0.1', 'rules: {"n":2}']);
  });
});

describe('users page logic', () => {
  it('lists active users first, admins first, then by name', () => {
    const u = (username: string, role: UserView['role'], disabled = false): UserView => ({ username, role, disabled, createdAt: NOW.toISOString() });
    const sorted = sortUsers([u('zed', 'viewer'), u('old', 'admin', true), u('bob', 'admin'), u('amy', 'security'), u('abe', 'admin')]);
    expect(sorted.map((x) => x.username)).to.deep.equal(['abe', 'bob', 'amy', 'zed', 'old']);
  });

  it('checks usernames as the server does (the browser anchors the pattern)', () => {
    const re = new RegExp(`^(?:${USERNAME_PATTERN})$`, 'v');
    for (const good of ['alice', 'a.b-c_d', 'x1']) expect(re.test(good), good).to.equal(true);
    for (const bad of ['Alice', '1abc', 'a', 'a b', `a${'b'.repeat(64)}`]) expect(re.test(bad), bad).to.equal(false);
  });
});
