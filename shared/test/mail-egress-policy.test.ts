import { expect } from 'chai';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  POLICY_LIMITS,
  PortcullisError,
  STARTER_POLICY_INPUT,
  base64Encode,
  buildPolicyDocument,
  canonicalJson,
  encodeMessage,
  formatIpAddress,
  formatIpPrefix,
  parseIpAddress,
  parseIpPrefix,
  parsePolicyDocument,
  parseServerMessage,
  policySigningPayload,
  prefixRange,
  signPolicy,
  validatePolicyInput,
  verifySignedPolicy,
  type PolicyDocument,
  type PolicyError,
  type PolicySignatureVerifier,
  type SignedPolicyDocument,
} from '../src/index.js';

/** Mail egress guard policy (issue: only the approved mail servers on the mail ports). */

/** Signed after `compositeDevices` and before `mailEgress` existed: its payload must never change. */
const BEFORE_MAIL_DOC: SignedPolicyDocument = {
  schema: 1,
  group: 'default',
  version: 7,
  rules: 'allow id 1d6b:*\n',
  implicitTarget: 'block',
  presentDevices: 'apply-policy',
  compositeDevices: 'per-interface',
  ports: { serial: 'block', parallel: 'block', bluetooth: 'allow', optical: 'readonly' },
  exceptions: [],
  createdAt: '2026-11-25T10:00:00Z',
  createdBy: 'admin',
};

const BEFORE_MAIL_PAYLOAD =
  'portcullis-policy-v1\n' +
  '{"compositeDevices":"per-interface","createdAt":"2026-11-25T10:00:00Z","createdBy":"admin","exceptions":[],"group":"default",' +
  '"implicitTarget":"block","ports":{"bluetooth":"allow","optical":"readonly","parallel":"block","serial":"block"},' +
  '"presentDevices":"apply-policy","rules":"allow id 1d6b:*\\n","schema":1,"version":7}';

const OFF = { mode: 'off', servers: [] };

function caught(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error('expected a PortcullisError');
}

