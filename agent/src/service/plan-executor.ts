import type { PlanAction } from '../core/plan-types.js';
import { EnforcementError, type Enforcer } from '../platform/enforcer.js';
import type { EnforcementOutcome } from './device-events.js';

/** Sets a USB device's block devices read-only; returns their names (BlockDeviceReadOnly fits). */
export interface ReadOnlyProtector {
  protect(usbName: string): Promise<string[]>;
}

export interface ExecutorLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface PlanExecutorOptions {
  readonly enforcer: Enforcer;
  readonly readonly: ReadOnlyProtector;
  readonly logger: ExecutorLogger;
  /** How long the interfaces of a just-authorized device may take to appear (default 2 s). */
  readonly interfaceWaitMs?: number;
  /** How long a readonly device's disks may take to appear after authorization (default 30 s). */
  readonly blockWaitMs?: number;
  readonly pollMs?: number;
  /** A readonly device whose disks appeared late was protected (or could not be, and was blocked). */
  readonly onLateReadonly?: (name: string, outcome: EnforcementOutcome) => void;
}

/** What running a plan did: per device name; `failClosed` for the root hub step. */
export interface ExecutionResult {
  readonly devices: ReadonlyMap<string, EnforcementOutcome>;
  readonly failClosed: EnforcementOutcome | null;
}

/**
 * Runs a plan's steps in order against the enforcer (STYLE §1: the planner decides, this does).
 * Every enforcer call reads its write back; when one fails, the device's remaining steps are
 * skipped and the failure is reported, never hidden. Fail closed: a device that was authorized for
 * `readonly` but whose disks could not be made read-only is deauthorized again.
 *
 * Disks of a storage device appear a moment after it is authorized (the SCSI scan). The first look
 * happens at once; if there is nothing yet, a background watch keeps looking every `pollMs` so the
 * executor is not held up for other devices while the kernel probes.
 */
export class PlanExecutor {
  private readonly interfaceWaitMs: number;
  private readonly blockWaitMs: number;
  private readonly pollMs: number;
  private readonly watches = new Map<string, { cancelled: boolean }>();
  /** Disks known read-only per device, so a recheck reports only what is new. */
  private readonly protectedDisks = new Map<string, ReadonlySet<string>>();

  constructor(private readonly options: PlanExecutorOptions) {
    this.interfaceWaitMs = options.interfaceWaitMs ?? 2000;
    this.blockWaitMs = options.blockWaitMs ?? 30_000;
    this.pollMs = options.pollMs ?? 25;
  }

  async run(actions: readonly PlanAction[]): Promise<ExecutionResult> {
    const devices = new Map<string, EnforcementOutcome>();
    let failClosed: EnforcementOutcome | null = null;
    for (const action of actions) {
      if (action.kind === 'fail-closed') {
        failClosed = await this.attempt(() => this.options.enforcer.failClosed(action.rootHubs));
        continue;
      }
      const before = devices.get(action.name);
      if (before !== undefined && !before.ok) continue;
      const outcome = await this.step(action);
      devices.set(action.name, mergeOutcome(before, outcome));
    }
    return { devices, failClosed };
  }

  /**
   * A rescan's look at a readonly device: disks that appeared since (a card put into a reader)
   * are set read-only and reported through `onLateReadonly`; a failure blocks the device.
   */
  async recheckReadonly(name: string): Promise<void> {
    if (this.watches.has(name)) return;
    let disks: string[];
    try {
      disks = await this.options.readonly.protect(name);
    } catch (err) {
      this.options.onLateReadonly?.(name, await this.blockAfterReadonlyFailure(name, failure(err)));
      return;
    }
    const known = this.protectedDisks.get(name) ?? new Set<string>();
    if (disks.some((d) => !known.has(d))) {
      this.protectedDisks.set(name, new Set(disks));
      this.options.onLateReadonly?.(name, { ok: true, blockDevices: disks });
    }
  }

  /** Stops the background watches for late disks (the agent is stopping or the device left). */
  cancelWatch(name?: string): void {
    for (const [key, watch] of this.watches) {
      if (name === undefined || key === name) {
        watch.cancelled = true;
        this.watches.delete(key);
      }
    }
    if (name === undefined) this.protectedDisks.clear();
    else this.protectedDisks.delete(name);
  }

  private async step(action: Exclude<PlanAction, { kind: 'fail-closed' }>): Promise<EnforcementOutcome> {
    const enforcer = this.options.enforcer;
    this.cancelWatch(action.name);
    switch (action.kind) {
      case 'authorize':
        return this.attempt(() => enforcer.authorize(action.name));
      case 'deauthorize':
        return this.attempt(() => enforcer.deauthorize(action.name));
      case 'remove':
        return this.attempt(() => enforcer.remove(action.name));
      case 'set-readonly':
        return this.setReadonly(action.name);
      case 'authorize-interfaces':
        return this.authorizeInterfaces(action.name, new Set(action.allow));
    }
  }

  private async attempt(write: () => Promise<void>): Promise<EnforcementOutcome> {
    try {
      await write();
      return { ok: true };
    } catch (err) {
      return failure(err);
    }
  }

