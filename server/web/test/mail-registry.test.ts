import { expect } from 'chai';
import { Api, ApiError, type Fetch } from '../src/api.js';
import { translateMsg, type Msg } from '../src/i18n/i18n.js';
import {
  addressesPath,
  addressPath,
  editBody,
  importDone,
  importRefused,
  newAddressBody,
  parseLogins,
  registryFilterFromQuery,
  registryQuery,
  statCards,
  type AddressDraft,
  type MailAddress,
} from '../src/pages/mail/mail-registry.js';

const en = (m: Msg | string) => translateMsg('en', m);

const ALI: MailAddress = {
  address: 'ali.aliyev@mincom.gov.az',
  owner: 'Ali Aliyev',
  group: 'finance',
  logins: ['ali.aliyev'],
  state: 'active',
  notes: '',
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
};

const DRAFT: AddressDraft = { address: 'Ali.Aliyev@MinCom.gov.az ', owner: ' Ali Aliyev ', group: 'finance', logins: 'ali.aliyev, a.aliyev', state: 'active', notes: ' new ' };

describe('mail registry: the filter in the URL and the API path', () => {
  it('reads the filter from the page URL, trimmed, dropping a state the server does not know', () => {
    expect(registryFilterFromQuery(new URLSearchParams('group=finance&state=gone&q=%20ali%20&policy=hr'))).to.deep.equal({ group: 'finance', state: undefined, q: 'ali' });
    expect(registryFilterFromQuery(new URLSearchParams('state=suspended'))).to.deep.equal({ group: undefined, state: 'suspended', q: undefined });
  });

  it('writes the filter back, keeping the page’s other parameters (the policy group)', () => {
    expect(registryQuery({ state: 'retired' }, new URLSearchParams('group=hr&policy=finance'))).to.deep.equal({ group: undefined, state: 'retired', q: undefined, policy: 'finance' });
  });

  const paths: Array<[string, Parameters<typeof addressesPath>, string]> = [
    // the first page of everything
    ['no filter', [{}, undefined], '/mail/addresses?limit=100'],
    // every filter and the cursor of the page after
    ['all filters and after', [{ group: 'finance', state: 'active', q: 'ali' }, 'ali@x.az', 50], '/mail/addresses?group=finance&state=active&q=ali&limit=50&after=ali%40x.az'],
  ];
  for (const [name, args, path] of paths) it(name, () => expect(addressesPath(...args)).to.equal(path));

  it('puts one address in the path with its @ escaped', () => expect(addressPath('a.b+c@x.az')).to.equal('/mail/addresses/a.b%2Bc%40x.az'));
});

describe('mail registry: logins and the add and edit bodies', () => {
  const logins: Array<[string, string[]]> = [
    ['ali.aliyev', ['ali.aliyev']],
    // commas and white space separate, as in the server's CSV import; repeats go
    [' ali, a.aliyev\tali ', ['ali', 'a.aliyev']],
    // a semicolon is part of a login (the server allows it)
    ['dom;ali', ['dom;ali']],
    // nothing typed: any login
    ['  ', []],
  ];
  for (const [text, expected] of logins) it(`reads logins "${text}"`, () => expect(parseLogins(text)).to.deep.equal(expected));

  it('lower-cases the address and trims what was typed', () => {
    expect(newAddressBody(DRAFT)).to.deep.equal({
      body: { address: 'ali.aliyev@mincom.gov.az', owner: 'Ali Aliyev', group: 'finance', logins: ['ali.aliyev', 'a.aliyev'], state: 'active', notes: 'new' },
      problem: null,
    });
  });

  const badAddresses: Array<[string, string]> = [
    ['no @', 'ali.mincom.gov.az'],
    ['nothing before @', '@mincom.gov.az'],
    ['two @', 'a@b@mincom.gov.az'],
    ['a space', 'ali aliyev@mincom.gov.az'],
    ['a host, not a domain', 'ali@localhost'],
    // quoted local parts and dots at the edges are what the registry refuses
    ['a quoted local part', '"ali"@mincom.gov.az'],
    ['a leading dot', '.ali@mincom.gov.az'],
    ['two dots in a row', 'ali..aliyev@mincom.gov.az'],
    ['a local part over 64 characters', `${'a'.repeat(65)}@mincom.gov.az`],
  ];
  for (const [name, address] of badAddresses) {
    it(`refuses an address with ${name}`, () => {
      const { body, problem } = newAddressBody({ ...DRAFT, address });
      expect(body).to.equal(null);
      expect(en(problem as Msg)).to.equal(`${address} is not an email address (write it as name@domain.az).`);
    });
  }

  it('wants the owner named', () => expect(en(newAddressBody({ ...DRAFT, owner: '  ' }).problem as Msg)).to.equal('Write the owner’s name.'));

  it('sends only what an edit changed', () => {
    const same = { owner: 'Ali Aliyev ', group: 'finance', logins: ' ali.aliyev', state: 'active' as const, notes: '' };
    expect(editBody(ALI, same)).to.deep.equal({});
    expect(editBody(ALI, { ...same, state: 'suspended', logins: 'ali.aliyev a.aliyev', notes: 'on leave' })).to.deep.equal({
      state: 'suspended',
      logins: ['ali.aliyev', 'a.aliyev'],
      notes: 'on leave',
    });
    // Emptying the logins is a change: any login may then send.
    expect(editBody(ALI, { ...same, logins: '' })).to.deep.equal({ logins: [] });
    // A state a newer server sent is left alone when the edit keeps it.
    expect(editBody({ ...ALI, state: 'archived' }, { ...same, state: 'archived', owner: 'A. Aliyev' })).to.deep.equal({ owner: 'A. Aliyev' });
  });
});

