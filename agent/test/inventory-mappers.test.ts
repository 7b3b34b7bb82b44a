import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  cleanText,
  toHardwareSection,
  toMailSection,
  toNetworkSection,
  toOsSection,
  toPortsSection,
  toSoftwareSection,
  toUsbSection,
  toUsersSection,
} from '../src/inventory/inventory-mappers.js';
import type {
  SiBios,
  SiCpu,
  SiMem,
  SiNetworkConnection,
  SiNetworkInterface,
  SiOs,
  SiSystem,
  SiUsb,
  SiUser,
} from '../src/inventory/inventory-source.js';

/** systeminformation's answers for one machine, as the fixture files hold them. */
interface SiFixture {
  readonly system: SiSystem;
  readonly bios: SiBios;
  readonly cpu: SiCpu;
  readonly mem: SiMem;
  readonly osInfo: SiOs;
  readonly users: SiUser[];
  readonly networkInterfaces: SiNetworkInterface[];
  readonly networkConnections: SiNetworkConnection[];
  readonly usb: SiUsb[];
}

function fixture(name: string): SiFixture {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/inventory/${name}.si.json`, import.meta.url), 'utf8')) as SiFixture;
}

const DEBIAN_DESKTOP = fixture('debian12-workstation');
const WINDOWS_DESKTOP = fixture('windows11-workstation');
/** Recorded on the build machine: a container, where much of DMI is empty or '-'. */
const CONTAINER = fixture('debian12-container');

describe('inventory mappers: a Debian 12 desktop', () => {
  const f = DEBIAN_DESKTOP;

  it('hardware takes system, BIOS, CPU and memory', () => {
    expect(toHardwareSection(f.system, f.bios, f.cpu, f.mem)).to.deep.equal({
      manufacturer: 'Dell Inc.',
      model: 'OptiPlex 7090',
      serial: '7XK4JH3',
      uuid: '4c4c4544-0058-4b10-8034-b7c04f4a4833',
      virtual: false,
      biosVendor: 'Dell Inc.',
      biosVersion: '1.21.0',
      cpuManufacturer: 'Intel',
      cpuBrand: 'Core™ i7-10700',
      cpuCores: 16,
      cpuPhysicalCores: 8,
      memoryTotalBytes: 16541028352,
    });
  });

  it('os keeps the fqdn when there is one', () => {
    expect(toOsSection(f.osInfo)).to.deep.equal({
      platform: 'linux',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0-18-amd64',
      arch: 'x64',
      hostname: 'pc-finance-014',
      fqdn: 'pc-finance-014.min.example',
    });
  });

  it('users: one entry per session, sorted, login as an ISO local time, the remote host kept', () => {
    expect(toUsersSection(f.users)).to.deep.equal({
      total: 2,
      truncated: false,
      sessions: [
        { user: 'admin', tty: 'pts/0', loginDate: '2026-11-25T09:41', from: '10.20.0.5' },
        { user: 'ahmed', tty: 'tty2', loginDate: '2026-11-25T08:02', from: '' },
      ],
    });
  });

  it('network: loopback dropped, MACs lower-case, an unknown speed (-1) is null', () => {
    expect(toNetworkSection(f.networkInterfaces)).to.deep.equal({
      total: 2,
      truncated: false,
      interfaces: [
        { iface: 'enp0s31f6', mac: '68:5b:35:9c:1a:2b', ip4: '10.20.14.37', ip6: 'fe80::6a5b:35ff:fe9c:1a2b', type: 'wired', operstate: 'up', speed: 1000, default: true },
        { iface: 'wlp2s0', mac: 'f4:8c:50:12:34:56', ip4: '', ip6: '', type: 'wireless', operstate: 'down', speed: null, default: false },
      ],
    });
  });

  it('ports: listeners only, the duplicate sshd row once, no pid where netstat showed "-"', () => {
    expect(toPortsSection(f.networkConnections)).to.deep.equal({
      total: 3,
      truncated: false,
      listening: [
        { protocol: 'tcp', localAddress: '0.0.0.0', localPort: 22, pid: 812, process: 'sshd' },
        { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 631, process: '' },
        { protocol: 'tcp6', localAddress: '::', localPort: 22, pid: 812, process: 'sshd' },
      ],
    });
  });

  it('usb: sorted by id, serials kept, bus numbers left out', () => {
    const usb = toUsbSection(f.usb);
    expect(usb.total).to.equal(3);
    expect(usb.devices.map((d) => d.id)).to.deep.equal(['0781:5567', '1d6b:0002', '413c:2113']);
    expect(usb.devices[0]).to.deep.equal({
      id: '0781:5567',
      name: 'Cruzer Blade',
      vendor: 'SanDisk Corp.',
      manufacturer: 'SanDisk',
      serial: '4C530001230523112463',
      type: 'Storage',
    });
  });
});

describe('inventory mappers: a Windows 11 desktop', () => {
  const f = WINDOWS_DESKTOP;

  it('os leaves out an empty fqdn', () => {
    const os = toOsSection(f.osInfo);
    expect(os).to.not.have.property('fqdn');
    expect(os.platform).to.equal('Windows');
    expect(os.distro).to.equal('Microsoft Windows 11 Pro');
  });

  it('users: a locale date that is not ISO is kept as written', () => {
    expect(toUsersSection(f.users).sessions).to.deep.equal([{ user: 'fatima', tty: 'console', loginDate: '25/11/2026 08:15', from: '' }]);
  });

  it('network: the loopback pseudo-interface (internal) is dropped', () => {
    expect(toNetworkSection(f.networkInterfaces).interfaces.map((i) => i.iface)).to.deep.equal(['Ethernet']);
  });

  it('ports: UDP sockets with an empty state and peer "*" are listeners; established TCP is not', () => {
    const ports = toPortsSection(f.networkConnections).listening;
    expect(ports.map((p) => `${p.protocol} ${p.localAddress}:${p.localPort} pid=${p.pid ?? '-'}`)).to.deep.equal([
      'tcp 0.0.0.0:135 pid=1040',
      'tcp 0.0.0.0:445 pid=4',
      'tcp :::445 pid=4',
      'udp 0.0.0.0:123 pid=1788',
      'udp fe80::1d2c:3b4a:5e6f:7a8b%12:1900 pid=3300',
      'udp 0.0.0.0:5353 pid=2312',
    ]);
  });

  it('usb: the PnP device id stands in for the numeric list index; null fields become empty text', () => {
    const usb = toUsbSection(f.usb);
    expect(usb.devices.map((d) => d.id)).to.deep.equal([
      'USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER_BLADE&REV_1.00\\4C530001230523112463&0',
      'USB\\ROOT_HUB30\\4&1D2E3F4A&0&0',
      'USB\\VID_046D&PID_C52B\\5&2A1B3C4D&0&3',
    ]);
    for (const d of usb.devices) {
      expect(d.vendor).to.equal('');
      expect(d.serial).to.equal('');
    }
  });
});

describe('inventory mappers: the recorded container', () => {
  const f = CONTAINER;

  it("hardware turns systeminformation's '-' placeholder into empty text and says virtual", () => {
    const hw = toHardwareSection(f.system, f.bios, f.cpu, f.mem);
    expect(hw.serial).to.equal('');
    expect(hw.model).to.equal('Docker Container');
    expect(hw.virtual).to.equal(true);
    expect(hw.memoryTotalBytes).to.equal(f.mem.total);
  });

  it('ports hold only the LISTEN rows, and every one is a number port', () => {
    const listeners = f.networkConnections.filter((c) => c.state === 'LISTEN');
    const ports = toPortsSection(f.networkConnections);
    expect(ports.total).to.equal(listeners.length);
    for (const p of ports.listening) expect(p.localPort).to.be.within(1, 65535);
  });

  it('network has no loopback', () => {
    expect(toNetworkSection(f.networkInterfaces).interfaces.map((i) => i.iface)).to.not.include('lo');
  });

  it('every section survives a JSON round trip unchanged (no undefined, no Date)', () => {
    const sections = [
      toHardwareSection(f.system, f.bios, f.cpu, f.mem),
      toOsSection(f.osInfo),
      toUsersSection(f.users),
      toNetworkSection(f.networkInterfaces),
      toPortsSection(f.networkConnections),
      toUsbSection(f.usb),
    ];
    for (const s of sections) expect(JSON.parse(JSON.stringify(s))).to.deep.equal(s);
  });
});

describe('inventory mappers: listening-socket filter', () => {
  const base: SiNetworkConnection = { protocol: 'tcp', localAddress: '0.0.0.0', localPort: '80', peerAddress: '0.0.0.0', peerPort: '*', state: 'LISTEN', pid: 10, process: 'nginx' };
  const rows: Array<{ name: string; conn: Partial<SiNetworkConnection>; kept: boolean }> = [
    // The plain case.
    { name: 'tcp LISTEN', conn: {}, kept: true },
    // netstat -tunap prints IPv6 as its own protocol.
    { name: 'tcp6 LISTEN', conn: { protocol: 'tcp6', localAddress: '::' }, kept: true },
    // A connection, not a listener.
    { name: 'tcp ESTABLISHED', conn: { state: 'ESTABLISHED', peerPort: '51000' }, kept: false },
    { name: 'tcp TIME_WAIT', conn: { state: 'TIME_WAIT' }, kept: false },
    // Windows netstat -nao: UDP rows have no state.
    { name: 'udp, empty state', conn: { protocol: 'udp', state: '', peerPort: '*' }, kept: true },
    // ss prints UNCONN for a bound, unconnected UDP socket.
    { name: 'udp6 UNCONN', conn: { protocol: 'udp6', state: 'UNCONN', peerPort: '*' }, kept: true },
    // A connected UDP socket (e.g. a resolver's query) is traffic.
    { name: 'udp ESTABLISHED', conn: { protocol: 'udp', state: 'ESTABLISHED', peerPort: '53' }, kept: false },
    // Upper-case protocol as some platforms print it.
    { name: 'TCP upper case', conn: { protocol: 'TCP' }, kept: true },
    // A port that is not a number cannot be inventoried.
    { name: 'port "*"', conn: { localPort: '*' }, kept: false },
    { name: 'port out of range', conn: { localPort: '70000' }, kept: false },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.kept ? 'kept' : 'dropped'}`, () => {
      expect(toPortsSection([{ ...base, ...row.conn }]).listening).to.have.length(row.kept ? 1 : 0);
    });
  }

  it('sorts by protocol, then port numerically (not as text)', () => {
    const conns = ['8080', '443', '80'].map((localPort) => ({ ...base, localPort }));
    expect(toPortsSection(conns).listening.map((p) => p.localPort)).to.deep.equal([80, 443, 8080]);
  });
});

