import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  dispatch,
  encodeMessage,
  MAX_FRAME_BYTES,
  parseAgentMessage,
  PortcullisError,
  type AgentMessage,
  type CommandName,
  type MessageHandlers,
  type ServerMessage,
  type SignedPolicy, ErrorCodes } from '@portcullis/shared';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { hashSecret, newId, sameHash } from '../auth/secrets.js';
import type { Logger, PolicyPublisher } from '../api/deps.js';
import { signedPolicyOf } from '../api/routes/group-routes.js';
import type { AgentRecord, Store } from '../store/store.js';

export interface HubOptions {
  /** An agent silent for this long raises `agent.silent` (stopped or tampered with?). */
  readonly silentAfterSeconds: number;
  readonly pingIntervalMs: number;
  /** Invalid frames tolerated on one connection before it is closed with 1008. */
  readonly maxInvalidFrames: number;
}

const MAX_PENDING_COMMANDS = 10_000;
const FLUSH_DELAY_MS = 10;

export const DEFAULT_HUB_OPTIONS: HubOptions = { silentAfterSeconds: 600, pingIntervalMs: 30_000, maxInvalidFrames: 5 };

interface Connection {
  agent: AgentRecord;
  readonly ws: WebSocket;
  invalid: number;
  alive: boolean;
  /** Messages of one agent are handled one at a time, in order, so acks stay monotonic. */
  queue: Promise<void>;
}

/**
 * The WebSocket endpoint agents connect to (`wss://…/agent`). The agent authenticates during the
 * HTTP upgrade with `Authorization: Bearer <agentId>.<secret>`; nothing is accepted before that.
 * Frames are validated by the shared protocol parser; the hub never throws on agent input.
 */
