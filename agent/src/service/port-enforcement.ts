import type { EventSeverity, PolicyDocument } from '@portcullis/shared';
import { planPorts, type PortDecision } from '../core/port-planner.js';
import type { PortCondition, PortControl } from '../platform/port-control.js';
import type { NewSpoolEvent } from '../spool/spool.js';
import type { PortEnforcement } from './agent-service.js';

export interface PortLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

const EVENT_TYPES: Readonly<Record<PortCondition, string>> = {
  allowed: 'port.allowed',
  blocked: 'port.blocked',
  readonly: 'port.readonly',
};

const SEVERITY: Readonly<Record<PortCondition, EventSeverity>> = { allowed: 'info', blocked: 'medium', readonly: 'low' };

/**
 * Serial, parallel, Bluetooth and optical ports under `policy.ports`: scan, plan (pure), apply
 * each step with read-back, and one event per port that had to change. A failed step is a high
 * event with the error: the port stays as the OS has it and the next rescan tries again.
 */
export class PortPolicyEnforcement implements PortEnforcement {
  constructor(
    private readonly control: PortControl,
    private readonly clock: () => Date,
    private readonly logger: PortLogger,
  ) {}

  async reconcile(policy: PolicyDocument, phase: 'startup' | 'rescan' | 'policy'): Promise<NewSpoolEvent[]> {
    const ports = await this.control.scan();
    const planned = planPorts(ports, policy.ports);
    const events: NewSpoolEvent[] = [];
    for (const decision of planned.decisions) {
      if (!decision.changed) continue;
      const step = planned.steps.find((s) => s.id === decision.id && s.portClass === decision.portClass);
      if (step === undefined) continue;
      let error: string | undefined;
      try {
        await this.control.apply(step);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        this.logger.warn('port control step failed', { port: decision.id, to: decision.wanted, error });
      }
      events.push(this.event(decision, phase, policy, error));
    }
    return events;
  }

  private event(decision: PortDecision, phase: string, policy: PolicyDocument, error: string | undefined): NewSpoolEvent {
    return {
      type: EVENT_TYPES[decision.wanted],
      severity: error !== undefined ? 'high' : SEVERITY[decision.wanted],
      occurredAt: this.clock().toISOString(),
      data: {
        portClass: decision.portClass,
        id: decision.id,
        path: decision.path,
        label: decision.label,
        from: decision.current,
        to: decision.wanted,
        setting: decision.setting,
        reason: decision.reason,
        policy: { group: policy.group, version: policy.version },
        phase,
        enforced: error === undefined,
        ...(error !== undefined ? { error } : {}),
      },
    };
  }
}
