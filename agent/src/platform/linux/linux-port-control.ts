import { isAbsolute, join, relative } from 'node:path';
import { EnforcementError } from '../enforcer.js';
import type { PortCondition, PortControl, PortState, PortStep } from '../port-control.js';
import { describeError, errnoOf, NODE_PORT_FS, type PortFileStat, type PortFs } from './port-fs.js';
import { PortModeStore, type PortLogger } from './port-mode-store.js';
import { expectedNodeType, formatMode, nodeLabel, parseNodeName, type NodeName } from './port-names.js';
import { RfkillRadios } from './port-rfkill.js';

export type { PortLogger } from './port-mode-store.js';

/** What an allowed node gets when its original mode is unknown: the usual udev default. */
export const DEFAULT_ALLOWED_MODE = 0o660;

export interface LinuxPortControlOptions {
  readonly sysfsRoot?: string;
  readonly devRoot?: string;
  /** The agent's state folder; `ports.json` there remembers each node's original mode. */
  readonly stateDir: string;
  readonly logger: PortLogger;
  /** Tests only: accept regular files as device nodes (a fake /dev). Never set in the agent. */
  readonly allowRegularFiles?: boolean;
  /** Tests only: the file system slice, e.g. one whose chmod drops the write. */
  readonly fs?: PortFs;
  /** Clock for naming a damaged ports.json set aside. */
  readonly now?: () => number;
}

/**
 * Non-USB ports on Linux. Bluetooth radios are switched with rfkill (port-rfkill.ts); serial,
 * parallel and optical ports by the permissions of their device nodes:
 *
 *     crw-rw---- root dialout  /dev/ttyS0     allowed  (the udev default, remembered as original)
 *     c--------- root dialout  /dev/ttyS0     blocked  (chmod 0000)
 *     br--r----- root cdrom    /dev/sr0       readonly (write bits of the original removed)
 *
 * Permissions are checked when a node is opened, so a block stops users but not root (root has
 * CAP_DAC_OVERRIDE; the agent itself runs as root), and a program that already holds the port
 * open keeps it until it closes it.
 *
 * Read-only optical: a drive opened without write permission still reads discs, and the SCSI
 * command filter (scsi_cmd_allowed in drivers/scsi/scsi_ioctl.c, blk_verify_command before 5.15)
 * lets a descriptor not opened for writing send only read-safe commands through SG_IO; WRITE,
 * BLANK, SEND CUE SHEET, CLOSE TRACK… need a writable open or CAP_SYS_RAWIO. So users cannot
 * burn. The same filter guards the drive's /dev/sgN node, which burning tools also use, so that
 * node is switched alongside (as its own port, id `sgN`) — otherwise blocking /dev/sr0 alone
 * would leave the drive open through /dev/sgN.
 *
 * On-board ttyS nodes: the kernel creates /dev/ttyS0..N (8250.nr_uarts) whether or not a UART
 * answered. Following Documentation/ABI/testing/sysfs-tty, a ttyS is real when
 * /sys/class/tty/ttyS<N>/type (the UART type, TIOCGSERIAL's `type`) is not 0 (PORT_UNKNOWN). The
 * `port` address is no test: the legacy ttyS0–3 keep their ISA addresses (0x3F8…) without hardware.
 *
 * udev re-creates a node with its default mode when the device is added again (a USB serial
 * adapter replugged, a module reloaded). The agent's periodic rescan finds it allowed and the
 * planner re-applies the policy; the original mode stays remembered in ports.json.
 */
export class LinuxPortControl implements PortControl {
  private readonly sysfsRoot: string;
  private readonly devRoot: string;
  private readonly fs: PortFs;
  private readonly logger: PortLogger;
  private readonly allowRegularFiles: boolean;
  private readonly store: PortModeStore;
  private readonly radios: RfkillRadios;

  constructor(options: LinuxPortControlOptions) {
    this.sysfsRoot = options.sysfsRoot ?? '/sys';
    this.devRoot = options.devRoot ?? '/dev';
    this.fs = options.fs ?? NODE_PORT_FS;
    this.logger = options.logger;
    this.allowRegularFiles = options.allowRegularFiles ?? false;
    this.store = new PortModeStore(options.stateDir, options.logger, options.now);
    this.radios = new RfkillRadios(this.sysfsRoot, this.fs, this.logger);
  }

