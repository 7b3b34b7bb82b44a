import {
  dispatch,
  encodeMessage,
  eventsThatFit,
  MAX_EVENTS_PER_BATCH,
  MAX_FRAME_BYTES,
  parseServerMessage,
  type AgentMessage,
  type HelloBody,
  type MessageHandlers,
  type ServerMessage,
} from '@portcullis/shared';
import { WebSocket, type RawData } from 'ws';
import type { Spool } from '../spool/spool.js';
import { attemptAfterClose, nextDelay } from './backoff.js';
import { checkLinkUrl } from './link-url.js';

/** The slice of a logger the link uses (winston fits; tests pass a recorder). */
export interface LinkLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface LinkOptions {
  /** `wss://host:port/agent`. */
  readonly url: string;
  readonly agentId: string;
  readonly secret: string;
  /** The pinned certificate (PEM) the server's chain must lead to; nothing else is trusted. */
  readonly caCertPem: string | undefined;
  readonly spool: Spool;
  readonly hello: () => HelloBody;
  /** Milliseconds, monotonic enough to time a connection's life. */
  readonly clock: () => number;
  /** [0, 1), for the backoff jitter. */
  readonly random: () => number;
  readonly backoff: { readonly baseMs: number; readonly capMs: number };
  readonly heartbeatMs: number;
  readonly logger: LinkLogger;
  /** Gets `policy` and `command` messages; the link itself handles welcome, ack and error. */
  readonly onMessage: (msg: ServerMessage) => void;
  /** The server welcomed this connection: send what a fresh connection needs (inventory, devices). */
  readonly onWelcome?: () => void;
  /** `events` frames sent and not yet acknowledged, at most (default 4). */
  readonly maxInFlight?: number;
  /** Allows a `ws://` address: tests against a local server only. */
  readonly allowInsecure?: boolean;
}

export const DEFAULT_MAX_IN_FLIGHT = 4;
/** Pings left unanswered before the connection is declared dead. */
const MISSED_PONGS_LIMIT = 2;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** How long stop() waits for the server's close frame before cutting the socket. */
const CLOSE_GRACE_MS = 2_000;

/** One WebSocket connection and what was sent on it. */
interface Session {
  readonly ws: WebSocket;
  openedAt: number | undefined;
  welcomed: boolean;
  /** Highest seq sent on this connection (the `afterSeq` of the next batch). */
  sentUpTo: number;
  /** The last seq of each batch sent and not yet covered by an ack, oldest first. */
  inFlight: number[];
  missedPongs: number;
  heartbeat: NodeJS.Timeout | undefined;
}

/**
 * The agent's connection to the server (DESIGN.md §3). Connects with the agent's identity in the
 * upgrade request, says hello, then streams the spool: `events` batches, a few in flight, each
 * leaving the spool only when the server acks it. A lost connection is retried with full-jitter
 * backoff and resumes from the last ack; batches sent but not acked are sent again (the server
 * keys events by (agent, seq) and drops duplicates). Server frames that do not parse are logged
 * and ignored: nothing the server sends can crash the agent.
 */
