import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNft } from '../src/mail/egress/nft-egress-guard.js';

/**
 * The guard for real: the real NftEgressGuard loads the real ruleset with the real nft into the
 * kernel, inside a network namespace of the test's own (`unshare -n`), so the machine's own
 * firewall is never touched. Listeners on 127.0.0.2/.3 (and 2001:db8::2/::3 on lo) stand in for
 * an approved and an unapproved mail server; the ruleset is rendered without its loopback
 * allowance for that (one case loads it with the allowance, to show it works).
 *
 * The kernel's log from inside a namespace is off by default (net.netfilter.nf_log_all_netns=0),
 * so the log lines are tested on recorded records (mail-egress-kmsg.test.ts), not here.
 */
const SCRIPT = String.raw`
import { execFileSync } from 'node:child_process';
import net from 'node:net';
const { guardUrl, nft } = JSON.parse(process.argv[2]);
const { NftEgressGuard, spawnNftRunner } = await import(guardUrl);
execFileSync('ip', ['link', 'set', 'lo', 'up']);
let v6 = true;
try {
  for (const a of ['2001:db8::2/128', '2001:db8::3/128']) execFileSync('ip', ['-6', 'addr', 'add', a, 'dev', 'lo', 'nodad'], { stdio: 'ignore' });
} catch {
  v6 = false;
}
const targets = [['127.0.0.2', 587], ['127.0.0.3', 587], ['127.0.0.3', 8080], ...(v6 ? [['2001:db8::2', 587], ['2001:db8::3', 587]] : [])];
for (const [host, port] of targets) {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  server.unref();
}
const connect = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  socket.setTimeout(2000, () => { socket.destroy(); resolve('timeout'); });
  socket.once('connect', () => { socket.destroy(); resolve('connected'); });
  socket.once('error', (err) => resolve(err.code));
});
const probe = async () => Object.fromEntries(await Promise.all(targets.map(async ([h, p]) => [(h.includes(':') ? '[' + h + ']' : h) + ':' + p, await connect(h, p)])));
const run = spawnNftRunner({ nftPath: nft });
const bare = new NftEgressGuard(run, { allowLoopback: false });
const results = { before: await probe() };
await bare.apply(['127.0.0.2', '2001:db8::2']);
results.enforced = await probe();
results.listing = await bare.listing();
await bare.apply(['127.0.0.3', '2001:db8::3']);
results.replaced = await probe();
const production = new NftEgressGuard(run);
await production.apply(['127.0.0.2']);
results.loopbackAllowed = await probe();
results.removed = await production.remove();
results.after = await probe();
results.removedAgain = await production.remove();
process.stdout.write(JSON.stringify({ v6, results }));
process.exit(0);
`;

interface Outcome {
  readonly v6: boolean;
  readonly results: Record<string, Record<string, string> | string | boolean | null>;
}

/** Why this machine cannot give the test a network namespace, or null when it can. */
function namespaceUnavailable(): string | null {
  const unshare = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
  if (unshare.error !== undefined || unshare.status !== 0) return `unshare -n is not permitted here (${unshare.error?.message ?? unshare.stderr.trim()})`;
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error !== undefined) return 'the ip command (iproute2) is not installed';
  return null;
}

describe('mail egress guard in a network namespace (real kernel, real nft)', function () {
  this.timeout(60_000);
  let outcome: Outcome;

  before(async function () {
    const nft = await findNft();
    if (nft === null) throw new Error('nft is not installed (looked in /usr/sbin, /sbin, /usr/bin): install Debian\'s nftables package to run these tests');
    const unavailable = namespaceUnavailable();
    // CI (.ci/run) installs iproute2 and runs as root: a machine without a namespace fails loudly.
    if (unavailable !== null) throw new Error(`the mail egress namespace test cannot run: ${unavailable}`);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-netns-'));
    try {
      const script = join(dir, 'guard-in-namespace.mjs');
      writeFileSync(script, SCRIPT);
      const guardUrl = new URL('../src/mail/egress/nft-egress-guard.js', import.meta.url).href;
      const run = spawnSync('unshare', ['-n', process.execPath, script, JSON.stringify({ guardUrl, nft })], { encoding: 'utf8', timeout: 50_000 });
      if (run.status !== 0) throw new Error(`the namespace script failed (status ${run.status}):\n${run.stderr}\n${run.stdout}`);
      outcome = JSON.parse(run.stdout) as Outcome;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const r = (name: string) => outcome.results[name] as Record<string, string>;

  it('reaches every listener before the guard is loaded', () => {
    expect(Object.values(r('before')).every((x) => x === 'connected'), JSON.stringify(r('before'))).to.equal(true);
  });

  it('lets the approved server through and resets the connection to another one (ECONNREFUSED at once, not a timeout)', () => {
    expect(r('enforced')).to.include({ '127.0.0.2:587': 'connected', '127.0.0.3:587': 'ECONNREFUSED' });
  });

  it('leaves ports other than the mail ports alone', () => {
    expect(r('enforced')).to.include({ '127.0.0.3:8080': 'connected' });
  });

  it('does the same for IPv6 (when the namespace has IPv6)', function () {
    if (!outcome.v6) {
      console.warn('      IPv6 is disabled in this namespace; the IPv6 rows were not exercised');
      this.skip();
    }
    expect(r('enforced')).to.include({ '[2001:db8::2]:587': 'connected', '[2001:db8::3]:587': 'ECONNREFUSED' });
    expect(r('replaced')).to.include({ '[2001:db8::2]:587': 'ECONNREFUSED', '[2001:db8::3]:587': 'connected' });
  });

  it('reads the loaded table back from the kernel', () => {
    const listing = outcome.results.listing as string;
    expect(listing).to.contain('table inet portcullis_mail').and.to.contain('hook output').and.to.contain('reject with tcp reset');
    expect(listing).to.match(/elements = \{ 127\.0\.0\.2 \}/);
  });

  it('replaces the table in one load when the servers change', () => {
    expect(r('replaced')).to.include({ '127.0.0.2:587': 'ECONNREFUSED', '127.0.0.3:587': 'connected', '127.0.0.3:8080': 'connected' });
  });

  it('never refuses loopback with the production ruleset (local MTAs)', () => {
    expect(r('loopbackAllowed')).to.include({ '127.0.0.2:587': 'connected', '127.0.0.3:587': 'connected' });
  });

  it('removes the table cleanly, and a second removal finds nothing to do', () => {
    expect([outcome.results.removed, outcome.results.removedAgain]).to.deep.equal([true, false]);
    expect(Object.values(r('after')).every((x) => x === 'connected'), JSON.stringify(r('after'))).to.equal(true);
  });
});
