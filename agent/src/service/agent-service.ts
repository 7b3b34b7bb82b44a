import {
  MAX_DEVICES_PER_MESSAGE,
  type AgentMessage,
  type CommandBody,
  type HelloBody,
  type JsonObject,
  type PolicyDocument,
  type PolicySignatureVerifier,
  type ServerMessage,
} from '@portcullis/shared';
import type { DeviceSource, UsbDeviceState } from '../platform/device-source.js';
import type { Spool } from '../spool/spool.js';
import type { NewSpoolEvent } from '../spool/spool.js';
import type { AgentIdentity } from '../state/identity-store.js';
import { PolicyCache, builtInPolicy, type LoadedPolicy } from '../state/policy-cache.js';
import { watch as watchFolder, type FSWatcher } from 'node:fs';
import { BREAK_GLASS_FILE, breakGlassActive, readBreakGlass, readReportedBreakGlass, saveReportedBreakGlass, withBreakGlass, type BreakGlass } from '../state/break-glass-file.js';
import { PolicyVersions } from '../state/policy-versions.js';
import type { AgentStatus } from '../state/status-file.js';
import {
  agentStartedEvent,
  agentStoppingEvent,
  policyAppliedEvent,
  policyRef,
  policyRefusedEvent,
  policyTamperedEvent,
} from './device-events.js';
import { DeviceController, type PassSummary } from './device-controller.js';
import type { PlanExecutor } from './plan-executor.js';

export interface ServiceLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** The server connection as the service uses it (ServerLink fits). */
export interface AgentLink {
  start(): void;
  stop(): Promise<void>;
  notify(): void;
  send(msg: AgentMessage): boolean;
  readonly connected: boolean;
}

export interface LinkCallbacks {
  readonly hello: () => HelloBody;
  readonly onMessage: (msg: ServerMessage) => void;
  readonly onWelcome: () => void;
}

/** Inventory reporting as the service drives it (InventoryReporter fits). */
export interface InventoryDriver {
  onConnected(): void;
  refresh(): Promise<unknown>;
  stop(): void;
}

/** Non-USB port control as the service drives it: brings the ports in line, returns the events. */
export interface PortEnforcement {
  reconcile(policy: PolicyDocument, phase: 'startup' | 'rescan' | 'policy'): Promise<NewSpoolEvent[]>;
}

/**
 * An enforcement that also reports what it sees between passes (the mail egress guard's refused
 * connections): `observe` hands it the service's event sink and returns how to stop observing.
 */
export interface ObservingEnforcement extends PortEnforcement {
  observe(emit: (events: readonly NewSpoolEvent[]) => Promise<void>): () => Promise<void>;
}

export interface AgentServiceDeps {
  readonly stateDir: string;
  readonly version: string;
  readonly platform: string;
  readonly hostname: string;
  readonly os: string;
  readonly pid: number;
  readonly clock: () => Date;
  readonly logger: ServiceLogger;
  readonly source: DeviceSource;
  /** Built by the caller with `onLateReadonly` wired to `service.lateReadonly`. */
  readonly executor: PlanExecutor;
  readonly spool: Spool;
  /** null: not enrolled; the agent enforces its cached or built-in policy and reports nothing. */
  readonly identity: AgentIdentity | null;
  readonly verifier: PolicySignatureVerifier | null;
  readonly createLink: ((callbacks: LinkCallbacks) => AgentLink) | null;
  readonly createInventory: ((send: (msg: AgentMessage) => boolean) => InventoryDriver) | null;
  readonly ports: PortEnforcement | null;
  /** The mail egress guard (DESIGN.md §5), run with the ports; absent or null: not controlled. */
  readonly mailEgress?: ObservingEnforcement | null;
  readonly rescanMs: number;
  readonly statusMs?: number;
  readonly writeStatus: (status: AgentStatus) => Promise<void>;
  /** Records a new group in the identity file (the admin moved this computer). */
  readonly saveGroup: (group: string) => Promise<void>;
}

/**
 * The agent service (DESIGN.md §3): enforces the policy in force on every USB device and port,
 * from the cached signed policy when the server is away; takes new policies from the server,
 * verifies them with the pinned key, caches and applies them; queues every event in the durable
 * spool first; keeps a status file for `portcullis-agent status`.
 *
 * Device work never waits for the network or the inventory: the link and the inventory run on
 * their own, and everything the device pipeline needs is local.
 */
