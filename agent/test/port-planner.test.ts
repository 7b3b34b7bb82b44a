import { expect } from 'chai';
import fc from 'fast-check';
import { PORT_ACTIONS, PORT_CLASSES, type PortAction, type PortClass, type PortPolicy } from '@portcullis/shared';
import { planPorts, type PortDecision } from '../src/core/port-planner.js';
import type { PortCondition, PortState } from '../src/platform/port-control.js';

const ID: { readonly [K in PortClass]: string } = { serial: 'ttyS0', parallel: 'lp0', bluetooth: 'rfkill0', optical: 'sr0' };

function port(portClass: PortClass, state: PortCondition, id = ID[portClass]): PortState {
  return { portClass, id, path: `/dev/${id}`, label: `${portClass} ${id}`, state, detail: '' };
}

function only(portClass: PortClass, setting: PortAction): PortPolicy {
  return { serial: 'allow', parallel: 'allow', bluetooth: 'allow', optical: 'allow', [portClass]: setting };
}

interface Row {
  readonly portClass: PortClass;
  readonly setting: PortAction;
  readonly current: PortCondition;
  readonly wanted: PortCondition;
  readonly step: boolean;
}

const TABLE: readonly Row[] = [
  { portClass: 'serial', setting: 'allow', current: 'allowed', wanted: 'allowed', step: false },     // already open
  { portClass: 'serial', setting: 'allow', current: 'blocked', wanted: 'allowed', step: true },      // reopened
  { portClass: 'serial', setting: 'allow', current: 'readonly', wanted: 'allowed', step: true },     // a stray read-only mode is undone
  { portClass: 'serial', setting: 'block', current: 'allowed', wanted: 'blocked', step: true },      // closed
  { portClass: 'serial', setting: 'block', current: 'blocked', wanted: 'blocked', step: false },     // already closed
  { portClass: 'serial', setting: 'block', current: 'readonly', wanted: 'blocked', step: true },     // read-only is not blocked
  { portClass: 'serial', setting: 'readonly', current: 'allowed', wanted: 'blocked', step: true },   // no read-only serial: fail closed
  { portClass: 'serial', setting: 'readonly', current: 'blocked', wanted: 'blocked', step: false },  // fail-closed form already in place
  { portClass: 'serial', setting: 'readonly', current: 'readonly', wanted: 'blocked', step: true },  // a half-way mode is still too open
  { portClass: 'parallel', setting: 'allow', current: 'allowed', wanted: 'allowed', step: false },   // already open
  { portClass: 'parallel', setting: 'allow', current: 'blocked', wanted: 'allowed', step: true },    // reopened
  { portClass: 'parallel', setting: 'allow', current: 'readonly', wanted: 'allowed', step: true },   // stray read-only undone
  { portClass: 'parallel', setting: 'block', current: 'allowed', wanted: 'blocked', step: true },    // closed
  { portClass: 'parallel', setting: 'block', current: 'blocked', wanted: 'blocked', step: false },   // already closed
  { portClass: 'parallel', setting: 'block', current: 'readonly', wanted: 'blocked', step: true },   // read-only is not blocked
  { portClass: 'parallel', setting: 'readonly', current: 'allowed', wanted: 'blocked', step: true }, // no read-only printer port: fail closed
  { portClass: 'parallel', setting: 'readonly', current: 'blocked', wanted: 'blocked', step: false },// fail-closed form already in place
  { portClass: 'parallel', setting: 'readonly', current: 'readonly', wanted: 'blocked', step: true },// half-way mode still too open
  { portClass: 'bluetooth', setting: 'allow', current: 'allowed', wanted: 'allowed', step: false },  // radio on
  { portClass: 'bluetooth', setting: 'allow', current: 'blocked', wanted: 'allowed', step: true },   // soft block lifted
  { portClass: 'bluetooth', setting: 'allow', current: 'readonly', wanted: 'allowed', step: true },  // impossible for a radio, still converges
  { portClass: 'bluetooth', setting: 'block', current: 'allowed', wanted: 'blocked', step: true },   // soft-blocked
  { portClass: 'bluetooth', setting: 'block', current: 'blocked', wanted: 'blocked', step: false },  // already off
  { portClass: 'bluetooth', setting: 'block', current: 'readonly', wanted: 'blocked', step: true },  // converges to blocked
  { portClass: 'bluetooth', setting: 'readonly', current: 'allowed', wanted: 'blocked', step: true },// no read-only radio: fail closed
  { portClass: 'bluetooth', setting: 'readonly', current: 'blocked', wanted: 'blocked', step: false },// fail-closed form already in place
  { portClass: 'bluetooth', setting: 'readonly', current: 'readonly', wanted: 'blocked', step: true },// converges to blocked
  { portClass: 'optical', setting: 'allow', current: 'allowed', wanted: 'allowed', step: false },    // drive open
  { portClass: 'optical', setting: 'allow', current: 'blocked', wanted: 'allowed', step: true },     // reopened
  { portClass: 'optical', setting: 'allow', current: 'readonly', wanted: 'allowed', step: true },    // burning allowed again
  { portClass: 'optical', setting: 'block', current: 'allowed', wanted: 'blocked', step: true },     // closed
  { portClass: 'optical', setting: 'block', current: 'blocked', wanted: 'blocked', step: false },    // already closed
  { portClass: 'optical', setting: 'block', current: 'readonly', wanted: 'blocked', step: true },    // reading stopped too
  { portClass: 'optical', setting: 'readonly', current: 'allowed', wanted: 'readonly', step: true }, // real read-only: reads, no burning
  { portClass: 'optical', setting: 'readonly', current: 'blocked', wanted: 'readonly', step: true }, // reading allowed again
  { portClass: 'optical', setting: 'readonly', current: 'readonly', wanted: 'readonly', step: false },// already read-only
];

