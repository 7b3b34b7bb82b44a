import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAIL_EGRESS, STARTER_POLICY_INPUT, buildPolicyDocument, type MailEgressPolicy, type PolicyDocument } from '@portcullis/shared';
import { MailEgressEnforcement, type BlockedLogSource } from '../src/mail/egress/mail-egress-enforcement.js';
import { NftEgressGuard, NftUnavailableError, removeMailEgress, type NftResult } from '../src/mail/egress/nft-egress-guard.js';
import { getentUserLookup, passwdName } from '../src/mail/egress/user-names.js';
import { SysfsDeviceSource } from '../src/platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import { AgentService } from '../src/service/agent-service.js';
import { PlanExecutor } from '../src/service/plan-executor.js';
import { MemorySpool } from '../src/spool/memory-spool.js';
import type { NewSpoolEvent } from '../src/spool/spool.js';
import { ed25519Verifier } from '../src/state/ed25519-verifier.js';
import { saveIdentity, type AgentIdentity } from '../src/state/identity-store.js';
import { FakeSysfs } from './support/fake-sysfs.js';
import { FakeLink, KEY_ID, TestSigner, waitFor } from './support/service-harness.js';

const ABSENT: NftResult = { code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table inet portcullis_mail\n                ^^^^^^^^^^^^^^^\n' };
const LINE =
  '4,337,1159291966,-;portcullis-mail-egress: IN= OUT=eth0 SRC=10.0.2.15 DST=142.250.1.27 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=587 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1000 GID=1000 ';

/**
 * nft as the guard sees it: a table that `-f -` loads (the listing is the loaded text, as nft
 * would print it back) and `list table` reads. Records every invocation.
 */
class FakeNft {
  table: string | null = null;
  readonly calls: string[] = [];
  /** The next runs fail so (one entry per run). */
  readonly failures: Array<NftResult | Error> = [];

  readonly run = async (args: readonly string[], stdin?: string): Promise<NftResult> => {
    this.calls.push(args.join(' '));
    const failure = this.failures.shift();
    if (failure instanceof Error) throw failure;
    if (failure !== undefined) return failure;
    if (args[0] === 'list') return this.table === null ? ABSENT : { code: 0, stdout: this.table, stderr: '' };
    if (args.join(' ') !== '-f -' || stdin === undefined) return { code: 1, stdout: '', stderr: `unexpected nft ${args.join(' ')}` };
    // Everything after the create + delete lines is the new table; nothing after them: removed.
    const body = stdin.split('\n').slice(3).join('\n').trim();
    this.table = body === '' ? null : `${body}\n`;
    return { code: 0, stdout: '', stderr: '' };
  };
}

class FakeLogSource implements BlockedLogSource {
  running = false;
  constructor(readonly onLine: (line: string) => void) {}
  async start(): Promise<void> {
    this.running = true;
  }
  async stop(): Promise<void> {
    this.running = false;
  }
}

function policy(mailEgress: MailEgressPolicy, version = 2): PolicyDocument {
  const doc = buildPolicyDocument({ ...STARTER_POLICY_INPUT, mailEgress }, { group: 'lab', version, createdAt: '2026-11-25T10:00:00Z', createdBy: 'admin' });
  return doc;
}

const ENFORCE = { mode: 'enforce', servers: ['10.1.0.0/16', '2001:db8::25'] } as const;

function setup(options: { logSource?: boolean } = {}) {
  const nft = new FakeNft();
  let now = Date.parse('2026-11-25T10:00:00Z');
  const warnings: string[] = [];
  const sources: FakeLogSource[] = [];
  const enforcement = new MailEgressEnforcement({
    guard: new NftEgressGuard(nft.run),
    clock: () => new Date(now),
    logger: { info: () => undefined, warn: (m) => void warnings.push(m) },
    createLogSource: options.logSource === false ? null : (onLine) => {
      const source = new FakeLogSource(onLine);
      sources.push(source);
      return source;
    },
    lookupUser: async (uid) => (uid === 1000 ? 'ayan' : undefined),
    driftCheckMs: 60_000,
  });
  return {
    nft,
    enforcement,
    warnings,
    sources,
    advance: (ms: number) => void (now += ms),
  };
}

const types = (events: readonly NewSpoolEvent[]) => events.map((e) => `${e.type}/${e.severity}`);

describe('mail egress enforcement (fake nft)', () => {
  it('loads the table at startup, reads it back, reports it in force and follows the kernel log', async () => {
    const s = setup();
    s.enforcement.observe(async () => undefined);
    const events = await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    expect(s.nft.calls).to.deep.equal(['list table inet portcullis_mail', '-f -', 'list table inet portcullis_mail']);
    expect(s.nft.table).to.contain('elements = { 10.1.0.0/16 }').and.to.contain('elements = { 2001:db8::25 }');
    expect(types(events)).to.deep.equal(['mail.egress.enforced/info']);
    expect(events[0]?.data).to.deep.equal({
      servers: ['10.1.0.0/16', '2001:db8::25'],
      ports: [25, 465, 587, 110, 995, 143, 993],
      phase: 'startup',
      enforced: true,
      policy: { group: 'lab', version: 2 },
    });
    expect(s.sources.map((x) => x.running)).to.deep.equal([true]);
  });

  it('after a restart finds its own table unchanged: reloads it (atomic, harmless) and reports nothing', async () => {
    const s = setup();
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    const restarted = setup();
    restarted.nft.table = s.nft.table;
    expect(await restarted.enforcement.reconcile(policy(ENFORCE), 'startup')).to.deep.equal([]);
    expect(restarted.nft.table).to.equal(s.nft.table);
  });

  // Each row: what happened to the kernel's table between two rescans → what the next drift check does.
  const drift: Array<{ name: string; tamper: (nft: FakeNft) => void; calls: string[]; events: string[]; drift?: string }> = [
    // nothing: one read, nothing else
    { name: 'nothing', tamper: () => undefined, calls: ['list table inet portcullis_mail'], events: [] },
    // `nft flush ruleset` removed every table
    { name: 'the table removed', tamper: (nft) => void (nft.table = null), calls: ['list table inet portcullis_mail', '-f -', 'list table inet portcullis_mail'], events: ['mail.egress.enforced/high'], drift: 'table removed' },
    // someone added an address to the approved set by hand
    { name: 'the set edited', tamper: (nft) => void (nft.table = nft.table!.replace('10.1.0.0/16', '10.1.0.0/16, 203.0.113.7')), calls: ['list table inet portcullis_mail', '-f -', 'list table inet portcullis_mail'], events: ['mail.egress.enforced/high'], drift: 'table changed' },
  ];
  for (const row of drift) {
    it(`checks for drift at most once a minute and puts the table back: ${row.name}`, async () => {
      const s = setup();
      await s.enforcement.reconcile(policy(ENFORCE), 'startup');
      const loaded = s.nft.table;
      s.nft.calls.length = 0;
      row.tamper(s.nft);
      s.advance(5_000);
      expect(await s.enforcement.reconcile(policy(ENFORCE), 'rescan'), 'a rescan inside the minute').to.deep.equal([]);
      expect(s.nft.calls, 'no nft run inside the minute').to.deep.equal([]);
      s.advance(60_000);
      const events = await s.enforcement.reconcile(policy(ENFORCE), 'rescan');
      expect(s.nft.calls).to.deep.equal(row.calls);
      expect(types(events)).to.deep.equal(row.events);
      if (row.drift !== undefined) expect(events[0]?.data).to.include({ drift: row.drift, phase: 'rescan' });
      expect(s.nft.table).to.equal(loaded);
    });
  }

  it('replaces the table when the policy changes the servers, and reports the new list', async () => {
    const s = setup();
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    const events = await s.enforcement.reconcile(policy({ mode: 'enforce', servers: ['192.0.2.25'] }, 3), 'policy');
    expect(types(events)).to.deep.equal(['mail.egress.enforced/info']);
    expect(events[0]?.data).to.deep.include({ servers: ['192.0.2.25'], policy: { group: 'lab', version: 3 } });
    expect(s.nft.table).to.contain('elements = { 192.0.2.25 }').and.not.to.contain('10.1.0.0/16');
  });

  it('removes the table when the policy turns the guard off, stops following the log, and then leaves nft alone', async () => {
    const s = setup();
    s.enforcement.observe(async () => undefined);
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    const events = await s.enforcement.reconcile(policy({ mode: 'off', servers: ['10.1.0.0/16'] }, 3), 'policy');
    expect(types(events)).to.deep.equal(['mail.egress.disabled/low']);
    expect(s.nft.table).to.equal(null);
    expect(s.sources[0]?.running).to.equal(false);
    s.nft.calls.length = 0;
    s.advance(120_000);
    expect(await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS, 3), 'rescan')).to.deep.equal([]);
    expect(s.nft.calls).to.deep.equal([]);
  });

  it('with the guard off and no table, only looks (once) and reports nothing', async () => {
    const s = setup();
    expect(await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS), 'startup')).to.deep.equal([]);
    expect(s.nft.calls).to.deep.equal(['list table inet portcullis_mail']);
  });

  it('with the guard off, a table left from an earlier policy is removed at startup', async () => {
    const s = setup();
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    const restarted = setup();
    restarted.nft.table = s.nft.table;
    expect(types(await restarted.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS), 'startup'))).to.deep.equal(['mail.egress.disabled/low']);
    expect(restarted.nft.table).to.equal(null);
  });

  it('without nft and the guard off, has nothing to do and says nothing', async () => {
    const s = setup();
    s.nft.failures.push(new NftUnavailableError('/usr/sbin/nft'));
    expect(await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS), 'startup')).to.deep.equal([]);
    expect(s.warnings).to.deep.equal([]);
  });

  it('when nft cannot look (no CAP_NET_ADMIN) and the guard is off, logs it once and reports nothing', async () => {
    const s = setup();
    s.nft.failures.push({ code: 1, stdout: '', stderr: 'Error: cache initialization failed: Operation not permitted\n' });
    expect(await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS), 'startup')).to.deep.equal([]);
    expect(await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS), 'rescan')).to.deep.equal([]);
    expect(s.warnings).to.deep.equal(['cannot check for a mail egress table (the policy has the guard off)']);
    expect(s.nft.calls).to.have.length(1);
  });

  it('without nft and the guard on: one high event saying it is NOT in force, retried every rescan, recovered when nft appears', async () => {
    const s = setup();
    s.nft.failures.push(new NftUnavailableError('/usr/sbin/nft'), new NftUnavailableError('/usr/sbin/nft'));
    const first = await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    expect(types(first)).to.deep.equal(['mail.egress.error/high']);
    expect(first[0]?.data).to.deep.include({ mode: 'enforce', enforced: false, error: 'nft not found at /usr/sbin/nft (install the nftables package)' });
    expect(first[0]?.data.note).to.match(/NOT in force/);
    expect(s.warnings).to.deep.equal(['mail egress guard NOT in force']);
    // The same failure at the next rescan: tried again (no minute's wait), not reported again.
    s.advance(5_000);
    expect(await s.enforcement.reconcile(policy(ENFORCE), 'rescan')).to.deep.equal([]);
    expect(s.nft.calls).to.have.length(2);
    // nft installed meanwhile: in force, and said so.
    s.advance(5_000);
    expect(types(await s.enforcement.reconcile(policy(ENFORCE), 'rescan'))).to.deep.equal(['mail.egress.enforced/info']);
  });

  it('reports nft refusing the ruleset with nft\'s own message', async () => {
    const s = setup();
    s.nft.failures.push(ABSENT, { code: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not supported\n' });
    const events = await s.enforcement.reconcile(policy(ENFORCE), 'policy');
    expect(types(events)).to.deep.equal(['mail.egress.error/high']);
    expect(events[0]?.data.error).to.equal('loading the mail egress table failed (nft exit 1): Error: Could not process rule: Operation not supported');
    expect(s.nft.table).to.equal(null);
  });

  it('reports a table that could not be removed as a medium error (mail may still be refused)', async () => {
    const s = setup();
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    s.nft.failures.push({ code: 0, stdout: s.nft.table!, stderr: '' }, { code: 0, stdout: s.nft.table!, stderr: '' }, { code: 1, stdout: '', stderr: 'Error: Operation not permitted\n' });
    const events = await s.enforcement.reconcile(policy(DEFAULT_MAIL_EGRESS, 3), 'policy');
    expect(types(events)).to.deep.equal(['mail.egress.error/medium']);
    expect(events[0]?.data).to.deep.include({ mode: 'off', error: 'removing the mail egress table failed (nft exit 1): Error: Operation not permitted' });
  });

  it('turns refused connections from the kernel log into events, one per destination, port and user a minute', async () => {
    const s = setup();
    const emitted: NewSpoolEvent[] = [];
    const stop = s.enforcement.observe(async (events) => void emitted.push(...events));
    await s.enforcement.reconcile(policy(ENFORCE), 'startup');
    const source = s.sources[0]!;
    source.onLine(LINE);
    source.onLine(' SUBSYSTEM=net');
    source.onLine('6,338,1,-;EXT4-fs (vda): re-mounted');
    s.advance(10_000);
    source.onLine(LINE);
    source.onLine(LINE.replace('DPT=587', 'DPT=25').replace('UID=1000', 'UID=1001'));
    s.advance(60_000);
    source.onLine(LINE);
    await stop();
    expect(emitted.map((e) => e.data)).to.deep.equal([
      { destination: '142.250.1.27', port: 587, uid: 1000, user: 'ayan', source: '10.0.2.15', interface: 'eth0', repeats: 0, policy: { group: 'lab', version: 2 } },
      { destination: '142.250.1.27', port: 25, uid: 1001, source: '10.0.2.15', interface: 'eth0', repeats: 0, policy: { group: 'lab', version: 2 } },
      { destination: '142.250.1.27', port: 587, uid: 1000, user: 'ayan', source: '10.0.2.15', interface: 'eth0', repeats: 1, policy: { group: 'lab', version: 2 } },
    ]);
    expect(emitted.every((e) => e.type === 'mail.egress.blocked' && e.severity === 'medium')).to.equal(true);
    expect(source.running).to.equal(false);
    // Stopped observing: further lines are not reported, and the table stays loaded.
    s.advance(120_000);
    source.onLine(LINE);
    await new Promise((r) => setImmediate(r));
    expect(emitted).to.have.length(3);
    expect(s.nft.table).to.not.equal(null);
  });

  it('enforces without reporting when the kernel log cannot be read, and says so once', async () => {
    const s = setup();
    const failing = new MailEgressEnforcement({
      guard: new NftEgressGuard(s.nft.run),
      clock: () => new Date(),
      logger: { info: () => undefined, warn: (m) => void s.warnings.push(m) },
      createLogSource: () => ({ start: async () => Promise.reject(new Error('EACCES: /dev/kmsg')), stop: async () => undefined }),
      driftCheckMs: 0,
    });
    failing.observe(async () => undefined);
    expect(types(await failing.reconcile(policy(ENFORCE), 'startup'))).to.deep.equal(['mail.egress.enforced/info']);
    await failing.reconcile(policy(ENFORCE), 'rescan');
    expect(s.warnings).to.deep.equal(['cannot read the kernel log: refused mail connections are enforced but not reported']);
  });
});

