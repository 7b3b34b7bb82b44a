import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { complementRanges, formatRange, mergeRanges, rangePrefixes, serverRanges, type IpRange } from '../src/mail/egress/ip-ranges.js';
import { NftUnavailableError, findNft, spawnNftRunner } from '../src/mail/egress/nft-egress-guard.js';
import { renderMailEgressRemoval, renderMailEgressRuleset } from '../src/mail/egress/nft-ruleset.js';

/** The whole file for one policy: the contract with nft, read by people too. */
const GOLDEN = `# Portcullis mail egress guard, loaded by portcullis-agent from the signed policy; local edits are replaced.
table inet portcullis_mail {}
delete table inet portcullis_mail
table inet portcullis_mail {
\tset mail_ports {
\t\ttype inet_service
\t\telements = { 25, 110, 143, 465, 587, 993, 995 }
\t}
\tset approved_v4 {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.0.0.0/8, 192.168.7.25 }
\t}
\tset approved_v6 {
\t\ttype ipv6_addr
\t\tflags interval
\t\telements = { 2001:db8::/64 }
\t}
\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t\toifname "lo" accept
\t\ttcp dport @mail_ports ip daddr != @approved_v4 goto refuse
\t\ttcp dport @mail_ports ip6 daddr != @approved_v6 goto refuse
\t}
\tchain refuse {
\t\tlimit rate 1/second burst 20 packets log prefix "portcullis-mail-egress: " level warn flags skuid
\t\treject with tcp reset
\t}
}
`;

function ranges(family: 4 | 6, servers: string[]): IpRange[] {
  const byFamily = serverRanges(servers);
  return [...(family === 4 ? byFamily.v4 : byFamily.v6)];
}

