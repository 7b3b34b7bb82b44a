import { expect } from 'chai';
import { encodeMessage, MAX_FRAME_BYTES, parseAgentMessage, type InventoryMessage } from '@portcullis/shared';
import { changedSections, fitInventory, INVENTORY_MAX_FRAME_BYTES, inventoryDelta } from '../src/inventory/inventory-delta.js';
import type { Inventory, MailSection, PortsSection, SoftwareSection } from '../src/inventory/inventory-model.js';
import type { MailAccount } from '../src/mail/accounts/mail-account.js';

function mailAccount(address: string): MailAccount {
  return { client: 'thunderbird', user: 'ahmed', address, outgoing: { host: 'smtp.interieur.gov.dz', port: 587 }, source: '/home/ahmed/.thunderbird/p/prefs.js' };
}

function inventory(overrides: Partial<Inventory> = {}): Inventory {
  return {
    collectedAt: '2026-11-25T10:00:00.000Z',
    hardware: {
      manufacturer: 'Dell Inc.',
      model: 'OptiPlex 7090',
      serial: '7XK4JH3',
      uuid: '4c4c4544-0058-4b10-8034-b7c04f4a4833',
      virtual: false,
      biosVendor: 'Dell Inc.',
      biosVersion: '1.21.0',
      cpuManufacturer: 'Intel',
      cpuBrand: 'Core i7-10700',
      cpuCores: 16,
      cpuPhysicalCores: 8,
      memoryTotalBytes: 16541028352,
    },
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', kernel: '6.1.0-18-amd64', arch: 'x64', hostname: 'pc-014' },
    users: { total: 1, truncated: false, sessions: [{ user: 'ahmed', tty: 'tty2', loginDate: '2026-11-25T08:02', from: '' }] },
    software: { source: 'dpkg', total: 2, truncated: false, packages: [{ name: 'bash', version: '5.2' }, { name: 'zlib', version: '1.2' }] },
    network: { total: 0, truncated: false, interfaces: [] },
    ports: { total: 1, truncated: false, listening: [{ protocol: 'tcp', localAddress: '0.0.0.0', localPort: 22, pid: 812, process: 'sshd' }] },
    usb: { total: 0, truncated: false, devices: [] },
    mail: { total: 1, truncated: false, accounts: [mailAccount('ahmed.benali@interieur.gov.dz')], problems: [] },
    ...overrides,
  };
}

function frame(inv: Inventory): string {
  const msg: InventoryMessage = { v: 1, type: 'inventory', body: { kind: 'snapshot', inventory: inv } };
  return encodeMessage(msg);
}

describe('inventory delta', () => {
  it('is a snapshot when nothing was sent before', () => {
    const next = inventory();
    expect(inventoryDelta(null, next)).to.deep.equal({ kind: 'snapshot', inventory: next });
  });

  it('is null when no section changed, even though collectedAt did', () => {
    expect(inventoryDelta(inventory(), inventory({ collectedAt: '2026-11-25T16:00:00.000Z' }))).to.equal(null);
  });

  it('ignores key order inside sections (canonical comparison)', () => {
    const prev = inventory();
    const reordered = inventory({ os: { hostname: 'pc-014', arch: 'x64', kernel: '6.1.0-18-amd64', codename: 'bookworm', release: '12', distro: 'Debian GNU/Linux', platform: 'linux' } });
    expect(inventoryDelta(prev, reordered)).to.equal(null);
  });

  it('carries only the changed sections, whole, with the new collectedAt', () => {
    const prev = inventory();
    const ports: PortsSection = { total: 2, truncated: false, listening: [...(prev.ports as PortsSection).listening, { protocol: 'tcp', localAddress: '0.0.0.0', localPort: 3389, process: 'xrdp' }] };
    const next = inventory({ collectedAt: '2026-11-25T16:00:00.000Z', ports, usb: { error: 'timed out after 20000 ms' } });
    expect(inventoryDelta(prev, next)).to.deep.equal({
      kind: 'delta',
      changes: { collectedAt: '2026-11-25T16:00:00.000Z', ports, usb: { error: 'timed out after 20000 ms' } },
    });
    expect(changedSections(prev, next)).to.deep.equal(['ports', 'usb']);
  });

  it('a mail account added on the PC is a delta of the mail section alone', () => {
    const prev = inventory();
    const mail: MailSection = { total: 2, truncated: false, accounts: [mailAccount('ahmed.benali@interieur.gov.dz'), mailAccount('ahmed.perso@gmail.com')], problems: [] };
    const next = inventory({ collectedAt: '2026-11-25T10:00:05.000Z', mail });
    expect(inventoryDelta(prev, next)).to.deep.equal({ kind: 'delta', changes: { collectedAt: '2026-11-25T10:00:05.000Z', mail } });
  });

  it("applied as the server does ({...current, ...changes}) it yields exactly the new inventory", () => {
    const prev = inventory();
    const next = inventory({ collectedAt: '2026-11-26T10:00:00.000Z', os: { ...(prev.os as object), kernel: '6.1.0-20-amd64' } as Inventory['os'] });
    const update = inventoryDelta(prev, next);
    if (update?.kind !== 'delta') throw new Error(`expected a delta, got ${JSON.stringify(update)}`);
    expect({ ...prev, ...update.changes }).to.deep.equal(next);
  });
});