describe('IP addresses and prefixes (pure, no node:net)', () => {
  // Each row: text → its canonical form, family and prefix length.
  const good: Array<{ text: string; canonical: string; family: 4 | 6; length: number }> = [
    // a plain IPv4 server
    { text: '10.1.2.3', canonical: '10.1.2.3', family: 4, length: 32 },
    // an IPv4 network
    { text: '10.1.0.0/16', canonical: '10.1.0.0/16', family: 4, length: 16 },
    // a /32 is the address itself
    { text: '10.1.2.3/32', canonical: '10.1.2.3', family: 4, length: 32 },
    // everything (legal; the admin switched the IPv4 half of the guard off)
    { text: '0.0.0.0/0', canonical: '0.0.0.0/0', family: 4, length: 0 },
    // upper-case IPv6 comes back lower case
    { text: '2001:DB8::25', canonical: '2001:db8::25', family: 6, length: 128 },
    // the kernel's %pI6 form: every group, four digits
    { text: 'fd00:0000:0000:0000:0000:0000:0000:0099', canonical: 'fd00::99', family: 6, length: 128 },
    // RFC 5952: the first of two equally long zero runs is compressed
    { text: '2001:db8:0:0:1:0:0:1', canonical: '2001:db8::1:0:0:1', family: 6, length: 128 },
    // RFC 5952: the longer zero run wins even when it comes second
    { text: '2001:0:0:1:0:0:0:1', canonical: '2001:0:0:1::1', family: 6, length: 128 },
    // RFC 5952: a single zero group is not compressed
    { text: '2001:db8:0:1:1:1:1:1', canonical: '2001:db8:0:1:1:1:1:1', family: 6, length: 128 },
    // all zeros, and the whole IPv6 space
    { text: '::', canonical: '::', family: 6, length: 128 },
    { text: '::/0', canonical: '::/0', family: 6, length: 0 },
    // loopback, and a trailing "::"
    { text: '::1', canonical: '::1', family: 6, length: 128 },
    { text: '1::', canonical: '1::', family: 6, length: 128 },
    // an IPv6 prefix written long
    { text: '2001:db8:0:0::/64', canonical: '2001:db8::/64', family: 6, length: 64 },
    // an embedded IPv4 tail (NAT64 well-known prefix) is read, and written in hex
    { text: '64:ff9b::10.1.2.3', canonical: '64:ff9b::a01:203', family: 6, length: 128 },
  ];
  for (const row of good) {
    it(`reads ${row.text} as ${row.canonical}`, () => {
      const parsed = parseIpPrefix(row.text);
      if (!parsed.ok) throw new Error(parsed.reason);
      expect([formatIpPrefix(parsed.value), parsed.value.family, parsed.value.length]).to.deep.equal([row.canonical, row.family, row.length]);
    });
  }

  // Each row: text → why it is refused.
  const bad: Array<{ text: string; match: RegExp }> = [
    // a byte over 255
    { text: '300.1.1.1', match: /300 is not an IPv4 byte/ },
    // a prefix longer than the address
    { text: '10.0.0.0/33', match: /\/33 is too long for IPv4 \(at most \/32\)/ },
    { text: '2001:db8::/129', match: /\/129 is too long for IPv6/ },
    // host bits set: name the network the admin probably meant
    { text: '10.1.2.3/16', match: /host bits set: the network is 10\.1\.0\.0\/16/ },
    { text: '2001:db8::1/64', match: /the network is 2001:db8::\/64/ },
    // octal or decimal? refused rather than guessed
    { text: '010.1.1.1', match: /leading zero/ },
    // three bytes
    { text: '10.1.2', match: /four numbers/ },
    // a prefix length with a leading zero, none at all, or not a number
    { text: '10.0.0.0/08', match: /not a prefix length/ },
    { text: '10.0.0.0/', match: /not a prefix length/ },
    { text: '10.0.0.0/x', match: /not a prefix length/ },
    // "::" twice
    { text: '2001:db8::25::1', match: /only once/ },
    // an empty group
    { text: '2001:db8:::1', match: /empty group/ },
    // seven groups and nine groups
    { text: '1:2:3:4:5:6:7', match: /7 groups instead of 8/ },
    { text: '1:2:3:4:5:6:7:8:9', match: /9 groups instead of 8/ },
    // "::" standing for no group at all
    { text: '1:2:3:4:5:6:7::8', match: /too many groups/ },
    // five hex digits
    { text: '12345::', match: /"12345" is not a group/ },
    // an IPv4 part that is not at the end
    { text: '1.2.3.4::1', match: /IPv4 part may only end/ },
    // a zone id only means something on one computer
    { text: 'fe80::1%eth0', match: /zone id/ },
    // an IPv4-mapped address would never match: packets to that server travel as IPv4
    { text: '::ffff:10.1.2.3', match: /IPv4-mapped.*write the IPv4 address 10\.1\.2\.3/ },
    // nothing, and a name
    { text: '', match: /not an IPv4 or IPv6 address/ },
    { text: 'localhost', match: /not an IPv4 or IPv6 address/ },
  ];
  for (const row of bad) {
    it(`refuses ${JSON.stringify(row.text)}`, () => {
      const parsed = parseIpPrefix(row.text);
      expect(parsed.ok).to.equal(false);
      expect((parsed as { reason: string }).reason).to.match(row.match);
    });
  }

  it('gives the range a prefix covers', () => {
    const v4 = parseIpPrefix('10.1.0.0/16');
    const v6 = parseIpPrefix('2001:db8::/127');
    if (!v4.ok || !v6.ok) throw new Error('fixtures must parse');
    const text = (p: typeof v4.value, r: { first: bigint; last: bigint }) => [formatIpAddress({ family: p.family, value: r.first }), formatIpAddress({ family: p.family, value: r.last })];
    expect(text(v4.value, prefixRange(v4.value))).to.deep.equal(['10.1.0.0', '10.1.255.255']);
    expect(text(v6.value, prefixRange(v6.value))).to.deep.equal(['2001:db8::', '2001:db8::1']);
  });

  it('reads a bare address and refuses a prefix where an address is expected', () => {
    const address = parseIpAddress('142.250.1.27');
    expect(address.ok && formatIpAddress(address.value)).to.equal('142.250.1.27');
    expect(parseIpAddress('10.0.0.0/8').ok).to.equal(false);
  });
});

