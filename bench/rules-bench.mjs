#!/usr/bin/env node
// Portcullis rule-engine benchmark: decisions per second of CompiledPolicy.decide on realistic
// USBGuard policies of 100 and 10,000 rules, against an in-process "no index" baseline.
//
//   npm run bench                      (builds, then runs this file)
//   node bench/rules-bench.mjs         (after `cd shared && npx tsc -b`)
//
// Everything is generated from a seeded PRNG, so every run sees the same policies and devices.
// Knobs (environment): BENCH_SEED, BENCH_REPS (timed repetitions, default 5), BENCH_MIN_MS (minimum
// length of one timed loop, default 1000), BENCH_DEVICES (devices per stream, default 24000),
// BENCH_SIZES (policy sizes, default 100,10000), BENCH_VERBOSE=1 (phase timings on stderr).
//
// Exit code 1 if the indexed decision ever differs from the linear first-match baseline.

import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { CompiledPolicy, compileAttributes, parseRuleFile, prepareDevice } from '../shared/dist/src/index.js';
import { Rng } from './support-rng.mjs';

const SEED = Number(process.env.BENCH_SEED ?? 0x5eed2025) >>> 0;
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const MIN_MS = Math.max(10, Number(process.env.BENCH_MIN_MS ?? 1000));
const MIN_NS = BigInt(Math.round(MIN_MS * 1e6));
const DEVICES = Math.max(10_000, Number(process.env.BENCH_DEVICES ?? 24_000));
const SIZES = (process.env.BENCH_SIZES ?? '100,10000').split(',').map(Number);

// Working-day clock (Wednesday 10:30 local, local = UTC here) used for the timed runs; the
// out-of-hours clock is used by the correctness check so the `!localtime(...)` rules fire too.
const CTX_DAY = Object.freeze({ now: new Date('2025-03-12T10:30:00Z'), utcOffsetMinutes: 0 });
const CTX_NIGHT = Object.freeze({ now: new Date('2025-03-12T21:15:00Z'), utcOffsetMinutes: 0 });

// ---------------------------------------------------------------------------------------------
// Deterministic randomness


/** The seed of one generated artefact, so each policy and stream is the same whatever else runs. */
function seedFor(size, what) {
  return (Math.imul(SEED ^ size, 0x9e3779b1) + (what === 'policy' ? 1 : 2)) >>> 0;
}

/** Zipf-like choice: rank k is chosen with weight 1 / (k + 1)^s (a few models are bought in bulk). */
function zipfPicker(items, s) {
  const cum = [];
  let total = 0;
  for (let k = 0; k < items.length; k++) cum.push((total += 1 / Math.pow(k + 1, s)));
  return (rng) => {
    const x = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo];
  };
}

// ---------------------------------------------------------------------------------------------
// A catalogue of real USB devices a ministry's PCs see (ids, names, interface sets)

