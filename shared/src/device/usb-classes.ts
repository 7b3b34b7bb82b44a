/**
 * USB-IF class codes (usb.org "Defined Class Codes") and the subclass/protocol values that say
 * what a device actually is. The codes are the ones USBGuard prints in `with-interface`
 * (`08:06:50` = class 08, subclass 06, protocol 50, all hex), so the names here line up with
 * the interface types security staff see in rules and in the violation log.
 *
 * Data only: lookups live in `classify.ts`, and which of these matter for security (and how a
 * device is labelled) is Portcullis policy, also kept there.
 */

export interface UsbClassEntry {
  readonly code: number;
  readonly name: string;
}

/** Base classes, as they appear in device (bDeviceClass) or interface (bInterfaceClass) descriptors. */
export const USB_CLASS_TABLE: readonly UsbClassEntry[] = [
  { code: 0x00, name: 'Per-interface (composite)' },
  { code: 0x01, name: 'Audio' },
  { code: 0x02, name: 'Communications (CDC control)' },
  { code: 0x03, name: 'HID (human interface device)' },
  { code: 0x05, name: 'Physical' },
  { code: 0x06, name: 'Still imaging (PTP/MTP)' },
  { code: 0x07, name: 'Printer' },
  { code: 0x08, name: 'Mass storage' },
  { code: 0x09, name: 'Hub' },
  { code: 0x0a, name: 'CDC data' },
  { code: 0x0b, name: 'Smart card' },
  { code: 0x0d, name: 'Content security' },
  { code: 0x0e, name: 'Video' },
  { code: 0x0f, name: 'Personal healthcare' },
  { code: 0x10, name: 'Audio/video' },
  { code: 0x11, name: 'Billboard' },
  { code: 0x12, name: 'USB Type-C bridge' },
  { code: 0x13, name: 'USB bulk display' },
  { code: 0x14, name: 'MCTP over USB' },
  { code: 0x3c, name: 'I3C' },
  { code: 0xdc, name: 'Diagnostic' },
  { code: 0xe0, name: 'Wireless controller' },
  { code: 0xef, name: 'Miscellaneous' },
  { code: 0xfe, name: 'Application specific' },
  { code: 0xff, name: 'Vendor specific' },
];

/**
 * A refinement within a class. An absent `subclass` or `protocol` means "any": mass-storage
 * transports (protocol) combine with any command set (subclass), so they are listed on their own.
 */
export interface UsbRefinementEntry {
  readonly cls: number;
  readonly subclass?: number;
  readonly protocol?: number;
  readonly name: string;
}

