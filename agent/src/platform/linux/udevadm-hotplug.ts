import { spawn, type ChildProcess } from 'node:child_process';
import type { UeventRecord } from './udevadm-monitor-parser.js';
import { UdevadmMonitorParser } from './udevadm-monitor-parser.js';

/**
 * Kernel uevents through `udevadm monitor`. Node has no netlink socket, and a native addon would
 * have to be built for every agent platform; udevadm listens to the kernel's netlink group itself
 * (`--kernel` needs no running udevd) and prints text we parse. When it is missing or dies, the
 * caller is told (`onDown`) so it can poll meanwhile; it is restarted with exponential backoff,
 * and `onUp` fires when it prints again.
 */

export interface UdevadmCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export const DEFAULT_UDEVADM: UdevadmCommand = {
  command: 'udevadm',
  args: ['monitor', '--kernel', '--property', '--subsystem-match=usb'],
};

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface UdevadmMonitorOptions {
  readonly udevadm: UdevadmCommand;
  readonly backoff: Backoff;
  readonly onRecord: (record: UeventRecord) => void;
  readonly onUp: () => void;
  readonly onDown: (reason: string, retryInMs: number) => void;
}

export class UdevadmMonitor {
  private child: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private stopped = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: UdevadmMonitorOptions) {
    this.delayMs = options.backoff.initialMs;
  }

  start(): void {
    this.stopped = false;
    this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // udevadm exits on SIGTERM; anything that does not is not left running behind the agent.
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(kill);
    }
    await this.exited;
  }

  private launch(): void {
    const parser = new UdevadmMonitorParser();
    let up = false;
    let down = false;
    let stderr = '';
    const child = spawn(this.options.udevadm.command, [...this.options.udevadm.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let resolveExited: () => void = () => undefined;
    this.exited = new Promise((resolve) => (resolveExited = resolve));

    const failed = (reason: string): void => {
      if (down) return;
      down = true;
      resolveExited();
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      const retryIn = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, this.options.backoff.maxMs);
      this.options.onDown(reason, retryIn);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopped) this.launch();
      }, retryIn);
    };

    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (!up) {
        // It talks: the netlink socket is open. Only now is it safe to stop polling.
        up = true;
        this.delayMs = this.options.backoff.initialMs;
        this.options.onUp();
      }
      for (const record of parser.push(chunk)) this.options.onRecord(record);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 2048) stderr += chunk;
    });
    child.on('error', (err) => failed(`${this.options.udevadm.command}: ${err.message}`));
    child.on('close', (code, signal) => {
      for (const record of parser.end()) this.options.onRecord(record);
      const why = signal !== null ? `killed by ${signal}` : `exited with status ${String(code)}`;
      const detail = stderr.trim().split('\n')[0];
      failed(`${this.options.udevadm.command} ${why}${detail ? `: ${detail}` : ''}`);
    });
  }
}
