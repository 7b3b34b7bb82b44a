import { USB_CLASS_TABLE, USB_REFINEMENT_TABLE } from './usb-classes.js';

/**
 * What a USB device is, for people: the violation log shows "USB flash drive with hidden
 * keyboard interface" next to the rule trace, and the console filters by category.
 *
 * Classification reads only class codes, never the name or the vendor id: both are chosen by
 * whoever built the device, and a keystroke injector calls itself "SanDisk Cruzer" as easily
 * as anything else. The interface types are what the operating system binds drivers to, so
 * they are what the device can actually do.
 */

/** One interface type as USBGuard prints it in `with-interface`: `08:06:50`. */
export interface UsbInterfaceType {
  readonly cls: number;
  readonly subclass: number;
  readonly protocol: number;
}

/** Every category, most security-relevant first; `category` is the first one a device has. */
export const DEVICE_CATEGORIES = [
  'storage',
  'optical',
  'phone',
  'network',
  'bluetooth',
  'serial',
  'keyboard',
  'mouse',
  'hid',
  'camera',
  'printer',
  'smartcard',
  'video',
  'audio',
  'wireless',
  'firmware',
  'vendor',
  'hub',
  'other',
] as const;
export type DeviceCategory = (typeof DEVICE_CATEGORIES)[number];

export interface DeviceClassification {
  readonly category: DeviceCategory;
  /** Every category found across the interfaces, deduplicated, in `DEVICE_CATEGORIES` order. */
  readonly categories: DeviceCategory[];
  readonly label: string;
  /** Storage that also types or networks: the classic BadUSB / PoisonTap shape. */
  readonly suspicious: boolean;
}

/**
 * The facts classification needs. `id` and `name` are accepted so a device record passes as
 * it is; `interfaces` is optional for the same reason (a device may not report any).
 */
export interface ClassifiableDevice {
  readonly id?: string;
  readonly name?: string;
  readonly interfaces?: readonly string[];
  /** bDeviceClass as `cc` or `cc:ss:pp` hex, used only when no interface type is usable. */
  readonly deviceClass?: string;
}

const TRIPLE = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i;
const SINGLE = /^([0-9a-f]{2})$/i;

/** Parses `08:06:50` (any case, surrounding blanks ignored); anything else is null, never a throw. */
export function parseInterfaceType(s: string): UsbInterfaceType | null {
  if (typeof s !== 'string') return null;
  const m = TRIPLE.exec(s.trim());
  if (m === null) return null;
  return { cls: hexByte(m[1]), subclass: hexByte(m[2]), protocol: hexByte(m[3]) };
}

const CLASS_NAMES: ReadonlyMap<number, string> = new Map(USB_CLASS_TABLE.map((e) => [e.code, e.name]));

export function usbClassName(cls: number): string {
  const known = CLASS_NAMES.get(cls);
  if (known !== undefined) return known;
  return isByte(cls) ? `unknown class ${hex2(cls)}` : 'unknown class';
}

/** e.g. "Mass storage: SCSI transparent, bulk-only" for 08:06:50, "Hub" for 09:00:07. */
export function usbInterfaceName(t: UsbInterfaceType): string {
  const base = usbClassName(t.cls);
  const inClass = USB_REFINEMENT_TABLE.filter((e) => e.cls === t.cls);
  const exact = inClass.find((e) => e.subclass === t.subclass && e.protocol === t.protocol);
  if (exact !== undefined) return `${base}: ${exact.name}`;
  const details = [
    inClass.find((e) => e.subclass === t.subclass && e.protocol === undefined),
    inClass.find((e) => e.subclass === undefined && e.protocol === t.protocol),
  ].flatMap((e) => (e === undefined ? [] : [e.name]));
  return details.length === 0 ? base : `${base}: ${details.join(', ')}`;
}

interface CategoryRule {
  readonly cls: number;
  readonly subclass: number | null;
  readonly protocol: number | null;
  readonly category: DeviceCategory;
  readonly label: string;
  /** A CDC data interface only carries the bytes of its control interface; it says nothing alone. */
  readonly companion?: boolean;
}

/**
 * `cc:ss:pp` with `*` for any. Among the rules an interface matches, the most specific wins
 * (a subclass outweighs a protocol, because for storage the command set says more than the
 * transport). When several interfaces land in one category, the rule listed first gives the
 * label, so the more telling label comes first ("Android phone (ADB)" over "phone (MTP)").
 */
