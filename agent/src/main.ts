import { randomInt } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { hostname, release, type } from 'node:os';
import { join } from 'node:path';
import { collectInventory, InventoryReporter, systemInformationSource } from './inventory/index.js';
import { ServerLink } from './link/server-link.js';
import { createAgentLogger, type AgentLogger } from './log/agent-logger.js';
import { BlockDeviceReadOnly } from './platform/linux/block-device-readonly.js';
import { MailAccountDiscovery, MailAccountWatcher } from './mail/accounts/index.js';
import { KmsgTail } from './mail/egress/kmsg-tail.js';
import { MailEgressEnforcement } from './mail/egress/mail-egress-enforcement.js';
import { NftEgressGuard, spawnNftRunner } from './mail/egress/nft-egress-guard.js';
import { getentUserLookup } from './mail/egress/user-names.js';
import { LinuxPortControl } from './platform/linux/linux-port-control.js';
import { SysfsDeviceSource } from './platform/linux/sysfs-device-source.js';
import { SysfsEnforcer } from './platform/linux/sysfs-enforcer.js';
import { AgentService, type AgentLink, type LinkCallbacks } from './service/agent-service.js';
import { PlanExecutor } from './service/plan-executor.js';
import { PortPolicyEnforcement } from './service/port-enforcement.js';
import { FileSpool } from './spool/file-spool.js';
import { ensureStateDir } from './state/atomic-file.js';
import { ed25519Verifier } from './state/ed25519-verifier.js';
import { identityPath, loadIdentity, saveIdentity, type AgentIdentity } from './state/identity-store.js';
import { writeStatus } from './state/status-file.js';
import { VERSION } from './version.js';

export interface LinuxAgentOptions {
  readonly stateDir: string;
  readonly sysfsRoot: string;
  /** Device nodes (`/dev`): block devices for readonly, serial/parallel/optical nodes for ports. */
  readonly devRoot: string;
  readonly rescanMs: number;
  readonly hotplug: 'udevadm' | 'poll';
  readonly pollMs: number;
  /** Non-USB port control; off when the sysfs tree is fake but /dev is real, or the reverse. */
  readonly ports: boolean;
  /** Tests with a fake /dev: device nodes are regular files. */
  readonly fakeDevNodes: boolean;
  readonly logToStderr: boolean;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly spoolMaxBytes?: number;
  readonly inventory: boolean;
  readonly inventoryIntervalMs?: number;
  /** The mail egress guard (nftables table + /dev/kmsg reports), driven by the policy; default on. */
  readonly mailEgress?: boolean;
  /** Root of the tree holding /etc/passwd and the users' homes, for mail account discovery (default /). */
  readonly mailRoot?: string;
}

export interface RunningAgent {
  readonly service: AgentService;
  readonly logger: AgentLogger;
  stop(reason: string): Promise<void>;
}

/**
 * The composition root (STYLE §2): the only place that picks the Linux adapters, the file
 * spool, the WebSocket link and the winston log, and hands them to the service.
 */
