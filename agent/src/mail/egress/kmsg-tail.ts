import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export interface KmsgTailLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  debug?(message: string, meta?: Record<string, unknown>): void;
}

export interface KmsgTailOptions {
  /** `/dev/kmsg`; tests give a regular file or a FIFO they append lines to. */
  readonly path: string;
  /** Each complete line read after start (records and their continuation lines alike). */
  readonly onLine: (line: string) => void;
  readonly logger: KmsgTailLogger;
  /** How often to look for new records; default 1000 ms. */
  readonly pollMs?: number;
}

/** Big enough for any record: a read with a smaller buffer fails with EINVAL on /dev/kmsg. */
const READ_BUFFER_BYTES = 16 * 1024;
/** A fake file without line breaks must not grow the buffer without bound. */
const MAX_PARTIAL_BYTES = 64 * 1024;

/**
 * Follows /dev/kmsg from the end: records already in the ring buffer when it starts are skipped
 * (they were there before this agent could act on them, and a restart must not report them twice).
 *
 * The device is opened non-blocking and polled: Node has no lseek, so "seek to the end" is
 * reading until EAGAIN; and a blocking read on a character device would hold one of libuv's four
 * threadpool threads (which the spool's file I/O also needs) until the kernel logs something,
 * and keep the process from exiting. One read per poll that returns EAGAIN costs next to nothing.
 * EPIPE means the kernel overwrote records before we read them; the next read goes on from the
 * oldest record left, and the gap is logged.
 *
 * A regular file (tests) reads as 0 bytes at its end instead of EAGAIN and may return several
 * lines per read, so lines are split here rather than assuming one record per read.
 */
export class KmsgTail {
  private handle: FileHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private partial = '';
  private readonly buffer = Buffer.alloc(READ_BUFFER_BYTES);

  constructor(private readonly options: KmsgTailOptions) {}

  async start(): Promise<void> {
    if (this.handle !== undefined) return;
    this.handle = await open(this.options.path, constants.O_RDONLY | constants.O_NONBLOCK);
    await this.drain(() => undefined);
    this.partial = '';
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.reading;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** One poll at a time; a slow one makes the next interval skip rather than overlap. */
  private poll(): void {
    this.reading = this.reading.then(() =>
      this.drain((line) => this.options.onLine(line)).catch((err: unknown) => {
        this.options.logger.warn('reading the kernel log failed; blocked mail connections are not reported until it works again', {
          path: this.options.path,
          error: (err as Error).message,
        });
      }),
    );
  }

  /** Reads until there is nothing more for now, handing over complete lines. */
  private async drain(deliver: (line: string) => void): Promise<void> {
    for (;;) {
      const handle = this.handle;
      if (handle === undefined) return;
      let bytes: number;
      try {
        ({ bytesRead: bytes } = await handle.read(this.buffer, 0, this.buffer.length, null));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return;
        if (code === 'EPIPE') {
          this.options.logger.debug?.('kernel log records were overwritten before they were read', { path: this.options.path });
          continue;
        }
        throw err;
      }
      if (bytes === 0) return;
      this.take(this.buffer.toString('utf8', 0, bytes), deliver);
    }
  }

  private take(text: string, deliver: (line: string) => void): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_PARTIAL_BYTES) this.partial = '';
    for (const line of lines) deliver(line);
  }
}