const CATEGORY_RULES: readonly CategoryRule[] = [
  rule('08:02:*', 'optical', 'USB optical drive (CD/DVD)'),
  rule('08:04:*', 'storage', 'USB floppy drive'),
  rule('08:03:*', 'storage', 'USB tape drive'),
  rule('08:05:*', 'storage', 'USB removable drive'),
  rule('08:*:62', 'storage', 'USB disk (UAS)'),
  rule('08:*:*', 'storage', 'USB flash drive'),

  rule('ff:42:01', 'phone', 'Android phone (ADB)'),
  rule('ff:42:03', 'phone', 'Android phone (fastboot)'),
  rule('ff:fe:02', 'phone', 'iPhone / iPad'),
  rule('06:*:*', 'phone', 'phone (MTP)'),
  rule('ef:01:01', 'phone', 'phone (ActiveSync)'),
  rule('ef:01:02', 'phone', 'PDA (Palm Sync)'),
  rule('02:08:*', 'phone', 'mobile phone (CDC handset)'),
  rule('02:0b:*', 'phone', 'phone (OBEX)'),

  rule('02:0e:*', 'network', 'mobile broadband modem'),
  rule('02:02:ff', 'network', 'USB network adapter'),
  rule('e0:01:03', 'network', 'USB network adapter'),
  rule('ef:04:*', 'network', 'USB network adapter'),
  rule('02:06:*', 'network', 'USB network adapter'),
  rule('02:07:*', 'network', 'USB network adapter'),
  rule('02:0a:*', 'network', 'USB network adapter'),
  rule('02:0c:*', 'network', 'USB network adapter'),
  rule('02:0d:*', 'network', 'USB network adapter'),

  rule('e0:01:01', 'bluetooth', 'Bluetooth adapter'),
  rule('e0:01:04', 'bluetooth', 'Bluetooth adapter'),

  rule('02:*:*', 'serial', 'USB serial adapter / modem'),
  { ...rule('0a:*:*', 'serial', 'USB serial adapter / modem'), companion: true },

  // 03:01:* counts as a keyboard: the boot subclass is what BIOS and OS keyboard drivers accept.
  rule('03:01:01', 'keyboard', 'keyboard'),
  rule('03:*:01', 'keyboard', 'keyboard'),
  rule('03:01:*', 'keyboard', 'keyboard'),
  rule('03:01:02', 'mouse', 'mouse'),
  rule('03:*:02', 'mouse', 'mouse'),
  rule('03:*:*', 'hid', 'HID device'),

  rule('0e:*:*', 'camera', 'webcam'),
  rule('ef:05:*', 'camera', 'machine-vision camera'),
  rule('07:*:*', 'printer', 'printer'),
  rule('0b:*:*', 'smartcard', 'smart card reader'),
  rule('10:*:*', 'video', 'audio/video device'),
  rule('13:*:*', 'video', 'USB display'),
  rule('01:*:*', 'audio', 'USB audio device'),
  rule('fe:02:*', 'wireless', 'IrDA adapter'),
  rule('e0:*:*', 'wireless', 'wireless controller'),
  rule('fe:01:02', 'firmware', 'device in firmware-update mode (DFU)'),
  rule('fe:01:*', 'firmware', 'device with firmware-update interface (DFU)'),
  rule('ff:*:*', 'vendor', 'vendor-specific device'),
  rule('09:*:*', 'hub', 'USB hub'),

  rule('fe:03:*', 'other', 'test and measurement instrument'),
  rule('0f:*:*', 'other', 'personal healthcare device'),
  rule('dc:*:*', 'other', 'USB diagnostic device'),
  rule('11:*:*', 'other', 'USB-C billboard device'),
];

const UNKNOWN: CategoryRule = { cls: -1, subclass: null, protocol: null, category: 'other', label: 'USB device' };

/** How another category is named after the main label ("webcam + audio"); null: not worth naming. */
const SUFFIX_NOUNS: Readonly<Record<DeviceCategory, string | null>> = {
  storage: 'storage',
  optical: 'optical drive',
  phone: 'phone',
  network: 'network',
  bluetooth: 'Bluetooth',
  serial: 'serial',
  keyboard: 'keyboard',
  mouse: 'mouse',
  hid: 'HID',
  camera: 'camera',
  printer: 'printer',
  smartcard: 'smart card reader',
  video: 'video',
  audio: 'audio',
  wireless: 'wireless',
  firmware: null,
  vendor: null,
  hub: null,
  other: null,
};

const HID_FAMILY: ReadonlySet<DeviceCategory> = new Set(['keyboard', 'mouse', 'hid']);

interface Match {
  readonly type: { readonly cls: number; readonly subclass: number | null; readonly protocol: number | null };
  readonly rule: CategoryRule;
  readonly index: number;
}

export function classifyDevice(d: ClassifiableDevice): DeviceClassification {
  const types = uniqueTypes(Array.isArray(d.interfaces) ? d.interfaces : []);
  if (types.length === 0) return classifyByDeviceClass(d.deviceClass);

  const all = types.map(matchRule);
  const standalone = all.filter((m) => m.rule.companion !== true);
  const matches = standalone.length > 0 ? standalone : all;

  // First match per category in rule order: that is the one whose label speaks for the category.
  const best = new Map<DeviceCategory, Match>();
  for (const m of [...matches].sort((a, b) => a.index - b.index)) {
    if (!best.has(m.rule.category)) best.set(m.rule.category, m);
  }
  const categories = DEVICE_CATEGORIES.filter((c) => best.has(c));
  const category = categories[0] ?? 'other';
  const labelOf = (c: DeviceCategory): string => best.get(c)?.rule.label ?? 'USB device';

  const hidden = hiddenInterfaces(matches);
  const storage = best.get('storage') ?? best.get('optical');
  if (storage !== undefined && hidden.length > 0) {
    const what = joinWords(hidden);
    return {
      category,
      categories,
      label: `${storage.rule.label} with hidden ${what} interface${hidden.length > 1 ? 's' : ''}`,
      suspicious: true,
    };
  }
  return { category, categories, label: composeLabel(categories, labelOf), suspicious: false };
}