describe('inventory mappers: untrusted field values', () => {
  const rows: Array<{ name: string; input: unknown; expected: string }> = [
    { name: 'text is trimmed', input: '  Dell Inc. ', expected: 'Dell Inc.' },
    // systeminformation's "unknown" placeholder.
    { name: "'-' placeholder", input: '-', expected: '' },
    { name: 'null', input: null, expected: '' },
    { name: 'undefined', input: undefined, expected: '' },
    { name: 'a number becomes its text', input: 3, expected: '3' },
    { name: 'NaN has no text', input: Number.NaN, expected: '' },
    { name: 'an object is not text', input: { a: 1 }, expected: '' },
    // A lying DMI table must not bloat the inventory.
    { name: 'long text capped at 256', input: 'x'.repeat(1000), expected: 'x'.repeat(256) },
  ];
  for (const row of rows) {
    it(`cleanText: ${row.name}`, () => {
      expect(cleanText(row.input)).to.equal(row.expected);
    });
  }

  it('hardware with wrong-typed numbers reads them as 0, never NaN or undefined', () => {
    const bogus = { total: Number.NaN } as SiMem;
    const cpu = { manufacturer: 'x', brand: 'y', cores: -1, physicalCores: null } as unknown as SiCpu;
    const hw = toHardwareSection(CONTAINER.system, CONTAINER.bios, cpu, bogus);
    expect([hw.memoryTotalBytes, hw.cpuCores, hw.cpuPhysicalCores]).to.deep.equal([0, 0, 0]);
  });

  it('software section counts the packages and says which manager listed them', () => {
    const packages = [{ name: 'bash', version: '5.2.15-2+b2' }];
    expect(toSoftwareSection({ source: 'dpkg', packages, skipped: 0 })).to.deep.equal({ source: 'dpkg', total: 1, truncated: false, packages });
  });
});

