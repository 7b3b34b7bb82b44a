import { expect } from 'chai';
import { hotplugEventOf, UdevadmMonitorParser, type UeventRecord } from '../src/platform/linux/udevadm-monitor-parser.js';

// What `udevadm monitor --kernel --property --subsystem-match=usb` prints when a flash drive is
// plugged into port 2 and pulled out again (systemd 252).
const SESSION = `monitor will print the received events for:
KERNEL - the kernel uevent

KERNEL[1342.617414] add      /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
ACTION=add
DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
SUBSYSTEM=usb
DEVNAME=/dev/bus/usb/001/005
DEVTYPE=usb_device
PRODUCT=781/5567/126
TYPE=0/0/0
BUSNUM=001
DEVNUM=005
SEQNUM=4012
MAJOR=189
MINOR=4

KERNEL[1342.620110] add      /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0 (usb)
ACTION=add
DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0
SUBSYSTEM=usb
DEVTYPE=usb_interface
PRODUCT=781/5567/126
TYPE=0/0/0
INTERFACE=8/6/80
MODALIAS=usb:v0781p5567d0126dc00dsc00dp00ic08isc06ip50in00
SEQNUM=4013

KERNEL[1342.623500] bind     /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
ACTION=bind
DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
SUBSYSTEM=usb
DEVNAME=/dev/bus/usb/001/005
DEVTYPE=usb_device
DRIVER=usb
PRODUCT=781/5567/126
SEQNUM=4015

KERNEL[1351.002817] remove   /devices/pci0000:00/0000:00:14.0/usb1/1-2 (usb)
ACTION=remove
DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2
SUBSYSTEM=usb
DEVNAME=/dev/bus/usb/001/005
DEVTYPE=usb_device
SEQNUM=4020

`;

function parseAll(chunks: readonly string[]): UeventRecord[] {
  const parser = new UdevadmMonitorParser();
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

const summary = (records: UeventRecord[]): string[] => records.map((r) => `${r.action} ${r.devpath.split('/').pop() ?? ''}`);

describe('linux: udevadm monitor parser', () => {
  it('reads each block into a record, skipping the banner', () => {
    const records = parseAll([SESSION]);
    expect(summary(records)).to.deep.equal(['add 1-2', 'add 1-2:1.0', 'bind 1-2', 'remove 1-2']);
    const first = records[0];
    expect(first).to.include({ source: 'KERNEL', monotonic: 1342.617414, subsystem: 'usb' });
    expect(first?.properties.get('DEVTYPE')).to.equal('usb_device');
    expect(first?.properties.get('SEQNUM')).to.equal('4012');
  });

  it('gives the same records whatever the chunk boundaries (every split point)', () => {
    const whole = summary(parseAll([SESSION]));
    for (let i = 0; i <= SESSION.length; i++) {
      expect(summary(parseAll([SESSION.slice(0, i), SESSION.slice(i)])), `split at ${i}`).to.deep.equal(whole);
    }
  });

  it('gives the same records when fed one character at a time, and with CRLF line ends', () => {
    const whole = summary(parseAll([SESSION]));
    expect(summary(parseAll([...SESSION]))).to.deep.equal(whole);
    expect(summary(parseAll([SESSION.replaceAll('\n', '\r\n')]))).to.deep.equal(whole);
  });

  it('keeps a block that ends without its blank line when the stream ends', () => {
    const cut = SESSION.slice(0, SESSION.indexOf('KERNEL[1342.620110]')).trimEnd();
    expect(summary(parseAll([cut]))).to.deep.equal(['add 1-2']);
  });

  it('starts a new block at a header even without a blank line before it', () => {
    const text = 'KERNEL[1.0] add /devices/x/usb1/1-1 (usb)\nACTION=add\nKERNEL[2.0] remove /devices/x/usb1/1-1 (usb)\nACTION=remove\n';
    expect(summary(parseAll([text]))).to.deep.equal(['add 1-1', 'remove 1-1']);
  });

  it('drops a runaway line instead of buffering it, and goes on with the next block', () => {
    const parser = new UdevadmMonitorParser();
    expect(parser.push('x'.repeat(5000))).to.deep.equal([]);
    expect(parser.push('y'.repeat(5000))).to.deep.equal([]);
    const records = [...parser.push(`zzz\n\n${SESSION}`), ...parser.end()];
    expect(summary(records)).to.deep.equal(['add 1-2', 'add 1-2:1.0', 'bind 1-2', 'remove 1-2']);
  });

  it('ignores property lines outside a block and lines that are not KEY=value', () => {
    const text = 'ACTION=add\nnoise\n\nKERNEL[3.5] change /devices/x/usb2/2-4 (usb)\nnot a property\nDEVTYPE=usb_device\n\n';
    const records = parseAll([text]);
    expect(summary(records)).to.deep.equal(['change 2-4']);
    expect([...(records[0]?.properties.keys() ?? [])]).to.deep.equal(['DEVTYPE']);
  });

  describe('which records are hotplug events', () => {
    const record = (action: string, devpath: string, props: Record<string, string>, subsystem = 'usb'): UeventRecord => ({
      source: 'KERNEL',
      monotonic: 1,
      action,
      devpath,
      subsystem,
      properties: new Map(Object.entries(props)),
    });
    const rows: { why: string; record: UeventRecord; event: { action: string; name: string } | null }[] = [
      { why: 'a device added', record: record('add', '/devices/p/usb1/1-2', { DEVTYPE: 'usb_device' }), event: { action: 'add', name: '1-2' } },
      { why: 'a device behind a hub removed', record: record('remove', '/devices/p/usb1/1-2/1-2.3', { DEVTYPE: 'usb_device' }), event: { action: 'remove', name: '1-2.3' } },
      { why: 'a root hub bound', record: record('bind', '/devices/p/usb3', { DEVTYPE: 'usb_device' }), event: { action: 'bind', name: 'usb3' } },
      { why: 'no DEVTYPE: decided by the name', record: record('change', '/devices/p/usb1/1-4', {}), event: { action: 'change', name: '1-4' } },
      { why: 'an interface', record: record('add', '/devices/p/usb1/1-2/1-2:1.0', { DEVTYPE: 'usb_interface' }), event: null },
      { why: 'an interface without DEVTYPE', record: record('add', '/devices/p/usb1/1-2/1-2:1.0', {}), event: null },
      { why: 'another subsystem', record: record('add', '/devices/p/usb1/1-2/1-2:1.0/host6', {}, 'scsi'), event: null },
      { why: 'an action the agent does not use', record: record('move', '/devices/p/usb1/1-2', { DEVTYPE: 'usb_device' }), event: null },
      { why: 'a name that is not a kernel USB name', record: record('add', '/devices/p/usb1/..', { DEVTYPE: 'usb_device' }), event: null },
      { why: 'a USB port object', record: record('add', '/devices/p/usb1/1-0:1.0/usb1-port2', { DEVTYPE: 'usb_port' }), event: null },
    ];
    for (const row of rows) {
      it(row.why, () => {
        const event = hotplugEventOf(row.record, 42);
        expect(event).to.deep.equal(row.event === null ? null : { ...row.event, at: 42 });
      });
    }
  });
});
