import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { collectInventory, type InventoryLogger } from '../src/inventory/inventory-collector.js';
import { INVENTORY_SECTIONS, isSectionError, type HardwareSection, type OsSection } from '../src/inventory/inventory-model.js';
import { systemInformationSource, type InventorySource, type MailAccountSource, type SystemInformation } from '../src/inventory/inventory-source.js';
import type { SoftwareLister } from '../src/inventory/software-lister.js';

type Answers = { readonly [K in keyof SystemInformation]: Awaited<ReturnType<SystemInformation[K]>> };

const DESKTOP = JSON.parse(
  readFileSync(new URL('../../test/fixtures/inventory/debian12-workstation.si.json', import.meta.url), 'utf8'),
) as Answers;

const MAIL_ACCOUNT = {
  client: 'thunderbird',
  user: 'ahmed',
  address: 'ahmed.benali@interieur.gov.dz',
  incoming: { protocol: 'imap', host: 'imap.interieur.gov.dz', port: 993 },
  source: '/home/ahmed/.thunderbird/k2f7w1qz.default-release/prefs.js',
} as const;
const FAKE_MAIL: MailAccountSource = { discover: () => Promise.resolve({ accounts: [MAIL_ACCOUNT], total: 1, problems: [] }) };

/** A source answering from the recorded desktop, with some calls replaced. */
function fakeSource(overrides: Partial<SystemInformation> = {}, software?: SoftwareLister, mail: MailAccountSource = FAKE_MAIL): InventorySource {
  const answer = <K extends keyof SystemInformation>(key: K) => () => Promise.resolve(DESKTOP[key]);
  const system = {
    system: answer('system'),
    bios: answer('bios'),
    cpu: answer('cpu'),
    mem: answer('mem'),
    osInfo: answer('osInfo'),
    users: answer('users'),
    networkInterfaces: answer('networkInterfaces'),
    networkConnections: answer('networkConnections'),
    usb: answer('usb'),
    ...overrides,
  } as SystemInformation;
  return { system, software: software ?? { list: () => Promise.resolve({ source: 'dpkg', packages: [{ name: 'bash', version: '5.2' }], skipped: 0 }) }, mail };
}

interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly meta?: Record<string, unknown>;
}
function recorder(): InventoryLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (message, meta) => lines.push({ level: 'info', message, ...(meta ? { meta } : {}) }),
    warn: (message, meta) => lines.push({ level: 'warn', message, ...(meta ? { meta } : {}) }),
  };
}

const NOW = Date.parse('2026-11-25T10:00:00.000Z');