describe('port planner', () => {
  it('the table covers every class, setting and current state once', () => {
    const keys = new Set(TABLE.map((r) => `${r.portClass}/${r.setting}/${r.current}`));
    expect(keys.size).to.equal(TABLE.length);
    expect(TABLE.length).to.equal(PORT_CLASSES.length * PORT_ACTIONS.length * 3);
  });

  for (const row of TABLE) {
    it(`${row.portClass}: ports.${row.portClass} = ${row.setting}, found ${row.current} → ${row.wanted}${row.step ? '' : ', no step'}`, () => {
      const p = port(row.portClass, row.current);
      const { steps, decisions } = planPorts([p], only(row.portClass, row.setting));
      expect(decisions).to.have.length(1);
      const d = decisions[0] as PortDecision;
      expect(d).to.include({ portClass: row.portClass, id: p.id, path: p.path, label: p.label, current: row.current, wanted: row.wanted, setting: row.setting, changed: row.step });
      const failedClosed = row.setting === 'readonly' && row.portClass !== 'optical';
      expect(d.reason).to.equal(`ports.${row.portClass} = ${row.setting}${failedClosed ? ': no read-only form, blocked' : ''}`);
      expect(steps).to.deep.equal(row.step ? [{ portClass: row.portClass, id: p.id, path: p.path, from: row.current, to: row.wanted }] : []);
    });
  }

  it('a platform that has a read-only form for a class says so; optical without one fails closed', () => {
    const ports = [port('serial', 'allowed'), port('optical', 'allowed')];
    const policy: PortPolicy = { serial: 'readonly', parallel: 'block', bluetooth: 'block', optical: 'readonly' };
    const swapped = planPorts(ports, policy, { readOnlyClasses: new Set<PortClass>(['serial']) });
    expect(swapped.decisions.map((d) => [d.id, d.wanted, d.reason])).to.deep.equal([
      ['ttyS0', 'readonly', 'ports.serial = readonly'],
      ['sr0', 'blocked', 'ports.optical = readonly: no read-only form, blocked'],
    ]);
  });

  it('a setting the policy model does not know blocks the port (a damaged policy must not open it)', () => {
    const damaged = { ...only('serial', 'allow'), serial: 'open' } as unknown as PortPolicy;
    const { steps, decisions } = planPorts([port('serial', 'allowed')], damaged);
    expect(decisions[0]).to.include({ wanted: 'blocked', reason: 'ports.serial = "open": unknown setting, blocked' });
    expect(steps.map((s) => s.to)).to.deep.equal(['blocked']);
  });

  it('orders by class, then by name with numbers as numbers; steps follow the decisions', () => {
    const ports = [
      port('optical', 'allowed', 'sr0'),
      port('serial', 'allowed', 'ttyS10'),
      port('bluetooth', 'allowed', 'rfkill3'),
      port('serial', 'allowed', 'ttyS2'),
      port('parallel', 'allowed', 'lp0'),
      port('serial', 'allowed', 'ttyACM0'),
    ];
    const { steps, decisions } = planPorts(ports, { serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' });
    const order = ['ttyACM0', 'ttyS2', 'ttyS10', 'lp0', 'rfkill3', 'sr0'];
    expect(decisions.map((d) => d.id)).to.deep.equal(order);
    expect(steps.map((s) => s.id)).to.deep.equal(order);
  });

  it('nothing to plan for no ports', () => {
    expect(planPorts([], { serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' })).to.deep.equal({ steps: [], decisions: [] });
  });

  it('idempotent: once every step is applied, planning again yields no steps and the same wanted states', () => {
    const condition = fc.constantFrom<PortCondition>('allowed', 'blocked', 'readonly');
    const portArb = fc.record({ portClass: fc.constantFrom(...PORT_CLASSES), n: fc.nat(40), state: condition });
    const policyArb = fc.record({
      serial: fc.constantFrom(...PORT_ACTIONS),
      parallel: fc.constantFrom(...PORT_ACTIONS),
      bluetooth: fc.constantFrom(...PORT_ACTIONS),
      optical: fc.constantFrom(...PORT_ACTIONS),
    });
    fc.assert(
      fc.property(fc.array(portArb, { maxLength: 12 }), policyArb, (specs, policy) => {
        const ports = specs.map((s) => port(s.portClass, s.state, `${ID[s.portClass]}-${s.n}`));
        const first = planPorts(ports, policy);
        // What a control does: each stepped port ends in its step's `to`.
        const applied = ports.map((p) => {
          const step = first.steps.find((s) => s.id === p.id && s.portClass === p.portClass);
          return step === undefined ? p : { ...p, state: step.to };
        });
        const second = planPorts(applied, policy);
        expect(second.steps).to.deep.equal([]);
        expect(second.decisions.map((d) => d.wanted)).to.deep.equal(first.decisions.map((d) => d.wanted));
        expect(second.decisions.every((d) => !d.changed)).to.equal(true);
      }),
    );
  });
});
