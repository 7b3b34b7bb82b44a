/**
 * Kernel names of USB objects, and the only way paths under the sysfs root are built from them.
 *
 *     usb1        root hub of bus 1
 *     1-2         device on port 2 of bus 1's root hub
 *     1-2.3.1     behind two more hubs (at most 7 tiers, ports 1..255)
 *     1-2:1.0     interface 0 of configuration 1 of device 1-2 (`1-0:1.0` is usb1's own)
 *
 * Nothing else is accepted, so a name coming from an event, a policy or a peer can never carry
 * `/`, `..` or a NUL into a path.
 */

const NUM = '(?:0|[1-9][0-9]{0,2})';
const PORT = '(?:[1-9][0-9]{0,2})';
const ROOT_HUB = new RegExp(`^usb${NUM}$`);
const DEVICE = new RegExp(`^${NUM}-${PORT}(?:\\.${PORT}){0,6}$`);
const INTERFACE = new RegExp(`^${NUM}-(?:0|${PORT}(?:\\.${PORT}){0,6}):${NUM}\\.${NUM}$`);

export function isRootHubName(name: string): boolean {
  return ROOT_HUB.test(name);
}

/** A root hub or a device (not an interface). */
export function isDeviceName(name: string): boolean {
  return ROOT_HUB.test(name) || DEVICE.test(name);
}

export function isInterfaceName(name: string): boolean {
  return INTERFACE.test(name);
}

/** The bus a device or interface name belongs to: `usb3` → 3, `1-2.3` → 1, `2-1:1.0` → 2. */
export function busOf(name: string): number {
  if (ROOT_HUB.test(name)) return Number(name.slice(3));
  if (DEVICE.test(name) || INTERFACE.test(name)) return Number(name.slice(0, name.indexOf('-')));
  throw new RangeError(`not a USB device or interface name: ${JSON.stringify(name)}`);
}

/** The device an interface belongs to: `1-2:1.0` → `1-2`, `1-0:1.0` → `usb1`. */
export function deviceOfInterface(name: string): string {
  if (!INTERFACE.test(name)) throw new RangeError(`not a USB interface name: ${JSON.stringify(name)}`);
  const dev = name.slice(0, name.indexOf(':'));
  return dev.endsWith('-0') ? `usb${dev.slice(0, -2)}` : dev;
}

/**
 * Ordering USBGuard uses when it enumerates (`ueventEnumerateComparePath`): root hubs first,
 * then shorter names (parents) before longer ones, then by name.
 */
export function compareUsbNames(a: string, b: string): number {
  const ra = a.startsWith('usb');
  const rb = b.startsWith('usb');
  if (ra !== rb) return ra ? -1 : 1;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
