import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildPolicyDocument,
  signPolicy,
  validatePolicyInput,
  type AgentMessage,
  type ServerMessage,
  type SignedPolicy,
} from '@portcullis/shared';
import { SysfsDeviceSource } from '../../src/platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from '../../src/platform/linux/sysfs-enforcer.js';
import { AgentService, type AgentLink, type LinkCallbacks, type PortEnforcement } from '../../src/service/agent-service.js';
import { PlanExecutor, type ReadOnlyProtector } from '../../src/service/plan-executor.js';
import { MemorySpool } from '../../src/spool/memory-spool.js';
import type { SpooledEvent } from '../../src/spool/spool.js';
import { ed25519Verifier } from '../../src/state/ed25519-verifier.js';
import { loadIdentity, saveIdentity, type AgentIdentity } from '../../src/state/identity-store.js';
import type { AgentStatus } from '../../src/state/status-file.js';
import { FakeSysfs } from './fake-sysfs.js';

export const KEY_ID = 'policy-test';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FGYWtlQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjO\n-----END CERTIFICATE-----\n';

/** The server's signing key, for policies the fake server "pushes". */
export class TestSigner {
  readonly publicKeyPem: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.privateKey = privateKey;
  }

  policy(fields: Record<string, unknown>, meta: { group?: string; version: number }): SignedPolicy {
    const checked = validatePolicyInput(fields);
    if (!checked.ok) throw new Error(`test policy invalid: ${JSON.stringify(checked)}`);
    const doc = buildPolicyDocument(checked.input, { group: meta.group ?? 'default', version: meta.version, createdAt: '2026-11-25T10:00:00Z', createdBy: 'test' });
    return signPolicy(doc, KEY_ID, (payload) => new Uint8Array(cryptoSign(null, payload, this.privateKey)));
  }
}

/** The server side of the link: records what the agent sends; the test delivers server messages. */
export class FakeLink implements AgentLink {
  readonly sent: AgentMessage[] = [];
  connected = false;
  started = false;

  constructor(readonly callbacks: LinkCallbacks) {}

  start(): void {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.connected = false;
  }

  notify(): void {}

  send(msg: AgentMessage): boolean {
    if (!this.connected) return false;
    this.sent.push(msg);
    return true;
  }

  /** The server accepted the connection and welcomed the agent. */
  welcome(): void {
    this.connected = true;
    this.callbacks.onWelcome();
  }

  deliver(msg: ServerMessage): void {
    this.callbacks.onMessage(msg);
  }
}

export interface Harness {
  readonly fake: FakeSysfs;
  readonly stateDir: string;
  readonly spool: MemorySpool;
  readonly service: AgentService;
  readonly signer: TestSigner;
  readonly statuses: AgentStatus[];
  readonly warnings: string[];
  link(): FakeLink;
  events(): Promise<SpooledEvent[]>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  readonly enrolled?: boolean;
  readonly readonly?: ReadOnlyProtector;
  readonly ports?: PortEnforcement;
  /** The full rescan's period (200 ms); long when a test must see the hotplug path decide. */
  readonly rescanMs?: number;
  readonly before?: (h: { stateDir: string; fake: FakeSysfs; signer: TestSigner; identity: AgentIdentity }) => Promise<void>;
}

/**
 * An AgentService on a FakeSysfs tree with the real sysfs adapters (polling hotplug), an
 * in-memory spool, a FakeLink and a real state folder. The fake kernel settles continuously.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await FakeSysfs.create({ controllers: 2 });
  fake.startKernel(5);
  const stateDir = await mkdtemp(join(tmpdir(), 'portcullis-service-'));
  const signer = new TestSigner();
  const identity: AgentIdentity = {
    serverUrl: 'https://portcullis.test:8443',
    agentId: 'agt-test-1',
    secret: 'not-a-real-secret-0123456789',
    group: 'default',
    caCertPem: CA_PEM,
    signingKeys: [{ keyId: KEY_ID, publicKeyPem: signer.publicKeyPem }],
    enrolledAt: '2026-11-25T10:00:00Z',
  };
  const enrolled = options.enrolled ?? true;
  if (enrolled) await saveIdentity(stateDir, identity);
  await options.before?.({ stateDir, fake, signer, identity });
  const spool = new MemorySpool();
  const statuses: AgentStatus[] = [];
  const warnings: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (m: string, meta?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(meta ?? {})}`),
    error: (m: string, meta?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(meta ?? {})}`),
  };
  let link: FakeLink | undefined;
  let service: AgentService | undefined;
  const executor = new PlanExecutor({
    enforcer: new SysfsEnforcer(fake.root, { removeTimeoutMs: 2000, removePollMs: 5 }),
    readonly: options.readonly ?? { protect: async () => [] },
    logger,
    pollMs: 10,
    blockWaitMs: 1000,
    onLateReadonly: (name, outcome) => service?.lateReadonly(name, outcome),
  });
  service = new AgentService({
    stateDir,
    version: '0.1.0-test',
    platform: 'linux',
    hostname: 'pc-test',
    os: 'Linux test',
    pid: process.pid,
    clock: () => new Date(),
    logger,
    source: new SysfsDeviceSource(fake.root, { hotplug: 'poll', pollMs: 20 }),
    executor,
    spool,
    identity: enrolled ? identity : null,
    verifier: enrolled ? ed25519Verifier(identity.signingKeys) : null,
    createLink: (callbacks) => (link = new FakeLink(callbacks)),
    createInventory: null,
    ports: options.ports ?? null,
    rescanMs: options.rescanMs ?? 200,
    statusMs: 100,
    writeStatus: async (s) => void statuses.push(s),
    saveGroup: async (group) => saveIdentity(stateDir, { ...(await loadIdentity(stateDir)), group }),
  });
  await service.start();
  const running = service;
  return {
    fake,
    stateDir,
    spool,
    service: running,
    signer,
    statuses,
    warnings,
    link: () => {
      if (link === undefined) throw new Error('no link was created (not enrolled?)');
      return link;
    },
    events: () => spool.pending(10_000),
    async cleanup() {
      await running.stop('test over');
      await fake.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