export async function startLinuxAgent(options: LinuxAgentOptions): Promise<RunningAgent> {
  await ensureStateDir(options.stateDir);
  const logger = createAgentLogger({ stateDir: options.stateDir, stderr: options.logToStderr, level: options.logLevel });
  try {
    const identity = await loadIdentityIfEnrolled(options.stateDir);
    const clock = () => new Date();
    const spool = await FileSpool.open(join(options.stateDir, 'spool'), {
      logger,
      clock,
      ...(options.spoolMaxBytes !== undefined ? { maxBytes: options.spoolMaxBytes } : {}),
    });
    const source = new SysfsDeviceSource(options.sysfsRoot, {
      hotplug: options.hotplug,
      pollMs: options.pollMs,
      log: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) },
    });
    const enforcer = new SysfsEnforcer(options.sysfsRoot);
    const readonly = new BlockDeviceReadOnly(options.sysfsRoot, { devRoot: options.devRoot });
    let service: AgentService | undefined;
    const executor = new PlanExecutor({
      enforcer,
      readonly,
      logger,
      onLateReadonly: (name, outcome) => service?.lateReadonly(name, outcome),
    });
    const ports = options.ports
      ? new PortPolicyEnforcement(
          new LinuxPortControl({ sysfsRoot: options.sysfsRoot, devRoot: options.devRoot, stateDir: options.stateDir, logger, allowRegularFiles: options.fakeDevNodes }),
          clock,
          logger,
        )
      : null;
    const mailEgress =
      options.mailEgress === false
        ? null
        : new MailEgressEnforcement({
            guard: new NftEgressGuard(spawnNftRunner()),
            clock,
            logger,
            createLogSource: (onLine) => new KmsgTail({ path: '/dev/kmsg', onLine, logger }),
            lookupUser: getentUserLookup(),
          });
    const osName = await describeOs();
    service = new AgentService({
      stateDir: options.stateDir,
      version: VERSION,
      platform: 'linux',
      hostname: hostname(),
      os: osName,
      pid: process.pid,
      clock,
      logger,
      source,
      executor,
      spool,
      identity,
      verifier: identity ? ed25519Verifier(identity.signingKeys) : null,
      createLink: identity ? (callbacks) => createLink(identity, spool, logger, callbacks) : null,
      createInventory: options.inventory
        ? (send) => {
            const mailAccounts = new MailAccountDiscovery(options.mailRoot !== undefined ? { root: options.mailRoot } : {});
            const inventorySource = systemInformationSource(undefined, mailAccounts);
            const reporter = new InventoryReporter({
              collect: () => collectInventory(inventorySource, { logger }),
              send: (body) => send({ v: 1, type: 'inventory', body }),
              logger,
              ...(options.inventoryIntervalMs !== undefined ? { intervalMs: options.inventoryIntervalMs } : {}),
            });
            // A mail account added on the PC reaches the server within seconds, not at the next round.
            const mailWatcher = new MailAccountWatcher({
              discover: () => mailAccounts.discover(),
              onChange: () => void reporter.refresh(),
              logger,
            });
            return {
              onConnected: () => reporter.onConnected(),
              refresh: () => reporter.refresh(),
              stop: () => {
                reporter.stop();
                mailWatcher.close().catch((err: unknown) => logger.warn('mail account watch did not close', { error: (err as Error).message }));
              },
            };
          }
        : null,
      ports,
      mailEgress,
      rescanMs: options.rescanMs,
      writeStatus: (status) => writeStatus(options.stateDir, status),
      saveGroup: async (group) => {
        const current = await loadIdentity(options.stateDir);
        await saveIdentity(options.stateDir, { ...current, group });
      },
    });
    await service.start();
    const running = service;
    return {
      service: running,
      logger,
      async stop(reason: string) {
        await running.stop(reason);
        await logger.close();
      },
    };
  } catch (err) {
    logger.error('agent failed to start', { error: err instanceof Error ? err.message : String(err) });
    await logger.close();
    throw err;
  }
}

async function loadIdentityIfEnrolled(stateDir: string): Promise<AgentIdentity | null> {
  try {
    await access(identityPath(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Anything else (permissions) is reported by loadIdentity with the file's name.
  }
  return loadIdentity(stateDir);
}

function createLink(identity: AgentIdentity, spool: FileSpool, logger: AgentLogger, callbacks: LinkCallbacks): AgentLink {
  const url = new URL(identity.serverUrl);
  url.protocol = 'wss:';
  url.pathname = '/agent';
  return new ServerLink({
    url: url.href,
    agentId: identity.agentId,
    secret: identity.secret,
    caCertPem: identity.caCertPem,
    spool,
    hello: callbacks.hello,
    clock: () => performance.now(),
    random: () => randomInt(0, 2 ** 32) / 2 ** 32,
    backoff: { baseMs: 1000, capMs: 60_000 },
    heartbeatMs: 30_000,
    logger,
    onMessage: callbacks.onMessage,
    onWelcome: callbacks.onWelcome,
  });
}

/** `Linux 6.1.0-25-amd64 (Debian GNU/Linux 12 (bookworm))`, for the server's list of computers. */
async function describeOs(): Promise<string> {
  let pretty = '';
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? '';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return `${type()} ${release()}${pretty ? ` (${pretty})` : ''}`.slice(0, 128);
}
