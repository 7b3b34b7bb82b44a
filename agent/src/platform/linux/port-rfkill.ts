import { join } from 'node:path';
import { EnforcementError } from '../enforcer.js';
import type { PortCondition, PortState } from '../port-control.js';
import { describeError, errnoOf, type PortFs } from './port-fs.js';
import type { PortLogger } from './port-mode-store.js';
import { RFKILL_NAME, safeRadioName } from './port-names.js';

/**
 * Bluetooth radios through the kernel's rfkill class (Documentation/ABI/stable/sysfs-class-rfkill):
 *
 *     /sys/class/rfkill/rfkill0/type   bluetooth
 *     /sys/class/rfkill/rfkill0/name   hci0
 *     /sys/class/rfkill/rfkill0/soft   0        read-write: 1 = turned off by software
 *     /sys/class/rfkill/rfkill0/hard   0        read-only:  1 = forced off by a switch outside the driver
 *
 * Only `soft` is written: the ABI documents it as the read-write attribute (`state` is obsolete).
 * Radios of other types (wlan, wwan, nfc…) are left alone. systemd-rfkill restores soft states at
 * boot and a user with the right can run `rfkill unblock`; the agent's periodic rescan re-applies
 * the plan, so such a drift lasts at most one interval.
 */
export class RfkillRadios {
  constructor(
    private readonly sysfsRoot: string,
    private readonly fs: PortFs,
    private readonly logger: PortLogger,
  ) {}

  private get classDir(): string {
    return join(this.sysfsRoot, 'class', 'rfkill');
  }

  /** Every Bluetooth radio; fails soft (a radio that cannot be read is logged and left out). */
  async scan(): Promise<PortState[]> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.classDir);
    } catch (err) {
      // No rfkill class at all: a machine without radios, or rfkill not built.
      if (errnoOf(err) !== 'ENOENT') this.logger.warn(`cannot list rfkill radios: ${describeError(err)}`, { dir: this.classDir });
      return [];
    }
    const found: PortState[] = [];
    for (const id of names.filter((n) => RFKILL_NAME.test(n))) {
      try {
        const state = await this.read(id);
        if (state !== null) found.push(state);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue; // removed while we looked
        this.logger.warn(`cannot read rfkill radio ${id}: ${describeError(err)}`, { id });
      }
    }
    return found;
  }

  async apply(id: string, to: PortCondition): Promise<void> {
    if (!RFKILL_NAME.test(id)) {
      throw new EnforcementError(JSON.stringify(id), 'not an rfkill name; refusing to build a sysfs path from it', { reason: 'invalid-name' });
    }
    const dir = join(this.classDir, id);
    if (to === 'readonly') throw new EnforcementError(dir, 'a Bluetooth radio has no read-only form', { reason: 'refused' });
    const type = await this.fs.readFile(join(dir, 'type')).then(
      (t) => t.trim(),
      (err: unknown) => {
        const gone = errnoOf(err) === 'ENOENT';
        const message = gone ? 'radio disappeared' : `cannot read its type: ${describeError(err)}`;
        throw new EnforcementError(dir, message, { cause: err, reason: gone ? 'gone' : 'refused' });
      },
    );
    // rfkill indexes are never reused, so a different type means the radio we scanned is gone.
    if (type !== 'bluetooth') throw new EnforcementError(dir, `is a ${JSON.stringify(type)} radio, not Bluetooth`, { reason: 'gone' });

    const soft = join(dir, 'soft');
    const value = to === 'blocked' ? '1' : '0';
    try {
      await this.fs.writeAttribute(soft, value);
    } catch (err) {
      const gone = errnoOf(err) === 'ENOENT';
      throw new EnforcementError(soft, `write of ${value} failed: ${describeError(err)}`, { cause: err, reason: gone ? 'gone' : 'refused' });
    }
    let now: string;
    try {
      now = (await this.fs.readFile(soft)).trim();
    } catch (err) {
      throw new EnforcementError(soft, `cannot read back after writing ${value}: ${describeError(err)}`, { cause: err, reason: 'not-applied' });
    }
    if (now !== value) throw new EnforcementError(soft, `wrote ${value} but the kernel reports ${JSON.stringify(now)}`, { reason: 'not-applied' });
  }

  /** One radio, or null when it is not Bluetooth. */
  private async read(id: string): Promise<PortState | null> {
    const dir = join(this.classDir, id);
    const type = (await this.fs.readFile(join(dir, 'type'))).trim();
    if (type !== 'bluetooth') return null;
    const soft = (await this.fs.readFile(join(dir, 'soft'))).trim();
    if (soft !== '0' && soft !== '1') throw new Error(`soft is ${JSON.stringify(soft)}, not 0 or 1`);
    const hard = await this.fs.readFile(join(dir, 'hard')).then(
      (h) => h.trim(),
      (err: unknown) => {
        this.logger.warn(`cannot read rfkill ${id}/hard: ${describeError(err)}`, { id });
        return '?';
      },
    );
    // The name only makes the label nicer; without it the label uses the rfkill index.
    const name = safeRadioName(await this.fs.readFile(join(dir, 'name')).catch(() => ''));
    return {
      portClass: 'bluetooth',
      id,
      path: dir,
      label: `Bluetooth radio ${name ?? id}`,
      // The agent controls the soft block only. A radio held off by a hardware switch is still
      // soft-blocked when policy says block, so it stays off once the switch is flipped back.
      state: soft === '1' ? 'blocked' : 'allowed',
      detail: `soft ${soft}, hard ${hard}${hard === '1' ? ' (switched off in hardware)' : ''}`,
    };
  }
}