function composeLabel(categories: readonly DeviceCategory[], labelOf: (c: DeviceCategory) => string): string {
  const [primary = 'other'] = categories;
  const has = (c: DeviceCategory): boolean => categories.includes(c);
  let base = labelOf(primary);
  let tail = '';
  const named = new Set<DeviceCategory>([primary]);

  if (primary === 'keyboard' || primary === 'mouse') {
    // Receivers and gaming mice carry keyboard, mouse and vendor HID interfaces: one device.
    base = has('keyboard') && has('mouse') ? 'keyboard and mouse' : base;
    HID_FAMILY.forEach((c) => named.add(c));
  } else if (primary === 'hid') {
    // A plain HID interface next to audio or a camera is almost always its buttons.
    const host = categories.find((c) => !HID_FAMILY.has(c) && SUFFIX_NOUNS[c] !== null);
    if (host !== undefined) {
      base = labelOf(host);
      tail = ' with HID controls';
      named.add(host);
    }
  }
  const extras = categories.filter((c) => !named.has(c)).flatMap((c) => SUFFIX_NOUNS[c] ?? []);
  return [base, ...extras].join(' + ') + tail;
}

/**
 * HID and network interfaces on a storage device, by name. Any HID counts, not only boot
 * keyboards: a report descriptor can type keys whatever the subclass says, and USBGuard's own
 * example policy rejects 08:*:* together with 03:00:*.
 */
function hiddenInterfaces(matches: readonly Match[]): string[] {
  const parts = new Set<string>();
  for (const { type, rule: r } of matches) {
    if (type.cls === 0x03) {
      if (type.protocol === 0x01 || (type.subclass === 0x01 && type.protocol !== 0x02)) parts.add('keyboard');
      else if (type.protocol === 0x02) parts.add('mouse');
      else parts.add('HID');
    }
    if (r.category === 'network') parts.add('network');
  }
  return ['keyboard', 'mouse', 'HID', 'network'].filter((p) => parts.has(p));
}

function classifyByDeviceClass(deviceClass: string | undefined): DeviceClassification {
  const type = parseDeviceClass(deviceClass);
  // 00 and ef:02:01 are the composite markers: "look at the interfaces", which we do not have.
  const found = type === null || type.cls === 0x00 || type.cls === 0xef ? UNKNOWN : matchRule(type).rule;
  return { category: found.category, categories: [found.category], label: found.label, suspicious: false };
}

function parseDeviceClass(s: string | undefined): Match['type'] | null {
  if (typeof s !== 'string') return null;
  const single = SINGLE.exec(s.trim());
  if (single !== null) return { cls: hexByte(single[1]), subclass: null, protocol: null };
  return parseInterfaceType(s);
}

function matchRule(type: Match['type']): Match {
  let found: Match = { type, rule: UNKNOWN, index: CATEGORY_RULES.length };
  let score = -1;
  for (const [index, r] of CATEGORY_RULES.entries()) {
    if (r.cls !== type.cls) continue;
    if (r.subclass !== null && r.subclass !== type.subclass) continue;
    if (r.protocol !== null && r.protocol !== type.protocol) continue;
    const s = (r.subclass !== null ? 2 : 0) + (r.protocol !== null ? 1 : 0);
    if (s > score) {
      found = { type, rule: r, index };
      score = s;
    }
  }
  return found;
}

function uniqueTypes(interfaces: readonly unknown[]): UsbInterfaceType[] {
  const seen = new Map<string, UsbInterfaceType>();
  for (const raw of interfaces) {
    const t = typeof raw === 'string' ? parseInterfaceType(raw) : null;
    if (t !== null) seen.set(`${t.cls}:${t.subclass}:${t.protocol}`, t);
  }
  return [...seen.values()];
}

/** Builds a table row; a typo in the table must fail loudly at load, not classify nothing. */
function rule(pattern: string, category: DeviceCategory, label: string): CategoryRule {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}|\*):([0-9a-f]{2}|\*)$/.exec(pattern);
  if (m === null) throw new Error(`bad category rule pattern "${pattern}"`);
  const field = (p: string | undefined): number | null => (p === '*' ? null : hexByte(p));
  return { cls: hexByte(m[1]), subclass: field(m[2]), protocol: field(m[3]), category, label };
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function hexByte(s: string | undefined): number {
  return s !== undefined && /^[0-9a-f]{2}$/i.test(s) ? Number.parseInt(s, 16) : Number.NaN;
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
