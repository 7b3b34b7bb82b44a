import { expect } from 'chai';
import { readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PortPolicy } from '@portcullis/shared';
import { planPorts } from '../src/core/port-planner.js';
import { EnforcementError } from '../src/platform/enforcer.js';
import { LinuxPortControl, type LinuxPortControlOptions } from '../src/platform/linux/linux-port-control.js';
import { NODE_PORT_FS } from '../src/platform/linux/port-fs.js';
import type { PortState, PortStep } from '../src/platform/port-control.js';
import { FakePorts } from './support/fake-ports.js';

interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

class RecordingLogger {
  readonly lines: LogLine[] = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  }
}

async function failure(promise: Promise<unknown>): Promise<EnforcementError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof EnforcementError)) throw new Error(`expected an EnforcementError, got ${String(err)}`);
  expect(err.code).to.equal('PORTCULLIS_ERR_ENFORCEMENT');
  return err;
}

const BLOCK_ALL: PortPolicy = { serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' };
const ALLOW_ALL: PortPolicy = { serial: 'allow', parallel: 'allow', bluetooth: 'allow', optical: 'allow' };

describe('linux: LinuxPortControl on a fake tree', () => {
  let fake: FakePorts;
  let logger: RecordingLogger;

  function control(extra: Partial<LinuxPortControlOptions> = {}): LinuxPortControl {
    return new LinuxPortControl({
      sysfsRoot: fake.sysfsRoot,
      devRoot: fake.devRoot,
      stateDir: fake.stateDir,
      logger,
      allowRegularFiles: true,
      ...extra,
    });
  }

  function step(s: Omit<PortStep, 'path' | 'from'> & Partial<PortStep>): PortStep {
    return { path: join(fake.devRoot, s.id), from: 'allowed', ...s };
  }

  /** Scan, plan, apply every step; returns the plan. */
  async function enforce(ctl: LinuxPortControl, policy: PortPolicy) {
    const plan = planPorts(await ctl.scan(), policy);
    for (const s of plan.steps) await ctl.apply(s);
    return plan;
  }

  beforeEach(async () => {
    fake = await FakePorts.create();
    logger = new RecordingLogger();
  });
  afterEach(() => fake.cleanup());

  describe('scan', () => {
    it('lists Bluetooth radios, real serial ports, parallel ports and optical drives, with labels and details', async () => {
      await fake.addRadio(0, { name: 'hci0' });
      await fake.addRadio(1, { type: 'wlan', name: 'phy0' });
      await fake.addRadio(2, { name: 'tpacpi_bluetooth_sw', soft: 1, hard: 1 });
      await fake.addSerial('ttyS0');
      await fake.addSerial('ttyS1', { real: false });
      await fake.addNode('ttyUSB0');
      await fake.addNode('ttyACM0', 0o660);
      await fake.addNode('lp0');
      await fake.addNode('parport0', 0o000);
      await fake.addOptical('sr0', { generic: 'sg1' });
      await fake.addGeneric('sg0', 0); // a disk's generic node
      await fake.addNode('tty1'); // a console: not a port the agent switches
      const states = await control().scan();
      const rows = states.map((s) => [s.portClass, s.id, s.label, s.state, s.detail]);
      expect(rows).to.have.deep.members([
        ['bluetooth', 'rfkill0', 'Bluetooth radio hci0', 'allowed', 'soft 0, hard 0'],
        ['bluetooth', 'rfkill2', 'Bluetooth radio tpacpi_bluetooth_sw', 'blocked', 'soft 1, hard 1 (switched off in hardware)'],
        ['serial', 'ttyS0', 'Serial port ttyS0', 'allowed', 'mode 0660'],
        ['serial', 'ttyUSB0', 'USB serial port ttyUSB0', 'allowed', 'mode 0660'],
        ['serial', 'ttyACM0', 'USB modem port ttyACM0', 'allowed', 'mode 0660'],
        ['parallel', 'lp0', 'Parallel printer port lp0', 'allowed', 'mode 0660'],
        ['parallel', 'parport0', 'Parallel port parport0', 'blocked', 'mode 0000'],
        ['optical', 'sr0', 'Optical drive sr0', 'allowed', 'mode 0660'],
        ['optical', 'sg1', 'Optical drive SCSI generic node sg1', 'allowed', 'mode 0660'],
      ]);
      expect(states.find((s) => s.id === 'rfkill0')?.path).to.equal(join(fake.sysfsRoot, 'class/rfkill/rfkill0'));
      expect(states.find((s) => s.id === 'sr0')?.path).to.equal(join(fake.devRoot, 'sr0'));
    });

    it('a ttyS without a tty class entry is not listed; one whose class entry has no type is (failing closed)', async () => {
      await fake.addNode('ttyS4'); // node left over, no port behind it
      await fake.addSerial('ttyS5');
      await rm(join(fake.sysfsRoot, 'class/tty/ttyS5/type'));
      expect((await control().scan()).map((s) => s.id)).to.deep.equal(['ttyS5']);
    });

    it('a machine without rfkill or with an empty /dev lists nothing and says nothing', async () => {
      await rm(join(fake.sysfsRoot, 'class/rfkill'), { recursive: true });
      expect(await control().scan()).to.deep.equal([]);
      expect(logger.warnings()).to.deep.equal([]);
    });

    it('an unreadable /dev is logged and yields the radios only (collectors fail soft)', async () => {
      await fake.addRadio(0);
      const states = await control({ devRoot: join(fake.root, 'no-such-dev') }).scan();
      expect(states.map((s) => s.id)).to.deep.equal(['rfkill0']);
      expect(logger.warnings()[0]).to.match(/^cannot list device nodes: .*ENOENT/);
    });

    it('a symlink under a port name is left out with a warning, never followed', async () => {
      await writeFile(join(fake.root, 'target'), '');
      await symlink(join(fake.root, 'target'), join(fake.devRoot, 'ttyUSB3'));
      expect(await control().scan()).to.deep.equal([]);
      expect(logger.warnings()).to.deep.equal([`${join(fake.devRoot, 'ttyUSB3')} is a symbolic link; left alone`]);
    });

    it('without allowRegularFiles (the default) a regular file is no device node', async () => {
      await fake.addNode('lp0');
      expect(await control({ allowRegularFiles: false }).scan()).to.deep.equal([]);
      expect(logger.warnings()).to.deep.equal([`${join(fake.devRoot, 'lp0')} is not a char device node; left alone`]);
    });
  });

  describe('apply: device nodes', () => {
    it('block then allow round-trips the original mode, remembered in ports.json (0600) before the change', async () => {
      await fake.addSerial('ttyS0', { mode: 0o640 });
      const ctl = control();
      await ctl.apply(step({ portClass: 'serial', id: 'ttyS0', to: 'blocked' }));
      expect(await fake.mode('ttyS0')).to.equal(0o000);
      const file = join(fake.stateDir, 'ports.json');
      expect(JSON.parse(await readFile(file, 'utf8'))).to.deep.equal({ schema: 1, originalModes: { ttyS0: '0640' } });
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await ctl.scan()).find((s) => s.id === 'ttyS0')).to.include({ state: 'blocked', detail: 'mode 0000, original 0640' });
      await ctl.apply(step({ portClass: 'serial', id: 'ttyS0', from: 'blocked', to: 'allowed' }));
      expect(await fake.mode('ttyS0')).to.equal(0o640);
      expect(logger.warnings()).to.deep.equal([]);
    });

    it('optical read-only removes every write bit of the original; allow restores it; block from read-only keeps the original', async () => {
      await fake.addOptical('sr0', { mode: 0o664 });
      const ctl = control();
      await ctl.apply(step({ portClass: 'optical', id: 'sr0', to: 'readonly' }));
      expect(await fake.mode('sr0')).to.equal(0o444);
      await ctl.apply(step({ portClass: 'optical', id: 'sr0', from: 'readonly', to: 'blocked' }));
      expect(await fake.mode('sr0')).to.equal(0o000);
      await ctl.apply(step({ portClass: 'optical', id: 'sr0', from: 'blocked', to: 'readonly' }));
      expect(await fake.mode('sr0')).to.equal(0o444);
      await ctl.apply(step({ portClass: 'optical', id: 'sr0', from: 'readonly', to: 'allowed' }));
      expect(await fake.mode('sr0')).to.equal(0o664);
    });

    it('the original survives a restart: a new instance restores what the first one recorded', async () => {
      await fake.addNode('parport0', 0o620);
      await control().apply(step({ portClass: 'parallel', id: 'parport0', to: 'blocked' }));
      await control().apply(step({ portClass: 'parallel', id: 'parport0', from: 'blocked', to: 'allowed' }));
      expect(await fake.mode('parport0')).to.equal(0o620);
    });

    it('with no original known, allow uses 0660 and says so', async () => {
      await fake.addNode('lp1', 0o000);
      await control().apply(step({ portClass: 'parallel', id: 'lp1', from: 'blocked', to: 'allowed' }));
      expect(await fake.mode('lp1')).to.equal(0o660);
      expect(logger.warnings()).to.deep.equal([`${join(fake.devRoot, 'lp1')}: original mode unknown; using 0660`]);
    });

    it('a mode changed while allowed becomes the new original', async () => {
      await fake.addNode('ttyUSB0', 0o660);
      const ctl = control();
      await ctl.apply(step({ portClass: 'serial', id: 'ttyUSB0', to: 'blocked' }));
      await fake.addNode('ttyUSB0', 0o666); // replugged; an admin's udev rule now makes it 0666
      await ctl.apply(step({ portClass: 'serial', id: 'ttyUSB0', to: 'blocked' }));
      await ctl.apply(step({ portClass: 'serial', id: 'ttyUSB0', from: 'blocked', to: 'allowed' }));
      expect(await fake.mode('ttyUSB0')).to.equal(0o666);
    });

    it('the optical drive\'s generic node is switched too; a disk\'s generic node is refused', async () => {
      await fake.addOptical('sr0', { generic: 'sg1' });
      await fake.addGeneric('sg0', 0);
      const ctl = control();
      await enforce(ctl, { ...ALLOW_ALL, optical: 'readonly' });
      expect([await fake.mode('sr0'), await fake.mode('sg1')]).to.deep.equal([0o440, 0o440]);
      const err = await failure(ctl.apply(step({ portClass: 'optical', id: 'sg0', to: 'blocked' })));
      expect(err.reason).to.equal('refused');
      expect(err.message).to.match(/not an optical drive's SCSI generic node/);
      expect(await fake.mode('sg0')).to.equal(0o660);
    });

    it('gone: the node disappeared between scan and apply', async () => {
      await fake.addNode('ttyACM0');
      const ctl = control();
      const [state] = await ctl.scan();
      await fake.removeNode('ttyACM0');
      const err = await failure(ctl.apply({ ...step({ portClass: 'serial', id: 'ttyACM0', to: 'blocked' }), from: (state as PortState).state }));
      expect(err.reason).to.equal('gone');
      expect(err.file).to.equal(join(fake.devRoot, 'ttyACM0'));
    });

    it('not-applied: a chmod that the file system drops is caught by the read-back', async () => {
      await fake.addSerial('ttyS0');
      const deaf = { ...NODE_PORT_FS, chmod: async () => {} };
      const err = await failure(control({ fs: deaf }).apply(step({ portClass: 'serial', id: 'ttyS0', to: 'blocked' })));
      expect(err.reason).to.equal('not-applied');
      expect(err.message).to.equal(`${join(fake.devRoot, 'ttyS0')}: set mode 0000 but the node has 0660`);
    });

    it('not-applied: a node re-created during the change is reported, not taken for the changed one', async () => {
      await fake.addNode('ttyUSB0');
      const chmodThenReplace = async (path: string, mode: number): Promise<void> => {
        await NODE_PORT_FS.chmod(path, mode);
        await fake.addNode('ttyUSB0', 0o000); // udev replaces it: a new inode, the wanted mode by chance
      };
      const racing = { ...NODE_PORT_FS, chmod: chmodThenReplace };
      const err = await failure(control({ fs: racing }).apply(step({ portClass: 'serial', id: 'ttyUSB0', to: 'blocked' })));
      expect(err.reason).to.equal('not-applied');
      expect(err.message).to.match(/re-created during the change/);
    });

    it('refused: the chmod itself fails', async () => {
      await fake.addNode('lp0');
      const denied = { ...NODE_PORT_FS, chmod: async () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' })) };
      const err = await failure(control({ fs: denied }).apply(step({ portClass: 'parallel', id: 'lp0', to: 'blocked' })));
      expect(err.reason).to.equal('refused');
      expect(err.message).to.match(/chmod 0000 failed: EPERM/);
    });

    // Each row: a step the control must refuse before touching anything.
    const REFUSALS: readonly { name: string; step: Omit<PortStep, 'path' | 'from'>; reason: string; message: RegExp }[] = [
      { name: 'a path, not a name', step: { portClass: 'serial', id: '../etc/shadow', to: 'blocked' }, reason: 'invalid-name', message: /not a device node name of the serial class/ },
      { name: 'a disk', step: { portClass: 'optical', id: 'sda', to: 'blocked' }, reason: 'invalid-name', message: /not a device node name of the optical class/ },
      { name: 'a name of another class', step: { portClass: 'parallel', id: 'ttyS0', to: 'blocked' }, reason: 'invalid-name', message: /not a device node name of the parallel class/ },
      { name: 'a number too long', step: { portClass: 'serial', id: 'ttyS12345', to: 'blocked' }, reason: 'invalid-name', message: /not a device node name/ },
      { name: 'read-only serial', step: { portClass: 'serial', id: 'ttyS0', to: 'readonly' }, reason: 'refused', message: /a serial port has no read-only form/ },
      { name: 'a radio name with a path', step: { portClass: 'bluetooth', id: 'rfkill0/../rfkill1', to: 'blocked' }, reason: 'invalid-name', message: /not an rfkill name/ },
      { name: 'read-only radio', step: { portClass: 'bluetooth', id: 'rfkill0', to: 'readonly' }, reason: 'refused', message: /no read-only form/ },
    ];
    for (const row of REFUSALS) {
      it(`refuses ${row.name}`, async () => {
        await fake.addSerial('ttyS0');
        await fake.addRadio(0);
        const err = await failure(control().apply(step(row.step)));
        expect(err.reason).to.equal(row.reason);
        expect(err.message).to.match(row.message);
        expect(await fake.mode('ttyS0')).to.equal(0o660);
        expect(await fake.soft('rfkill0')).to.equal('0');
      });
    }

    it('refuses a symlink under a port name and leaves its target alone', async () => {
      const target = join(fake.root, 'precious');
      await writeFile(target, '', { mode: 0o644 });
      await symlink(target, join(fake.devRoot, 'ttyUSB0'));
      const err = await failure(control().apply(step({ portClass: 'serial', id: 'ttyUSB0', to: 'blocked' })));
      expect(err.reason).to.equal('refused');
      expect(err.message).to.match(/is a symbolic link; refusing to change it/);
      expect((await stat(target)).mode & 0o777).to.equal(0o644);
    });

    it('refuses a regular file unless allowRegularFiles is set', async () => {
      await fake.addNode('sr0');
      const err = await failure(control({ allowRegularFiles: false }).apply(step({ portClass: 'optical', id: 'sr0', to: 'blocked' })));
      expect(err.reason).to.equal('refused');
      expect(err.message).to.match(/is not a block device node/);
      expect(await fake.mode('sr0')).to.equal(0o660);
    });
  });

  describe('apply: Bluetooth', () => {
    it('block writes soft=1, allow soft=0; a wlan radio is never touched', async () => {
      const bt = await fake.addRadio(0);
      const wlan = await fake.addRadio(1, { type: 'wlan' });
      const ctl = control();
      await enforce(ctl, BLOCK_ALL);
      expect([await fake.soft(bt), await fake.soft(wlan)]).to.deep.equal(['1', '0']);
      await enforce(ctl, ALLOW_ALL);
      expect([await fake.soft(bt), await fake.soft(wlan)]).to.deep.equal(['0', '0']);
      const err = await failure(ctl.apply(step({ portClass: 'bluetooth', id: wlan, to: 'blocked' })));
      expect(err.reason).to.equal('gone');
      expect(err.message).to.match(/is a "wlan" radio, not Bluetooth/);
      expect(await fake.soft(wlan)).to.equal('0');
    });

    it('not-applied: a soft write the kernel ignores', async () => {
      const bt = await fake.addRadio(0);
      const deaf = { ...NODE_PORT_FS, writeAttribute: async () => {} };
      const err = await failure(control({ fs: deaf }).apply(step({ portClass: 'bluetooth', id: bt, to: 'blocked' })));
      expect(err.reason).to.equal('not-applied');
      expect(err.message).to.match(/wrote 1 but the kernel reports "0"/);
    });

    it('gone: the radio disappeared between scan and apply', async () => {
      const bt = await fake.addRadio(0);
      const ctl = control();
      const [state] = await ctl.scan();
      await fake.removeRadio(bt);
      const err = await failure(ctl.apply({ ...step({ portClass: 'bluetooth', id: bt, to: 'blocked' }), path: (state as PortState).path }));
      expect(err.reason).to.equal('gone');
    });
  });

  describe('with the planner', () => {
    it('a second plan after applying the first has no steps, on every policy', async () => {
      await fake.addRadio(0);
      await fake.addSerial('ttyS0');
      await fake.addNode('ttyUSB0');
      await fake.addNode('lp0');
      await fake.addOptical('sr0', { generic: 'sg1' });
      const ctl = control();
      const policies: PortPolicy[] = [BLOCK_ALL, { serial: 'readonly', parallel: 'allow', bluetooth: 'readonly', optical: 'readonly' }, ALLOW_ALL];
      for (const policy of policies) {
        const first = await enforce(ctl, policy);
        expect(first.steps.length, JSON.stringify(policy)).to.be.greaterThan(0);
        const again = planPorts(await ctl.scan(), policy);
        expect(again.steps, JSON.stringify(policy)).to.deep.equal([]);
      }
      expect(await fake.mode('ttyS0')).to.equal(0o660);
    });

    it('a node udev re-created with its default mode is blocked again by the next rescan', async () => {
      await fake.addNode('ttyUSB0');
      const ctl = control();
      await enforce(ctl, BLOCK_ALL);
      await fake.addNode('ttyUSB0', 0o660); // replugged
      const plan = await enforce(ctl, BLOCK_ALL);
      expect(plan.decisions.map((d) => [d.id, d.current, d.wanted, d.reason])).to.deep.equal([['ttyUSB0', 'allowed', 'blocked', 'ports.serial = block']]);
      expect(await fake.mode('ttyUSB0')).to.equal(0);
    });
  });
});
