import { CompiledPolicy, parseRuleFile, type PolicyDocument } from '@portcullis/shared';
import { plan, rememberedTarget } from '../core/planner.js';
import type { DeviceDecision, PlanPhase, PlanResult } from '../core/plan-types.js';
import type { DeviceSource, HotplugEvent, UsbDeviceState } from '../platform/device-source.js';
import type { NewSpoolEvent } from '../spool/spool.js';
import { deviceConnectedEvent, deviceDecisionEvent, policyRef, type EnforcementOutcome } from './device-events.js';
import type { ExecutionResult, PlanExecutor } from './plan-executor.js';

export interface ControllerLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface DeviceControllerOptions {
  readonly source: DeviceSource;
  readonly executor: PlanExecutor;
  readonly agentId: string;
  readonly clock: () => Date;
  /** Durably queues events (the spool); resolves when they are on disk. */
  readonly emit: (events: readonly NewSpoolEvent[]) => Promise<void>;
  readonly logger: ControllerLogger;
  /** After every pass: the devices present now (root hubs excluded). */
  readonly onDevices?: (devices: readonly UsbDeviceState[]) => void;
  /** After a hotplug decision was enforced: how long since the event arrived (benchmarks). */
  readonly onDecided?: (name: string, latencyMs: number) => void;
}

/** What one pass did, for the `policy.applied` summary. */
export interface PassSummary {
  readonly devices: number;
  readonly changed: number;
  readonly failed: number;
}

/**
 * Keeps the USB devices in line with the policy: decides with the pure planner, enforces with the
 * executor, reports with events. Every pass (startup, a hotplug event, a rescan, a new policy)
 * runs one at a time through a queue, so two passes never race on the same device and the
 * remembered decisions (`previous`) stay consistent.
 *
 * Events: a device that arrives gets `device.connected` and its decision event; at startup, on a
 * rescan and on a new policy only devices whose state had to change are reported (a drift the
 * rescan corrects is reported, an unchanged device is not), so a restart does not flood the log.
 */
export class DeviceController {
  private policy: PolicyDocument | undefined;
  private compiled: CompiledPolicy | undefined;
  private readonly previous = new Map<string, string>();
  /** Devices seen since they were plugged in: `device.connected` is sent once per arrival. */
  private readonly known = new Set<string>();
  /** The last enforcement error per device: a failure that repeats is reported once. */
  private readonly failing = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private present: UsbDeviceState[] = [];

  constructor(private readonly options: DeviceControllerOptions) {}

  /** The policy in force from now on; the caller then runs `reapply()` or `startup()`. */
  setPolicy(policy: PolicyDocument): void {
    this.compiled = new CompiledPolicy(parseRuleFile(policy.rules, `policy v${policy.version}`), policy.implicitTarget);
    this.policy = policy;
  }

  devices(): readonly UsbDeviceState[] {
    return this.present;
  }

  /**
   * The first pass. Root hubs are closed before the devices are listed, so a device plugged
   * while the agent starts is either in the list or arrives unauthorized (and the watcher,
   * started before this, reports it).
   */
  startup(): Promise<PassSummary> {
    return this.enqueue(async () => {
      const hubs = (await this.options.source.scan()).filter((d) => d.rootHub).map((d) => d.name);
      await this.options.executor.run([{ kind: 'fail-closed', rootHubs: hubs }]);
      return this.pass('startup', await this.scan(), true);
    });
  }

  rescan(): Promise<PassSummary> {
    return this.enqueue(async () => this.pass('rescan', await this.scan(), true));
  }

  /** A new policy: every device is decided again by it (nothing remembered stands). */
  reapply(): Promise<PassSummary> {
    return this.enqueue(async () => {
      this.previous.clear();
      return this.pass('rescan', await this.scan(), true);
    });
  }

  hotplug(event: HotplugEvent): Promise<void> {
    return this.enqueue(async () => {
      if (event.action === 'remove') {
        this.forget(event.name);
        this.present = this.present.filter((d) => d.name !== event.name && !d.name.startsWith(`${event.name}.`));
        this.options.onDevices?.(this.present);
        return;
      }
      if (event.action !== 'add' && event.action !== 'change') return;
      const state = await this.options.source.readDevice(event.name);
      if (state === null || state.rootHub) return;
      this.present = [...this.present.filter((d) => d.name !== state.name), state];
      // A device already decided (reported twice, or a `change`) is checked like a rescan:
      // its decision stands and drift is corrected.
      const phase: PlanPhase = this.previous.has(state.name) ? 'rescan' : 'hotplug';
      await this.pass(phase, [state], false);
      this.options.onDecided?.(state.name, Date.now() - event.at);
      this.options.onDevices?.(this.present);
    });
  }