describe('mail registry: CSV import outcome', () => {
  it('says the counts of a stored import', () => {
    const done = importDone({ created: 2, updated: 0, unchanged: 1 });
    expect([done.ok, en(done.summary), done.lines]).to.deep.equal([true, 'Imported: 2 created, 0 updated, 1 unchanged.', []]);
  });

  it('lists each bad line in order and says nothing was stored', () => {
    const out = importRefused('2 bad lines', { errors: [{ line: 4, message: 'unknown group "hr"' }, { line: 2, message: 'bad address "x"' }] });
    expect(out.ok).to.equal(false);
    expect(en(out.summary)).to.equal('The file has 2 bad lines; nothing was stored.');
    expect(out.lines.map(en)).to.deep.equal(['Line 2: bad address "x"', 'Line 4: unknown group "hr"']);
    expect(en(importRefused('x', { errors: [{ line: 3, message: 'm' }] }).summary)).to.equal('The file has 1 bad line; nothing was stored.');
  });

  it('counts a line with two problems once and lists both', () => {
    const out = importRefused('x', { errors: [{ line: 3, message: 'group hr does not exist' }, { line: 3, message: 'owner must be 1 to 200 characters' }] });
    expect(en(out.summary)).to.equal('The file has 1 bad line; nothing was stored.');
    expect(out.lines.map(en)).to.deep.equal(['Line 3: group hr does not exist', 'Line 3: owner must be 1 to 200 characters']);
  });

  const noLines: Array<[string, unknown]> = [
    // a refusal with no details (a missing header row, a body too large)
    ['no details', undefined],
    ['details without errors', { field: 'x' }],
    // entries that are not {line, message} are skipped, not shown as "Line undefined"
    ['malformed entries', { errors: [{ line: '2', message: 'x' }, { message: 'no line' }, null] }],
  ];
  for (const [name, details] of noLines) {
    it(`shows the server’s message for ${name}`, () => {
      const out = importRefused('the header row is missing', details);
      expect([out.ok, en(out.summary), out.lines]).to.deep.equal([false, 'The server refused the file: the header row is missing. Nothing was stored.', []]);
    });
  }
});

describe('mail registry: CSV upload', () => {
  const answer = (status: number, body: string): Fetch => async () => new Response(body, { status });

  it('posts the file as text/csv, same-origin, and reads the counts', async () => {
    let seen: RequestInit | undefined;
    const fetchImpl: Fetch = async (_url, init) => {
      seen = init;
      return new Response('{"created":1,"updated":0,"unchanged":0}', { status: 200 });
    };
    expect(await new Api(fetchImpl).postText('/mail/addresses/import', 'address,owner\n', 'text/csv')).to.deep.equal({ created: 1, updated: 0, unchanged: 0 });
    expect([seen?.method, seen?.credentials, seen?.body]).to.deep.equal(['POST', 'same-origin', 'address,owner\n']);
    expect((seen?.headers as Record<string, string>)['content-type']).to.equal('text/csv');
  });

  it('turns a 400 into an ApiError with the per-line details', async () => {
    const body = '{"error":{"code":"PORTCULLIS_ERR_BAD_REQUEST","message":"1 bad line","details":{"errors":[{"line":2,"message":"x"}]}}}';
    const err = await new Api(answer(400, body)).postText('/u', 'x', 'text/csv').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).message, (err as ApiError).details]).to.deep.equal([400, '1 bad line', { errors: [{ line: 2, message: 'x' }] }]);
  });

  it('reports an answer that is not JSON clearly', async () => {
    const err = await new Api(answer(413, '<html>too large</html>')).postText('/u', 'x', 'text/csv').catch((e: unknown) => e);
    expect((err as ApiError).message).to.equal('the server answered 413 with something that is not JSON');
  });
});

describe('mail registry: the counters as cards', () => {
  it('shows the totals, then every known rule in order, then a rule a newer server added', () => {
    const cards = statCards({ since: '2026-11-25T00:00:00.000Z', decisions: 12, allowed: 8, rejected: { rate: 1, 'sender-inactive': 2, 'dkim-fail': 1 } });
    expect(cards.map((c) => [c.key, en(c.label), c.value, c.tone])).to.deep.equal([
      ['decisions', 'checked', 12, undefined],
      ['allowed', 'allowed', 8, undefined],
      ['rejected', 'refused', 4, 'bad'],
      ['sender-unregistered', 'sender not in the registry', 0, undefined],
      ['sender-inactive', 'sender not active', 2, 'bad'],
      ['login-mismatch', 'login does not own the address', 0, undefined],
      ['external-domain', 'external domain not allowed', 0, undefined],
      ['size', 'size limit exceeded', 0, undefined],
      ['rate', 'sending rate limit exceeded', 1, 'bad'],
      ['dkim-fail', 'dkim-fail', 1, 'bad'],
    ]);
  });

  it('reads a missing or non-numeric counter as 0 (the service off: since null, all 0)', () => {
    const cards = statCards({ enabled: false, since: null, decisions: 'x' as unknown as number, allowed: 1, rejected: { size: null as unknown as number } });
    expect(cards.slice(0, 3).map((c) => c.value)).to.deep.equal([0, 1, 0]);
  });
});
