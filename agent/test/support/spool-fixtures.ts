import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSpool, type FileSpoolOptions } from '../../src/spool/file-spool.js';
import type { NewSpoolEvent, Spool, SpooledEvent, SpoolLogger } from '../../src/spool/spool.js';

export const FIXED_NOW = new Date('2026-11-25T10:00:00Z');

export interface RecordingLogger extends SpoolLogger {
  readonly warnings: { message: string; meta?: Record<string, unknown> }[];
}

export function recordingLogger(): RecordingLogger {
  const warnings: RecordingLogger['warnings'] = [];
  return {
    warnings,
    warn(message, meta) {
      warnings.push(meta === undefined ? { message } : { message, meta });
    },
  };
}

export function tempDir(prefix = 'spool-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A device event with a recognizable tag and roughly `pad` bytes of extra data. */
export function usbEvent(tag: string, pad = 0): NewSpoolEvent {
  return {
    type: 'device.blocked',
    severity: 'medium',
    occurredAt: '2026-11-25T10:00:00Z',
    data: { tag, device: { id: '0781:5567', serial: '4C530001230523112463' }, ...(pad > 0 ? { pad: 'x'.repeat(pad) } : {}) },
  };
}

export function tagOf(e: SpooledEvent): unknown {
  return e.data['tag'];
}

export async function openFileSpool(dir: string, options: Partial<FileSpoolOptions> = {}): Promise<FileSpool> {
  return FileSpool.open(dir, { clock: () => FIXED_NOW, logger: recordingLogger(), ...options });
}

/** Every pending event, paging with afterSeq the way a link would. */
export async function readAll(spool: Spool): Promise<SpooledEvent[]> {
  const all: SpooledEvent[] = [];
  for (;;) {
    const page = await spool.pending(500, all.at(-1)?.seq ?? 0);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('spool-'))
    .sort();
}