  /** Waits for every queued pass (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch((err: unknown) => {
      this.options.logger.warn('device pass failed', { error: err instanceof Error ? err.message : String(err) });
    });
    return next;
  }

  private async scan(): Promise<UsbDeviceState[]> {
    const all = await this.options.source.scan();
    const seen = new Set(all.map((d) => d.name));
    for (const name of new Set([...this.previous.keys(), ...this.known])) if (!seen.has(name)) this.forget(name);
    this.present = all.filter((d) => !d.rootHub);
    this.options.onDevices?.(this.present);
    return all;
  }

  private forget(name: string): void {
    const gone = (key: string): boolean => key === name || key.startsWith(`${name}.`);
    for (const key of [...this.previous.keys()]) {
      if (gone(key)) {
        this.previous.delete(key);
        this.options.executor.cancelWatch(key);
      }
    }
    for (const key of [...this.known]) if (gone(key)) this.known.delete(key);
    for (const key of [...this.failing.keys()]) if (gone(key)) this.failing.delete(key);
  }

  private async pass(phase: PlanPhase, devices: readonly UsbDeviceState[], wholeTree: boolean): Promise<PassSummary> {
    const policy = this.policy;
    const compiled = this.compiled;
    if (policy === undefined || compiled === undefined) throw new Error('no policy set');
    const now = this.options.clock();
    const newcomers = new Set(devices.filter((d) => !d.rootHub && !this.known.has(d.name)).map((d) => d.name));
    const result: PlanResult = plan({ devices, previous: this.previous, policy, compiled, agentId: this.options.agentId, now, phase });
    const executed: ExecutionResult = await this.options.executor.run(result.actions);
    const at = this.options.clock().toISOString();
    const events: NewSpoolEvent[] = [];
    if (executed.failClosed !== null && !executed.failClosed.ok) {
      events.push({
        type: 'agent.fail-closed-failed',
        severity: 'critical',
        occurredAt: at,
        data: { error: executed.failClosed.error ?? '', rootHubs: wholeTree ? devices.filter((d) => d.rootHub).map((d) => d.name) : [] },
      });
    }
    const byName = new Map(devices.map((d) => [d.name, d]));
    const acted = new Set(result.actions.flatMap((a) => ('name' in a ? [a.name] : [])));
    let failed = 0;
    for (const decision of result.decisions) {
      const state = byName.get(decision.name);
      if (state === undefined) continue;
      const outcome: EnforcementOutcome = executed.devices.get(decision.name) ?? { ok: true };
      if (!outcome.ok) failed++;
      this.remember(decision, outcome);
      const arrived = phase !== 'startup' && newcomers.has(decision.name);
      this.known.add(decision.name);
      if (arrived) events.push(deviceConnectedEvent(state, at));
      // A failure already reported with the same error is not reported again on every rescan.
      const repeatedFailure = !outcome.ok && this.failing.get(decision.name) === outcome.error;
      if (outcome.ok) this.failing.delete(decision.name);
      else this.failing.set(decision.name, outcome.error ?? '');
      if (arrived || (acted.has(decision.name) && !repeatedFailure)) {
        events.push(deviceDecisionEvent(decision, state, outcome, { policy: policyRef(policy), phase, at }));
        if (outcome.ok) {
          this.options.logger.info(`device ${decision.target}`, { device: decision.name, id: state.device.id, label: decision.label, reason: decision.reason, phase });
        }
      }
      if (!outcome.ok && !repeatedFailure) this.options.logger.warn('enforcement failed', { device: decision.name, target: decision.target, error: outcome.error });
    }
    if (events.length > 0) await this.options.emit(events);
    if (phase === 'rescan') {
      // Disks can appear long after a readonly device was allowed (a card put into a reader).
      for (const d of result.decisions) {
        if (d.target === 'readonly' && !acted.has(d.name) && this.previous.get(d.name) === 'readonly') await this.options.executor.recheckReadonly(d.name);
      }
    }
    return { devices: result.decisions.length, changed: acted.size, failed };
  }

  /**
   * A decision that was not enforced is not remembered, so the next rescan tries again instead
   * of taking the device's current state as decided.
   */
  private remember(decision: DeviceDecision, outcome: EnforcementOutcome): void {
    if (outcome.ok) this.previous.set(decision.name, rememberedTarget(decision));
    else this.previous.delete(decision.name);
  }

  /** A readonly device's disks appeared late: report the protection (or the fallback block). */
  lateReadonly(name: string, outcome: EnforcementOutcome): void {
    const state = this.present.find((d) => d.name === name);
    if (!outcome.ok) this.previous.delete(name);
    if (state === undefined || this.policy === undefined) return;
    const at = this.options.clock().toISOString();
    void this.options.emit([
      {
        type: outcome.ok ? 'device.readonly' : 'device.blocked',
        severity: outcome.ok ? 'low' : 'high',
        occurredAt: at,
        data: {
          name,
          device: { id: state.device.id, serial: state.device.serial ?? '', name: state.device.name ?? '' },
          policy: policyRef(this.policy) as unknown as Record<string, unknown>,
          blockDevices: [...(outcome.blockDevices ?? [])],
          enforced: outcome.ok,
          ...(outcome.error !== undefined ? { error: outcome.error } : {}),
          reason: outcome.ok ? 'block devices appeared and were set read-only' : 'read-only protection failed',
        },
      },
    ]).catch((err: unknown) => this.options.logger.warn('could not queue an event', { error: err instanceof Error ? err.message : String(err) }));
  }
}
