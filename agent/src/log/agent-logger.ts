import { join } from 'node:path';
import winston from 'winston';

/** What every part of the agent logs through (each part declares only the slice it uses). */
export interface AgentLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  /** Flushes the file and closes it. */
  close(): Promise<void>;
}

export interface AgentLoggerOptions {
  /** The log goes to `<stateDir>/agent.log`, rotated by size. */
  readonly stateDir: string;
  /** Also to stderr (the service run by hand, or under systemd, which keeps it in the journal). */
  readonly stderr: boolean;
  readonly level?: 'error' | 'warn' | 'info' | 'debug';
  readonly maxBytes?: number;
  readonly maxFiles?: number;
}

export const LOG_FILE = 'agent.log';
const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;

/**
 * Keys whose values never reach a log line, at any depth: the agent's secret, enrollment tokens,
 * anything that looks like a credential. Defence in depth; callers do not pass them anyway.
 */
const SECRET_KEY = /secret|token|password|authorization|cookie/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message' || key === 'timestamp') continue;
    info[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

/**
 * The agent's log: JSON lines in the state folder, size-rotated (`agent.log`, `agent1.log` …,
 * oldest dropped), owner-only because the state folder is 0700 and the service runs with umask
 * 077. Quiet by default: `info` records what an administrator wants to read later (decisions,
 * connections, policy changes), nothing per heartbeat.
 */
export function createAgentLogger(options: AgentLoggerOptions): AgentLogger {
  const transports: winston.transport[] = [
    new winston.transports.File({
      filename: join(options.stateDir, LOG_FILE),
      maxsize: options.maxBytes ?? DEFAULT_MAX_BYTES,
      maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
      tailable: true,
      format: winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json()),
    }),
  ];
  if (options.stderr) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(
          winston.format.timestamp(),
          redactFormat(),
          winston.format.printf((info) => {
            const { level, message, timestamp, ...meta } = info;
            const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        ),
      }),
    );
  }
  const logger = winston.createLogger({ level: options.level ?? 'info', transports, exitOnError: false });
  return {
    debug: (m, meta) => logger.debug(m, meta),
    info: (m, meta) => logger.info(m, meta),
    warn: (m, meta) => logger.warn(m, meta),
    error: (m, meta) => logger.error(m, meta),
    close: () =>
      new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        // A transport that never finishes (a closed stderr) must not hold the agent's exit.
        setTimeout(resolve, 2000).unref();
      }),
  };
}
