import { useApp } from '../../app-context.js';
import type { DecisionChange, DeviceIdentity, Outcome, Simulation } from './simulation.js';

export interface SimulationResult {
  readonly changes: readonly DecisionChange[];
  readonly edited: Simulation;
  /** The policy body simulated, to tell when the editor has moved on since. */
  readonly snapshot: string;
}

/** The "Simulate" button and what it found: devices whose decision the edit changes, and where. */
export function SimulatePanel(props: {
  result: SimulationResult | null;
  running: boolean;
  error: string | null;
  stale: boolean;
  blocked: boolean;
  onRun: () => void;
}) {
  const { t, tn } = useApp();
  const { result } = props;
  return (
    <section class="policy-panel" aria-labelledby="policy-simulate-title" data-testid="policy-simulate-panel">
      <h2 id="policy-simulate-title">{t('policies.simulate.title')}</h2>
      <p class="policy-muted">{t('policies.simulate.help')}</p>
      <button type="button" onClick={props.onRun} disabled={props.running || props.blocked} data-testid="policy-simulate">
        {props.running ? t('policies.simulate.running') : t('policies.simulate.run')}
      </button>
      {props.blocked ? <p class="policy-muted">{t('policies.simulate.fixRules')}</p> : null}
      <div role="status" aria-live="polite">
        {props.error !== null ? <p class="error">{t('common.error', { message: props.error })}</p> : null}
        {result !== null && props.stale ? <p class="notice">{t('policies.simulate.stale')}</p> : null}
      </div>
      {result !== null ? (
        <div data-testid="policy-simulate-result">
          <p>{t('policies.simulate.totals', { ...result.edited.totals })}</p>
          {result.changes.length === 0 ? (
            <p class="ok">{t('policies.simulate.none')}</p>
          ) : (
            <>
              <p>{tn('policies.simulate.changes', result.changes.length)}</p>
              <table class="policy-table">
                <thead>
                  <tr>
                    <th scope="col">{t('policies.simulate.device')}</th>
                    <th scope="col">{t('policies.simulate.before')}</th>
                    <th scope="col">{t('policies.simulate.after')}</th>
                    <th scope="col">{t('policies.simulate.computers')}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.changes.map((c) => (
                    <tr key={`${c.key}:${c.computers.join(',')}:${c.after.target}`} data-testid="policy-simulate-row">
                      <td>
                        <DeviceCell label={c.label} device={c.device} />
                      </td>
                      <td>{c.before === null ? <span class="policy-muted">{t('policies.simulate.notSeen')}</span> : <OutcomeCell outcome={c.before} />}</td>
                      <td>
                        <OutcomeCell outcome={c.after} />
                      </td>
                      <td>{c.computers.join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}

/** The device as people tell it apart: its kind, vendor:product and name, serial, then the USBGuard hash. */
function DeviceCell({ label, device }: { label: string; device: DeviceIdentity }) {
  const { t } = useApp();
  return (
    <div class="policy-sim-device" data-testid="policy-simulate-device">
      <strong>{label}</strong>
      {device.id !== null || device.name !== null ? (
        <div>
          {device.id !== null ? (
            <code title={t('policies.simulate.id')} data-testid="policy-simulate-id">
              {device.id}
            </code>
          ) : null}
          {device.id !== null && device.name !== null ? ' ' : null}
          {device.name !== null ? <span title={t('policies.simulate.name')}>{device.name}</span> : null}
        </div>
      ) : null}
      <div class="policy-small">
        {t('policies.simulate.serial')}: {device.serial !== null ? <code data-testid="policy-simulate-serial">{device.serial}</code> : <span class="policy-muted">{t('policies.simulate.noSerial')}</span>}
      </div>
      {device.hash !== null ? (
        <div class="policy-muted policy-small policy-sim-hash">
          {t('policies.simulate.hash')}: <code>{device.hash}</code>
        </div>
      ) : null}
    </div>
  );
}

function OutcomeCell({ outcome }: { outcome: Outcome }) {
  const { t } = useApp();
  const why =
    outcome.exception !== null
      ? t('policies.simulate.byException', { id: outcome.exception })
      : outcome.line !== null
        ? t('policies.simulate.byLine', { line: outcome.line })
        : t('policies.simulate.byDefault');
  return (
    <div>
      <strong class={`tok-target-${outcome.target}`}>{t(`policies.target.${outcome.target}`)}</strong> <span class="policy-muted">— {why}</span>
      {outcome.rule !== null ? (
        <div class="policy-small">
          <code>{outcome.rule}</code>
        </div>
      ) : null}
    </div>
  );
}