const M = (kind, id, name, interfaces, serial) => ({ kind, id, name, interfaces, serial });
const STORAGE = ['08:06:50'];
const UAS = ['08:06:50', '08:06:62'];
const CATALOGUE = [
  // Flash drives and external disks
  M('flash', '0781:5567', 'Cruzer Blade', STORAGE, 'sandisk'),
  M('flash', '0781:5581', 'Ultra', STORAGE, 'sandisk'),
  M('flash', '0781:5583', 'Ultra Fit', STORAGE, 'sandisk'),
  M('flash', '0951:1666', 'DataTraveler 100 G3/G4/SE9 G2/50 Kyson', STORAGE, 'kingston'),
  M('flash', '0951:1665', 'Digital DataTraveler SE9 64GB', STORAGE, 'kingston'),
  M('flash', '090c:1000', 'Flash Drive', STORAGE, 'hex16'),
  M('flash', '13fe:4300', 'USB DISK 2.0', STORAGE, 'hex16'),
  M('flash', '058f:6387', 'Mass Storage', STORAGE, 'hex8'),
  M('flash', '8564:1000', 'JetFlash', STORAGE, 'hex16'),
  M('flash', '18a5:0302', 'STORE N GO', STORAGE, 'hex16'),
  M('flash', '154b:00ed', 'USB 2.0 FD', STORAGE, 'hex16'),
  M('flash', '1f75:0917', 'Innostor', STORAGE, 'hex12'),
  M('disk', '1058:25a2', 'Elements 25A2', STORAGE, 'wd'),
  M('disk', '0bc2:2322', 'Expansion HDD', STORAGE, 'seagate'),
  M('disk', '174c:55aa', 'ASM1051E SATA 6Gb/s bridge', UAS, 'hex12'),
  M('disk', '04e8:61f5', 'Portable SSD T5', UAS, 'hex12'),
  // Keyboards, mice, receivers, barcode scanners (mostly without a serial number)
  M('hid', '046d:c31c', 'USB Keyboard', ['03:01:01', '03:00:00'], ''),
  M('hid', '046d:c077', 'USB Optical Mouse', ['03:01:02'], ''),
  M('hid', '046d:c52b', 'USB Receiver', ['03:01:01', '03:01:02', '03:00:00'], ''),
  M('hid', '413c:2113', 'Dell KB216 Wired Keyboard', ['03:01:01', '03:00:00'], ''),
  M('hid', '413c:301a', 'Dell MS116 USB Optical Mouse', ['03:01:02'], ''),
  M('hid', '03f0:034a', 'HP Elite USB Keyboard', ['03:01:01', '03:00:00'], ''),
  M('hid', '045e:0750', 'Wired Keyboard 600', ['03:01:01', '03:00:00'], ''),
  M('hid', '1c4f:0002', 'USB Keyboard', ['03:01:01', '03:00:00'], ''),
  M('hid', '093a:2510', 'USB OPTICAL MOUSE', ['03:01:02'], ''),
  M('hid', '17ef:6019', 'Lenovo USB Optical Mouse', ['03:01:02'], ''),
  M('hid', '05e0:1200', 'Symbol Bar Code Scanner', ['03:01:01'], 'hex12'),
  // Printers and scanners
  M('printer', '03f0:2b17', 'HP LaserJet 1020', ['07:01:02'], 'hp'),
  M('printer', '03f0:0c17', 'HP LaserJet 1010', ['07:01:02'], 'hp'),
  M('printer', '04f9:0376', 'HL-L2350DW series', ['07:01:02'], 'brother'),
  M('printer', '04a9:176d', 'MF4400 Series', ['07:01:02', 'ff:ff:ff'], 'hex12'),
  M('printer', '04b8:1129', 'L3110 Series', ['07:01:02', 'ff:ff:ff', '08:06:50'], 'hex16'),
  M('scanner', '04a9:1909', 'CanoScan LiDE 110', ['ff:ff:ff'], ''),
  // Webcams and headsets
  M('webcam', '046d:0825', 'Webcam C270', ['0e:01:00', '0e:02:00', '01:01:00', '01:02:00'], 'hex8'),
  M('webcam', '046d:085b', 'Logitech Webcam C925e', ['0e:01:00', '0e:02:00', '01:01:00', '01:02:00'], 'hex8'),
  M('webcam', '0c45:6366', 'USB 2.0 Camera', ['0e:01:00', '0e:02:00'], ''),
  M('audio', '0d8c:0014', 'USB Audio Device', ['01:01:00', '01:02:00', '01:02:00', '03:00:00'], ''),
  M('audio', '047f:c025', 'Plantronics C320-M', ['01:01:00', '01:02:00', '01:02:00', '03:00:00'], 'hex32'),
  M('audio', '0b0e:0412', 'Jabra EVOLVE 20 MS', ['01:01:00', '01:02:00', '03:00:00'], 'hex12'),
  // Smart-card readers and e-signature tokens
  M('smartcard', '076b:3031', 'OMNIKEY 3x21 Smart Card Reader', ['0b:00:00'], ''),
  M('smartcard', '058f:9540', 'EMV Smartcard Reader', ['0b:00:00'], ''),
  M('smartcard', '08e6:3437', 'USB SmartCard Reader', ['0b:00:00'], ''),
  M('token', '0529:0620', 'Token JC', ['0b:00:00'], 'hex8'),
  M('token', '096e:0807', 'ePass2003', ['0b:00:00', '03:00:00'], 'hex16'),
  M('token', '1050:0407', 'YubiKey OTP+FIDO+CCID', ['03:01:01', '03:00:00', '0b:00:00'], ''),
  // Network, serial adapters, card readers
  M('net', '0b95:1790', 'AX88179 Gigabit Ethernet', ['ff:ff:00'], 'hex12'),
  M('net', '0bda:8153', 'USB 10/100/1000 LAN', ['ff:ff:00', '02:06:00', '0a:00:00'], 'hex12'),
  M('bt', '0a12:0001', 'Bluetooth Dongle (HCI mode)', ['e0:01:01', 'e0:01:01'], ''),
  M('wifi', '0bda:b812', '802.11ac NIC', ['ff:ff:ff'], 'hex12'),
  M('serial', '067b:2303', 'USB-Serial Controller', ['ff:00:00'], ''),
  M('serial', '0403:6001', 'FT232R USB UART', ['ff:ff:ff'], 'hex8'),
  M('cardreader', '0bda:0129', 'USB2.0-CRW', ['ff:06:50'], 'hex12'),
  M('cardreader', '05e3:0749', 'USB3.0 Card Reader', STORAGE, 'hex12'),
  // Phones
  M('phone', '05ac:12a8', 'iPhone', ['06:01:01', 'ff:fe:02', 'ff:fd:01'], 'hex40'),
  M('phone', '18d1:4ee1', 'Pixel 7', ['06:01:01'], 'hex16'),
  M('phone', '04e8:6860', 'SAMSUNG_Android', ['06:01:01', 'ff:ff:00', '02:02:01', '0a:00:00'], 'hex12'),
  M('phone', '2717:ff40', 'Redmi Note 11', ['06:01:01'], 'hex12'),
  M('phone', '22d9:2764', 'OPPO A74', ['06:01:01', 'ff:42:01'], 'hex12'),
  // Hubs
  M('hub', '05e3:0610', 'USB2.1 Hub', ['09:00:01'], ''),
  M('hub', '2109:2813', 'USB2.0 Hub', ['09:00:02'], ''),
];
const by = (kind) => CATALOGUE.filter((m) => m.kind === kind);
// What a ministry registers per device (storage for staff, peripherals, tokens for e-signature).
const REGISTERABLE = CATALOGUE.filter((m) => !['phone', 'hub', 'bt', 'wifi'].includes(m.kind));
// After the class block, only devices the block does not catch are registered (else shadowed).
const REGISTERABLE_TAIL = REGISTERABLE.filter((m) => !m.interfaces.some((i) => /^(08|06|e0):/.test(i)));

