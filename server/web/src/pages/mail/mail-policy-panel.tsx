import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { can, useApp } from '../../app-context.js';
import { formatTime, msg, type MessageKey, type Msg } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import {
  COUNT_FIELDS,
  EXTERNAL_MODES,
  formOfPolicy,
  policyOfForm,
  samePolicy,
  type FieldProblem,
  type MailPolicyAnswer,
  type MailPolicyForm,
  type PolicyField,
} from './mail-policy-form.js';

const COUNT_LABELS: Readonly<Record<(typeof COUNT_FIELDS)[number], MessageKey>> = {
  maxMessagesPerHour: 'mail.policy.msgsHour',
  maxExternalRecipientsPerHour: 'mail.policy.rcptsHour',
  maxMessagesPerDay: 'mail.policy.msgsDay',
  maxExternalRecipientsPerDay: 'mail.policy.rcptsDay',
};

/** The group in the page URL (`#/mail?policy=finance`), else the first group. */
export function MailPolicyPanel({ route, groups }: { route: Route; groups: readonly string[] }) {
  const { t } = useApp();
  const wanted = route.query.get('policy');
  const group = wanted !== null && groups.includes(wanted) ? wanted : groups[0];
  const pick = (g: string) => {
    const query: Record<string, string> = Object.fromEntries(route.query.entries());
    query.policy = g;
    location.hash = routeHref('/mail', query);
  };

  return (
    <section class="mail-policy" aria-labelledby="mail-policy-heading">
      <h2 id="mail-policy-heading">{t('mail.policy.heading')}</h2>
      {group === undefined ? (
        <p>{t('mail.policy.noGroups')}</p>
      ) : (
        <>
          <label class="mail-policy-group">
            {t('mail.policy.group')}
            <select value={group} onChange={(e) => pick(e.currentTarget.value)} data-testid="mail-policy-group">
              {groups.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          </label>
          <GroupMailPolicy key={group} group={group} />
        </>
      )}
    </section>
  );
}

function GroupMailPolicy({ group }: { group: string }) {
  const { api, t, tm, locale, user } = useApp();
  const canEdit = can(user, 'admin');
  const path = `/groups/${encodeURIComponent(group)}/mail-policy`;
  const [answer, setAnswer] = useState<MailPolicyAnswer | null>(null);
  const [form, setForm] = useState<MailPolicyForm | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: Msg } | null>(null);

  const show = (a: MailPolicyAnswer) => {
    setAnswer(a);
    setForm(formOfPolicy(a.policy));
  };
  useEffect(() => {
    api
      .get<MailPolicyAnswer>(path)
      .then(show)
      .catch((err: unknown) => setLoadError(err instanceof Error ? err.message : String(err)));
  }, [api, path]);

  if (loadError !== null) {
    return (
      <p role="alert" class="error" data-testid="mail-policy-load-error">
        {t('common.error', { message: loadError })}
      </p>
    );
  }
  if (answer === null || form === null) return <p role="status">{t('common.loading')}</p>;

  const checked = policyOfForm(form, answer.policy);
  const problemsOf = (field: PolicyField): FieldProblem[] => checked.problems.filter((p) => p.field === field);
  const unchanged = samePolicy(form, answer.policy);
  const set = (patch: Partial<MailPolicyForm>) => {
    setStatus(null);
    setForm({ ...form, ...patch });
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (checked.policy === null) {
      setStatus({ ok: false, text: msg('mail.policy.fix') });
      return;
    }
    setSaving(true);
    setStatus(null);
    try {
      show(await api.put<MailPolicyAnswer>(path, checked.policy));
      setStatus({ ok: true, text: msg('mail.policy.saved', { group }) });
    } catch (err) {
      // The server is the authority: its words say what it refused (a 400's message names the field).
      setStatus({ ok: false, text: err instanceof ApiError ? msg('mail.refused', { message: err.message }) : msg('common.error', { message: String(err) }) });
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="mail-policy-form" onSubmit={(e) => void save(e)} noValidate data-testid="mail-policy-form">
      <p class="mail-muted" data-testid="mail-policy-updated">
        {answer.updatedAt === null ? t('mail.policy.default') : t('mail.policy.updated', { at: formatTime(locale, answer.updatedAt), by: answer.updatedBy ?? '' })}
      </p>
      {!canEdit && <p class="mail-muted">{t('mail.policy.readOnly')}</p>}
      <fieldset disabled={!canEdit || saving} class="mail-policy-fields">
        <Field id="mail-internal" label={t('mail.policy.internal')} problems={problemsOf('internalDomains')} hint={t('mail.policy.domainsHint')}>
          {(describedBy, invalid) => (
            <textarea
              id="mail-internal"
              rows={3}
              value={form.internalDomains}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onInput={(e) => set({ internalDomains: e.currentTarget.value })}
              data-testid="mail-policy-internal"
            />
          )}
        </Field>
        <fieldset class="mail-policy-mode">
          <legend>{t('mail.policy.mode')}</legend>
          {EXTERNAL_MODES.map((m) => (
            <label key={m} class="mail-radio">
              <input
                type="radio"
                name={`mail-mode-${group}`}
                value={m}
                checked={form.externalMode === m}
                onChange={() => set({ externalMode: m })}
                data-testid={`mail-policy-mode-${m}`}
              />
              {t(`mail.policy.mode.${m}`)}
            </label>
          ))}
        </fieldset>
        <Field id="mail-external" label={t('mail.policy.external')} problems={problemsOf('externalDomains')} hint={t('mail.policy.domainsHint')}>
          {(describedBy, invalid) => (
            <textarea
              id="mail-external"
              rows={3}
              value={form.externalDomains}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onInput={(e) => set({ externalDomains: e.currentTarget.value })}
              data-testid="mail-policy-external"
            />
          )}
        </Field>
        <fieldset class="mail-policy-limits">
          <legend>{t('mail.policy.limits')}</legend>
          <Field id="mail-size" label={t('mail.policy.size')} problems={problemsOf('maxExternalMb')}>
            {(describedBy, invalid) => (
              <input
                id="mail-size"
                inputMode="decimal"
                value={form.maxExternalMb}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={(e) => set({ maxExternalMb: e.currentTarget.value })}
                data-testid="mail-policy-size"
              />
            )}
          </Field>
          {COUNT_FIELDS.map((field) => (
            <Field key={field} id={`mail-${field}`} label={t(COUNT_LABELS[field])} problems={problemsOf(field)}>
              {(describedBy, invalid) => (
                <input
                  id={`mail-${field}`}
                  inputMode="numeric"
                  value={form[field]}
                  aria-describedby={describedBy}
                  aria-invalid={invalid}
                  onInput={(e) => set({ [field]: e.currentTarget.value })}
                  data-testid={`mail-policy-${field}`}
                />
              )}
            </Field>
          ))}
        </fieldset>
      </fieldset>
      {canEdit && (
        <div class="toolbar">
          <button type="submit" disabled={saving || unchanged} data-testid="mail-policy-save">
            {t('mail.policy.save')}
          </button>
        </div>
      )}
      {status !== null && (
        <p role={status.ok ? 'status' : 'alert'} class={status.ok ? 'ok' : 'error'} data-testid="mail-policy-status">
          {tm(status.text)}
        </p>
      )}
    </form>
  );
}

/** A label, its input, a hint and the input's problems, tied together for screen readers. */
function Field(props: {
  id: string;
  label: string;
  hint?: string;
  problems: readonly FieldProblem[];
  children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const { tm } = useApp();
  const hintId = props.hint !== undefined ? `${props.id}-hint` : undefined;
  const problemsId = props.problems.length > 0 ? `${props.id}-problems` : undefined;
  const describedBy = [hintId, problemsId].filter((x) => x !== undefined).join(' ') || undefined;
  return (
    <div class="mail-field">
      <label for={props.id}>{props.label}</label>
      {props.children(describedBy, props.problems.length > 0)}
      {props.hint !== undefined && (
        <span id={hintId} class="mail-hint">
          {props.hint}
        </span>
      )}
      {props.problems.length > 0 && (
        <ul id={problemsId} class="mail-problems error">
          {props.problems.map((p, i) => (
            <li key={i} data-testid="mail-policy-problem">
              {tm(p.message)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
