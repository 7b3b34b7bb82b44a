import type {
  HardwareSection,
  ListeningPort,
  MailSection,
  NetworkInterfaceEntry,
  NetworkSection,
  OsSection,
  PortsSection,
  SoftwareSection,
  UsbDeviceEntry,
  UsbSection,
  UserSession,
  UsersSection,
} from './inventory-model.js';
import type { MailAccountSource, SiBios, SiCpu, SiMem, SiNetworkConnection, SiNetworkInterface, SiOs, SiSystem, SiUsb, SiUser } from './inventory-source.js';
import type { SoftwareList } from './software-lister.js';

/*
 * Pure mappings from systeminformation's shapes to the inventory sections. The library fills
 * unknown values with '', '-', null or -1 depending on platform and field, and what it returns at
 * run time does not always match its typings, so every field is read defensively: a wrong type
 * becomes the empty value, never an exception and never `undefined` in the JSON.
 */

/** Long enough for any real model name or serial; bounds what a lying DMI table can cost. */
const MAX_TEXT_CHARS = 256;

/** Text, trimmed and bounded; '' for anything that is not text or is systeminformation's '-' placeholder. */
export function cleanText(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
  const text = value.trim();
  if (text === '-') return '';
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
}

/** A count or size: a finite non-negative integer, else 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listOf<T>(items: readonly T[]): { total: number; truncated: false } {
  return { total: items.length, truncated: false };
}

export function toHardwareSection(system: SiSystem, bios: SiBios, cpu: SiCpu, mem: SiMem): HardwareSection {
  return {
    manufacturer: cleanText(system.manufacturer),
    model: cleanText(system.model),
    serial: cleanText(system.serial),
    uuid: cleanText(system.uuid),
    virtual: system.virtual === true,
    biosVendor: cleanText(bios.vendor),
    biosVersion: cleanText(bios.version),
    cpuManufacturer: cleanText(cpu.manufacturer),
    cpuBrand: cleanText(cpu.brand),
    cpuCores: count(cpu.cores),
    cpuPhysicalCores: count(cpu.physicalCores),
    memoryTotalBytes: count(mem.total),
  };
}

export function toOsSection(os: SiOs): OsSection {
  const fqdn = cleanText(os.fqdn);
  return {
    platform: cleanText(os.platform),
    distro: cleanText(os.distro),
    release: cleanText(os.release),
    codename: cleanText(os.codename),
    kernel: cleanText(os.kernel),
    arch: cleanText(os.arch),
    hostname: cleanText(os.hostname),
    ...(fqdn === '' ? {} : { fqdn }),
  };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CLOCK_TIME = /^(\d{1,2}):(\d{2})(:\d{2})?$/;

/** `2026-11-25` + `8:02` → `2026-11-25T08:02`; other locales' dates are kept as written. */
function loginDate(date: string, time: string): string {
  const clock = CLOCK_TIME.exec(time);
  if (ISO_DATE.test(date) && clock) return `${date}T${(clock[1] ?? '').padStart(2, '0')}:${clock[2] ?? ''}${clock[3] ?? ''}`;
  return `${date} ${time}`.trim();
}

/**
 * Logged-in sessions, from `who --ips` on Linux, e.g.
 * `{"user":"admin","tty":"pts/0","date":"2026-11-25","time":"9:41","ip":"10.20.0.5","command":"-bash"}`.
 * Sorted by user, tty, login; the same session seen twice is kept once. `command` (what the user
 * runs right now) is left out: it changes by the minute.
 */
export function toUsersSection(users: readonly SiUser[]): UsersSection {
  const seen = new Set<string>();
  const sessions: UserSession[] = [];
  for (const u of users) {
    const session: UserSession = {
      user: cleanText(u.user),
      tty: cleanText(u.tty),
      loginDate: loginDate(cleanText(u.date), cleanText(u.time)),
      from: cleanText(u.ip),
    };
    if (session.user === '') continue;
    const key = JSON.stringify(session);
    if (seen.has(key)) continue;
    seen.add(key);
    sessions.push(session);
  }
  sessions.sort((a, b) => compareText(a.user, b.user) || compareText(a.tty, b.tty) || compareText(a.loginDate, b.loginDate) || compareText(a.from, b.from));
  return { ...listOf(sessions), sessions };
}

/** Interfaces other than loopback/internal ones, sorted by name. */
export function toNetworkSection(interfaces: readonly SiNetworkInterface[]): NetworkSection {
  const entries: NetworkInterfaceEntry[] = interfaces
    .filter((i) => i.internal !== true && cleanText(i.iface) !== '' && cleanText(i.iface) !== 'lo')
    .map((i) => ({
      iface: cleanText(i.iface),
      mac: cleanText(i.mac).toLowerCase(),
      ip4: cleanText(i.ip4),
      ip6: cleanText(i.ip6),
      type: cleanText(i.type),
      operstate: cleanText(i.operstate),
      speed: typeof i.speed === 'number' && Number.isFinite(i.speed) && i.speed > 0 ? i.speed : null,
      default: i.default === true,
    }));
  entries.sort((a, b) => compareText(a.iface, b.iface) || compareText(a.mac, b.mac));
  return { ...listOf(entries), interfaces: entries };
}