function serialFor(model, rng) {
  switch (model.serial) {
    case '':
      return '';
    case 'sandisk':
      return '4C53' + rng.digits(16);
    case 'kingston':
      return rng.hex(24, true);
    case 'wd':
      return rng.hex(24, true);
    case 'seagate':
      return 'NA' + rng.hex(6, true);
    case 'hp':
      return '00CNB' + rng.hex(7, true);
    case 'brother':
      return 'E7' + rng.digits(4) + 'N' + rng.digits(6);
    default:
      return rng.hex(Number(model.serial.slice(3)), true);
  }
}

function randomPort(rng) {
  const depth = rng.chance(0.2) ? 2 : 1;
  let p = `${1 + rng.int(4)}-${1 + rng.int(6)}`;
  for (let i = 1; i < depth; i++) p += `.${1 + rng.int(4)}`;
  return p;
}

// Parent hashes: each PC's host controllers and hubs; there are far fewer of them than devices.
function makeParentPool(rng, n) {
  return Array.from({ length: n }, () => rng.hash());
}

/** One physical device (a unit of a catalogue model), in the JSON form of DESIGN.md §6. */
function unit(model, rng, parents) {
  const d = {
    id: model.id,
    name: model.name,
    serial: serialFor(model, rng),
    hash: rng.hash(),
    parentHash: rng.pick(parents),
    viaPort: randomPort(rng),
    interfaces: [...model.interfaces],
    connectType: 'hotplug',
  };
  return d;
}

const q = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const ifaceText = (ifs) => (ifs.length === 1 ? ifs[0] : `{ ${ifs.join(' ')} }`);

