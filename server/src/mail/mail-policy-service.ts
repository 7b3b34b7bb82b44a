import { createServer, type Server, type Socket } from 'node:net';
import type { Severity } from '../store/store.js';
import { decideMail, type MailDecision, type MailRule } from './mail-decider.js';
import type { MailDirectory } from './mail-directory.js';
import type { MailEventSink } from './mail-event-sink.js';
import type { MailStats } from './mail-stats.js';
import { encodeAction, PolicyRequestParser, type PolicyRequest } from './policy-request-parser.js';
import { InstanceBook, RateBook } from './rate-book.js';

export interface PolicyServiceLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface PolicyServiceDeps {
  readonly directory: MailDirectory;
  readonly events: MailEventSink;
  readonly stats: MailStats;
  readonly logger: PolicyServiceLogger;
  readonly clock: () => Date;
}

export interface PolicyServiceOptions {
  readonly host: string;
  readonly port: number;
  /** Postfix keeps a few connections per smtpd process; more than this is refused. */
  readonly maxConnections?: number;
  /** Postfix closes idle ones itself (max_idle 100 s); this only reaps dead peers. */
  readonly idleTimeoutMs?: number;
}

const SEVERITY: Readonly<Record<MailRule, Severity>> = {
  'sender-unregistered': 'high',
  'sender-inactive': 'medium',
  'login-mismatch': 'high',
  'external-domain': 'medium',
  size: 'medium',
  rate: 'low',
};

/**
 * Postfix's SMTPD access policy delegation service over TCP: each connection feeds a
 * PolicyRequestParser, each request gets `decideMail`'s answer, and each refusal becomes a
 * `mail.rejected` event. A malformed stream or an internal error is logged and the connection
 * closed without an answer: Postfix then applies `default_action` from `check_policy_service`,
 * which is where the admin chooses fail-open (DUNNO) or fail-closed (DEFER_IF_PERMIT).
 */
export class MailPolicyService {
  readonly #rates = new RateBook();
  readonly #instances = new InstanceBook();
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;

  constructor(
    private readonly deps: PolicyServiceDeps,
    private readonly options: PolicyServiceOptions,
  ) {
    // Counts of senders no longer registered would only take memory.
    deps.directory.onReload((snapshot) => this.#rates.retain((sender) => snapshot.senders.has(sender)));
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer({ noDelay: true }, (socket) => this.#connection(socket));
    server.maxConnections = this.options.maxConnections ?? 1024;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.deps.logger.error('mail policy service error', { error: err.message }));
    const address = server.address();
    return typeof address === 'object' && address !== null ? { host: address.address, port: address.port } : { host: this.options.host, port: this.options.port };
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** One decision, outside the socket (the benchmark and the tests call it directly too). */
  decide(request: PolicyRequest): MailDecision {
    const decision = decideMail(request, {
      snapshot: this.deps.directory.snapshot,
      rates: this.#rates,
      instances: this.#instances,
      nowMs: this.deps.clock().getTime(),
    });
    this.deps.stats.count(decision);
    if (decision.kind === 'refuse') this.#report(request, decision);
    return decision;
  }

  #connection(socket: Socket): void {
    this.#sockets.add(socket);
    const parser = new PolicyRequestParser();
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setTimeout(this.options.idleTimeoutMs ?? 600_000, () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', (err) => this.deps.logger.warn('mail policy connection error', { peer, error: err.message }));
    socket.on('data', (chunk: Buffer) => {
      let answers = '';
      const { requests, error } = parser.push(chunk);
      try {
        for (const request of requests) {
          const decision = this.decide(request);
          answers += encodeAction(decision.kind === 'dunno' ? 'DUNNO' : decision.action);
        }
      } catch (err) {
        this.deps.logger.error('mail policy decision failed; connection closed without an answer', { peer, error: (err as Error).message });
        if (answers !== '') socket.write(answers);
        socket.destroy();
        return;
      }
      if (error !== null) {
        this.deps.logger.warn('mail policy request malformed; connection closed', { peer, error: error.message });
        // The answers owed for the requests before the bad line still go out, then the close.
        socket.end(answers);
        socket.destroySoon();
        return;
      }
      // Answers are small, but a client that never reads must not grow our buffers.
      if (answers !== '' && !socket.write(answers)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
  }

  #report(request: PolicyRequest, decision: Extract<MailDecision, { kind: 'refuse' }>): void {
    const attr = (name: string) => request.get(name) ?? '';
    this.deps.events.add(decision.group, {
      seq: null,
      type: 'mail.rejected',
      severity: SEVERITY[decision.rule],
      occurredAt: this.deps.clock().toISOString(),
      data: {
        sender: attr('sender').toLowerCase(),
        recipients: decision.recipients,
        rule: decision.rule,
        reason: decision.reason,
        action: decision.action,
        stage: attr('protocol_state'),
        saslUsername: attr('sasl_username'),
        clientAddress: attr('client_address'),
        clientName: attr('client_name'),
        queueId: attr('queue_id'),
        instance: attr('instance'),
        size: Number(attr('size')) || 0,
      },
    });
  }
}
