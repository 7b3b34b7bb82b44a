import { MAIL_PORTS, type EventSeverity, type JsonObject, type PolicyDocument } from '@portcullis/shared';
import type { ObservingEnforcement } from '../../service/agent-service.js';
import type { NewSpoolEvent } from '../../spool/spool.js';
import { BlockedAttemptFilter } from './blocked-attempts.js';
import { parseBlockedAttempt, parseKmsgRecord, type BlockedAttempt } from './kmsg-parser.js';
import { NftUnavailableError } from './nft-egress-guard.js';
import type { UserLookup } from './user-names.js';

/** The guard's table as the enforcement drives it (NftEgressGuard fits). */
export interface EgressGuard {
  listing(): Promise<string | null>;
  apply(servers: readonly string[]): Promise<string>;
  remove(): Promise<boolean>;
}

/** Where refused connections are read from while the guard is in force (KmsgTail fits). */
export interface BlockedLogSource {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface MailEgressLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface MailEgressDeps {
  readonly guard: EgressGuard;
  readonly clock: () => Date;
  readonly logger: MailEgressLogger;
  /** Follows the kernel log, handing over each line; null: refused connections are not reported. */
  readonly createLogSource: ((onLine: (line: string) => void) => BlockedLogSource) | null;
  readonly lookupUser?: UserLookup;
  /** How often a rescan reads the table back to catch drift (`nft flush ruleset`); default 60 s. */
  readonly driftCheckMs?: number;
}

type Phase = 'startup' | 'rescan' | 'policy';

/**
 * `policy.mailEgress` on this computer (DESIGN.md §5): loads the guard's table when the policy
 * enforces it, reads it back, puts it back when it drifted, removes it when the policy turns it
 * off, and reports refused connections from the kernel log.
 *
 * It fails soft for the rest of the agent (devices and ports go on) but says plainly when the
 * guard is not in force: one high `mail.egress.error` per distinct failure, retried every rescan.
 * Stopping the agent removes nothing: the table lives in the kernel and keeps enforcing while the
 * agent is down (removeMailEgress in nft-egress-guard.ts is for the uninstaller).
 *
 * Events: `mail.egress.enforced` when the kernel's table changed (loaded, replaced, or restored
 * after drift: high), `mail.egress.disabled` when it was removed, `mail.egress.error`, and
 * `mail.egress.blocked` per refused (destination, port, uid) per minute.
 */
export class MailEgressEnforcement implements ObservingEnforcement {
  /** What this process loaded and read back; null when it has not (or the last attempt failed). */
  private inForce: { servers: string; listing: string } | null = null;
  private lastCheckMs = Number.NEGATIVE_INFINITY;
  /** Mode off was checked (and any table removed); rescans then have nothing to do. */
  private offChecked = false;
  private reportedError: string | null = null;
  private policy: { group: string; version: number } = { group: '', version: 0 };
  private emit: ((events: readonly NewSpoolEvent[]) => Promise<void>) | null = null;
  private source: BlockedLogSource | null = null;
  private sourceWarned = false;
  private reporting: Promise<void> = Promise.resolve();
  private readonly filter = new BlockedAttemptFilter();

  constructor(private readonly deps: MailEgressDeps) {}

  async reconcile(policy: PolicyDocument, phase: Phase): Promise<NewSpoolEvent[]> {
    this.policy = { group: policy.group, version: policy.version };
    const { mode, servers } = policy.mailEgress;
    try {
      const events = mode === 'enforce' ? await this.enforce(servers, phase) : await this.disable(phase);
      this.reportedError = null;
      return events;
    } catch (err) {
      return this.failed(mode, servers, phase, err);
    }
  }

  observe(emit: (events: readonly NewSpoolEvent[]) => Promise<void>): () => Promise<void> {
    this.emit = emit;
    if (this.inForce !== null) void this.startSource();
    return async () => {
      // No new lines, then the reports already under way, then nothing more.
      await this.stopSource();
      await this.reporting;
      this.emit = null;
    };
  }