/** The rule `usbguard generate-policy` writes for a present device (via-port only without serial). */
function generatePolicyRule(d) {
  let r = `allow id ${d.id} serial ${q(d.serial)} name ${q(d.name)}`;
  if (d.serial === '') r += ` via-port ${q(d.viaPort)}`;
  r += ` hash ${q(d.hash)} parent-hash ${q(d.parentHash)} with-interface ${ifaceText(d.interfaces)}`;
  r += ` with-connect-type ${q(d.connectType)}`;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Policies

/**
 * A ministry policy of exactly `size` rules: a header (root hubs, hubs, HID, BadUSB, phones out of
 * hours), then registered devices (generate-policy lines) with vendor, hash, via-port and timed
 * rules spread among them, a storage/phone/Bluetooth class block at ~70 %, and a tail of more
 * registered non-storage devices and vendor rules without any block: whatever reaches the end
 * falls to the implicit target.
 */
function makePolicy(size, rng) {
  const parents = makeParentPool(rng, Math.max(20, Math.floor(size / 8)));
  const pickModel = zipfPicker(rng.shuffle([...REGISTERABLE]), 1.0);
  const pickTailModel = zipfPicker(rng.shuffle([...REGISTERABLE_TAIL]), 1.0);
  const header = [
    '# Portcullis policy (generated by bench/rules-bench.mjs)',
    '# Root hubs and hubs',
    'allow id 1d6b:*',
    'allow with-interface equals { 09:00:* }',
    '# BadUSB: storage that is also a keyboard',
    'reject with-interface all-of { 08:*:* 03:*:* }',
    '# Plain keyboards, mice and composite HID receivers',
    'allow with-interface equals { 03:*:* }',
    'allow with-interface match-all { 03:*:* }',
    '# No phones outside office hours',
    'reject id 05ac:* if !localtime(08:00-18:00)',
    'reject id one-of { 18d1:* 04e8:* 2717:* 22d9:* } if !localtime(08:00-18:00)',
  ];
  const vendorRules = [
    'allow id 046d:* with-interface one-of { 03:*:* 0e:*:* 01:*:* }',
    'allow id 413c:* with-interface equals { 03:*:* }',
    'allow id 04f9:* with-interface equals { 07:01:02 }',
    'allow id 03f0:* with-interface one-of { 07:01:* }',
    'allow id one-of { 076b:* 08e6:* } with-interface equals { 0b:00:00 }',
    'allow id 0529:* with-interface equals { 0b:00:00 }',
    'allow id 1050:0407',
    'readonly id 04e8:61f5',
    'allow id 0b0e:* with-interface all-of { 01:*:* 03:00:00 }',
    'block id 0403:6001 with-interface one-of { ff:ff:ff }',
    'allow id 05e3:* with-interface one-of { 09:00:* }',
    'allow id 0a12:0001 if localtime(07:00-19:00)',
  ];
  const ruleCount = header.filter((l) => !l.startsWith('#')).length;
  const registered = []; // { device, index } — devices that own a generate-policy rule
  const body = [];
  const bodySize = size - ruleCount - 1; // -1: the class block
  const blockAt = Math.floor(bodySize * 0.7);
  let vendorCursor = 0;
  let bodyRules = 0; // rules (not comments) in body so far
  const add = (line) => {
    if (!line.startsWith('#')) bodyRules++;
    body.push(line);
  };
  for (let i = 0; i < bodySize; i++) {
    const tail = i >= blockAt;
    if (i === blockAt) {
      add('# Everything else that stores data, is a phone or is Bluetooth');
      add('block with-interface one-of { 08:*:* 06:*:* e0:*:* }');
    }
    const x = rng.next();
    if (x < 0.012 || (size <= 100 && i % 23 === 11)) {
      add(vendorRules[vendorCursor++ % vendorRules.length]);
    } else if (x < 0.03) {
      const d = unit(pickModel(rng), rng, parents);
      registered.push({ device: d, kind: 'hash', index: ruleCount + bodyRules });
      add(`allow hash ${q(d.hash)}`);
    } else if (x < 0.033) {
      // A fixed port on a group of PCs (label printers, card readers at the front desk).
      const ifs = rng.pick([['07:01:02'], ['0b:00:00'], ['03:01:01']]);
      add(`allow via-port ${q(randomPort(rng))} with-interface equals { ${ifs.join(' ')} }`);
    } else if (x < 0.036) {
      const m = rng.pick(REGISTERABLE_TAIL);
      add(`allow id ${m.id} with-interface equals { ${m.interfaces.join(' ')} } if localtime(07:30-18:30)`);
    } else {
      const d = unit(tail ? pickTailModel(rng) : pickModel(rng), rng, parents);
      registered.push({ device: d, kind: 'registered', index: ruleCount + bodyRules });
      add(generatePolicyRule(d));
    }
  }
  const text = [...header, ...body].join('\n') + '\n';
  return { text, registered, parents };
}

// ---------------------------------------------------------------------------------------------
// Device streams

const MIX = [
  ['registered, rule in first quarter', 0.25],
  ['registered, rule in the middle', 0.1],
  ['registered, rule in last quarter', 0.15],
  ['unknown flash drive / disk', 0.12],
  ['keyboard / mouse', 0.1],
  ['phone', 0.08],
  ['hub / root hub', 0.05],
  ['other (webcam, LAN, serial, BT, unknown vendor)', 0.15],
];

function makeDevices(policy, rules, count, rng) {
  const parents = makeParentPool(rng, 200);
  // Registered devices, bucketed by where their rule sits in the policy.
  const n = rules.length;
  const quarter = [[], [], []];
  for (const { device, index } of policy.registered) {
    quarter[index < n / 4 ? 0 : index >= (3 * n) / 4 ? 2 : 1].push(device);
  }
  const flash = [...by('flash'), ...by('disk'), ...by('cardreader')];
  const hid = by('hid');
  const phones = by('phone');
  const hubs = by('hub');
  const others = [...by('webcam'), ...by('net'), ...by('serial'), ...by('bt'), ...by('wifi'), ...by('audio'), ...by('scanner'), ...by('printer')];
  const devices = [];
  const kinds = [];
  let cum = 0;
  const cuts = MIX.map(([, p]) => (cum += p));
  for (let i = 0; i < count; i++) {
    const x = rng.next() * cum;
    let k = cuts.findIndex((c) => x < c);
    if (k < 3 && quarter[k].length === 0) k = 3;
    let d;
    switch (k) {
      case 0:
      case 1:
      case 2:
        d = { ...rng.pick(quarter[k]) };
        break;
      case 3:
        d = unit(rng.pick(flash), rng, parents);
        break;
      case 4:
        d = unit(rng.pick(hid), rng, parents);
        if (rng.chance(0.3)) d.id = `${rng.hex(4)}:${rng.hex(4)}`; // no-name brands
        break;
      case 5:
        d = unit(rng.pick(phones), rng, parents);
        break;
      case 6:
        if (rng.chance(0.5)) {
          const v = rng.pick(['0001', '0002', '0003']);
          d = {
            id: `1d6b:${v}`,
            name: v === '0003' ? 'xHCI Host Controller' : 'EHCI Host Controller',
            serial: `0000:00:${rng.hex(2)}.${rng.int(8)}`,
            hash: rng.hash(),
            parentHash: rng.hash(),
            viaPort: `usb${1 + rng.int(4)}`,
            interfaces: ['09:00:00'],
            connectType: '',
          };
        } else d = unit(rng.pick(hubs), rng, parents);
        break;
      default:
        if (rng.chance(0.3)) {
          // A gadget nobody has heard of: vendor-specific or CDC.
          d = unit({ id: `${rng.hex(4)}:${rng.hex(4)}`, name: 'USB Device', interfaces: rng.pick([['ff:ff:ff'], ['02:02:01', '0a:00:00'], ['ff:00:00', 'ff:00:00']]), serial: 'hex12' }, rng, parents);
        } else d = unit(rng.pick(others), rng, parents);
        if (d.id.startsWith('0a12') || d.id.startsWith('0bda:b812')) d.connectType = rng.chance(0.5) ? 'hardwired' : 'hotplug';
    }
    devices.push(d);
    kinds.push(k);
  }
  return { devices, kinds };
}

// ---------------------------------------------------------------------------------------------
// Baselines: the same compiled rules, visited linearly, without the index

/** Brief's baseline: one single-rule CompiledPolicy per rule, first non-implicit decision wins. */
function makeBaselinePerRule(rules) {
  const singles = rules.map((r) => new CompiledPolicy([r]));
  const n = singles.length;
  return (d, ctx) => {
    for (let i = 0; i < n; i++) if (!singles[i].decide(d, ctx).implicit) return i;
    return -1;
  };
}

/** A tighter baseline: the exported compiled attribute predicates in a plain loop; conditions
 *  (only on a handful of rules) through a single-rule CompiledPolicy once the attributes match. */
function makeBaselinePredicates(rules) {
  const preds = rules.map((r) => compileAttributes(r));
  const cond = rules.map((r) => (r.conditions ? new CompiledPolicy([r]) : null));
  const n = preds.length;
  return (d, ctx) => {
    for (let i = 0; i < n; i++) {
      if (!preds[i](d)) continue;
      const c = cond[i];
      if (c === null || !c.decide(d, ctx).implicit) return i;
    }
    return -1;
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

let sink = 0;

/** Runs policy.decide over `devs` (cyclically from `cursor`) in batches until MIN_NS elapsed. */
function timeIndexed(policy, devs, ctx, cursor, minNs = MIN_NS) {
  const len = devs.length;
  let i = cursor.at;
  let n = 0;
  let acc = 0;
  const t0 = process.hrtime.bigint();
  let t1;
  for (;;) {
    for (let k = 0; k < 1024; k++) {
      const r = policy.decide(devs[i], ctx);
      acc += r.ruleIndex ?? -1;
      if (++i === len) i = 0;
    }
    n += 1024;
    t1 = process.hrtime.bigint();
    if (t1 - t0 >= minNs) break;
  }
  cursor.at = i;
  sink += acc;
  return { n, ns: Number(t1 - t0) };
}

/** Same loop for a baseline function (returns the first matching rule index). */
function timeBaseline(fn, devs, ctx, cursor, batch, minNs = MIN_NS) {
  const len = devs.length;
  let i = cursor.at;
  let n = 0;
  let acc = 0;
  const t0 = process.hrtime.bigint();
  let t1;
  for (;;) {
    for (let k = 0; k < batch; k++) {
      acc += fn(devs[i], ctx);
      if (++i === len) i = 0;
    }
    n += batch;
    t1 = process.hrtime.bigint();
    if (t1 - t0 >= minNs) break;
  }
  cursor.at = i;
  sink += acc;
  return { n, ns: Number(t1 - t0) };
}

function timePrepare(raw, minNs = MIN_NS) {
  const len = raw.length;
  let i = 0;
  let n = 0;
  let acc = 0;
  const t0 = process.hrtime.bigint();
  let t1;
  for (;;) {
    for (let k = 0; k < 1024; k++) {
      acc += prepareDevice(raw[i]).interfaces.length;
      if (++i === len) i = 0;
    }
    n += 1024;
    t1 = process.hrtime.bigint();
    if (t1 - t0 >= minNs) break;
  }
  sink += acc;
  return { n, ns: Number(t1 - t0) };
}

let phaseT = process.hrtime.bigint();
/** With BENCH_VERBOSE=1, prints how long each phase took (to stderr). */
function phase(label) {
  const t = process.hrtime.bigint();
  if (process.env.BENCH_VERBOSE) console.error(`  [${(Number(t - phaseT) / 1e9).toFixed(2)} s] ${label}`);
  phaseT = t;
}

const perSec = (r) => (r.n * 1e9) / r.ns;
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const fmtUs = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

// ---------------------------------------------------------------------------------------------

function main() {
  const tStart = process.hrtime.bigint();
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
  const date = new Date().toISOString();
  console.log('Portcullis rule engine benchmark (bench/rules-bench.mjs)');
  console.log(`date:    ${date}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, ${machine.platform}`);
  console.log(`method:  one thread; warm-up, then ${REPS} timed loops of >= ${MIN_MS} ms per figure (process.hrtime.bigint), median reported;`);
  console.log(`         index and baselines interleaved per repetition; seed 0x${SEED.toString(16)}; decisions at ${CTX_DAY.now.toISOString()} (local = UTC)`);
  console.log('');

  const results = {};
  let prepareFigure = null;
  let failed = false;

  for (const size of SIZES) {
    const policy = makePolicy(size, new Rng(seedFor(size, 'policy')));
    const rules = parseRuleFile(policy.text, `policy-${size}.rules`);
    if (rules.length !== size) throw new Error(`generated ${rules.length} rules, expected ${size}`);
    const tc0 = process.hrtime.bigint();
    const compiled = new CompiledPolicy(rules, 'block');
    const compileMs = Number(process.hrtime.bigint() - tc0) / 1e6;
    const { devices: raw, kinds } = makeDevices(policy, rules, DEVICES, new Rng(seedFor(size, 'devices')));
    const distinct = new Set(raw.map((d) => JSON.stringify(d))).size;
    if (distinct < 10_000) throw new Error(`only ${distinct} distinct devices in the ${size}-rule stream`);
    const prepared = raw.map((d) => prepareDevice(d));
    const perRule = makeBaselinePerRule(rules);
    const preds = makeBaselinePredicates(rules);
    phase(`${size} rules: generated, parsed, compiled`);

    // Correctness: the index must pick the linear baseline's first match, on the day clock for
    // every device and on the night clock (the `!localtime` rules fire) for every third device.
    const tally = { allow: 0, block: 0, reject: 0, readonly: 0, implicit: 0 };
    const positions = [];
    for (const [ctx, label] of [
      [CTX_DAY, 'day'],
      [CTX_NIGHT, 'night'],
    ]) {
      // Day: every device. Night (only the few timed rules change): every third device, for time.
      for (let i = 0; i < prepared.length; i += label === 'day' ? 1 : 3) {
        const dec = compiled.decide(prepared[i], ctx);
        const got = dec.ruleIndex ?? -1;
        const want = perRule(prepared[i], ctx);
        if (got !== want) {
          console.error(`MISMATCH (${size} rules, ${label}): device ${JSON.stringify(raw[i])}`);
          console.error(`  index chose rule ${got} (line ${dec.line}), linear first match is rule ${want}` + (want >= 0 ? ` (line ${rules[want].line})` : ''));
          failed = true;
          break;
        }
        if (label === 'day') {
          if (dec.implicit) tally.implicit++;
          else tally[dec.target]++;
          positions.push(got < 0 ? size : got);
        }
      }
      if (failed) break;
    }
    if (failed) break;
    // The predicate baseline agrees with the per-rule one (day clock) on a sample.
    for (let i = 0; i < prepared.length; i += 37) {
      if (preds(prepared[i], CTX_DAY) !== perRule(prepared[i], CTX_DAY)) {
        console.error(`MISMATCH between the two baselines at device ${i}`);
        failed = true;
        break;
      }
    }
    if (failed) break;
    phase(`${size} rules: correctness`);

    // Preparation, measured once (on the 10,000-rule stream: same kind of devices).
    if (size === SIZES[SIZES.length - 1]) {
      timePrepare(raw, BigInt(200e6));
      const reps = [];
      for (let r = 0; r < Math.min(REPS, 3); r++) reps.push(perSec(timePrepare(raw)));
      prepareFigure = { perSec: median(reps), usPerDevice: 1e6 / median(reps), reps };
    }

    phase(`${size} rules: prepareDevice timing`);
    // Warm-up, then interleaved timed repetitions.
    const cIdx = { at: 0 };
    const cA = { at: 0 };
    const cB = { at: 0 };
    timeIndexed(compiled, prepared, CTX_DAY, cIdx, BigInt(300e6));
    const wa = timeBaseline(perRule, prepared, CTX_DAY, cA, 16, BigInt(200e6));
    const wb = timeBaseline(preds, prepared, CTX_DAY, cB, 16, BigInt(200e6));
    // Batches of ~5 ms so the loop overshoots MIN_NS by little.
    const batchA = Math.max(1, Math.round((perSec(wa) * 5) / 1000));
    const batchB = Math.max(1, Math.round((perSec(wb) * 5) / 1000));
    const idx = [];
    const a = [];
    const b = [];
    for (let r = 0; r < REPS; r++) {
      idx.push(perSec(timeIndexed(compiled, prepared, CTX_DAY, cIdx)));
      a.push(perSec(timeBaseline(perRule, prepared, CTX_DAY, cA, batchA)));
      b.push(perSec(timeBaseline(preds, prepared, CTX_DAY, cB, batchB)));
    }

    phase(`${size} rules: timed loops`);
    // Per-category cost with the index (short loops; for finding hot spots, not for headlines).
    const byKind = [];
    for (let k = 0; k < MIX.length; k++) {
      const devs = prepared.filter((_, i) => kinds[i] === k);
      if (devs.length === 0) continue;
      const runs = [];
      for (let r = 0; r < 3; r++) runs.push(perSec(timeIndexed(compiled, devs, CTX_DAY, { at: 0 }, BigInt(60e6))));
      byKind.push({ kind: MIX[k][0], devices: devs.length, usPerDecision: 1e6 / median(runs) });
    }

    phase(`${size} rules: per-kind loops`);
    // The largest group of rules naming the same exact device id (units of one bulk-bought model).
    const perId = new Map();
    for (const r of rules) {
      const ids = r.id && r.id.operator !== 'none-of' ? r.id.values : null;
      if (ids && ids.length === 1 && ids[0].vendor !== null && ids[0].product !== null) {
        const k = `${ids[0].vendor}:${ids[0].product}`;
        perId.set(k, (perId.get(k) ?? 0) + 1);
      }
    }
    const topId = [...perId].sort((x, y) => y[1] - x[1])[0] ?? ['-', 0];
    const total = prepared.length;
    results[size] = {
      rules: size,
      compileMs,
      devices: total,
      distinctDevices: distinct,
      outcomes: Object.fromEntries(Object.entries(tally).map(([k, v]) => [k, Math.round((1000 * v) / total) / 10])),
      medianMatchedRule: median(positions),
      topId: { id: topId[0], rules: topId[1], model: CATALOGUE.find((m) => m.id === topId[0])?.name ?? '' },
      index: { perSec: median(idx), usPerDecision: 1e6 / median(idx), reps: idx.map(Math.round) },
      baselinePerRule: { perSec: median(a), usPerDecision: 1e6 / median(a), reps: a.map(Math.round) },
      baselinePredicates: { perSec: median(b), usPerDecision: 1e6 / median(b), reps: b.map(Math.round) },
      speedupVsPerRule: median(idx) / median(a),
      speedupVsPredicates: median(idx) / median(b),
      byKind,
    };
  }

  if (failed) {
    console.error('FAILED: the indexed decision differs from linear first-match.');
    process.exit(1);
  }

  // ---- Report
  const sizes = SIZES.filter((s) => results[s]);
  console.log('Workload');
  for (const s of sizes) {
    const r = results[s];
    const o = r.outcomes;
    console.log(
      `  ${fmtInt(s)}-rule policy: compiled in ${r.compileMs.toFixed(1)} ms; ${fmtInt(r.devices)} devices (${fmtInt(r.distinctDevices)} distinct);` +
        ` outcomes allow ${o.allow}% block ${o.block}% reject ${o.reject}% readonly ${o.readonly}% implicit ${o.implicit}%;` +
        ` median matched rule #${fmtInt(r.medianMatchedRule)}; largest same-id group ${fmtInt(r.topId.rules)} rules (${r.topId.id} ${r.topId.model})`,
    );
  }
  console.log(`  device mix: ${MIX.map(([k, p]) => `${k} ${Math.round(p * 100)}%`).join(', ')}`);
  console.log('  correctness: indexed ruleIndex == linear first match (per-rule baseline) for every device at 10:30 and every third at 21:15  OK');
  console.log('');
  console.log(`prepareDevice: ${fmtInt(prepareFigure.perSec)} devices/s, ${fmtUs(prepareFigure.usPerDevice)} µs per device (done once per plug)`);
  console.log('');
  const head = `${pad('rules', 8)}${pad('method', 44)}${lpad('decisions/s', 14)}${lpad('µs/decision', 13)}${lpad('index speed-up', 16)}`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const s of sizes) {
    const r = results[s];
    const row = (name, f, ratio) =>
      console.log(`${pad(fmtInt(s), 8)}${pad(name, 44)}${lpad(fmtInt(f.perSec), 14)}${lpad(fmtUs(f.usPerDecision), 13)}${lpad(ratio, 16)}`);
    row('CompiledPolicy.decide (indexed)', r.index, '');
    row('baseline: per-rule CompiledPolicy, linear', r.baselinePerRule, `${r.speedupVsPerRule.toFixed(1)}x`);
    row('baseline: compileAttributes predicates, linear', r.baselinePredicates, `${r.speedupVsPredicates.toFixed(1)}x`);
  }
  console.log('');
  for (const s of sizes) {
    console.log(`Indexed µs per decision by device kind, ${fmtInt(s)} rules:`);
    for (const k of results[s].byKind) console.log(`  ${pad(k.kind, 50)}${lpad(fmtUs(k.usPerDecision), 9)} µs  (${fmtInt(k.devices)} devices)`);
  }
  console.log('');
  const g1 = results[100]?.index.perSec;
  const g2 = results[10_000]?.index.usPerDecision;
  const goal1 = g1 === undefined ? null : g1 >= 1_000_000;
  const goal2 = g2 === undefined ? null : g2 < 20;
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'MET' : 'NOT MET');
  console.log(`Goal >= 1,000,000 decisions/s at 100 rules:   ${verdict(goal1)}${g1 === undefined ? '' : ` (${fmtInt(g1)}/s)`}`);
  console.log(`Goal < 20 µs per decision at 10,000 rules:     ${verdict(goal2)}${g2 === undefined ? '' : ` (${fmtUs(g2)} µs)`}`);
  const elapsed = Number(process.hrtime.bigint() - tStart) / 1e9;
  console.log(`(bench ran ${elapsed.toFixed(1)} s; sink ${sink % 1000})`);
  console.log(
    JSON.stringify({
      bench: 'rules',
      date,
      machine,
      seed: SEED,
      reps: REPS,
      minMs: MIN_MS,
      prepareDevice: { perSec: Math.round(prepareFigure.perSec), usPerDevice: +prepareFigure.usPerDevice.toFixed(3) },
      policies: Object.fromEntries(
        sizes.map((s) => {
          const r = results[s];
          return [
            s,
            {
              devices: r.devices,
              distinctDevices: r.distinctDevices,
              outcomesPct: r.outcomes,
              index: { perSec: Math.round(r.index.perSec), usPerDecision: +r.index.usPerDecision.toFixed(3), reps: r.index.reps },
              baselinePerRule: { perSec: Math.round(r.baselinePerRule.perSec), usPerDecision: +r.baselinePerRule.usPerDecision.toFixed(3) },
              baselinePredicates: { perSec: Math.round(r.baselinePredicates.perSec), usPerDecision: +r.baselinePredicates.usPerDecision.toFixed(3) },
              speedupVsPerRule: +r.speedupVsPerRule.toFixed(2),
              speedupVsPredicates: +r.speedupVsPredicates.toFixed(2),
              largestSameIdGroup: r.topId,
              indexUsByKind: Object.fromEntries(r.byKind.map((k) => [k.kind, +k.usPerDecision.toFixed(3)])),
            },
          ];
        }),
      ),
      goals: { decisionsPerSec100: goal1, usPerDecision10k: goal2 },
      elapsedS: +elapsed.toFixed(1),
    }),
  );
}

export { Rng, seedFor, makePolicy, makeDevices, makeBaselinePerRule, makeBaselinePredicates, SEED, SIZES, DEVICES, CTX_DAY, CTX_NIGHT };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