  private async setReadonly(name: string): Promise<EnforcementOutcome> {
    let disks: string[];
    try {
      disks = await this.options.readonly.protect(name);
    } catch (err) {
      return this.blockAfterReadonlyFailure(name, failure(err));
    }
    if (disks.length > 0) {
      this.protectedDisks.set(name, new Set(disks));
      return { ok: true, blockDevices: disks };
    }
    this.watchForDisks(name);
    return { ok: true, blockDevices: [] };
  }

  private watchForDisks(name: string): void {
    const watch = { cancelled: false };
    this.watches.set(name, watch);
    const deadline = Date.now() + this.blockWaitMs;
    const tick = async (): Promise<void> => {
      if (watch.cancelled) return;
      let disks: string[];
      try {
        disks = await this.options.readonly.protect(name);
      } catch (err) {
        if (watch.cancelled) return;
        this.watches.delete(name);
        this.options.onLateReadonly?.(name, await this.blockAfterReadonlyFailure(name, failure(err)));
        return;
      }
      if (watch.cancelled) return;
      if (disks.length > 0) {
        // Partitions follow their disk within milliseconds; one more look catches them.
        await sleep(this.pollMs * 4);
        const all = await this.options.readonly.protect(name).catch(() => disks);
        this.watches.delete(name);
        this.protectedDisks.set(name, new Set(all));
        this.options.onLateReadonly?.(name, { ok: true, blockDevices: all });
        return;
      }
      // No disk at all (a card reader with no card, a device that is not storage after all): the
      // device stays authorized; disks arriving later are caught by the periodic rescan.
      if (Date.now() >= deadline) {
        this.watches.delete(name);
        return;
      }
      setTimeout(() => void tick(), this.pollMs);
    };
    setTimeout(() => void tick(), this.pollMs);
  }

  private async blockAfterReadonlyFailure(name: string, failed: EnforcementOutcome): Promise<EnforcementOutcome> {
    this.options.logger.warn('read-only protection failed; blocking the device', { device: name, error: failed.error });
    const block = await this.attempt(() => this.options.enforcer.deauthorize(name));
    return { ok: false, error: `${failed.error ?? 'read-only failed'}; ${block.ok ? 'device blocked instead' : `blocking failed too: ${block.error ?? ''}`}` };
  }

  /**
   * Per-interface authorization: new interfaces on the bus start off while the device is
   * configured, then exactly the allowed types are switched on. `interface_authorized_default`
   * belongs to the bus, so the bus default is restored whatever happens; steps run one at a time,
   * so no other device on the bus is configured in between.
   */
  private async authorizeInterfaces(name: string, allow: ReadonlySet<string>): Promise<EnforcementOutcome> {
    const enforcer = this.options.enforcer;
    const off = await this.attempt(() => enforcer.interfaceDefault(name, false));
    if (!off.ok) return off;
    try {
      const authorized = await this.attempt(() => enforcer.authorize(name));
      if (!authorized.ok) return authorized;
      // The kernel adds the interfaces while it configures the device: wait until as many are
      // there as the active configuration has (bNumInterfaces), so none is missed; if that count
      // cannot be read, until two looks in a row agree.
      const deadline = Date.now() + this.interfaceWaitMs;
      const expected = await enforcer.interfaceCount(name);
      let interfaces = await enforcer.listInterfaces(name);
      for (;;) {
        if (expected !== null && interfaces.length >= expected) break;
        if (Date.now() >= deadline) break;
        await sleep(this.pollMs);
        const again = await enforcer.listInterfaces(name);
        const settled = expected === null && again.length > 0 && again.map((i) => i.name).join() === interfaces.map((i) => i.name).join();
        interfaces = again;
        if (settled) break;
      }
      if (interfaces.length === 0) {
        await this.attempt(() => enforcer.deauthorize(name));
        return { ok: false, error: `${name}: no interfaces appeared ${this.interfaceWaitMs} ms after authorization; device blocked` };
      }
      for (const iface of interfaces) {
        const on = allow.has(iface.type);
        if (iface.authorized === on) continue;
        const result = await this.attempt(() => enforcer.setInterfaceAuthorized(iface.name, on));
        if (!result.ok) {
          await this.attempt(() => enforcer.deauthorize(name));
          return { ok: false, error: `${result.error ?? ''}; device blocked` };
        }
      }
      return { ok: true };
    } catch (err) {
      await this.attempt(() => enforcer.deauthorize(name));
      return failure(err);
    } finally {
      const restored = await this.attempt(() => enforcer.interfaceDefault(name, true));
      if (!restored.ok) this.options.logger.warn('could not restore the bus interface default', { device: name, error: restored.error });
    }
  }
}

function failure(err: unknown): EnforcementOutcome {
  if (err instanceof EnforcementError) return { ok: false, error: err.message };
  return { ok: false, error: err instanceof Error ? err.message : String(err) };
}

function mergeOutcome(before: EnforcementOutcome | undefined, next: EnforcementOutcome): EnforcementOutcome {
  if (before === undefined) return next;
  return { ...before, ...next, blockDevices: [...(before.blockDevices ?? []), ...(next.blockDevices ?? [])] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