export const USB_REFINEMENT_TABLE: readonly UsbRefinementEntry[] = [
  // Audio
  { cls: 0x01, subclass: 0x01, name: 'audio control' },
  { cls: 0x01, subclass: 0x02, name: 'audio streaming' },
  { cls: 0x01, subclass: 0x03, name: 'MIDI streaming' },

  // CDC control: the subclass is the "model", which decides serial line versus network.
  { cls: 0x02, subclass: 0x01, name: 'direct line control model' },
  { cls: 0x02, subclass: 0x02, name: 'ACM (serial / modem)' },
  // Windows' RNDIS pretends to be ACM with a vendor protocol; Linux rndis_host matches exactly this.
  { cls: 0x02, subclass: 0x02, protocol: 0xff, name: 'RNDIS (Ethernet over USB)' },
  { cls: 0x02, subclass: 0x03, name: 'telephone control model' },
  { cls: 0x02, subclass: 0x04, name: 'multi-channel control model' },
  { cls: 0x02, subclass: 0x05, name: 'CAPI control model (ISDN)' },
  { cls: 0x02, subclass: 0x06, name: 'ECM (Ethernet)' },
  { cls: 0x02, subclass: 0x07, name: 'ATM networking' },
  { cls: 0x02, subclass: 0x08, name: 'wireless handset control model' },
  { cls: 0x02, subclass: 0x09, name: 'device management' },
  { cls: 0x02, subclass: 0x0a, name: 'mobile direct line model' },
  { cls: 0x02, subclass: 0x0b, name: 'OBEX' },
  { cls: 0x02, subclass: 0x0c, name: 'EEM (Ethernet emulation)' },
  { cls: 0x02, subclass: 0x0d, name: 'NCM (network control)' },
  { cls: 0x02, subclass: 0x0e, name: 'MBIM (mobile broadband)' },
  { cls: 0x0a, subclass: 0x00, protocol: 0x01, name: 'NCM data' },
  { cls: 0x0a, subclass: 0x00, protocol: 0x02, name: 'MBIM data' },

  // HID: protocol only means something on the boot subclass, but keystroke injectors set it anyway.
  { cls: 0x03, subclass: 0x01, name: 'boot interface' },
  { cls: 0x03, subclass: 0x01, protocol: 0x01, name: 'boot keyboard' },
  { cls: 0x03, subclass: 0x01, protocol: 0x02, name: 'boot mouse' },
  { cls: 0x03, subclass: 0x00, protocol: 0x01, name: 'keyboard' },
  { cls: 0x03, subclass: 0x00, protocol: 0x02, name: 'mouse' },

  // Still imaging: MTP phones and PTP cameras both present 06:01:01.
  { cls: 0x06, subclass: 0x01, protocol: 0x01, name: 'PTP/MTP' },

  { cls: 0x07, subclass: 0x01, protocol: 0x01, name: 'unidirectional' },
  { cls: 0x07, subclass: 0x01, protocol: 0x02, name: 'bidirectional' },
  { cls: 0x07, subclass: 0x01, protocol: 0x03, name: 'IEEE 1284.4' },
  { cls: 0x07, subclass: 0x01, protocol: 0x04, name: 'IPP over USB' },

  // Mass storage: subclass = command set, protocol = transport.
  { cls: 0x08, subclass: 0x01, name: 'RBC (flash)' },
  { cls: 0x08, subclass: 0x02, name: 'MMC-5 / ATAPI (optical CD/DVD)' },
  { cls: 0x08, subclass: 0x03, name: 'QIC-157 (tape)' },
  { cls: 0x08, subclass: 0x04, name: 'UFI (floppy)' },
  { cls: 0x08, subclass: 0x05, name: 'SFF-8070i (removable)' },
  { cls: 0x08, subclass: 0x06, name: 'SCSI transparent' },
  { cls: 0x08, subclass: 0x07, name: 'LSD FS' },
  { cls: 0x08, subclass: 0x08, name: 'IEEE 1667' },
  { cls: 0x08, protocol: 0x00, name: 'CBI with completion interrupt' },
  { cls: 0x08, protocol: 0x01, name: 'CBI without completion interrupt' },
  { cls: 0x08, protocol: 0x50, name: 'bulk-only' },
  { cls: 0x08, protocol: 0x62, name: 'UAS' },

  { cls: 0x09, subclass: 0x00, protocol: 0x00, name: 'full speed' },
  { cls: 0x09, subclass: 0x00, protocol: 0x01, name: 'high speed, single TT' },
  { cls: 0x09, subclass: 0x00, protocol: 0x02, name: 'high speed, multiple TT' },
  { cls: 0x09, subclass: 0x00, protocol: 0x03, name: 'SuperSpeed' },

  { cls: 0x0b, subclass: 0x00, protocol: 0x00, name: 'CCID' },

  { cls: 0x0e, subclass: 0x01, name: 'video control' },
  { cls: 0x0e, subclass: 0x02, name: 'video streaming' },
  { cls: 0x0e, subclass: 0x03, name: 'video interface collection' },

  { cls: 0xdc, subclass: 0x01, protocol: 0x01, name: 'USB 2 compliance' },
  { cls: 0xdc, subclass: 0x02, protocol: 0x00, name: 'debug target' },
  { cls: 0xdc, subclass: 0x02, protocol: 0x01, name: 'GNU remote debug' },

  { cls: 0xe0, subclass: 0x01, protocol: 0x01, name: 'Bluetooth' },
  { cls: 0xe0, subclass: 0x01, protocol: 0x02, name: 'UWB radio control' },
  { cls: 0xe0, subclass: 0x01, protocol: 0x03, name: 'RNDIS' },
  { cls: 0xe0, subclass: 0x01, protocol: 0x04, name: 'Bluetooth AMP' },
  { cls: 0xe0, subclass: 0x02, protocol: 0x01, name: 'host wire adapter' },
  { cls: 0xe0, subclass: 0x02, protocol: 0x02, name: 'device wire adapter' },
  { cls: 0xe0, subclass: 0x02, protocol: 0x03, name: 'device wire adapter (isochronous)' },

  { cls: 0xef, subclass: 0x01, protocol: 0x01, name: 'ActiveSync' },
  { cls: 0xef, subclass: 0x01, protocol: 0x02, name: 'Palm Sync' },
  { cls: 0xef, subclass: 0x02, protocol: 0x01, name: 'interface association' },
  { cls: 0xef, subclass: 0x02, protocol: 0x02, name: 'wire adapter multifunction peripheral' },
  { cls: 0xef, subclass: 0x03, protocol: 0x01, name: 'cable based association' },
  // Newer Android tethering and Linux gadgets announce RNDIS here instead of e0:01:03.
  { cls: 0xef, subclass: 0x04, protocol: 0x01, name: 'RNDIS over Ethernet' },
  { cls: 0xef, subclass: 0x04, protocol: 0x02, name: 'RNDIS over Wi-Fi' },
  { cls: 0xef, subclass: 0x04, protocol: 0x03, name: 'RNDIS over WiMAX' },
  { cls: 0xef, subclass: 0x04, protocol: 0x04, name: 'RNDIS over WWAN' },
  { cls: 0xef, subclass: 0x04, protocol: 0x05, name: 'RNDIS for raw IPv4' },
  { cls: 0xef, subclass: 0x04, protocol: 0x06, name: 'RNDIS for raw IPv6' },
  { cls: 0xef, subclass: 0x04, protocol: 0x07, name: 'RNDIS for GPRS' },
  { cls: 0xef, subclass: 0x05, name: 'USB3 Vision (machine-vision camera)' },

  { cls: 0xfe, subclass: 0x01, name: 'DFU (firmware update)' },
  { cls: 0xfe, subclass: 0x01, protocol: 0x01, name: 'DFU runtime' },
  { cls: 0xfe, subclass: 0x01, protocol: 0x02, name: 'DFU mode' },
  { cls: 0xfe, subclass: 0x02, name: 'IrDA bridge' },
  { cls: 0xfe, subclass: 0x03, name: 'test & measurement (USBTMC)' },

  // Vendor specific, but de facto standard: these codes are what udev rules and drivers match on.
  { cls: 0xff, subclass: 0x42, protocol: 0x01, name: 'Android Debug Bridge (ADB)' },
  { cls: 0xff, subclass: 0x42, protocol: 0x03, name: 'Android fastboot' },
  { cls: 0xff, subclass: 0xfe, protocol: 0x02, name: 'Apple usbmux (iPhone / iPad)' },
];