describe('inventory fitting', () => {
  it('returns an inventory that fits unchanged', () => {
    const inv = inventory();
    expect(fitInventory(inv)).to.equal(inv);
  });

  it('cuts a 200k-package software list so the frame fits, saying truncated and the true total', () => {
    const packages = Array.from({ length: 200_000 }, (_, i) => ({ name: `package-${String(i).padStart(6, '0')}`, version: `1.${i}-1+deb12u1` }));
    const software: SoftwareSection = { source: 'dpkg', total: packages.length, truncated: false, packages };
    const fitted = fitInventory(inventory({ software }));
    const text = frame(fitted);
    const bytes = Buffer.byteLength(text, 'utf8');
    expect(bytes).to.be.at.most(INVENTORY_MAX_FRAME_BYTES);
    expect(bytes).to.be.at.most(MAX_FRAME_BYTES);
    // Not cut more than needed: the frame uses nearly all of its budget.
    expect(bytes).to.be.above(INVENTORY_MAX_FRAME_BYTES - 200);
    const cut = fitted.software as SoftwareSection;
    expect(cut.truncated).to.equal(true);
    expect(cut.total).to.equal(200_000);
    expect(cut.packages.length).to.be.above(10_000).and.below(200_000);
    // The kept entries are the first ones in sorted order, so the next round cuts the same way.
    expect(cut.packages).to.deep.equal(packages.slice(0, cut.packages.length));
    // Other sections are untouched, and the server's parser takes the frame.
    expect(fitted.ports).to.deep.equal(inventory().ports);
    const parsed = parseAgentMessage(text);
    expect(parsed.type).to.equal('inventory');
  });

  it('cuts the largest list first and leaves smaller ones whole', () => {
    const packages = Array.from({ length: 60_000 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    const listening = Array.from({ length: 2_000 }, (_, i) => ({ protocol: 'tcp', localAddress: '0.0.0.0', localPort: 1 + i, process: 'svc' }));
    const fitted = fitInventory(
      inventory({ software: { source: 'rpm', total: 60_000, truncated: false, packages }, ports: { total: 2_000, truncated: false, listening } }),
      200 * 1024,
    );
    expect((fitted.software as SoftwareSection).truncated).to.equal(true);
    expect((fitted.ports as PortsSection).truncated).to.equal(false);
    expect((fitted.ports as PortsSection).listening).to.have.length(2_000);
    expect(Buffer.byteLength(frame(fitted), 'utf8')).to.be.at.most(200 * 1024);
  });

  it('moves on to the next list when emptying the largest is not enough', () => {
    const packages = Array.from({ length: 3_000 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    const listening = Array.from({ length: 2_500 }, (_, i) => ({ protocol: 'tcp', localAddress: '0.0.0.0', localPort: 1 + i, process: 'some-long-service-name' }));
    const fitted = fitInventory(
      inventory({ software: { source: 'dpkg', total: 3_000, truncated: false, packages }, ports: { total: 2_500, truncated: false, listening } }),
      64 * 1024,
    );
    const ports = fitted.ports as PortsSection;
    const software = fitted.software as SoftwareSection;
    expect(ports.truncated && software.truncated).to.equal(true);
    expect([ports.total, software.total]).to.deep.equal([2_500, 3_000]);
    expect(Buffer.byteLength(frame(fitted), 'utf8')).to.be.at.most(64 * 1024);
  });

  it('cuts the mail account list like any other, saying truncated and the true total', () => {
    const accounts = Array.from({ length: 200 }, (_, i) => mailAccount(`user${String(i).padStart(3, '0')}@interieur.gov.dz`));
    const fitted = fitInventory(inventory({ mail: { total: 250, truncated: true, accounts, problems: ['/home/x/.thunderbird/profiles.ini: is a symbolic link: not read'] } }), 8 * 1024);
    const mail = fitted.mail as MailSection;
    expect(mail.truncated).to.equal(true);
    expect(mail.total).to.equal(250);
    expect(mail.accounts.length).to.be.above(0).and.below(200);
    expect(mail.accounts).to.deep.equal(accounts.slice(0, mail.accounts.length));
    expect(mail.problems).to.have.length(1);
    expect(Buffer.byteLength(frame(fitted), 'utf8')).to.be.at.most(8 * 1024);
  });

  it('replaces a section that is too large and has no list by an error, rather than break the frame', () => {
    const huge = inventory({ os: { platform: 'linux', distro: 'x'.repeat(1_200_000), release: '', codename: '', kernel: '', arch: '', hostname: '' } });
    const fitted = fitInventory(huge);
    expect(fitted.os).to.deep.equal({ error: `section too large to send (${Buffer.byteLength(JSON.stringify(huge.os))} bytes of JSON)` });
    expect(fitted.hardware).to.deep.equal(huge.hardware);
    expect(Buffer.byteLength(frame(fitted), 'utf8')).to.be.at.most(INVENTORY_MAX_FRAME_BYTES);
  });

  it('refuses a budget outside 1 KiB..MAX_FRAME_BYTES', () => {
    expect(() => fitInventory(inventory(), MAX_FRAME_BYTES + 1)).to.throw(RangeError, /maxFrameBytes/);
    expect(() => fitInventory(inventory(), 100)).to.throw(RangeError, /maxFrameBytes/);
  });
});
