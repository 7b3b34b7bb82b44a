import { constants } from 'node:fs';
import { chmod, lstat, open, readdir, readFile } from 'node:fs/promises';

/** The facts of a file `lstat` gives that port control looks at. */
export interface PortFileStat {
  readonly mode: number;
  readonly ino: number;
  /** The device number a node stands for: a node re-created by udev keeps it, a different device does not. */
  readonly rdev: number;
  isFile(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * The slice of the file system port control uses (STYLE §3). Tests pass a copy with one method
 * changed (a `chmod` that drops the write) to show that read-back catches it.
 */
export interface PortFs {
  readdir(dir: string): Promise<string[]>;
  /** Text of a sysfs attribute or small file, latin1. */
  readFile(file: string): Promise<string>;
  lstat(path: string): Promise<PortFileStat>;
  chmod(path: string, mode: number): Promise<void>;
  /** Writes an existing sysfs attribute; never creates a file. */
  writeAttribute(file: string, value: string): Promise<void>;
}

export const NODE_PORT_FS: PortFs = {
  readdir: (dir) => readdir(dir),
  readFile: (file) => readFile(file, 'latin1'),
  lstat: (path) => lstat(path),
  chmod: (path, mode) => chmod(path, mode),
  writeAttribute: async (file, value) => {
    // No O_CREAT: on a real sysfs every attribute exists, and on a wrong path we must fail.
    const handle = await open(file, constants.O_WRONLY | constants.O_TRUNC);
    try {
      await handle.write(value);
    } finally {
      await handle.close();
    }
  },
};

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