/** A UDP socket with no peer: Windows leaves the state empty, `ss` says UNCONN, a peer port is `*`. */
function isUnconnectedUdp(c: SiNetworkConnection, protocol: string): boolean {
  if (!protocol.startsWith('udp')) return false;
  const state = cleanText(c.state).toUpperCase();
  const peerPort = cleanText(c.peerPort);
  return state === '' || state === 'UNCONN' || state === 'LISTEN' || peerPort === '*' || peerPort === '' || peerPort === '0';
}

function portNumber(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * Listening sockets: TCP in state LISTEN and unconnected UDP, from networkConnections(), which
 * also returns every established connection (those change by the second and are no inventory).
 * Rows as systeminformation gives them (from `netstat -tunap` on Linux, `netstat -nao` on Windows):
 *
 *     {"protocol":"tcp","localAddress":"0.0.0.0","localPort":"22","peerAddress":"0.0.0.0",
 *      "peerPort":"*","state":"LISTEN","pid":812,"process":"sshd"}
 *     {"protocol":"udp","localAddress":"0.0.0.0","localPort":"123","peerAddress":"*",
 *      "peerPort":"*","state":"","pid":1788,"process":""}
 *
 * Sorted by protocol, port, address, process; duplicates (one socket reported twice) removed.
 */
export function toPortsSection(connections: readonly SiNetworkConnection[]): PortsSection {
  const seen = new Set<string>();
  const listening: ListeningPort[] = [];
  for (const c of connections) {
    const protocol = cleanText(c.protocol).toLowerCase();
    const isTcpListener = protocol.startsWith('tcp') && cleanText(c.state).toUpperCase() === 'LISTEN';
    if (!isTcpListener && !isUnconnectedUdp(c, protocol)) continue;
    const localPort = portNumber(cleanText(c.localPort));
    if (localPort === undefined) continue;
    const pid = typeof c.pid === 'number' && Number.isSafeInteger(c.pid) && c.pid > 0 ? c.pid : undefined;
    const port: ListeningPort = {
      protocol,
      localAddress: cleanText(c.localAddress),
      localPort,
      ...(pid === undefined ? {} : { pid }),
      process: cleanText(c.process),
    };
    const key = JSON.stringify([port.protocol, port.localAddress, port.localPort, port.pid ?? null, port.process]);
    if (seen.has(key)) continue;
    seen.add(key);
    listening.push(port);
  }
  listening.sort(
    (a, b) =>
      compareText(a.protocol, b.protocol) ||
      a.localPort - b.localPort ||
      compareText(a.localAddress, b.localAddress) ||
      compareText(a.process, b.process) ||
      (a.pid ?? 0) - (b.pid ?? 0),
  );
  return { ...listOf(listening), listening };
}

/**
 * USB devices sorted by id, name, serial. Bus and device numbers are left out on purpose: they
 * change on every replug and would make a delta of nothing.
 */
export function toUsbSection(devices: readonly SiUsb[]): UsbSection {
  const entries: UsbDeviceEntry[] = devices.map((d) => ({
    id: usbId(d),
    name: cleanText(d.name),
    vendor: cleanText(d.vendor),
    manufacturer: cleanText(d.manufacturer),
    serial: cleanText(d.serialNumber),
    type: cleanText(d.type),
  }));
  entries.sort((a, b) => compareText(a.id, b.id) || compareText(a.name, b.name) || compareText(a.serial, b.serial));
  return { ...listOf(entries), devices: entries };
}

/** Windows numbers its list in `id` and puts the PnP device id in `deviceId`. */
function usbId(device: SiUsb): string {
  if (typeof device.id === 'string') return cleanText(device.id);
  return typeof device.deviceId === 'string' ? cleanText(device.deviceId) : '';
}

export function toSoftwareSection(list: SoftwareList): SoftwareSection {
  return { source: list.source, ...listOf(list.packages), packages: list.packages };
}

/** Problems are for people reading the console: a few, each a line. */
const MAX_MAIL_PROBLEMS = 50;
const MAX_PROBLEM_CHARS = 512;

/**
 * The mail accounts as discovery found them (already checked, sorted, deduplicated and capped).
 * `total` counts every account found, so a capped list says `truncated`.
 */
export function toMailSection(found: Awaited<ReturnType<MailAccountSource['discover']>>): MailSection {
  const accounts = [...found.accounts];
  const total = Number.isSafeInteger(found.total) && found.total > accounts.length ? found.total : accounts.length;
  const problems = found.problems
    .slice(0, MAX_MAIL_PROBLEMS)
    .map((p) => (p.length > MAX_PROBLEM_CHARS ? `${p.slice(0, MAX_PROBLEM_CHARS)}…` : p));
  return { total, truncated: total > accounts.length, accounts, problems };
}