  async scan(): Promise<PortState[]> {
    return [...(await this.radios.scan()), ...(await this.scanNodes())];
  }

  async apply(step: PortStep): Promise<void> {
    if (step.portClass === 'bluetooth') {
      await this.radios.apply(step.id, step.to);
      this.logger.info(`${step.id}: Bluetooth radio ${step.to}`, { id: step.id, from: step.from, to: step.to });
      return;
    }
    await this.applyNode(step);
  }

  /** Fails soft: a node that cannot be read is logged and left out. */
  private async scanNodes(): Promise<PortState[]> {
    let entries: string[];
    try {
      entries = await this.fs.readdir(this.devRoot);
    } catch (err) {
      this.logger.warn(`cannot list device nodes: ${describeError(err)}`, { dir: this.devRoot });
      return [];
    }
    const found: PortState[] = [];
    for (const entry of entries) {
      const name = parseNodeName(entry);
      if (name === null) continue;
      try {
        const state = await this.readNode(name);
        if (state !== null) found.push(state);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue; // removed while we looked
        this.logger.warn(`cannot read ${join(this.devRoot, entry)}: ${describeError(err)}`, { id: entry });
      }
    }
    return found;
  }

  private async readNode(name: NodeName): Promise<PortState | null> {
    if (name.kind === 'ttyS' && !(await this.isRealSerial(name))) return null;
    if (name.kind === 'sg' && (await this.opticalGeneric(name)) !== 'optical') return null;
    const path = join(this.devRoot, name.id);
    const st = await this.fs.lstat(path);
    const problem = this.nodeProblem(name, st);
    if (problem !== null) {
      this.logger.warn(`${path} ${problem}; left alone`, { id: name.id });
      return null;
    }
    const original = await this.store.get(name.id);
    return {
      portClass: name.portClass,
      id: name.id,
      path,
      label: nodeLabel(name),
      state: conditionOf(st.mode),
      detail: `mode ${formatMode(st.mode)}${original !== undefined ? `, original ${formatMode(original)}` : ''}`,
    };
  }

  private async applyNode(step: PortStep): Promise<void> {
    const name = parseNodeName(step.id);
    if (name === null || name.portClass !== step.portClass) {
      throw new EnforcementError(JSON.stringify(step.id), `not a device node name of the ${step.portClass} class; refusing to build a path from it`, {
        reason: 'invalid-name',
      });
    }
    const path = join(this.devRoot, name.id);
    const rel = relative(this.devRoot, path);
    if (rel !== name.id || isAbsolute(rel)) throw new EnforcementError(path, `escapes ${this.devRoot}`, { reason: 'invalid-name' });
    if (step.to === 'readonly' && name.portClass !== 'optical') {
      throw new EnforcementError(path, `a ${name.portClass} port has no read-only form`, { reason: 'refused' });
    }
    if (name.kind === 'sg') {
      const kind = await this.opticalGeneric(name);
      if (kind === 'gone') throw new EnforcementError(path, 'SCSI generic device disappeared', { reason: 'gone' });
      if (kind !== 'optical') throw new EnforcementError(path, "not an optical drive's SCSI generic node", { reason: 'refused' });
    }

    const before = await this.statNode(name, path);
    const perms = before.mode & 0o777;
    let original = await this.store.get(name.id);
    // Remember what "allowed" means for this node before the first change. A mode the agent may
    // have set itself (0000, or write bits stripped) is never recorded as an original.
    if (conditionOf(perms) === 'allowed' && original !== perms) {
      await this.store.remember(name.id, perms);
      original = perms;
    }
    if (original === undefined && step.to !== 'blocked') {
      this.logger.warn(`${path}: original mode unknown; using ${formatMode(DEFAULT_ALLOWED_MODE)}`, { id: name.id });
    }
    const target = targetMode(step.to, original ?? DEFAULT_ALLOWED_MODE);

    try {
      await this.fs.chmod(path, target);
    } catch (err) {
      const gone = errnoOf(err) === 'ENOENT';
      throw new EnforcementError(path, `chmod ${formatMode(target)} failed: ${describeError(err)}`, { cause: err, reason: gone ? 'gone' : 'refused' });
    }
    const after = await this.statNode(name, path);
    if (after.ino !== before.ino || after.rdev !== before.rdev) {
      throw new EnforcementError(path, 'the node was re-created during the change; the new one is as udev made it', { reason: 'not-applied' });
    }
    if ((after.mode & 0o777) !== target) {
      throw new EnforcementError(path, `set mode ${formatMode(target)} but the node has ${formatMode(after.mode)}`, { reason: 'not-applied' });
    }
    this.logger.info(`${path}: ${step.to} (mode ${formatMode(perms)} -> ${formatMode(target)})`, { id: name.id, from: step.from, to: step.to });
  }

