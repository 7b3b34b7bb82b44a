import { DEFAULT_MAIL_EGRESS, DEFAULT_PORT_POLICY, type NormalizedPolicyInput } from './policy-input.js';

/**
 * The policy the `default` group starts with: a PC keeps its hubs, keyboard and mouse, and
 * nothing else works until an admin allows it. USBGuard syntax, so it can be read, diffed and
 * copied into a USBGuard rules.conf as it is.
 *
 * Two things about USBGuard's set operators shape it:
 *  - `equals { 03:*:* 03:*:* }` means "two interfaces, and each rule item matches one of them";
 *    it does not pair items up, so a storage+keyboard device (08 + 03) matches it, as both rule
 *    items match the keyboard interface. "Every interface is HID" is written with
 *    `equals-ordered` (item i matches interface i), which for identical items is exact.
 *  - First match wins, so the blocks come first: a later edit that loosens an allow rule still
 *    cannot let a storage, phone or network interface through.
 */
export const STARTER_POLICY_RULES = `# Portcullis starter policy (group "default").
# First matching rule wins; a device no rule matches gets the implicit target (block).
# Rules look only at interface classes: a device chooses its own name and vendor id, but the
# interface classes are what the operating system binds drivers to.

# --- Blocked first, so that no allow rule below can ever let these through -----------------
# Mass storage: flash drives, card readers, external disks, and the storage half of BadUSB.
block with-interface one-of { 08:*:* }
# Phones and cameras: still image (PTP/MTP), Android debug bridge and fastboot, Apple usbmux.
block with-interface one-of { 06:*:* ff:42:* ff:fe:02 }
# Network adapters and USB tethering, a way around the ministry's firewall: CDC ECM, NCM, EEM,
# MBIM, RNDIS (all three ways it identifies itself) and the CDC data interface they all use.
block with-interface one-of { 02:06:* 02:0d:* 02:0c:* 02:0e:* 02:02:ff e0:01:03 ef:04:* 0a:*:* }

# --- Allowed ---------------------------------------------------------------------------------
# Root hubs (the host controllers' virtual hubs). Checking the interface as well as the
# Linux Foundation vendor id keeps a gadget (a Raspberry Pi posing as 1d6b:0104) out.
allow id 1d6b:* with-interface equals { 09:00:* }
# External hubs: single transaction translator, and multi-TT (a second hub interface).
allow with-interface equals { 09:00:* }
allow with-interface equals-ordered { 09:00:* 09:00:* }
# Keyboards and mice, only when every interface is HID (a keyboard with media keys has two or
# three). A device that adds anything else to its HID interfaces falls to the implicit block.
allow with-interface equals { 03:*:* }
allow with-interface equals-ordered { 03:*:* 03:*:* }
allow with-interface equals-ordered { 03:*:* 03:*:* 03:*:* }

# Everything else falls to the implicit block. To allow one registered device, put its rule at
# the top of this file, before the blocks (the first matching rule wins), e.g.
# allow id 0781:5567 serial "4C530001230523112463" with-interface equals { 08:06:50 }
`;

/** The `default` group's first policy: the starter rules, every other setting at its default. */
export const STARTER_POLICY_INPUT: NormalizedPolicyInput = Object.freeze({
  rules: STARTER_POLICY_RULES,
  implicitTarget: 'block',
  presentDevices: 'apply-policy',
  compositeDevices: 'whole-device',
  ports: DEFAULT_PORT_POLICY,
  mailEgress: DEFAULT_MAIL_EGRESS,
  exceptions: Object.freeze([]),
});