describe('removeMailEgress (for the uninstaller)', () => {
  it('removes the table when there is one, and is a no-op otherwise', async () => {
    const nft = new FakeNft();
    expect(await removeMailEgress({ run: nft.run })).to.equal(false);
    expect(nft.calls).to.deep.equal(['list table inet portcullis_mail']);
    await new NftEgressGuard(nft.run).apply(['10.1.2.3']);
    expect(await removeMailEgress({ run: nft.run })).to.equal(true);
    expect(nft.table).to.equal(null);
  });
});

describe('user names for refused connections', () => {
  // Each row: getent output for a uid → the name in the event.
  const rows: Array<{ line: string; uid: number; expected: string | undefined }> = [
    // a local account
    { line: 'ayan:x:1000:1000:Ayan Aliyeva,,,:/home/ayan:/bin/bash\n', uid: 1000, expected: 'ayan' },
    // a domain account through SSSD
    { line: 'ayan@mincom.gov.az:*:1605201104:1605200513:Ayan:/home/ayan:/bin/bash', uid: 1605201104, expected: 'ayan@mincom.gov.az' },
    // another uid's entry
    { line: 'root:x:0:0:root:/root:/bin/bash', uid: 1000, expected: undefined },
    // a name that no login uses
    { line: 'a b:x:1000:1000::/:/bin/sh', uid: 1000, expected: undefined },
    // not a passwd line
    { line: '', uid: 1000, expected: undefined },
  ];
  for (const row of rows) {
    it(`reads ${JSON.stringify(row.line.trim() || 'nothing')} for uid ${row.uid}`, () => expect(passwdName(row.line, row.uid)).to.equal(row.expected));
  }

  it('caches names (and failures) per uid for a while', async () => {
    let now = 0;
    const asked: number[] = [];
    const lookup = getentUserLookup({
      run: async (uid) => {
        asked.push(uid);
        if (uid === 4242) throw new Error('getent exited 2');
        return `ayan:x:${uid}:${uid}::/home/ayan:/bin/bash`;
      },
      ttlMs: 1000,
      now: () => now,
    });
    expect([await lookup(1000), await lookup(1000), await lookup(4242), await lookup(4242)]).to.deep.equal(['ayan', 'ayan', undefined, undefined]);
    now = 1000;
    await lookup(1000);
    expect(asked).to.deep.equal([1000, 4242, 1000]);
  });
});