  /** lstat, then the same checks as the scan; failures as EnforcementErrors. */
  private async statNode(name: NodeName, path: string): Promise<PortFileStat> {
    let st: PortFileStat;
    try {
      st = await this.fs.lstat(path);
    } catch (err) {
      const gone = errnoOf(err) === 'ENOENT';
      const message = gone ? 'device node disappeared' : `cannot stat: ${describeError(err)}`;
      throw new EnforcementError(path, message, { cause: err, reason: gone ? 'gone' : 'refused' });
    }
    const problem = this.nodeProblem(name, st);
    if (problem !== null) throw new EnforcementError(path, `${problem}; refusing to change it`, { reason: 'refused' });
    return st;
  }

  /**
   * Null for a node the agent may chmod. A symlink is refused (chmod would follow it to whatever
   * it names), and so is anything but the device type the name implies. /dev is writable by root
   * only, so no user can swap a node between this check and the chmod.
   */
  private nodeProblem(name: NodeName, st: PortFileStat): string | null {
    if (st.isSymbolicLink()) return 'is a symbolic link';
    const type = expectedNodeType(name);
    if (type === 'block' ? st.isBlockDevice() : st.isCharacterDevice()) return null;
    if (this.allowRegularFiles && st.isFile()) return null;
    return `is not a ${type} device node`;
  }

  private async isRealSerial(name: NodeName): Promise<boolean> {
    const dir = join(this.sysfsRoot, 'class', 'tty', name.id);
    try {
      return (await this.fs.readFile(join(dir, 'type'))).trim() !== '0';
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        this.logger.warn(`cannot read ${dir}/type; listing ${name.id} as a real port: ${describeError(err)}`, { id: name.id });
        return true;
      }
    }
    // No `type` (a kernel before 3.8): a port the kernel knows is listed, failing closed; a
    // node without a tty class entry belongs to no port at all.
    return this.fs.lstat(dir).then(
      () => true,
      (err: unknown) => {
        if (errnoOf(err) !== 'ENOENT') throw err;
        return false;
      },
    );
  }

  /**
   * Whether sgN is the generic node of an optical drive: its SCSI device type is 5 (TYPE_ROM,
   * CD/DVD) or 4 (TYPE_WORM), the types the sr driver binds. Disks and tapes have sg nodes too;
   * those are never touched.
   */
  private async opticalGeneric(name: NodeName): Promise<'optical' | 'other' | 'gone'> {
    const file = join(this.sysfsRoot, 'class', 'scsi_generic', name.id, 'device', 'type');
    try {
      const type = (await this.fs.readFile(file)).trim();
      return type === '5' || type === '4' ? 'optical' : 'other';
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return 'gone';
      this.logger.warn(`cannot read ${file}; ${name.id} left alone: ${describeError(err)}`, { id: name.id });
      return 'other';
    }
  }
}

/** Blocked: no permission bits at all. Read-only: no write bit. Anything else counts as allowed. */
export function conditionOf(mode: number): PortCondition {
  const perms = mode & 0o777;
  if (perms === 0) return 'blocked';
  return (perms & 0o222) === 0 ? 'readonly' : 'allowed';
}

/** The permission bits for `to`, given the node's original (allowed) mode. */
export function targetMode(to: PortCondition, original: number): number {
  switch (to) {
    case 'blocked':
      return 0;
    case 'readonly':
      return original & 0o777 & ~0o222;
    case 'allowed':
      return original & 0o777;
  }
}