describe('inventory collector', () => {
  it('collects every section, stamped with the clock', async () => {
    const logger = recorder();
    const inv = await collectInventory(fakeSource(), { logger, clock: () => NOW });
    expect(inv.collectedAt).to.equal('2026-11-25T10:00:00.000Z');
    expect(Object.keys(inv).sort()).to.deep.equal(['collectedAt', ...INVENTORY_SECTIONS].sort());
    for (const name of INVENTORY_SECTIONS) expect(isSectionError(inv[name]), name).to.equal(false);
    expect((inv.os as OsSection).hostname).to.equal('pc-finance-014');
    expect(inv.software).to.deep.equal({ source: 'dpkg', total: 1, truncated: false, packages: [{ name: 'bash', version: '5.2' }] });
    expect(inv.mail).to.deep.equal({ total: 1, truncated: false, accounts: [MAIL_ACCOUNT], problems: [] });
    expect(logger.lines.filter((l) => l.level === 'warn')).to.deep.equal([]);
  });

  it('mail fails soft like the others: a discovery that rejects gives an error section', async () => {
    const logger = recorder();
    const mail: MailAccountSource = { discover: () => Promise.reject(new Error('cannot read /etc/passwd: EACCES')) };
    const inv = await collectInventory(fakeSource({}, undefined, mail), { logger, clock: () => NOW });
    expect(inv.mail).to.deep.equal({ error: 'cannot read /etc/passwd: EACCES' });
    expect(isSectionError(inv.software)).to.equal(false);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.meta?.['section'])).to.deep.equal(['mail']);
  });

  it('fails soft: a throwing collector and a hanging one give error sections, the rest are fine', async () => {
    const logger = recorder();
    const hang = () => new Promise<never>(() => undefined);
    const source = fakeSource({ usb: () => Promise.reject(new Error('lsusb: not found')), networkConnections: hang });
    const started = Date.now();
    const inv = await collectInventory(source, { logger, clock: () => NOW, timeoutMs: 100 });
    expect(Date.now() - started).to.be.below(5_000);
    expect(inv.usb).to.deep.equal({ error: 'lsusb: not found' });
    expect(inv.ports).to.deep.equal({ error: 'timed out after 100 ms' });
    for (const name of ['hardware', 'os', 'users', 'software', 'network'] as const) expect(isSectionError(inv[name]), name).to.equal(false);
    const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.meta?.['section']);
    expect(warnings.sort()).to.deep.equal(['ports', 'usb']);
  });

  it('one failing call fails only its own section (hardware needs four calls)', async () => {
    const inv = await collectInventory(fakeSource({ bios: () => Promise.reject(new Error('dmidecode: permission denied')) }), { logger: recorder(), clock: () => NOW });
    expect(inv.hardware).to.deep.equal({ error: 'dmidecode: permission denied' });
    expect(isSectionError(inv.os)).to.equal(false);
  });

  it('a collector that throws synchronously or throws a non-Error still fails soft', async () => {
    const source = fakeSource({
      osInfo: () => {
        throw new Error('sync boom');
      },
      users: () => Promise.reject('a bare string'),
    });
    const inv = await collectInventory(source, { logger: recorder(), clock: () => NOW });
    expect(inv.os).to.deep.equal({ error: 'sync boom' });
    expect(inv.users).to.deep.equal({ error: 'a bare string' });
  });

  it('a per-section timeout overrides the default', async () => {
    const slow = () => new Promise<never>(() => undefined);
    const inv = await collectInventory(fakeSource({ usb: slow }), { logger: recorder(), clock: () => NOW, timeoutMs: 10_000, sectionTimeoutsMs: { usb: 50 } });
    expect(inv.usb).to.deep.equal({ error: 'timed out after 50 ms' });
  });

  it('a collector failing after its timeout is logged, not an unhandled rejection', async () => {
    const logger = recorder();
    const late = () => new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('late failure')), 80));
    const inv = await collectInventory(fakeSource({ usb: late }), { logger, clock: () => NOW, timeoutMs: 20 });
    expect(inv.usb).to.deep.equal({ error: 'timed out after 20 ms' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(logger.lines.some((l) => l.level === 'info' && l.meta?.['error'] === 'late failure')).to.equal(true);
  });

  it('refuses a timeout that is not a positive integer', async () => {
    let error: unknown;
    await collectInventory(fakeSource(), { logger: recorder(), timeoutMs: -1 }).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(RangeError);
    expect((error as Error).message).to.match(/positive integer/);
  });
});

describe('inventory collector: smoke test on this machine (real systeminformation)', () => {
  it('collects os and hardware sections of the right shape', async function () {
    this.timeout(120_000);
    const logger = recorder();
    const inv = await collectInventory(systemInformationSource(), { logger, timeoutMs: 60_000 });
    expect(Number.isNaN(Date.parse(inv.collectedAt))).to.equal(false);

    expect(isSectionError(inv.os), JSON.stringify(inv.os)).to.equal(false);
    const os = inv.os as OsSection;
    for (const key of ['platform', 'distro', 'release', 'codename', 'kernel', 'arch', 'hostname'] as const) expect(os[key], key).to.be.a('string');
    expect(os.platform).to.equal(process.platform);
    if ('fqdn' in os) expect(os.fqdn).to.be.a('string').and.not.equal('');

    expect(isSectionError(inv.hardware), JSON.stringify(inv.hardware)).to.equal(false);
    const hw = inv.hardware as HardwareSection;
    for (const key of ['manufacturer', 'model', 'serial', 'uuid', 'biosVendor', 'biosVersion', 'cpuManufacturer', 'cpuBrand'] as const) {
      expect(hw[key], key).to.be.a('string');
    }
    expect(hw.virtual).to.be.a('boolean');
    expect(hw.cpuCores).to.be.a('number').and.be.greaterThan(0);
    expect(hw.memoryTotalBytes).to.be.a('number').and.be.greaterThan(0);

    // The whole inventory is plain JSON.
    expect(JSON.parse(JSON.stringify(inv))).to.deep.equal(inv);
  });
});
