import type { MailAccount } from '../mail/accounts/mail-account.js';

/**
 * The inventory an agent reports: one JSON object whose top-level keys are sections. The server
 * stores a snapshot as it is and applies a delta as a shallow merge of top-level keys
 * (`{...current, ...changes}`), so a section is the unit of change: a delta carries each changed
 * section whole. Every value is plain JSON (no undefined, no Date: ISO strings).
 *
 *     {"collectedAt":"2026-11-25T10:00:00.000Z",
 *      "os":{"platform":"linux","distro":"Debian GNU/Linux","release":"12",…},
 *      "software":{"source":"dpkg","total":759,"truncated":false,"packages":[{"name":"adduser","version":"3.134"},…]},
 *      "ports":{"error":"timed out after 20000 ms"},
 *      "mail":{"total":1,"truncated":false,"problems":[],"accounts":[{"client":"thunderbird","user":"ahmed",
 *        "address":"ahmed.benali@interieur.gov.dz","incoming":{"protocol":"imap","host":"imap.interieur.gov.dz","port":993},
 *        "outgoing":{"host":"smtp.interieur.gov.dz","port":587},"source":"/home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js"}]}, …}
 */

export const INVENTORY_SECTIONS = ['hardware', 'os', 'users', 'software', 'network', 'ports', 'usb', 'mail'] as const;
export type InventorySectionName = (typeof INVENTORY_SECTIONS)[number];

/** What a section holds when its collector threw or timed out (collectors fail soft). */
export type SectionError = { readonly error: string };

/**
 * A list that may be cut so the inventory fits in one frame: `total` counts every entry found,
 * `truncated` says the list holds fewer than that.
 */
export type ListMeta = { readonly total: number; readonly truncated: boolean };

export type HardwareSection = {
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  readonly uuid: string;
  /** A virtual machine or container, as systeminformation detects it. */
  readonly virtual: boolean;
  readonly biosVendor: string;
  readonly biosVersion: string;
  readonly cpuManufacturer: string;
  readonly cpuBrand: string;
  /** Logical processors. */
  readonly cpuCores: number;
  readonly cpuPhysicalCores: number;
  readonly memoryTotalBytes: number;
};

export type OsSection = {
  readonly platform: string;
  readonly distro: string;
  readonly release: string;
  readonly codename: string;
  readonly kernel: string;
  readonly arch: string;
  readonly hostname: string;
  /** Left out when the system reports none. */
  readonly fqdn?: string;
};

export type UserSession = {
  readonly user: string;
  readonly tty: string;
  /** Local time of the PC as reported, e.g. `2026-11-25T08:02` (no offset is known). */
  readonly loginDate: string;
  /** The remote host of the session, '' for a local one. */
  readonly from: string;
};
export type UsersSection = ListMeta & { readonly sessions: readonly UserSession[] };

export const SOFTWARE_SOURCES = ['dpkg', 'rpm', 'none'] as const;
export type SoftwareSource = (typeof SOFTWARE_SOURCES)[number];
export type InstalledPackage = { readonly name: string; readonly version: string };
/** Packages sorted by name (then version). */
export type SoftwareSection = ListMeta & { readonly source: SoftwareSource; readonly packages: readonly InstalledPackage[] };

export type NetworkInterfaceEntry = {
  readonly iface: string;
  readonly mac: string;
  readonly ip4: string;
  readonly ip6: string;
  /** `wired`, `wireless`, `virtual`… as systeminformation names it. */
  readonly type: string;
  readonly operstate: string;
  /** Mbit/s, null when unknown. */
  readonly speed: number | null;
  /** The interface of the default route. */
  readonly default: boolean;
};
export type NetworkSection = ListMeta & { readonly interfaces: readonly NetworkInterfaceEntry[] };

export type ListeningPort = {
  /** `tcp`, `tcp6`, `udp`, `udp6` as the OS reports it. */
  readonly protocol: string;
  readonly localAddress: string;
  readonly localPort: number;
  /** Left out when the agent may not see the owning process. */
  readonly pid?: number;
  readonly process: string;
};
export type PortsSection = ListMeta & { readonly listening: readonly ListeningPort[] };

export type UsbDeviceEntry = {
  /** `vvvv:pppp` on Linux, the PnP device id on Windows. */
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly manufacturer: string;
  readonly serial: string;
  readonly type: string;
};
export type UsbSection = ListMeta & { readonly devices: readonly UsbDeviceEntry[] };

/**
 * The mail accounts configured for the PC's users (agent/src/mail/accounts), sorted by user,
 * client, address. The server judges the addresses (`mail.account.unapproved`). `problems` says
 * what could not be read (a damaged file, a link out of a home refused), file by file.
 */
export type MailSection = ListMeta & { readonly accounts: readonly MailAccount[]; readonly problems: readonly string[] };

/** Each section's value when its collector succeeded. */
export type InventorySections = {
  readonly hardware: HardwareSection;
  readonly os: OsSection;
  readonly users: UsersSection;
  readonly software: SoftwareSection;
  readonly network: NetworkSection;
  readonly ports: PortsSection;
  readonly usb: UsbSection;
  readonly mail: MailSection;
};

/** `collectedAt` is metadata: it is sent along but never makes a delta by itself. */
export type Inventory = { readonly collectedAt: string } & {
  readonly [K in InventorySectionName]: InventorySections[K] | SectionError;
};

/** The list each list section carries, the ones fitInventory may cut. */
export const SECTION_LISTS = {
  users: 'sessions',
  software: 'packages',
  network: 'interfaces',
  ports: 'listening',
  usb: 'devices',
  mail: 'accounts',
} as const satisfies Partial<Record<InventorySectionName, string>>;
export type ListSectionName = keyof typeof SECTION_LISTS;

export function isSectionError(value: unknown): value is SectionError {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
}
