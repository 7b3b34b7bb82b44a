import { COMPOSITE_DEVICE_MODES, MAIL_EGRESS_MODES, MAIL_PORTS, PORT_ACTIONS, PORT_CLASSES, PRESENT_DEVICE_POLICIES, TARGETS, type PortClass } from '@portcullis/shared';
import { useApp } from '../../app-context.js';
import { mailEgressProblems, type PolicyForm } from './policy-form.js';

/** Port classes the agents can switch to read-only; on the others `readonly` is enforced as block. */
export const READ_ONLY_PORTS: ReadonlySet<PortClass> = new Set(['optical']);

/** implicitTarget, presentDevices, compositeDevices, the four port switches and the mail egress guard. */
export function PolicySettings(props: { form: PolicyForm; readOnly: boolean; onChange: (form: PolicyForm) => void }) {
  const { t } = useApp();
  const { form, readOnly, onChange } = props;
  return (
    <div class="policy-settings">
      <fieldset class="policy-fieldset">
        <legend>{t('policies.settings.title')}</legend>
        <label>
          {t('policies.settings.implicitTarget')}
          <select
            value={form.implicitTarget}
            disabled={readOnly}
            onChange={(e) => onChange({ ...form, implicitTarget: (e.currentTarget as HTMLSelectElement).value as PolicyForm['implicitTarget'] })}
            data-testid="policy-implicit-target"
          >
            {TARGETS.map((x) => (
              <option key={x} value={x}>
                {t(`policies.target.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('policies.settings.presentDevices')}
          <select
            value={form.presentDevices}
            disabled={readOnly}
            onChange={(e) => onChange({ ...form, presentDevices: (e.currentTarget as HTMLSelectElement).value as PolicyForm['presentDevices'] })}
            data-testid="policy-present-devices"
          >
            {PRESENT_DEVICE_POLICIES.map((x) => (
              <option key={x} value={x}>
                {t(`policies.present.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('policies.settings.compositeDevices')}
          <select
            value={form.compositeDevices}
            disabled={readOnly}
            onChange={(e) => onChange({ ...form, compositeDevices: (e.currentTarget as HTMLSelectElement).value as PolicyForm['compositeDevices'] })}
            data-testid="policy-composite-devices"
          >
            {COMPOSITE_DEVICE_MODES.map((x) => (
              <option key={x} value={x}>
                {t(`policies.composite.${x}`)}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <fieldset class="policy-fieldset">
        <legend>{t('policies.ports.title')}</legend>
        <p class="policy-muted" id="policy-ports-help">
          {t('policies.ports.help')}
        </p>
        {PORT_CLASSES.map((port) => {
          const noReadOnly = !READ_ONLY_PORTS.has(port);
          return (
            <fieldset key={port} class="policy-port" data-testid={`policy-port-${port}`} aria-describedby="policy-ports-help">
              <legend>{t(`policies.port.${port}`)}</legend>
              <div class="policy-port-options">
                {PORT_ACTIONS.map((action) => {
                  // Read-only where it would only mean block is offered no more, but a saved value stays visible.
                  const unavailable = action === 'readonly' && noReadOnly && form.ports[port] !== 'readonly';
                  return (
                    <label key={action} class="policy-radio">
                      <input
                        type="radio"
                        name={`policy-port-${port}`}
                        value={action}
                        checked={form.ports[port] === action}
                        disabled={readOnly || unavailable}
                        onChange={() => onChange({ ...form, ports: { ...form.ports, [port]: action } })}
                        data-testid={`policy-port-${port}-${action}`}
                      />
                      {t(`policies.portAction.${action}`)}
                    </label>
                  );
                })}
              </div>
              {noReadOnly ? <p class="policy-muted policy-small">{t('policies.port.readonlyIsBlock')}</p> : null}
            </fieldset>
          );
        })}
        {form.exceptions.length > 0 ? <p class="policy-muted">{t('policies.exceptions', { count: form.exceptions.length })}</p> : null}
      </fieldset>
      <MailEgressSettings form={form} readOnly={readOnly} onChange={onChange} />
    </div>
  );
}

/** The guard's switch and its approved servers, with what the server would refuse shown as it is typed. */
function MailEgressSettings(props: { form: PolicyForm; readOnly: boolean; onChange: (form: PolicyForm) => void }) {
  const { t } = useApp();
  const { form, readOnly, onChange } = props;
  const problems = mailEgressProblems(form);
  return (
    <fieldset class="policy-fieldset" data-testid="policy-mail-egress">
      <legend>{t('policies.mail.title')}</legend>
      <p class="policy-muted" id="policy-mail-help">
        {t('policies.mail.help', { ports: [...MAIL_PORTS].join(', ') })}
      </p>
      <label>
        {t('policies.mail.mode')}
        <select
          value={form.mailEgress.mode}
          disabled={readOnly}
          onChange={(e) => onChange({ ...form, mailEgress: { ...form.mailEgress, mode: (e.currentTarget as HTMLSelectElement).value as PolicyForm['mailEgress']['mode'] } })}
          data-testid="policy-mail-mode"
        >
          {MAIL_EGRESS_MODES.map((x) => (
            <option key={x} value={x}>
              {t(`policies.mail.mode.${x}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('policies.mail.servers')}
        <textarea
          rows={4}
          value={form.mailEgress.servers}
          readOnly={readOnly}
          spellcheck={false}
          aria-describedby="policy-mail-help"
          aria-invalid={problems.length > 0}
          onInput={(e) => onChange({ ...form, mailEgress: { ...form.mailEgress, servers: (e.currentTarget as HTMLTextAreaElement).value } })}
          data-testid="policy-mail-servers"
        />
      </label>
      {problems.length > 0 ? (
        <ul class="policy-muted" role="alert" data-testid="policy-mail-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}
