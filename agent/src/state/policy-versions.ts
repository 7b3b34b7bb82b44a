import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export const POLICY_VERSIONS_FILE = 'policy-versions.json';
const MAX_GROUPS = 256;
const GROUP = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * The highest policy version the agent ever took, per group, as `<state>/policy-versions.json`:
 *
 *     {"default":12,"finance":3}
 *
 * Versions count per group, so when an admin moves the computer to another group the version
 * in force says nothing about the new group's. Without this, moving away and back would let an
 * older (validly signed) policy of either group be replayed.
 */
export class PolicyVersions {
  private versions = new Map<string, number>();

  constructor(private readonly stateDir: string) {}

  /** A missing or malformed file starts empty (logged): the cache's own version check still holds. */
  async load(logger: { warn(message: string, meta?: Record<string, unknown>): void }): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.stateDir, POLICY_VERSIONS_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn('policy versions unreadable', { error: (err as Error).message });
      return;
    }
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
      for (const [group, version] of Object.entries(value as Record<string, unknown>).slice(0, MAX_GROUPS)) {
        if (GROUP.test(group) && Number.isSafeInteger(version) && (version as number) >= 0) this.versions.set(group, version as number);
      }
    } catch (err) {
      logger.warn('policy versions file is malformed; starting afresh', { error: (err as Error).message });
    }
  }

  highest(group: string): number {
    return this.versions.get(group) ?? 0;
  }

  async record(group: string, version: number): Promise<void> {
    if (version <= this.highest(group) || !GROUP.test(group)) return;
    this.versions.set(group, version);
    const entries = [...this.versions].slice(-MAX_GROUPS);
    await writeFileAtomic(this.stateDir, POLICY_VERSIONS_FILE, `${JSON.stringify(Object.fromEntries(entries))}\n`);
  }
}