export class ServerLink {
  private readonly url: string;
  private readonly maxInFlight: number;
  private session: Session | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private running = false;
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly options: LinkOptions) {
    this.url = checkLinkUrl(options.url, options.allowInsecure === true).href;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  get connected(): boolean {
    return this.session?.ws.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** Closes the connection and cancels every timer; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const session = this.session;
    if (!session) return;
    this.endSession(session);
    const ws = session.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      ws.close(1000, 'agent stopping');
    });
  }

  /**
   * Sends one message that is not an event (applied, inventory, usb-devices, command-result):
   * such messages are state, re-sent on the next connection, so they are not spooled. False when
   * there is no open connection.
   */
  send(msg: AgentMessage): boolean {
    const session = this.session;
    if (!session || !session.welcomed) return false;
    try {
      return this.sendOn(session, msg);
    } catch (err) {
      // A message the protocol refuses (too big for a frame) is a bug to log, not a crash.
      this.options.logger.warn('a message could not be sent', { type: msg.type, error: (err as Error).message });
      return false;
    }
  }

  /** The agent appended to the spool: send what is new. */
  notify(): void {
    void this.pump();
  }

  private connect(): void {
    const { agentId, secret, caCertPem } = this.options;
    const ws = new WebSocket(this.url, {
      headers: { Authorization: `Bearer ${agentId}.${secret}` },
      ...(caCertPem === undefined ? {} : { ca: caCertPem }),
      rejectUnauthorized: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    const session: Session = { ws, openedAt: undefined, welcomed: false, sentUpTo: 0, inFlight: [], missedPongs: 0, heartbeat: undefined };
    this.session = session;
    ws.on('open', () => this.opened(session));
    ws.on('message', (data: RawData, isBinary: boolean) => this.received(session, data, isBinary));
    ws.on('pong', () => {
      session.missedPongs = 0;
    });
    ws.on('error', (err: Error) => this.options.logger.warn('server link error', { error: err.message }));
    ws.on('close', (code: number, reason: Buffer) => this.closed(session, code, reason.toString('utf8')));
  }

  private opened(session: Session): void {
    session.openedAt = this.options.clock();
    this.options.logger.info('server link connected', { url: this.url });
    session.heartbeat = setInterval(() => this.beat(session), this.options.heartbeatMs);
    if (!this.sendOn(session, { v: 1, type: 'hello', body: this.options.hello() })) return;
    void this.pump();
  }

  private beat(session: Session): void {
    if (session.missedPongs >= MISSED_PONGS_LIMIT) {
      this.options.logger.warn('server link silent: no pong to the last pings', { missed: session.missedPongs });
      session.ws.terminate();
      return;
    }
    session.missedPongs++;
    session.ws.ping();
  }

  private closed(session: Session, code: number, reason: string): void {
    this.endSession(session);
    if (this.session === session) this.session = undefined;
    if (!this.running) return;
    const upMs = session.openedAt === undefined ? 0 : this.options.clock() - session.openedAt;
    const delay = nextDelay(this.attempt, this.options.random, this.options.backoff.baseMs, this.options.backoff.capMs);
    this.attempt = attemptAfterClose(this.attempt, { upMs, welcomed: session.welcomed });
    this.options.logger.info('server link closed; reconnecting', { code, reason, delayMs: Math.round(delay) });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) this.connect();
    }, delay);
  }

  private endSession(session: Session): void {
    if (session.heartbeat) clearInterval(session.heartbeat);
    session.heartbeat = undefined;
    session.inFlight = [];
  }

  private received(session: Session, data: RawData, isBinary: boolean): void {
    let msg: ServerMessage;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol');
      msg = parseServerMessage(rawText(data));
    } catch (err) {
      this.options.logger.warn('ignored an invalid frame from the server', { error: (err as Error).message });
      return;
    }
    dispatch(this.handlers(session), msg);
  }

  private handlers(session: Session): MessageHandlers<ServerMessage, void> {
    return {
      welcome: () => {
        session.welcomed = true;
        this.attempt = 0;
        try {
          this.options.onWelcome?.();
        } catch (err) {
          this.options.logger.warn('the agent failed to handle the welcome', { error: (err as Error).message });
        }
      },
      ack: (m) => void this.acked(session, m.body.seq),
      policy: (m) => this.handOver(m),
      command: (m) => this.handOver(m),
      error: (m) => this.options.logger.warn('the server reported an error', { code: m.body.code, message: m.body.message }),
    };
  }

  private handOver(msg: ServerMessage): void {
    try {
      this.options.onMessage(msg);
    } catch (err) {
      this.options.logger.warn('the agent failed to handle a server message', { type: msg.type, error: (err as Error).message });
    }
  }

  private async acked(session: Session, seq: number): Promise<void> {
    try {
      await this.options.spool.ack(seq);
    } catch (err) {
      this.options.logger.warn('could not record the server ack', { seq, error: (err as Error).message });
      return;
    }
    if (this.session !== session) return;
    session.inFlight = session.inFlight.filter((last) => last > seq);
    await this.pump();
  }

  /**
   * Sends spooled events while the window has room. One pump runs at a time; a call during a
   * run makes it go round once more, so a notify() is never lost.
   */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.fillWindow();
      } while (this.pumpAgain);
    } catch (err) {
      this.options.logger.warn('could not send spooled events', { error: (err as Error).message });
    } finally {
      this.pumping = false;
    }
  }

  private async fillWindow(): Promise<void> {
    for (;;) {
      const session = this.session;
      if (!session || session.ws.readyState !== WebSocket.OPEN || session.inFlight.length >= this.maxInFlight) return;
      const pending = await this.options.spool.pending(MAX_EVENTS_PER_BATCH, session.sentUpTo);
      if (pending.length === 0 || this.session !== session) return;
      const batch = pending.slice(0, eventsThatFit(pending));
      const last = batch[batch.length - 1];
      if (!last) return;
      if (!this.sendOn(session, { v: 1, type: 'events', body: { events: batch } })) return;
      session.sentUpTo = last.seq;
      session.inFlight.push(last.seq);
    }
  }

  private sendOn(session: Session, msg: AgentMessage): boolean {
    if (session.ws.readyState !== WebSocket.OPEN) return false;
    session.ws.send(encodeMessage(msg));
    return true;
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
