import { expect } from 'chai';
import { SysfsEnforcer } from '../src/platform/linux/sysfs-enforcer.js';
import type { EnforcementOutcome } from '../src/service/device-events.js';
import { PlanExecutor, type ReadOnlyProtector } from '../src/service/plan-executor.js';
import { FakeSysfs } from './support/fake-sysfs.js';
import { waitFor } from './support/service-harness.js';

/** A keyboard that is also a flash drive: what a BadUSB gadget or a keyboard with a card reader looks like. */
const GADGET = { vendor: '1d50', product: '6018', productName: 'Composite Gadget', interfaces: ['03:01:01', '08:06:50'] };
const SILENT = { warn: () => undefined };

describe('plan executor on a fake sysfs tree', () => {
  let fake: FakeSysfs;

  beforeEach(async () => {
    fake = await FakeSysfs.create();
    fake.startKernel(2);
    await new SysfsEnforcer(fake.root).failClosed(fake.rootHubs());
  });

  afterEach(async () => {
    await fake.cleanup();
  });

  function executor(readonly: ReadOnlyProtector = { protect: async () => [] }, late?: (name: string, o: EnforcementOutcome) => void): PlanExecutor {
    return new PlanExecutor({ enforcer: new SysfsEnforcer(fake.root), readonly, logger: SILENT, pollMs: 5, blockWaitMs: 500, ...(late ? { onLateReadonly: late } : {}) });
  }

  it('authorizes only the allowed interfaces of a composite device and restores the bus default', async () => {
    await fake.plug({ port: '1-1', ...GADGET });
    const result = await executor().run([{ kind: 'authorize-interfaces', name: '1-1', allow: ['03:01:01'], deny: ['08:06:50'] }]);
    expect(result.devices.get('1-1')).to.deep.equal({ ok: true });
    expect(await fake.readAttr('1-1', 'authorized')).to.equal('1');
    expect(await fake.readAttr('1-1:1.0', 'authorized'), 'keyboard interface').to.equal('1');
    expect(await fake.readAttr('1-1:1.1', 'authorized'), 'storage interface').to.equal('0');
    expect(await fake.readAttr('usb1', 'interface_authorized_default')).to.equal('1');
  });

  it('does not authorize a composite device when the bus default cannot be switched off, and says so', async () => {
    await fake.plug({ port: '1-2', ...GADGET });
    // The kernel swallows writes to the bus default: authorizing would bring every interface up.
    await fake.refuseWrites('usb1', 'interface_authorized_default');
    const result = await executor().run([{ kind: 'authorize-interfaces', name: '1-2', allow: ['03:01:01'], deny: ['08:06:50'] }]);
    const outcome = result.devices.get('1-2')!;
    expect(outcome.ok).to.equal(false);
    expect(outcome.error).to.match(/interface_authorized_default/);
    expect(await fake.readAttr('1-2', 'authorized')).to.equal('0');
  });

  it('skips the rest of a device\u2019s steps after a failed write, and reports which file stayed as it was', async () => {
    await fake.plug({ port: '1-3', vendor: '0781', product: '5567', interfaces: ['08:06:50'] });
    await fake.refuseWrites('1-3', 'authorized');
    let protectCalls = 0;
    const result = await executor({ protect: async () => (protectCalls++, ['sdb']) }).run([
      { kind: 'authorize', name: '1-3' },
      { kind: 'set-readonly', name: '1-3' },
    ]);
    expect(result.devices.get('1-3')?.ok).to.equal(false);
    expect(result.devices.get('1-3')?.error).to.contain('1-3/authorized');
    expect(protectCalls).to.equal(0);
  });

  it('protects disks that appear after authorization in the background, and reports them', async () => {
    await fake.plug({ port: '1-4', vendor: '0781', product: '5567', interfaces: ['08:06:50'] });
    let disks: string[] = [];
    const late: Array<[string, EnforcementOutcome]> = [];
    const ex = executor({ protect: async () => disks }, (name, o) => late.push([name, o]));
    const result = await ex.run([
      { kind: 'authorize', name: '1-4' },
      { kind: 'set-readonly', name: '1-4' },
    ]);
    expect(result.devices.get('1-4')).to.deep.equal({ ok: true, blockDevices: [] });
    disks = ['sdc', 'sdc1'];
    await waitFor('the late protection', () => late.length === 1);
    expect(late[0]).to.deep.equal(['1-4', { ok: true, blockDevices: ['sdc', 'sdc1'] }]);
  });

  it('on a rescan, protects and reports only disks that appeared since (a card put into a reader)', async () => {
    await fake.plug({ port: '1-2', vendor: '058f', product: '6366', interfaces: ['08:06:50'] });
    let disks = ['sdd'];
    const late: Array<[string, EnforcementOutcome]> = [];
    const ex = executor({ protect: async () => disks }, (name, o) => late.push([name, o]));
    await ex.run([{ kind: 'authorize', name: '1-2' }, { kind: 'set-readonly', name: '1-2' }]);
    await ex.recheckReadonly('1-2');
    expect(late, 'nothing new').to.deep.equal([]);
    disks = ['sdd', 'sde', 'sde1'];
    await ex.recheckReadonly('1-2');
    expect(late).to.deep.equal([['1-2', { ok: true, blockDevices: ['sdd', 'sde', 'sde1'] }]]);
  });

  it('fails closed when a readonly device\u2019s disks cannot be made read-only: the device is blocked', async () => {
    await fake.plug({ port: '1-1', vendor: '0781', product: '5567', interfaces: ['08:06:50'] });
    const result = await executor({
      protect: async () => {
        throw new Error('blockdev --setro failed: Permission denied');
      },
    }).run([
      { kind: 'authorize', name: '1-1' },
      { kind: 'set-readonly', name: '1-1' },
    ]);
    expect(result.devices.get('1-1')?.ok).to.equal(false);
    expect(result.devices.get('1-1')?.error).to.match(/Permission denied; device blocked instead/);
    expect(await fake.readAttr('1-1', 'authorized')).to.equal('0');
  });

  it('reports a fail-closed step that did not take on one root hub', async () => {
    await fake.refuseWrites('usb2', 'authorized_default');
    const result = await executor().run([{ kind: 'fail-closed', rootHubs: fake.rootHubs() }]);
    expect(result.failClosed?.ok).to.equal(false);
    expect(result.failClosed?.error).to.contain('usb2/authorized_default');
  });
});
