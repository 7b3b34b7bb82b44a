import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { decisionOf, deviceOf, policyOf, type EventRecord } from './event-view.js';
import { severityText, statusText, targetWord } from './event-labels.js';
import { otherFields, reasonText, sourceText } from './event-text.js';

interface RuleLines {
  readonly policy: { group: string; version: number; found: boolean } | null;
  readonly lines: ReadonlyArray<{ line: number; text: string }>;
}

function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** The whole event under its row: facts, device attributes and the decision trace. */
export function EventDetail({ event, pcName }: { event: EventRecord; pcName: string }) {
  const { api, t, tm, locale } = useApp();
  const device = deviceOf(event.data);
  const decision = decisionOf(event.data);
  const policy = policyOf(event.data);
  const [rules, setRules] = useState<RuleLines | null>(null);
  const [rulesError, setRulesError] = useState<string | null>(null);
  const wantsRules = decision !== undefined && (decision.conditionsNotMet.length > 0 || decision.interfaces.some((i) => i.line !== undefined && i.rule === undefined));

  useEffect(() => {
    if (!wantsRules) return;
    let live = true;
    api
      .get<RuleLines>(`/events/${event.id}/rules`)
      .then((r) => live && setRules(r))
      .catch((err: unknown) => live && setRulesError(err instanceof Error ? err.message : String(err)));
    return () => {
      live = false;
    };
  }, [api, event.id, wantsRules]);

  const ruleText = (line: number): string | undefined => rules?.lines.find((l) => l.line === line)?.text;
  const none = t('common.none');
  const others = otherFields(locale, event.data);

  return (
    <div class="events-detail" data-testid="events-detail">
      <section aria-label={t('events.detail.event')}>
        <h3>{t('events.detail.event')}</h3>
        <dl>
          <Field label={t('events.detail.id')}>{event.id}</Field>
          <Field label={t('events.col.type')}>{event.type}</Field>
          <Field label={t('events.col.severity')}>{severityText(t, event.severity)}</Field>
          <Field label={t('events.detail.occurred')}>{formatTime(locale, event.occurredAt)}</Field>
          <Field label={t('events.detail.received')}>{formatTime(locale, event.receivedAt)}</Field>
          <Field label={t('events.col.pc')}>{pcName}</Field>
          <Field label={t('events.filter.group')}>{event.group ?? none}</Field>
          <Field label={t('events.detail.seq')}>{event.seq ?? none}</Field>
          <Field label={t('events.col.status')}>{statusText(t, event.status)}</Field>
          <Field label={t('events.detail.comment')}>{event.comment ?? none}</Field>
          <Field label={t('events.detail.hash')}>
            <code class="events-hash">{event.hash}</code>
          </Field>
        </dl>
      </section>

      {device && (
        <section aria-label={t('events.detail.device')}>
          <h3>{t('events.detail.device')}</h3>
          <dl>
            <Field label={t('events.device.id')}>{device.id ?? none}</Field>
            <Field label={t('events.device.serial')}>{device.serial ?? none}</Field>
            <Field label={t('events.device.name')}>{device.name ?? none}</Field>
            <Field label={t('events.device.manufacturer')}>{device.manufacturer ?? none}</Field>
            <Field label={t('events.device.interfaces')}>{device.interfaces.length > 0 ? <code>{device.interfaces.join(' ')}</code> : none}</Field>
            <Field label={t('events.device.viaPort')}>{device.viaPort ?? none}</Field>
            <Field label={t('events.device.hash')}>{device.hash ? <code class="events-hash">{device.hash}</code> : none}</Field>
          </dl>
        </section>
      )}

      {decision && (
        <section aria-label={t('events.detail.trace')} data-testid="events-trace">
          <h3>{t('events.detail.trace')}</h3>
          <dl>
            <Field label={t('events.trace.target')}>{decision.target !== undefined ? targetWord(t, decision.target) : none}</Field>
            <Field label={t('events.trace.source')}>{decision.source !== undefined ? tm(sourceText(decision.source)) : none}</Field>
            <Field label={t('events.trace.reason')}>
              <span data-testid="events-reason">{tm(reasonText(decision) ?? none)}</span>
            </Field>
            <Field label={t('events.trace.matched')}>
              {decision.rule !== undefined ? (
                <>
                  {decision.line !== undefined && <span class="events-line">{t('events.trace.line', { line: decision.line })}</span>}{' '}
                  <code data-testid="events-matched-rule">{decision.rule}</code>
                </>
              ) : (
                none
              )}
            </Field>
            <Field label={t('events.trace.exception')}>{decision.exceptionId ?? none}</Field>
            <Field label={t('events.trace.policy')}>{policy ? t('events.trace.policyVersion', { group: policy.group, version: policy.version }) : none}</Field>
            <Field label={t('events.trace.notMet')}>
              {decision.conditionsNotMet.length === 0 ? (
                none
              ) : (
                <ul class="events-plain-list">
                  {decision.conditionsNotMet.map((line) => (
                    <li key={line}>
                      <span class="events-line">{t('events.trace.line', { line })}</span> {ruleText(line) !== undefined && <code>{ruleText(line)}</code>}
                    </li>
                  ))}
                </ul>
              )}
            </Field>
          </dl>
          {rulesError && (
            <p role="alert" class="error">
              {t('common.error', { message: rulesError })}
            </p>
          )}
          {rules?.policy && !rules.policy.found && <p class="events-muted">{t('events.trace.policyMissing')}</p>}
          {decision.interfaces.length > 0 && (
            <table class="events-interfaces">
              <caption>{t('events.trace.interfaces')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('events.trace.interface')}</th>
                  <th scope="col">{t('events.trace.target')}</th>
                  <th scope="col">{t('events.trace.lineCol')}</th>
                  <th scope="col">{t('events.trace.rule')}</th>
                  <th scope="col">{t('events.trace.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {decision.interfaces.map((i) => (
                  <tr key={i.type}>
                    <td>
                      <code>{i.type}</code>
                    </td>
                    <td>{i.target !== undefined ? targetWord(t, i.target) : none}</td>
                    <td>{i.line ?? none}</td>
                    <td>{(i.rule ?? (i.line !== undefined ? ruleText(i.line) : undefined)) !== undefined ? <code>{i.rule ?? ruleText(i.line as number)}</code> : i.exceptionId ?? none}</td>
                    <td>{tm(reasonText(i) ?? none)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      {others.length > 0 && (
        <section aria-label={t('events.detail.data')} data-testid="events-other-data">
          <h3>{t('events.detail.data')}</h3>
          <dl>
            {others.map(([label, value]) => (
              <Field key={label} label={label}>
                {value}
              </Field>
            ))}
          </dl>
        </section>
      )}
      <details class="events-raw">
        <summary>{t('events.detail.raw')}</summary>
        <pre>{JSON.stringify(event.data, null, 2)}</pre>
      </details>
    </div>
  );
}
