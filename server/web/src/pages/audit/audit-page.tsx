import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { KNOWN_ACTIONS, EMPTY_FILTER, auditSearchPath, detailPairs, filterFromQuery, type AuditFilterForm } from './audit-query.js';

const PAGE_SIZE = 100;

interface AuditView {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: Record<string, unknown>;
}

interface ChainView {
  readonly ok: boolean;
  readonly records?: number;
  readonly firstBroken?: { readonly id: number; readonly reason: string };
}

interface VerifyView {
  readonly auditTrail: ChainView;
  readonly eventLog: ChainView;
  readonly checkedAt: string;
}

export function AuditPage({ route }: { route: Route }) {
  const { api, t, tn, locale } = useApp();
  const applied = filterFromQuery(route.query);
  const appliedKey = route.query.toString();
  const [form, setForm] = useState<AuditFilterForm>(applied);
  const [records, setRecords] = useState<AuditView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [verify, setVerify] = useState<VerifyView | null>(null);
  const [verifying, setVerifying] = useState(false);

  const fetchPage = async (after: string | undefined) => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.get<{ records: AuditView[]; nextCursor: string | null }>(auditSearchPath(applied, PAGE_SIZE, after));
      setRecords((previous) => (after === undefined ? answer.records : [...(previous ?? []), ...answer.records]));
      setCursor(answer.nextCursor);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    setForm(filterFromQuery(route.query));
    setRecords(null);
    void fetchPage(undefined);
  }, [api, appliedKey]);

  const apply = (e: Event) => {
    e.preventDefault();
    location.hash = routeHref('/audit', { ...form });
  };

  const runVerify = async () => {
    setVerifying(true);
    setError(null);
    try {
      setVerify(await api.get<VerifyView>('/audit/verify'));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setVerifying(false);
    }
  };

  const field = (name: keyof AuditFilterForm) => ({
    value: form[name],
    onInput: (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [name]: e.currentTarget.value }),
  });

  return (
    <section class="audit-page">
      <div class="audit-head">
        <h1>{t('audit.title')}</h1>
        <button type="button" onClick={() => void runVerify()} disabled={verifying} data-testid="audit-verify">
          {verifying ? t('audit.verify.running') : t('audit.verify')}
        </button>
      </div>

      {verify !== null && (
        <div class="audit-verify" role={verify.auditTrail.ok && verify.eventLog.ok ? 'status' : 'alert'} data-testid="audit-verify-result">
          <h2>{t('audit.verify.heading', { at: formatTime(locale, verify.checkedAt) })}</h2>
          <ChainLine label={t('audit.verify.auditTrail')} chain={verify.auditTrail} testid="audit-verify-trail" />
          <ChainLine label={t('audit.verify.eventLog')} chain={verify.eventLog} testid="audit-verify-events" />
        </div>
      )}

      <form class="toolbar" onSubmit={apply} data-testid="audit-filter">
        <label>
          {t('audit.filter.actor')}
          <input {...field('actor')} maxLength={64} data-testid="audit-filter-actor" />
        </label>
        <label>
          {t('audit.filter.action')}
          <input {...field('action')} list="audit-actions" placeholder={t('audit.filter.actionHint')} maxLength={64} data-testid="audit-filter-action" />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((a) => (
              <option value={a} key={a} />
            ))}
          </datalist>
        </label>
        <label>
          {t('audit.filter.since')}
          <input type="datetime-local" {...field('since')} data-testid="audit-filter-since" />
        </label>
        <label>
          {t('audit.filter.until')}
          <input type="datetime-local" {...field('until')} data-testid="audit-filter-until" />
        </label>
        <button type="submit" data-testid="audit-filter-apply">
          {t('audit.filter.apply')}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setForm(EMPTY_FILTER);
            location.hash = routeHref('/audit');
          }}
          data-testid="audit-filter-reset"
        >
          {t('audit.filter.reset')}
        </button>
      </form>

      {error !== null && (
        <p role="alert" class="error" data-testid="audit-error">
          {t('common.error', { message: error })}
        </p>
      )}

      {records === null ? (
        <p role="status">{t('common.loading')}</p>
      ) : records.length === 0 ? (
        <p>{t('audit.empty')}</p>
      ) : (
        <>
          <p class="audit-count">{tn('audit.count', records.length)}</p>
          <table data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">{t('audit.col.when')}</th>
                <th scope="col">{t('audit.col.actor')}</th>
                <th scope="col">{t('audit.col.action')}</th>
                <th scope="col">{t('audit.col.target')}</th>
                <th scope="col">{t('audit.col.details')}</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.id} data-testid="audit-row" data-audit-id={r.id}>
                  <td>{formatTime(locale, r.at)}</td>
                  <td>{r.actor}</td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>{r.target}</td>
                  <td>
                    <ul class="audit-details">
                      {detailPairs(r.details).map((d) => (
                        <li key={d}>{d}</li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {cursor !== null && records !== null && (
        <button type="button" class="secondary audit-more" disabled={busy} onClick={() => void fetchPage(cursor)} data-testid="audit-more">
          {t('audit.more')}
        </button>
      )}
    </section>
  );
}

function ChainLine({ label, chain, testid }: { label: string; chain: ChainView; testid: string }) {
  const { t, tn } = useApp();
  return (
    <p class={chain.ok ? 'ok' : 'error'} data-testid={testid} data-ok={String(chain.ok)}>
      <strong>{label}:</strong>{' '}
      {chain.ok
        ? tn('audit.verify.ok', chain.records ?? 0)
        : t('audit.verify.broken', { id: chain.firstBroken?.id ?? '?', reason: chain.firstBroken?.reason ?? '' })}
    </p>
  );
}
