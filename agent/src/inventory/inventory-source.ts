import si from 'systeminformation';
import { MailAccountDiscovery } from '../mail/accounts/mail-account-discovery.js';
import type { MailAccount } from '../mail/accounts/mail-account.js';
import { PackageManagerSoftwareLister, type SoftwareLister } from './software-lister.js';

/*
 * The slice of systeminformation (5.x) the inventory calls, field for field what the mappers
 * read (STYLE §3). Names and shapes are those of `systeminformation/lib/index.d.ts`; where the
 * library returns something its typings do not admit, the slice says so (see `pid`).
 */

export interface SiSystem {
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  readonly uuid: string;
  readonly virtual: boolean;
}

export interface SiBios {
  readonly vendor: string;
  readonly version: string;
}

export interface SiCpu {
  readonly manufacturer: string;
  readonly brand: string;
  readonly cores: number;
  readonly physicalCores: number;
}

export interface SiMem {
  readonly total: number;
}

export interface SiOs {
  readonly platform: string;
  readonly distro: string;
  readonly release: string;
  readonly codename: string;
  readonly kernel: string;
  readonly arch: string;
  readonly hostname: string;
  readonly fqdn: string;
}

export interface SiUser {
  readonly user: string;
  readonly tty: string;
  /** `2026-11-25` on Linux (`who` under LC_ALL=C); locale-formatted on Windows. */
  readonly date: string;
  readonly time: string;
  readonly ip: string;
}

export interface SiNetworkInterface {
  readonly iface: string;
  readonly ip4: string;
  readonly ip6: string;
  readonly mac: string;
  readonly internal: boolean;
  readonly operstate: string;
  readonly type: string;
  /** Mbit/s; null or -1 when unknown. */
  readonly speed: number | null;
  readonly default: boolean;
}

export interface SiNetworkConnection {
  readonly protocol: string;
  readonly localAddress: string;
  /** A string: `"22"`, or `"*"` on some platforms. */
  readonly localPort: string;
  readonly peerAddress: string;
  readonly peerPort: string;
  /** `LISTEN`, `ESTABLISHED`…; '' for UDP sockets on Windows. */
  readonly state: string;
  /** Typed `number` upstream, but null when netstat shows `-` (another user's process). */
  readonly pid: number | null;
  readonly process: string;
}

export interface SiUsb {
  /** `vvvv:pppp` on Linux; on Windows only the index in the list (the PnP id is in `deviceId`). */
  readonly id: number | string;
  /** The device number on its bus on Linux (changes on replug); the PnP device id on Windows. */
  readonly deviceId: number | string | null;
  readonly name: string;
  readonly type: string;
  readonly vendor: string;
  readonly manufacturer: string;
  /** null on Windows. */
  readonly serialNumber: string | null;
}

/** The systeminformation calls the inventory makes. */
export interface SystemInformation {
  system(): Promise<SiSystem>;
  bios(): Promise<SiBios>;
  cpu(): Promise<SiCpu>;
  mem(): Promise<SiMem>;
  osInfo(): Promise<SiOs>;
  users(): Promise<readonly SiUser[]>;
  networkInterfaces(): Promise<readonly SiNetworkInterface[]>;
  networkConnections(): Promise<readonly SiNetworkConnection[]>;
  usb(): Promise<readonly SiUsb[]>;
}

/** The mail accounts of the PC's users (MailAccountDiscovery fits). */
export interface MailAccountSource {
  discover(): Promise<{ readonly accounts: readonly MailAccount[]; readonly total: number; readonly problems: readonly string[] }>;
}

/** Where collectInventory reads the machine from: systeminformation, the package manager, the mail clients' files. */
export interface InventorySource {
  readonly system: SystemInformation;
  readonly software: SoftwareLister;
  readonly mail: MailAccountSource;
}

/**
 * The real source. systeminformation is CommonJS; from ESM under Node 20 its default import is
 * `module.exports`, the object carrying every function.
 */
export function systemInformationSource(
  software: SoftwareLister = new PackageManagerSoftwareLister(),
  mail: MailAccountSource = new MailAccountDiscovery(),
): InventorySource {
  return {
    system: {
      system: () => si.system(),
      bios: () => si.bios(),
      cpu: () => si.cpu(),
      mem: () => si.mem(),
      osInfo: () => si.osInfo(),
      users: () => si.users(),
      networkInterfaces: () => si.networkInterfaces(),
      networkConnections: () => si.networkConnections(),
      usb: () => si.usb(),
    },
    software,
    mail,
  };
}