export class AgentHub implements PolicyPublisher {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  private readonly connections = new Map<string, Connection>();
  private readonly silentReported = new Set<string>();
  /** Commands sent and not yet answered, to put the command's name and sender beside its result. */
  private readonly pending = new Map<string, { agentId: string; name: CommandName; actor: string; sentAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  /**
   * Writes the hub would otherwise make one by one (each an fsync on SQLite): `applied` reports
   * and signs of life are gathered for a few milliseconds and stored together. A policy pushed to
   * 5,000 agents then costs a handful of transactions, not 5,000.
   */
  private readonly appliedBuffer = new Map<string, number>();
  private readonly touchBuffer = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Called whenever an agent reports `applied` (tests and the fan-out benchmark wait on it). */
  onApplied: ((agentId: string, version: number) => void) | undefined;
  /** Called after an agent's inventory is stored, with the one it replaced (mail account checks). */
  onInventory: ((agent: AgentRecord, before: Record<string, unknown> | undefined, after: Record<string, unknown>) => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    private readonly options: HubOptions = DEFAULT_HUB_OPTIONS,
  ) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head);
    });
    this.timer = setInterval(() => void this.tick(), this.options.pingIntervalMs);
    this.timer.unref();
  }

  get connectedCount(): number {
    return this.connections.size;
  }

  isConnected(agentId: string): boolean {
    return this.connections.has(agentId);
  }

  publish(group: string, signed: SignedPolicy): void {
    const frame = encodeMessage({ v: 1, type: 'policy', body: { signed } });
    for (const c of this.connections.values()) if (c.agent.group === group) c.ws.send(frame);
  }

  sendCommand(agentId: string, name: CommandName, args: Record<string, unknown>, actor: string): string | null {
    const conn = this.connections.get(agentId);
    if (!conn) return null;
    const commandId = newId('cmd');
    if (this.pending.size >= MAX_PENDING_COMMANDS) this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(commandId, { agentId, name, actor, sentAt: this.clock().getTime() });
    this.send(conn, { v: 1, type: 'command', body: { commandId, name, args } });
    return commandId;
  }

  async agentChanged(agentId: string): Promise<void> {
    const conn = this.connections.get(agentId);
    if (!conn) return;
    const agent = await this.store.getAgent(agentId);
    if (!agent || agent.revokedAt) {
      conn.ws.close(4001, 'agent identity revoked');
      this.connections.delete(agentId);
      return;
    }
    const moved = agent.group !== conn.agent.group;
    conn.agent = agent;
    const latest = moved ? await this.store.latestPolicy(agent.group) : undefined;
    if (latest) this.send(conn, { v: 1, type: 'policy', body: { signed: signedPolicyOf(latest) } });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await (this.flushing = this.flushing.then(() => this.flush()));
    for (const c of this.connections.values()) c.ws.close(1001, 'server shutting down');
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Node drops its own socket error listener when it hands an upgrade over: without this one,
    // a client that resets the connection mid-authentication would crash the server.
    socket.on('error', (err) => this.logger.warn('agent upgrade socket error', { error: err.message }));
    try {
      if ((req.url ?? '').split('?')[0] !== '/agent') return refuse(socket, 404, 'Not Found');
      const agent = await this.authenticate(req.headers.authorization);
      if (!agent) {
        this.logger.warn('agent connection refused', { ip: req.socket.remoteAddress });
        return refuse(socket, 401, 'Unauthorized');
      }
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(agent, ws));
    } catch (err) {
      this.logger.error('agent upgrade failed', { error: (err as Error).message });
      refuse(socket, 500, 'Internal Server Error');
    }
  }

  private async authenticate(header: string | undefined): Promise<AgentRecord | undefined> {
    const m = /^Bearer (agt_[A-Za-z0-9_-]{6,32})\.([A-Za-z0-9_-]{32,128})$/.exec(header ?? '');
    if (!m) return undefined;
    const agent = await this.store.getAgent(m[1] as string);
    if (!agent || agent.revokedAt || !sameHash(agent.secretHash, hashSecret(m[2] as string))) return undefined;
    return agent;
  }

  private accept(agent: AgentRecord, ws: WebSocket): void {
    const previous = this.connections.get(agent.id);
    if (previous) previous.ws.close(4000, 'replaced by a newer connection of the same agent');
    const conn: Connection = { agent, ws, invalid: 0, alive: true, queue: Promise.resolve() };
    this.connections.set(agent.id, conn);
    this.silentReported.delete(agent.id);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.queue = conn.queue.then(() => this.receive(conn, data, isBinary));
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', () => {
      if (this.connections.get(agent.id) === conn) this.connections.delete(agent.id);
    });
    ws.on('error', (err) => this.logger.warn('agent socket error', { agentId: agent.id, error: err.message }));
    this.touch(agent.id);
    this.send(conn, { v: 1, type: 'welcome', body: { agentId: agent.id, serverTime: this.clock().toISOString() } });
  }

  private async receive(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    let msg: AgentMessage;
    try {
      if (isBinary) throw new PortcullisError(ErrorCodes.PROTOCOL_INVALID, 'binary frames are not part of the protocol');
      msg = parseAgentMessage(rawText(data));
    } catch (err) {
      conn.invalid++;
      const message = err instanceof PortcullisError ? err.message : 'unreadable frame';
      this.send(conn, { v: 1, type: 'error', body: { code: ErrorCodes.PROTOCOL_INVALID, message } });
      if (conn.invalid >= this.options.maxInvalidFrames) conn.ws.close(1008, 'too many invalid frames');
      return;
    }
    try {
      await dispatch(this.handlers(conn), msg);
    } catch (err) {
      this.logger.error('agent message failed', { agentId: conn.agent.id, type: msg.type, error: (err as Error).message });
      this.send(conn, { v: 1, type: 'error', body: { code: ErrorCodes.INTERNAL, message: `could not handle ${msg.type}; it will be retried` } });
    }
  }

  private handlers(conn: Connection): MessageHandlers<AgentMessage, Promise<void>> {
    const agentId = conn.agent.id;
    const now = () => this.clock().toISOString();
    return {
      hello: async (m) => {
        await this.store.touchAgent(agentId, now());
        const latest = await this.store.latestPolicy(conn.agent.group);
        if (latest && m.body.appliedVersion !== latest.version) {
          this.send(conn, { v: 1, type: 'policy', body: { signed: signedPolicyOf(latest) } });
        }
      },
      events: async (m) => {
        const result = await this.store.ingestEvents(agentId, conn.agent.group, m.body.events, now());
        this.send(conn, { v: 1, type: 'ack', body: { seq: result.ackedSeq } });
      },
      inventory: async (m) => {
        const before = (await this.store.getInventory(agentId))?.inventory;
        const after = m.body.kind === 'snapshot' ? m.body.inventory : { ...(before ?? {}), ...m.body.changes };
        await this.store.putInventory(agentId, after, now());
        if (this.onInventory) await this.onInventory(conn.agent, before, after);
      },
      'usb-devices': async (m) => {
        const sightings = m.body.devices.map((d) => ({
          key: d.hash ? `hash:${d.hash}` : `id:${d.id}|${d.serial ?? ''}|${d.name ?? ''}`,
          device: { ...d } as Record<string, unknown>,
        }));
        await this.store.recordUsbSeen(agentId, sightings, now());
      },
      applied: async (m) => {
        this.appliedBuffer.set(agentId, m.body.version);
        this.scheduleFlush();
      },
      'command-result': async (m) => {
        const sent = this.pending.get(m.body.commandId);
        // Only answers to commands this server sent to this agent are recorded.
        if (!sent || sent.agentId !== agentId) {
          this.send(conn, { v: 1, type: 'error', body: { code: ErrorCodes.UNKNOWN_COMMAND, message: `no pending command ${m.body.commandId}` } });
          return;
        }
        this.pending.delete(m.body.commandId);
        await this.store.ingestEvents(null, conn.agent.group, [
          {
            seq: null,
            type: 'command.result',
            severity: m.body.ok ? 'info' : 'medium',
            occurredAt: now(),
            data: { agentId, hostname: conn.agent.hostname, commandId: m.body.commandId, name: sent.name, sentBy: sent.actor, ok: m.body.ok, result: m.body.result ?? null, error: m.body.error ?? null },
          },
        ], now());
      },
    };
  }

  /** Pings every agent, drops the dead, and reports agents silent past the threshold. */
  private async tick(): Promise<void> {
    const now = this.clock();
    for (const c of this.connections.values()) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      this.touch(c.agent.id);
    }
    try {
      await this.reportSilent(now);
    } catch (err) {
      this.logger.error('silent-agent check failed', { error: (err as Error).message });
    }
  }

  async reportSilent(now: Date): Promise<void> {
    const limit = now.getTime() - this.options.silentAfterSeconds * 1000;
    for (const a of await this.store.listAgents({})) {
      if (this.connections.has(a.id) || this.silentReported.has(a.id) || !a.lastSeenAt) continue;
      if (Date.parse(a.lastSeenAt) > limit) continue;
      this.silentReported.add(a.id);
      // Survive restarts: the same silence (same lastSeenAt) is reported once, ever.
      const [last] = await this.store.queryEvents({ type: 'agent.silent', q: a.id, limit: 1 });
      if (last && last.data.agentId === a.id && last.data.lastSeenAt === a.lastSeenAt) continue;
      await this.store.ingestEvents(null, a.group, [
        {
          seq: null,
          type: 'agent.silent',
          severity: 'high',
          occurredAt: now.toISOString(),
          data: { agentId: a.id, hostname: a.hostname, lastSeenAt: a.lastSeenAt, silentForSeconds: Math.round((now.getTime() - Date.parse(a.lastSeenAt)) / 1000) },
        },
      ], now.toISOString());
    }
  }

  /** Records a sign of life (buffered; see appliedBuffer). */
  private touch(agentId: string): void {
    this.touchBuffer.add(agentId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, FLUSH_DELAY_MS);
  }

  /** Stores the buffered writes; a failing write is logged, never an unhandled rejection. */
  async flush(): Promise<void> {
    const applied = [...this.appliedBuffer].map(([id, version]) => ({ id, version }));
    const touched = [...this.touchBuffer];
    this.appliedBuffer.clear();
    this.touchBuffer.clear();
    try {
      if (touched.length > 0) await this.store.touchAgents(touched, this.clock().toISOString());
    } catch (err) {
      this.logger.warn('could not record agent presence', { agents: touched.length, error: (err as Error).message });
    }
    try {
      await this.store.setAgentsApplied(applied);
      for (const a of applied) this.onApplied?.(a.id, a.version);
    } catch (err) {
      this.logger.error('could not record applied policy versions', { agents: applied.length, error: (err as Error).message });
    }
  }

  private send(conn: Connection, msg: ServerMessage): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(encodeMessage(msg));
  }
}

function rawText(data: RawData): string {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return buf.toString('utf8');
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