describe('mail egress: address ranges', () => {
  // Each row: servers → the merged ranges nft gets (overlaps would be "conflicting intervals").
  const merges: Array<{ name: string; servers: string[]; v4: string[]; v6: string[] }> = [
    { name: 'nothing approved', servers: [], v4: [], v6: [] },
    // a network swallows a host and a subnet inside it
    { name: 'contained prefixes', servers: ['10.1.0.0/16', '10.0.0.0/8', '10.1.2.3'], v4: ['10.0.0.0-10.255.255.255'], v6: [] },
    // two halves make a whole
    { name: 'adjacent halves', servers: ['10.128.0.0/9', '10.0.0.0/9'], v4: ['10.0.0.0-10.255.255.255'], v6: [] },
    // neighbouring hosts join, a distant one stays apart
    { name: 'neighbouring hosts', servers: ['192.0.2.11', '192.0.2.10', '192.0.2.30'], v4: ['192.0.2.10-192.0.2.11', '192.0.2.30'], v6: [] },
    // families are kept apart
    { name: 'both families', servers: ['2001:db8::25', '10.1.2.3', '2001:db8::/64'], v4: ['10.1.2.3'], v6: ['2001:db8::-2001:db8::ffff:ffff:ffff:ffff'] },
  ];
  for (const row of merges) {
    it(`merges ${row.name}`, () => {
      expect([ranges(4, row.servers).map(formatRange), ranges(6, row.servers).map(formatRange)]).to.deep.equal([row.v4, row.v6]);
    });
  }

  // Each row: approved (merged) → everything else, the Windows plan's block list.
  const complements: Array<{ name: string; family: 4 | 6; approved: string[]; blocked: string[] }> = [
    // the example
    { name: '10.0.0.0/8', family: 4, approved: ['10.0.0.0/8'], blocked: ['0.0.0.0-9.255.255.255', '11.0.0.0-255.255.255.255'] },
    // nothing approved: block everything
    { name: 'nothing', family: 4, approved: [], blocked: ['0.0.0.0-255.255.255.255'] },
    // everything approved: nothing to block
    { name: 'everything', family: 4, approved: ['0.0.0.0/0'], blocked: [] },
    // ranges touching either end leave one gap
    { name: 'both ends', family: 4, approved: ['0.0.0.0/8', '255.0.0.0/8'], blocked: ['1.0.0.0-254.255.255.255'] },
    // one host leaves the two sides of it
    { name: 'one host', family: 4, approved: ['192.0.2.25'], blocked: ['0.0.0.0-192.0.2.24', '192.0.2.26-255.255.255.255'] },
    // two hosts with a gap of one address between them
    { name: 'a one-address gap', family: 4, approved: ['192.0.2.1', '192.0.2.3'], blocked: ['0.0.0.0-192.0.2.0', '192.0.2.2', '192.0.2.4-255.255.255.255'] },
    // IPv6 the same way
    { name: 'an IPv6 host', family: 6, approved: ['2001:db8::25'], blocked: ['::-2001:db8::24', '2001:db8::26-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] },
    { name: 'the IPv6 loopback', family: 6, approved: ['::1'], blocked: ['::', '::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] },
  ];
  for (const row of complements) {
    it(`blocks the complement of ${row.name}`, () => {
      expect(complementRanges(row.family, ranges(row.family, row.approved)).map(formatRange)).to.deep.equal(row.blocked);
    });
  }

  // Each row: a range → the fewest prefixes that cover exactly it.
  const prefixes: Array<{ range: [string, string]; expected: string[] }> = [
    // one address
    { range: ['10.1.2.3', '10.1.2.3'], expected: ['10.1.2.3'] },
    // an aligned block
    { range: ['10.0.0.0', '10.255.255.255'], expected: ['10.0.0.0/8'] },
    // an unaligned start and end
    { range: ['192.0.2.1', '192.0.2.6'], expected: ['192.0.2.1', '192.0.2.2/31', '192.0.2.4/31', '192.0.2.6'] },
    // the whole space
    { range: ['0.0.0.0', '255.255.255.255'], expected: ['0.0.0.0/0'] },
    { range: ['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], expected: ['::/0'] },
  ];
  for (const row of prefixes) {
    it(`writes ${row.range.join('-')} as ${row.expected.join(' ')}`, () => {
      const [first, last] = row.range.map((a) => ranges(a.includes(':') ? 6 : 4, [a])[0]!.first);
      const family = row.range[0].includes(':') ? 6 : 4;
      expect(rangePrefixes({ family, first: first!, last: last! })).to.deep.equal(row.expected);
    });
  }

  it('merges into disjoint, non-adjacent ranges covering exactly the hosts given (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }), (bytes) => {
        const hosts = bytes.map((b) => `192.0.2.${b}`);
        const merged = mergeRanges(ranges(4, hosts));
        for (let i = 1; i < merged.length; i++) expect(merged[i]!.first > merged[i - 1]!.last + 1n).to.equal(true);
        const covered = merged.reduce((n, r) => n + (r.last - r.first + 1n), 0n);
        expect(covered).to.equal(BigInt(new Set(hosts).size));
      }),
    );
  });
});

describe('mail egress: the nftables ruleset', () => {
  it('renders the whole table for a policy (golden text)', () => {
    expect(renderMailEgressRuleset(['10.1.0.0/16', '10.0.0.0/8', '192.168.7.25', '2001:db8::25', '2001:db8::/64'])).to.equal(GOLDEN);
  });

  it('leaves the elements line out of an empty set (nft refuses "elements = { }")', () => {
    const text = renderMailEgressRuleset([]);
    expect(text).to.contain('\tset approved_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n');
    expect(text).to.contain('\tset approved_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n');
  });

  it('drops the loopback allowance only when asked (the namespace test)', () => {
    expect(renderMailEgressRuleset(['10.1.2.3'], { allowLoopback: false })).to.equal(
      renderMailEgressRuleset(['10.1.2.3']).replace('\t\toifname "lo" accept\n', ''),
    );
  });

  it('replaces atomically: creates, deletes and defines the table in one file', () => {
    const lines = renderMailEgressRuleset(['10.1.2.3']).split('\n');
    expect(lines.slice(1, 4)).to.deep.equal(['table inet portcullis_mail {}', 'delete table inet portcullis_mail', 'table inet portcullis_mail {']);
  });

  it('removes with a file that also works when no table is loaded', () => {
    expect(renderMailEgressRemoval()).to.equal('table inet portcullis_mail {}\ndelete table inet portcullis_mail\n');
  });

  describe('nft -c accepts every rendered file (nftables must be installed: CI installs it)', () => {
    let dir: string;
    let nft: string | null;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-nft-'));
      nft = await findNft();
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    function check(name: string, text: string): void {
      if (nft === null) throw new Error('nft is not installed (looked in /usr/sbin, /sbin, /usr/bin): install Debian\'s nftables package to run these tests');
      const file = join(dir, `${name}.nft`);
      writeFileSync(file, text);
      const run = spawnSync(nft, ['-c', '-f', file], { encoding: 'utf8', env: { LC_ALL: 'C' } });
      expect(run.error, `running ${nft}`).to.equal(undefined);
      expect(run.status, `nft -c -f ${name}:\n${run.stderr}\n${text}`).to.equal(0);
    }

    // Each row: a policy's servers (and options) → a file nft must accept.
    const policies: Array<{ name: string; servers: string[]; allowLoopback?: boolean }> = [
      // no server approved: both sets empty
      { name: 'empty', servers: [] },
      // IPv4 only, overlapping entries merged
      { name: 'ipv4', servers: ['10.1.0.0/16', '10.0.0.0/8', '192.0.2.25'] },
      // IPv6 only
      { name: 'ipv6', servers: ['2001:db8::25', '2001:db8:1::/48', 'fd00::/8'] },
      // both, with the whole IPv4 space approved
      { name: 'mixed', servers: ['0.0.0.0/0', '2001:db8::25'] },
      // the policy limit, 64 scattered hosts
      { name: 'many', servers: Array.from({ length: 64 }, (_, i) => `198.51.100.${i * 4}`) },
      // the namespace test's variant
      { name: 'no-loopback', servers: ['127.0.0.2'], allowLoopback: false },
    ];
    for (const row of policies) {
      it(`accepts the ${row.name} policy`, () => check(row.name, renderMailEgressRuleset(row.servers, row.allowLoopback === false ? { allowLoopback: false } : {})));
    }

    it('accepts the removal file', () => check('removal', renderMailEgressRemoval()));

    it('refuses a broken file (the check is real)', () => {
      if (nft === null) throw new Error('nft is not installed: install Debian\'s nftables package to run these tests');
      const file = join(dir, 'broken.nft');
      writeFileSync(file, renderMailEgressRuleset(['10.1.2.3']).replace('reject with tcp reset', 'reject with tcp resett'));
      expect(spawnSync(nft, ['-c', '-f', file], { encoding: 'utf8' }).status).to.not.equal(0);
    });
  });
});

describe('mail egress: the nft runner (stand-in programs for nft)', () => {
  it('pipes the ruleset in on stdin and gives back exit status and output', async () => {
    expect(await spawnNftRunner({ nftPath: '/bin/cat' })([], 'table inet portcullis_mail {}\n')).to.deep.equal({ code: 0, stdout: 'table inet portcullis_mail {}\n', stderr: '' });
    expect((await spawnNftRunner({ nftPath: '/bin/sh' })(['-c', 'echo "Error: nope" >&2; exit 1'])).code).to.equal(1);
  });

  it('says nft is not installed when the program is missing', async () => {
    let error: unknown;
    await spawnNftRunner({ nftPath: '/nonexistent/nft' })(['list', 'ruleset']).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(NftUnavailableError);
    expect((error as Error).message).to.equal('nft not found at /nonexistent/nft (install the nftables package)');
  });

  it('kills an nft that hangs', async () => {
    let error: unknown;
    await spawnNftRunner({ nftPath: '/bin/sleep', timeoutMs: 100 })(['10']).catch((err: unknown) => (error = err));
    expect((error as Error | undefined)?.message).to.equal('nft 10 did not finish within 100 ms');
  });
});