describe('mailEgress in a policy input', () => {
  const servers = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`);

  // Each row: the admin's mailEgress → the normalized value.
  const good: Array<{ name: string; mailEgress: unknown; expected: unknown }> = [
    // left out: off, no servers (what documents signed before the field mean too)
    { name: 'absent', mailEgress: undefined, expected: OFF },
    // off needs no servers
    { name: 'off without servers', mailEgress: { mode: 'off' }, expected: OFF },
    // servers canonicalised: upper-case IPv6, a /32, a long IPv6 prefix
    {
      name: 'enforce, servers canonicalised',
      mailEgress: { mode: 'enforce', servers: ['10.1.2.3/32', '10.1.0.0/16', '2001:DB8::25', '2001:db8:0:0::/64'] },
      expected: { mode: 'enforce', servers: ['10.1.2.3', '10.1.0.0/16', '2001:db8::25', '2001:db8::/64'] },
    },
    // enforce with no approved server: no mail client at all (only local MTAs)
    { name: 'enforce with an empty list', mailEgress: { mode: 'enforce', servers: [] }, expected: { mode: 'enforce', servers: [] } },
    // the limit itself
    { name: `${POLICY_LIMITS.maxMailServers} servers`, mailEgress: { mode: 'enforce', servers: servers(64) }, expected: { mode: 'enforce', servers: servers(64) } },
    // servers kept while the guard is off, so switching it on later is one click
    { name: 'off with servers kept', mailEgress: { mode: 'off', servers: ['10.1.2.3'] }, expected: { mode: 'off', servers: ['10.1.2.3'] } },
  ];
  for (const row of good) {
    it(`accepts ${row.name}`, () => {
      const result = validatePolicyInput({ rules: '', ...(row.mailEgress !== undefined ? { mailEgress: row.mailEgress } : {}) });
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      expect(result.input.mailEgress).to.deep.equal(row.expected);
    });
  }

  // Each row: a bad mailEgress → the path and message of its error.
  const bad: Array<{ name: string; mailEgress: unknown; path: string; match: RegExp }> = [
    // a host name: DNS would be the way round the guard
    { name: 'a host name', mailEgress: { mode: 'enforce', servers: ['smtp.mail.gov.az'] }, path: 'mailEgress.servers[0]', match: /not a host name.*DNS.*"smtp\.mail\.gov\.az"/ },
    // a prefix longer than an IPv4 address
    { name: 'a /33', mailEgress: { mode: 'enforce', servers: ['10.0.0.0/33'] }, path: 'mailEgress.servers[0]', match: /\/33 is too long for IPv4/ },
    // not an address
    { name: '300.1.1.1', mailEgress: { mode: 'enforce', servers: ['10.1.2.3', '300.1.1.1'] }, path: 'mailEgress.servers[1]', match: /300 is not an IPv4 byte/ },
    // the same server twice, once written as a /32
    { name: 'a duplicate', mailEgress: { mode: 'enforce', servers: ['10.1.2.3', '10.1.2.3/32'] }, path: 'mailEgress.servers[1]', match: /duplicate of mailEgress\.servers\[0\] \(both are 10\.1\.2\.3\)/ },
    // the same IPv6 server in two spellings
    { name: 'a duplicate IPv6', mailEgress: { mode: 'enforce', servers: ['2001:db8::25', '2001:DB8:0::25'] }, path: 'mailEgress.servers[1]', match: /duplicate/ },
    // one over the limit
    { name: 'too many servers', mailEgress: { mode: 'enforce', servers: servers(65) }, path: 'mailEgress.servers', match: /at most 64 entries \(got 65\)/ },
    // host bits set
    { name: 'host bits', mailEgress: { mode: 'enforce', servers: ['10.1.2.3/16'] }, path: 'mailEgress.servers[0]', match: /host bits set/ },
    // a server as a number
    { name: 'a number', mailEgress: { mode: 'enforce', servers: [167838211] }, path: 'mailEgress.servers[0]', match: /as a string \(got a number\)/ },
    // a server with a line break (it would end up in logs)
    { name: 'a control character', mailEgress: { mode: 'enforce', servers: ['10.1.2.3\n'] }, path: 'mailEgress.servers[0]', match: /control characters/ },
    // absurdly long text is refused unread
    { name: 'a long string', mailEgress: { mode: 'enforce', servers: ['1'.repeat(65)] }, path: 'mailEgress.servers[0]', match: /got 65 characters/ },
    // mode missing, mode unknown
    { name: 'no mode', mailEgress: { servers: [] }, path: 'mailEgress.mode', match: /is required/ },
    { name: 'an unknown mode', mailEgress: { mode: 'audit' }, path: 'mailEgress.mode', match: /one of "off", "enforce" \(got "audit"\)/ },
    // servers not a list
    { name: 'servers as one string', mailEgress: { mode: 'enforce', servers: '10.1.2.3' }, path: 'mailEgress.servers', match: /must be an array/ },
    // a typo in a field name
    { name: 'a misspelt field', mailEgress: { mode: 'enforce', server: ['10.1.2.3'] }, path: 'mailEgress.server', match: /did you mean "servers"/ },
    // not an object
    { name: 'null', mailEgress: null, path: 'mailEgress', match: /JSON object \(got null\)/ },
    { name: 'a boolean', mailEgress: true, path: 'mailEgress', match: /JSON object/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      const result = validatePolicyInput({ rules: '', mailEgress: row.mailEgress });
      expect(result.ok).to.equal(false);
      const errors = (result as { errors: PolicyError[] }).errors;
      const error = errors.find((e) => e.path === row.path);
      expect(error, `no error at "${row.path}" in ${JSON.stringify(errors)}`).to.not.equal(undefined);
      expect(error?.message).to.match(row.match);
    });
  }

  it('reports every bad server at once', () => {
    const result = validatePolicyInput({ rules: '', mailEgress: { mode: 'enforce', servers: ['mail.example', '10.1.2.3', '1.2.3.4/40'] } });
    expect((result as { errors: PolicyError[] }).errors.map((e) => e.path)).to.deep.equal(['mailEgress.servers[0]', 'mailEgress.servers[2]']);
  });
});

describe('mailEgress in a policy document', () => {
  const META = { group: 'default', version: 7, createdAt: '2026-11-25T10:00:00Z', createdBy: 'admin' };
  const MAIL = { mode: 'enforce', servers: ['10.1.0.0/16', '2001:db8::25'] } as const;
  const DOC: PolicyDocument = { ...BEFORE_MAIL_DOC, compositeDevices: 'per-interface', mailEgress: MAIL };

  it('is written into every new document (the starter one: off)', () => {
    const doc = buildPolicyDocument(STARTER_POLICY_INPUT, { ...META, version: 1 });
    expect(doc.mailEgress).to.deep.equal(OFF);
    expect(canonicalJson(doc)).to.contain('"mailEgress":{"mode":"off","servers":[]}');
  });

  it('round-trips through JSON', () => {
    expect(parsePolicyDocument(JSON.parse(JSON.stringify(DOC)))).to.deep.equal(DOC);
  });

  it('reads a document signed before the field existed as off with no servers', () => {
    expect(parsePolicyDocument(JSON.parse(JSON.stringify(BEFORE_MAIL_DOC)))).to.deep.equal({ ...BEFORE_MAIL_DOC, mailEgress: OFF });
  });

  // Each row: a change to a valid document → the path of the problem it causes.
  const badDocs: Array<{ name: string; mailEgress: unknown; path: string; match: RegExp }> = [
    // absent is fine, null is not
    { name: 'null', mailEgress: null, path: 'mailEgress', match: /got null/ },
    // a program wrote the document: both fields are there
    { name: 'servers left out', mailEgress: { mode: 'off' }, path: 'mailEgress.servers', match: /is required/ },
    // a program wrote the document: servers are canonical
    { name: 'upper-case IPv6', mailEgress: { mode: 'enforce', servers: ['2001:DB8::25'] }, path: 'mailEgress.servers[0]', match: /canonical form, 2001:db8::25/ },
    { name: 'a /32', mailEgress: { mode: 'enforce', servers: ['10.1.2.3/32'] }, path: 'mailEgress.servers[0]', match: /canonical form, 10\.1\.2\.3 \(got "10\.1\.2\.3\/32"\)/ },
    // an unknown field inside
    { name: 'an extra field', mailEgress: { ...MAIL, ports: [25] }, path: 'mailEgress.ports', match: /unknown field/ },
  ];
  for (const row of badDocs) {
    it(`refuses a document whose mailEgress is ${row.name}`, () => {
      const err = caught(() => parsePolicyDocument(JSON.parse(JSON.stringify({ ...DOC, mailEgress: row.mailEgress }))));
      const errors = (err as unknown as { errors: PolicyError[] }).errors;
      const error = errors.find((e) => e.path === row.path);
      expect(error, `no error at "${row.path}" in ${JSON.stringify(errors)}`).to.not.equal(undefined);
      expect(error?.message).to.match(row.match);
    });
  }

  it('names the field when a wrong value is nested in a message', () => {
    const document = { ...DOC, mailEgress: { mode: 'enforce', servers: ['mail.example'] } };
    const err = caught(() => parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed: { document: document as PolicyDocument, keyId: 'k', signature: base64Encode(new Uint8Array(64)) } } })));
    expect(err.message).to.match(/body\.signed\.document\.mailEgress\.servers\[0\]: must be an IP address or CIDR prefix, not a host name/);
  });

  describe('a document signed before mailEgress existed', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const realVerify: PolicySignatureVerifier = (keyId, payload, signature) => keyId === 'old' && verify(null, payload, publicKey, signature);
    const signed = { document: BEFORE_MAIL_DOC, keyId: 'old', signature: base64Encode(sign(null, new TextEncoder().encode(BEFORE_MAIL_PAYLOAD), privateKey)) };

    it('still has the payload it was signed with', () => {
      expect(new TextDecoder().decode(policySigningPayload(BEFORE_MAIL_DOC))).to.equal(BEFORE_MAIL_PAYLOAD);
    });

    it('verifies, and reads as mail egress off', () => {
      expect(verifySignedPolicy(JSON.parse(JSON.stringify(signed)), realVerify).mailEgress).to.deep.equal(OFF);
    });

    it('verifies after the agent parsed the frame it came in (the parsed message keeps the field out)', () => {
      const msg = parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed } }));
      if (msg.type !== 'policy') throw new Error(`expected a policy message, got ${msg.type}`);
      expect(Object.hasOwn(msg.body.signed.document, 'mailEgress')).to.equal(false);
      expect(msg.body.signed.document.compositeDevices).to.equal('per-interface');
      expect(verifySignedPolicy(msg.body.signed, realVerify).mailEgress).to.deep.equal(OFF);
    });

    it('would stop verifying if the default were written into it', () => {
      const filledIn = { ...signed, document: { ...BEFORE_MAIL_DOC, mailEgress: OFF } };
      expect(caught(() => verifySignedPolicy(filledIn, realVerify)).message).to.match(/does not verify/);
    });

    it('a new document keeps its mailEgress through a frame and verifies', () => {
      const fresh = signPolicy(DOC, 'old', (payload) => sign(null, payload, privateKey));
      const msg = parseServerMessage(encodeMessage({ v: 1, type: 'policy', body: { signed: fresh } }));
      if (msg.type !== 'policy') throw new Error(`expected a policy message, got ${msg.type}`);
      expect(msg.body.signed.document.mailEgress).to.deep.equal(MAIL);
      expect(verifySignedPolicy(msg.body.signed, realVerify)).to.deep.equal(DOC);
    });
  });
});