describe('inventory mappers: mail accounts', () => {
  const account = { client: 'goa', user: 'ahmed', address: 'a@interieur.gov.dz', source: '/home/ahmed/.config/goa-1.0/accounts.conf' } as const;
  const rows = [
    // As discovery gives it: nothing cut.
    { name: 'all accounts listed', found: { accounts: [account], total: 1, problems: [] }, total: 1, truncated: false, problems: 0 },
    // Discovery capped the list: the true count is kept and the list says truncated.
    { name: 'capped by discovery', found: { accounts: [account], total: 240, problems: [] }, total: 240, truncated: true, problems: 0 },
    // A total below the list (a bug upstream) is not believed.
    { name: 'total below the list', found: { accounts: [account, account], total: 1, problems: [] }, total: 2, truncated: false, problems: 0 },
    // Problems are bounded in number.
    { name: 'many problems', found: { accounts: [], total: 0, problems: Array.from({ length: 80 }, (_, i) => `/home/u${i}: refused`) }, total: 0, truncated: false, problems: 50 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const section = toMailSection(row.found);
      expect([section.total, section.truncated, section.problems.length]).to.deep.equal([row.total, row.truncated, row.problems]);
      expect(section.accounts).to.deep.equal(row.found.accounts);
    });
  }

  it('a long problem text is cut with an ellipsis', () => {
    const [problem] = toMailSection({ accounts: [], total: 0, problems: ['p'.repeat(2000)] }).problems;
    expect(problem).to.equal(`${'p'.repeat(512)}…`);
  });
});
