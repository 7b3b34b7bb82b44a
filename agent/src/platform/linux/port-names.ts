import type { PortClass } from '@portcullis/shared';

/**
 * Kernel names of the device nodes the agent switches, and nothing else: a path is only ever
 * built from a name that matches here, so no name can reach outside the device folder.
 *
 *     ttyS0 ttyUSB0 ttyACM0   serial      (on-board UART, USB serial adapter, USB CDC ACM modem)
 *     lp0 parport0            parallel    (printer character device, raw ppdev access)
 *     sr0                     optical     (CD/DVD/BD drive, a block device)
 *     sg1                     optical     (the drive's SCSI generic node; only when it belongs to an sr drive)
 */
const NODE_NAME = /^(ttyS|ttyUSB|ttyACM|lp|parport|sr|sg)(\d{1,4})$/;
export const RFKILL_NAME = /^rfkill\d{1,6}$/;

export type NodeKind = 'ttyS' | 'ttyUSB' | 'ttyACM' | 'lp' | 'parport' | 'sr' | 'sg';

export interface NodeName {
  readonly id: string;
  readonly kind: NodeKind;
  readonly portClass: PortClass;
  /** The kernel's line or unit number: 0 for ttyS0. */
  readonly index: number;
}

const CLASS_OF: { readonly [K in NodeKind]: PortClass } = {
  ttyS: 'serial',
  ttyUSB: 'serial',
  ttyACM: 'serial',
  lp: 'parallel',
  parport: 'parallel',
  sr: 'optical',
  sg: 'optical',
};

const LABEL_OF: { readonly [K in NodeKind]: string } = {
  ttyS: 'Serial port',
  ttyUSB: 'USB serial port',
  ttyACM: 'USB modem port',
  lp: 'Parallel printer port',
  parport: 'Parallel port',
  sr: 'Optical drive',
  sg: 'Optical drive SCSI generic node',
};

/** `ttyS0` → serial, kind ttyS, index 0; anything that is not a switched node name → null. */
export function parseNodeName(id: string): NodeName | null {
  const m = NODE_NAME.exec(id);
  if (m === null) return null;
  const kind = m[1] as NodeKind;
  return { id, kind, portClass: CLASS_OF[kind], index: Number(m[2]) };
}

export function nodeLabel(name: NodeName): string {
  return `${LABEL_OF[name.kind]} ${name.id}`;
}

/** sr0 is a block device; every other switched node is a character device. */
export function expectedNodeType(name: NodeName): 'block' | 'char' {
  return name.kind === 'sr' ? 'block' : 'char';
}

/**
 * A radio's `name` is whatever its driver chose ("hci0", "tpacpi_bluetooth_sw"); it goes into
 * labels and logs only when it is short printable ASCII.
 */
export function safeRadioName(raw: string): string | null {
  const name = raw.trim();
  return /^[\x21-\x7e]{1,64}$/.test(name) ? name : null;
}

/** `0o660` → `0660`. */
export function formatMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