export class AgentService {
  private readonly controller: DeviceController;
  private cache: PolicyCache | null;
  private group: string;
  private policy: PolicyDocument;
  private policySource: LoadedPolicy['source'] = 'built-in';
  private link: AgentLink | null = null;
  private inventory: InventoryDriver | null = null;
  private stopWatching: (() => Promise<void>) | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private devicesTimer: NodeJS.Timeout | undefined;
  private policyWork: Promise<void> = Promise.resolve();
  private readonly startedAt: string;
  private lastConnectedAt: string | null = null;
  private lastEvent: AgentStatus['lastEvent'] = null;
  private running = false;
  /** The break-glass in force (break-glass-file.ts), or null. */
  private breakGlass: BreakGlass | null = null;
  private breakGlassWatcher: FSWatcher | undefined;
  private breakGlassCheck: Promise<void> = Promise.resolve();
  private rescanning = false;
  private portWork: Promise<void> = Promise.resolve();
  private stopObserving: (() => Promise<void>) | undefined;
  private readonly versions: PolicyVersions;

  constructor(private readonly deps: AgentServiceDeps) {
    this.startedAt = deps.clock().toISOString();
    this.policy = builtInPolicy(deps.identity?.group ?? 'default');
    this.cache = deps.identity !== null ? new PolicyCache(deps.stateDir, deps.identity.group) : null;
    this.group = deps.identity?.group ?? 'default';
    this.versions = new PolicyVersions(deps.stateDir);
    this.controller = new DeviceController({
      source: deps.source,
      executor: deps.executor,
      agentId: deps.identity?.agentId ?? 'unenrolled',
      clock: deps.clock,
      emit: (events) => this.emit(events),
      logger: deps.logger,
      onDevices: () => this.devicesChanged(),
    });
  }

  /** Hooks the executor calls when a readonly device's disks appear after the pass that authorized it. */
  get lateReadonly(): DeviceController['lateReadonly'] {
    return (name, outcome) => {
      if (this.running) this.controller.lateReadonly(name, outcome);
    };
  }

  get devices(): readonly UsbDeviceState[] {
    return this.controller.devices();
  }

  get policyInForce(): PolicyDocument {
    return this.policy;
  }

  /** Waits until every queued device pass has finished (tests, benchmarks). */
  idle(): Promise<void> {
    return this.controller.idle();
  }

  async start(): Promise<void> {
    const { deps } = this;
    this.running = true;
    const startedEvents: NewSpoolEvent[] = [];
    const at = deps.clock().toISOString();
    if (this.cache !== null && deps.verifier !== null) {
      const loaded = await this.cache.load(deps.verifier);
      this.policy = loaded.policy;
      this.policySource = loaded.source;
      if (loaded.tampered !== null) {
        deps.logger.error('cached policy refused', { reason: loaded.tampered, inForce: loaded.source, version: loaded.policy.version });
        startedEvents.push(policyTamperedEvent(at, loaded.tampered, { ...policyRef(loaded.policy), source: loaded.source }));
      }
    }
    await this.versions.load(deps.logger);
    if (this.policySource === 'cache') await this.versions.record(this.policy.group, this.policy.version);
    startedEvents.unshift(
      agentStartedEvent(at, { version: deps.version, pid: deps.pid, policy: policyRef(this.policy), policySource: this.policySource, platform: deps.platform }),
    );
    await this.emit(startedEvents);
    deps.logger.info('agent started', { version: deps.version, policyVersion: this.policy.version, policySource: this.policySource, enrolled: deps.identity !== null });
    this.controller.setPolicy(this.effectivePolicy());
    // A break-glass made while the agent was down is reported now (and applied if it still holds).
    await this.checkBreakGlass(false);

    // Watch first, then the startup pass: a device that arrives meanwhile is queued behind it.
    this.stopWatching = await deps.source.watch((event) => {
      if (!this.running) return;
      void this.controller.hotplug(event);
    });
    const summary = await this.controller.startup();
    deps.logger.info('devices decided at startup', { ...summary });
    this.stopObserving = deps.mailEgress?.observe((events) => this.emit(events));
    await this.reconcilePorts('startup');
    this.rescanTimer = setInterval(() => void this.rescan(), deps.rescanMs);
    this.watchBreakGlass();

    if (deps.createLink !== null && deps.identity !== null) {
      this.link = deps.createLink({
        hello: () => this.hello(),
        onMessage: (msg) => this.onServerMessage(msg),
        onWelcome: () => this.onWelcome(),
      });
      this.inventory = deps.createInventory?.((msg) => this.link?.send(msg) ?? false) ?? null;
      this.link.start();
    } else {
      deps.logger.warn('not enrolled: enforcing the local policy only, no server link (run portcullis-agent enroll)');
    }
    this.statusTimer = setInterval(() => void this.writeStatus(), deps.statusMs ?? 5000);
    await this.writeStatus();
  }