describe('mail egress in the agent service', () => {
  it('applies the guard from a pushed policy, spools refused connections, and leaves the table loaded when it stops', async () => {
    const fake = await FakeSysfs.create({ controllers: 1 });
    fake.startKernel(5);
    const stateDir = await mkdtemp(join(tmpdir(), 'portcullis-egress-service-'));
    const signer = new TestSigner();
    const identity: AgentIdentity = {
      serverUrl: 'https://portcullis.test:8443',
      agentId: 'agt-egress-1',
      secret: 'not-a-real-secret-0123456789',
      group: 'default',
      caCertPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      signingKeys: [{ keyId: KEY_ID, publicKeyPem: signer.publicKeyPem }],
      enrolledAt: '2026-11-25T10:00:00Z',
    };
    await saveIdentity(stateDir, identity);
    const nft = new FakeNft();
    const sources: FakeLogSource[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const spool = new MemorySpool();
    let link: FakeLink | undefined;
    const service = new AgentService({
      stateDir,
      version: '0.1.0-test',
      platform: 'linux',
      hostname: 'pc-test',
      os: 'Linux test',
      pid: process.pid,
      clock: () => new Date(),
      logger,
      source: new SysfsDeviceSource(fake.root, { hotplug: 'poll', pollMs: 20 }),
      executor: new PlanExecutor({ enforcer: new SysfsEnforcer(fake.root), readonly: { protect: async () => [] }, logger }),
      spool,
      identity,
      verifier: ed25519Verifier(identity.signingKeys),
      createLink: (callbacks) => (link = new FakeLink(callbacks)),
      createInventory: null,
      ports: null,
      mailEgress: new MailEgressEnforcement({
        guard: new NftEgressGuard(nft.run),
        clock: () => new Date(),
        logger,
        createLogSource: (onLine) => {
          const source = new FakeLogSource(onLine);
          sources.push(source);
          return source;
        },
      }),
      rescanMs: 60_000,
      writeStatus: async () => undefined,
      saveGroup: async () => undefined,
    });
    const events = async (type: string) => (await spool.pending(10_000)).filter((e) => e.type === type);
    try {
      await service.start();
      // The built-in policy leaves mail alone: nft was asked whether a table is there, nothing more.
      expect(nft.calls).to.deep.equal(['list table inet portcullis_mail']);
      link!.deliver({ v: 1, type: 'policy', body: { signed: signer.policy({ rules: '', mailEgress: { mode: 'enforce', servers: ['10.1.2.3'] } }, { version: 2 }) } });
      await waitFor('the guard in force', async () => (await events('mail.egress.enforced')).length === 1);
      expect((await events('mail.egress.enforced'))[0]?.data).to.deep.include({ servers: ['10.1.2.3'], phase: 'policy', policy: { group: 'default', version: 2 } });
      sources[0]!.onLine(LINE);
      await waitFor('the refused connection spooled', async () => (await events('mail.egress.blocked')).length === 1);
      expect((await events('mail.egress.blocked'))[0]).to.deep.include({ severity: 'medium' });
    } finally {
      await service.stop('test over');
      await fake.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    }
    expect(sources[0]?.running).to.equal(false);
    expect(nft.table, 'the table keeps enforcing while the agent is down').to.contain('elements = { 10.1.2.3 }');
  });
});