  private async enforce(servers: readonly string[], phase: Phase): Promise<NewSpoolEvent[]> {
    this.offChecked = false;
    const key = servers.join(' ');
    const nowMs = this.deps.clock().getTime();
    if (phase === 'rescan' && this.inForce?.servers === key && nowMs - this.lastCheckMs < (this.deps.driftCheckMs ?? 60_000)) return [];
    this.lastCheckMs = nowMs;
    const before = await this.deps.guard.listing();
    if (this.inForce?.servers === key && before === this.inForce.listing) {
      await this.startSource();
      return [];
    }
    // Same servers as this process loaded, but the kernel's table is gone or different.
    const drifted = this.inForce?.servers === key;
    const after = await this.deps.guard.apply(servers);
    this.inForce = { servers: key, listing: after };
    await this.startSource();
    // At startup the table the agent left behind may be exactly this one: nothing changed.
    if (before === after) return [];
    if (drifted) this.deps.logger.warn('the mail egress table had been changed or removed; restored', { was: before === null ? 'removed' : 'changed' });
    else this.deps.logger.info('mail egress guard in force', { servers: servers.length });
    return [
      this.event('mail.egress.enforced', drifted ? 'high' : 'info', {
        servers: [...servers],
        ports: [...MAIL_PORTS],
        phase,
        enforced: true,
        ...(drifted ? { drift: before === null ? 'table removed' : 'table changed' } : {}),
      }),
    ];
  }

  private async disable(phase: Phase): Promise<NewSpoolEvent[]> {
    if (phase === 'rescan' && this.offChecked) return [];
    let present: boolean;
    try {
      present = (await this.deps.guard.listing()) !== null;
    } catch (err) {
      if (this.inForce !== null) throw err;
      // This process never loaded a table and nft cannot even look (not installed, no
      // CAP_NET_ADMIN): the policy asks for nothing, so there is nothing to report.
      if (!(err instanceof NftUnavailableError)) this.deps.logger.warn('cannot check for a mail egress table (the policy has the guard off)', { error: (err as Error).message });
      present = false;
    }
    const removed = present && (await this.deps.guard.remove());
    this.inForce = null;
    this.offChecked = true;
    await this.stopSource();
    if (!removed) return [];
    this.deps.logger.info('mail egress guard removed (policy: off)');
    return [this.event('mail.egress.disabled', 'low', { phase })];
  }

  private failed(mode: 'off' | 'enforce', servers: readonly string[], phase: Phase, err: unknown): NewSpoolEvent[] {
    const error = err instanceof Error ? err.message : String(err);
    // Retry at the next rescan, whatever the drift interval.
    this.inForce = null;
    const note =
      mode === 'enforce'
        ? 'the mail egress guard is NOT in force: connections to mail servers outside the list are not refused'
        : 'the mail egress table could not be removed: connections to servers outside its old list may still be refused';
    this.deps.logger.warn(mode === 'enforce' ? 'mail egress guard NOT in force' : 'mail egress guard could not be removed', { error });
    if (this.reportedError === error) return [];
    this.reportedError = error;
    return [
      this.event('mail.egress.error', mode === 'enforce' ? 'high' : 'medium', {
        mode,
        ...(mode === 'enforce' ? { servers: [...servers] } : {}),
        phase,
        enforced: false,
        error,
        note,
      }),
    ];
  }

  private async startSource(): Promise<void> {
    if (this.source !== null || this.emit === null || this.deps.createLogSource === null) return;
    const source = this.deps.createLogSource((line) => this.onLine(line));
    try {
      await source.start();
      this.source = source;
      this.sourceWarned = false;
    } catch (err) {
      if (!this.sourceWarned) {
        this.deps.logger.warn('cannot read the kernel log: refused mail connections are enforced but not reported', { error: (err as Error).message });
      }
      this.sourceWarned = true;
    }
  }

  private async stopSource(): Promise<void> {
    const source = this.source;
    this.source = null;
    await source?.stop();
  }

  private onLine(line: string): void {
    const record = parseKmsgRecord(line);
    const attempt = record === null ? null : parseBlockedAttempt(record.message);
    if (attempt === null) return;
    const decision = this.filter.take(attempt, this.deps.clock().getTime());
    if (!decision.report) return;
    this.reporting = this.reporting
      .then(() => this.report(attempt, decision.repeats))
      .catch((err: unknown) => this.deps.logger.warn('a refused mail connection could not be reported', { error: (err as Error).message }));
  }

  private async report(attempt: BlockedAttempt, repeats: number): Promise<void> {
    const emit = this.emit;
    if (emit === null) return;
    const user = attempt.uid !== null ? await this.deps.lookupUser?.(attempt.uid) : undefined;
    const event = this.event('mail.egress.blocked', 'medium', {
      destination: attempt.destination,
      port: attempt.port,
      uid: attempt.uid,
      ...(user !== undefined ? { user } : {}),
      source: attempt.source,
      interface: attempt.outInterface,
      repeats,
    });
    await emit([event]);
  }

  private event(type: string, severity: EventSeverity, data: JsonObject): NewSpoolEvent {
    return { type, severity, occurredAt: this.deps.clock().toISOString(), data: { ...data, policy: { ...this.policy } } };
  }
}
