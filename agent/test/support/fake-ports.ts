import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RadioSpec {
  readonly type?: string;
  readonly name?: string;
  readonly soft?: 0 | 1;
  readonly hard?: 0 | 1;
}

/**
 * A sysfs, a /dev and a state folder on disk, shaped like a PC with non-USB ports:
 *
 * - `sys/class/rfkill/rfkillN/{type,name,soft,hard,state}` as the rfkill class shows radios;
 * - `sys/class/tty/ttySN/type`: the UART type, `4` (16550A) for a real port, `0` for the
 *   phantom ports the 8250 driver registers without hardware;
 * - `sys/class/scsi_generic/sgN/device/type`: `5` for an optical drive's generic node, `0` for a disk's;
 * - `dev/<name>`: device nodes as regular files with the given modes (chmod works on them as on
 *   a node, but the control must be told `allowRegularFiles`).
 */
export class FakePorts {
  readonly sysfsRoot: string;
  readonly devRoot: string;
  readonly stateDir: string;

  private constructor(readonly root: string) {
    this.sysfsRoot = join(root, 'sys');
    this.devRoot = join(root, 'dev');
    this.stateDir = join(root, 'state');
  }

  static async create(): Promise<FakePorts> {
    const fake = new FakePorts(await mkdtemp(join(tmpdir(), 'portcullis-ports-')));
    await mkdir(join(fake.sysfsRoot, 'class', 'rfkill'), { recursive: true });
    await mkdir(join(fake.sysfsRoot, 'class', 'tty'), { recursive: true });
    await mkdir(join(fake.sysfsRoot, 'class', 'scsi_generic'), { recursive: true });
    await mkdir(fake.devRoot, { recursive: true });
    return fake;
  }

  /** Adds `rfkill<index>`; returns its id. */
  async addRadio(index: number, spec: RadioSpec = {}): Promise<string> {
    const id = `rfkill${index}`;
    const dir = join(this.sysfsRoot, 'class', 'rfkill', id);
    await mkdir(dir, { recursive: true });
    const soft = spec.soft ?? 0;
    const hard = spec.hard ?? 0;
    await writeFile(join(dir, 'type'), `${spec.type ?? 'bluetooth'}\n`);
    await writeFile(join(dir, 'name'), `${spec.name ?? `hci${index}`}\n`);
    await writeFile(join(dir, 'soft'), `${soft}\n`);
    await writeFile(join(dir, 'hard'), `${hard}\n`);
    // The obsolete `state`: 1 unblocked, 0 soft-blocked, 2 hard-blocked. Control must not use it.
    await writeFile(join(dir, 'state'), `${hard === 1 ? 2 : soft === 1 ? 0 : 1}\n`);
    return id;
  }

  async soft(id: string): Promise<string> {
    return (await readFile(join(this.sysfsRoot, 'class', 'rfkill', id, 'soft'), 'latin1')).trim();
  }

  async removeRadio(id: string): Promise<void> {
    await rm(join(this.sysfsRoot, 'class', 'rfkill', id), { recursive: true, force: true });
  }

  /** An on-board `ttyS<N>`: a node, plus its tty class entry with UART type 4 (real) or 0 (phantom). */
  async addSerial(id: string, options: { real?: boolean; mode?: number } = {}): Promise<void> {
    const dir = join(this.sysfsRoot, 'class', 'tty', id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'type'), options.real === false ? '0\n' : '4\n');
    await this.addNode(id, options.mode ?? 0o660);
  }

  /** An optical drive `sr<N>`, and its SCSI generic node when `generic` is given. */
  async addOptical(id: string, options: { mode?: number; generic?: string; genericMode?: number } = {}): Promise<void> {
    await this.addNode(id, options.mode ?? 0o660);
    if (options.generic !== undefined) await this.addGeneric(options.generic, 5, options.genericMode ?? 0o660);
  }

  /** A SCSI generic node with the SCSI device type of what it belongs to (5 optical, 0 disk). */
  async addGeneric(id: string, scsiType: number, mode = 0o660): Promise<void> {
    const dir = join(this.sysfsRoot, 'class', 'scsi_generic', id, 'device');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'type'), `${scsiType}\n`);
    await this.addNode(id, mode);
  }

  /**
   * A device node as a regular file with `mode`, as udev would create it. An existing node is
   * replaced by a new file (a new inode, made before the old one goes), as when a device is re-added.
   */
  async addNode(id: string, mode = 0o660): Promise<void> {
    const path = join(this.devRoot, id);
    const fresh = join(this.devRoot, `.${id}.new`);
    await writeFile(fresh, '');
    await chmod(fresh, mode);
    await rename(fresh, path);
  }

  async removeNode(id: string): Promise<void> {
    await rm(join(this.devRoot, id), { force: true });
  }

  async mode(id: string): Promise<number> {
    return (await stat(join(this.devRoot, id))).mode & 0o777;
  }

  cleanup(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}
