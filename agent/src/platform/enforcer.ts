import { ErrorCodes } from '@portcullis/shared';
/**
 * What the agent does to devices. Every method writes, then reads the value back, and throws an
 * `EnforcementError` when the operating system did not take it: an enforcer fails closed and says
 * so (STYLE §9), it never reports a change that did not happen.
 */
export interface Enforcer {
  /** New devices on these root hubs stay unauthorized until decided (`authorized_default=0`). */
  failClosed(rootHubs: readonly string[]): Promise<void>;
  authorize(name: string): Promise<void>;
  deauthorize(name: string): Promise<void>;
  /** Logically disconnects the device; it comes back only when replugged. */
  remove(name: string): Promise<void>;
  setInterfaceAuthorized(interfaceName: string, authorized: boolean): Promise<void>;
  /**
   * Whether interfaces of devices authorized from now on start authorized. The setting belongs to
   * the bus, so `name` may be the root hub (`usb1`) or any device on it (`1-2.3`).
   */
  interfaceDefault(name: string, authorized: boolean): Promise<void>;
  /**
   * The interfaces the device has now (present only while it is configured), each with its
   * `cc:ss:pp` type, so per-interface authorization can pick them by type. Reads only.
   */
  listInterfaces(name: string): Promise<InterfaceState[]>;
  /** How many interfaces the device's active configuration has (`bNumInterfaces`), or null if unknown. */
  interfaceCount(name: string): Promise<number | null>;
}

export interface InterfaceState {
  /** `1-2:1.0` */
  readonly name: string;
  /** `03:01:01` */
  readonly type: string;
  readonly authorized: boolean;
}

export const ENFORCEMENT_ERROR_CODE = ErrorCodes.ENFORCEMENT;

/**
 * - `refused`: the write itself failed (the kernel said no, or the attribute is not writable);
 * - `not-applied`: the write went through but reading back shows the old state;
 * - `gone`: the device or interface disappeared (unplugged) before the write;
 * - `invalid-name`: the name is not a kernel USB name, so no path was built from it.
 */
export type EnforcementFailure = 'refused' | 'not-applied' | 'gone' | 'invalid-name';

/**
 * A write the operating system refused or did not apply. `file` names what was written so the
 * event and the log say exactly which device and attribute stayed as they were.
 */
export class EnforcementError extends Error {
  readonly code = ENFORCEMENT_ERROR_CODE;
  readonly file: string;
  readonly reason: EnforcementFailure;

  constructor(file: string, message: string, options: { reason: EnforcementFailure; cause?: unknown }) {
    super(`${file}: ${message}`, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'EnforcementError';
    this.file = file;
    this.reason = options.reason;
  }
}