  async stop(reason: string): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const { deps } = this;
    for (const timer of [this.rescanTimer, this.statusTimer, this.devicesTimer]) if (timer) clearInterval(timer);
    clearTimeout(this.devicesTimer);
    this.breakGlassWatcher?.close();
    this.inventory?.stop();
    await this.stopWatching?.();
    await this.policyWork;
    await this.breakGlassCheck;
    await this.portWork;
    // Stops reporting only: the mail egress table stays in the kernel and enforces while the agent is down.
    await this.stopObserving?.();
    await this.controller.idle();
    // After the last pass: a pass still running could have started a watch for late disks.
    deps.executor.cancelWatch();
    await this.emit([agentStoppingEvent(deps.clock().toISOString(), reason)]);
    // A moment for the link to hand the last events over; whatever is not acked stays spooled.
    if (this.link?.connected) await new Promise((r) => setTimeout(r, 200));
    await this.link?.stop();
    await this.writeStatus(false);
    await deps.spool.close();
    deps.logger.info('agent stopped', { reason });
  }

  /** One rescan at a time: a slow pass (removes, per-interface waits) must not pile them up. */
  private async rescan(): Promise<void> {
    if (!this.running || this.rescanning) return;
    this.rescanning = true;
    try {
      await this.checkBreakGlass(true);
      if (!this.running) return;
      await this.controller.rescan();
      await this.reconcilePorts('rescan');
    } catch (err) {
      this.deps.logger.warn('rescan failed', { error: (err as Error).message });
    } finally {
      this.rescanning = false;
    }
  }

  /** The policy as enforced: the policy in force, with the break-glass exception while one holds. */
  private effectivePolicy(): PolicyDocument {
    return this.breakGlass !== null ? withBreakGlass(this.policy, this.breakGlass) : this.policy;
  }

  /**
   * The break-glass file, reported once per break-glass (even one made and ended while the
   * service was down: the file stays, `--end` only moves its end), and applied while it holds.
   * Checks run one at a time; `reapply` re-decides every device when it began or ended.
   */
  private checkBreakGlass(reapply: boolean): Promise<void> {
    this.breakGlassCheck = this.breakGlassCheck.then(async () => {
      if (!this.running) return;
      let file: BreakGlass | null;
      try {
        file = await readBreakGlass(this.deps.stateDir);
      } catch (err) {
        // A malformed file grants nothing; it is logged so a botched break-glass is noticed.
        this.deps.logger.warn('break-glass file refused', { error: (err as Error).message });
        file = null;
      }
      const at = this.deps.clock().toISOString();
      if (file !== null && (await readReportedBreakGlass(this.deps.stateDir)) !== file.createdAt) {
        const active = breakGlassActive(file, this.deps.clock());
        await this.emit([breakGlassEvent(at, file, active)]);
        await saveReportedBreakGlass(this.deps.stateDir, file.createdAt).catch((err: unknown) =>
          this.deps.logger.warn('could not record the break-glass as reported', { error: (err as Error).message }),
        );
      }
      const next = file !== null && breakGlassActive(file, this.deps.clock()) ? file : null;
      if (next?.createdAt === this.breakGlass?.createdAt && next?.until === this.breakGlass?.until) return;
      const ended = this.breakGlass;
      this.breakGlass = next;
      this.controller.setPolicy(this.effectivePolicy());
      if (next !== null) {
        this.deps.logger.warn('break-glass: HID devices allowed', { by: next.by, until: next.until, reason: next.reason });
      } else if (ended !== null) {
        this.deps.logger.info('break-glass ended', { by: ended.by });
        await this.emit([{ type: 'agent.break-glass-ended', severity: 'info', occurredAt: at, data: { by: ended.by, createdAt: ended.createdAt, until: ended.until } }]);
      }
      if (reapply) await this.controller.reapply();
    });
    return this.breakGlassCheck;
  }

  /** The break-glass command's file is noticed at once (inotify on the state folder), not at the next rescan. */
  private watchBreakGlass(): void {
    try {
      this.breakGlassWatcher = watchFolder(this.deps.stateDir, (_event, file) => {
        if (file === BREAK_GLASS_FILE && this.running) void this.checkBreakGlass(true);
      });
      this.breakGlassWatcher.on('error', (err) => this.deps.logger.warn('watching the state folder failed; break-glass is seen at the next rescan', { error: err.message }));
    } catch (err) {
      this.deps.logger.warn('cannot watch the state folder; break-glass is seen at the next rescan', { error: (err as Error).message });
    }
  }

  /** Port passes (and the mail egress guard's) run one at a time, so two of them never plan from the same scan. */
  private reconcilePorts(phase: 'startup' | 'rescan' | 'policy'): Promise<void> {
    const enforcements = [
      { name: 'port control', enforcement: this.deps.ports },
      { name: 'mail egress guard', enforcement: this.deps.mailEgress ?? null },
    ];
    if (enforcements.every((e) => e.enforcement === null)) return Promise.resolve();
    this.portWork = this.portWork.then(async () => {
      for (const { name, enforcement } of enforcements) {
        if (enforcement === null) continue;
        try {
          const events = await enforcement.reconcile(this.policy, phase);
          if (events.length > 0) await this.emit(events);
        } catch (err) {
          this.deps.logger.warn(`${name} failed`, { error: (err as Error).message });
        }
      }
    });
    return this.portWork;
  }

  /**
   * Queues events durably. A spool that cannot take them (disk full, closed) is logged and the
   * events are lost, but enforcement never waits on or fails because of reporting.
   */
  private async emit(events: readonly NewSpoolEvent[]): Promise<void> {
    if (events.length === 0) return;
    let spooled;
    try {
      spooled = await this.deps.spool.append(events);
    } catch (err) {
      this.deps.logger.error('events could not be spooled', { types: events.map((e) => e.type), error: (err as Error).message });
      return;
    }
    const last = spooled[spooled.length - 1];
    if (last !== undefined) this.lastEvent = { seq: last.seq, type: last.type, at: last.occurredAt };
    this.link?.notify();
    this.devicesChanged();
  }

  private hello(): HelloBody {
    return {
      agentVersion: this.deps.version,
      hostname: this.deps.hostname,
      os: this.deps.os,
      appliedVersion: this.policySource === 'cache' ? this.policy.version : null,
      spoolDepth: this.deps.spool.depth(),
    };
  }

  private onWelcome(): void {
    this.lastConnectedAt = this.deps.clock().toISOString();
    this.sendDevices();
    this.inventory?.onConnected();
    void this.writeStatus();
  }

  private onServerMessage(msg: ServerMessage): void {
    if (msg.type === 'policy') {
      this.policyWork = this.policyWork.then(() => this.takePolicy(msg.body.signed)).catch((err: unknown) => {
        this.deps.logger.error('applying a policy failed', { error: (err as Error).message });
      });
    } else if (msg.type === 'command') {
      void this.runCommand(msg.body);
    }
  }

  /**
   * A policy from the server: verify, cache atomically, apply to every device, report.
   *
   * A policy for another group means an admin moved this computer (the server sends the new
   * group's policy on the authenticated, pinned connection). It is accepted when its signature
   * verifies; the identity then records the new group, so the cache check at the next start
   * (which refuses a file signed for another group, e.g. copied in by a local user) agrees.
   */
  private async takePolicy(signed: unknown): Promise<void> {
    const { deps } = this;
    if (this.cache === null || deps.identity === null || deps.verifier === null) return;
    const at = () => deps.clock().toISOString();
    const offeredGroup = groupOf(signed);
    const moved = offeredGroup !== null && offeredGroup !== this.group;
    const cache = moved ? new PolicyCache(deps.stateDir, offeredGroup) : this.cache;
    // The highest version ever taken for the group: moving away and back must not open the door
    // to replaying an older signed policy of either group.
    const group = moved ? offeredGroup : this.group;
    const current = Math.max(this.versions.highest(group), !moved && this.policySource === 'cache' ? this.policy.version : 0);
    const result = await cache.store(signed, current, group, deps.verifier);
    if (result.ok) await this.versions.record(group, result.policy.version);
    if (result.ok && moved) {
      deps.logger.info('moved to another group', { from: this.group, to: offeredGroup });
      await deps.saveGroup(offeredGroup);
      await this.emit([{ type: 'agent.group-changed', severity: 'low', occurredAt: at(), data: { from: this.group, to: offeredGroup } }]);
      this.cache = cache;
      this.group = offeredGroup;
      this.policySource = 'built-in';
    }
    if (!result.ok) {
      deps.logger.warn('policy from the server refused', { reason: result.reason });
      await this.emit([policyRefusedEvent(at(), result.reason, policyRef(this.policy))]);
      return;
    }
    const previousVersion = this.policy.version;
    const unchanged = this.policySource === 'cache' && result.policy.version === previousVersion;
    this.policy = result.policy;
    this.policySource = 'cache';
    let summary: PassSummary = { devices: this.controller.devices().length, changed: 0, failed: 0 };
    if (!unchanged) {
      this.controller.setPolicy(this.effectivePolicy());
      summary = await this.controller.reapply();
      await this.reconcilePorts('policy');
      await this.emit([policyAppliedEvent(at(), policyRef(result.policy), { ...summary, previousVersion })]);
      deps.logger.info('policy applied', { version: result.policy.version, previousVersion, ...summary });
    }
    this.link?.send({ v: 1, type: 'applied', body: { version: result.policy.version } });
    void this.writeStatus();
  }

  private async runCommand(command: CommandBody): Promise<void> {
    const reply = (ok: boolean, result?: JsonObject, error?: string): void => {
      this.link?.send({ v: 1, type: 'command-result', body: { commandId: command.commandId, ok, ...(ok ? { result: result ?? {} } : { error: error ?? 'failed' }) } });
    };
    this.deps.logger.info('command from the server', { name: command.name, commandId: command.commandId });
    try {
      switch (command.name) {
        case 'rescan': {
          const summary = await this.controller.rescan();
          reply(true, { ...summary });
          return;
        }
        case 'reapply-policy': {
          const summary = await this.controller.reapply();
          await this.reconcilePorts('policy');
          reply(true, { ...summary, version: this.policy.version });
          return;
        }
        case 'refresh-inventory': {
          if (this.inventory === null) return reply(false, undefined, 'inventory is not collected on this agent');
          const result = await this.inventory.refresh();
          reply(true, (typeof result === 'object' && result !== null ? result : {}) as JsonObject);
          return;
        }
        case 'grant-temporary':
          // Grants travel inside the signed policy (its exceptions), never as a bare command: an
          // unsigned command must not be able to open a port.
          reply(false, undefined, 'temporary grants arrive as signed policy exceptions; this command is not accepted');
          return;
      }
    } catch (err) {
      reply(false, undefined, (err as Error).message);
    }
  }

  /** Device lists change in bursts (a hub with four devices); one message and one status write per burst. */
  private devicesChanged(): void {
    if (!this.running || this.devicesTimer !== undefined) return;
    this.devicesTimer = setTimeout(() => {
      this.devicesTimer = undefined;
      this.sendDevices();
      void this.writeStatus();
    }, 250);
  }

  private sendDevices(): void {
    const devices = this.controller.devices().slice(0, MAX_DEVICES_PER_MESSAGE).map((d) => d.device);
    this.link?.send({ v: 1, type: 'usb-devices', body: { devices } });
  }

  private async writeStatus(running = this.running): Promise<void> {
    const stats = this.deps.spool.stats();
    const status: AgentStatus = {
      pid: this.deps.pid,
      startedAt: this.startedAt,
      updatedAt: this.deps.clock().toISOString(),
      agentId: this.deps.identity?.agentId ?? null,
      serverUrl: this.deps.identity?.serverUrl ?? null,
      connected: running && (this.link?.connected ?? false),
      lastConnectedAt: this.lastConnectedAt,
      policy: { group: this.policy.group, version: this.policy.version, source: this.policySource },
      spool: { depth: stats.depth, lastSeq: stats.lastSeq, ackedSeq: stats.ackedSeq, bytes: stats.bytes },
      lastEvent: this.lastEvent,
      devices: this.controller.devices().length,
    };
    try {
      await this.deps.writeStatus(status);
    } catch (err) {
      this.deps.logger.warn('could not write the status file', { error: (err as Error).message });
    }
  }
}

/** The group a signed policy claims, read before verification only to pick the cache to store into. */
function groupOf(signed: unknown): string | null {
  if (typeof signed !== 'object' || signed === null) return null;
  const document = (signed as { document?: unknown }).document;
  if (typeof document !== 'object' || document === null) return null;
  const group = (document as { group?: unknown }).group;
  return typeof group === 'string' ? group : null;
}

function breakGlassEvent(at: string, value: BreakGlass, active: boolean): NewSpoolEvent {
  return {
    type: 'agent.break-glass',
    severity: 'high',
    occurredAt: at,
    // active false: made (and over) while the service was not running to see it.
    data: { by: value.by, reason: value.reason, createdAt: value.createdAt, until: value.until, active },
  };
}
