import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { can, useApp } from '../../app-context.js';
import { msg, type Msg } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { AddressAddForm } from './address-add-form.js';
import { AddressRow, type EditDraft, type RowMode } from './address-row.js';
import { CsvTools } from './csv-tools.js';
import {
  ADDRESS_STATES,
  addressesPath,
  addressPath,
  editBody,
  registryFilterFromQuery,
  registryQuery,
  type AddressPage,
  type MailAddress,
  type RegistryFilter,
} from './mail-registry.js';

/** The registry table with its filter (in the page URL), pages, add form, inline edit and CSV. */
export function AddressRegistry({ route, groups }: { route: Route; groups: readonly string[] }) {
  const { api, t, tm, user } = useApp();
  const canEdit = can(user, 'admin');
  const queryKey = route.query.toString();
  const filter = useMemo(() => registryFilterFromQuery(route.query), [queryKey]);
  const filterKey = JSON.stringify(filter);

  const [q, setQ] = useState(filter.q ?? '');
  /** The `after` of each page shown so far: the last is the current page's. */
  const [cursors, setCursors] = useState<ReadonlyArray<string | undefined>>([undefined]);
  const [page, setPage] = useState<AddressPage | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [modes, setModes] = useState<Readonly<Record<string, RowMode>>>({});
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: Msg } | null>(null);
  /** Answers for an earlier filter or page are dropped. */
  const generation = useRef(0);

  const after = cursors[cursors.length - 1];
  const load = async () => {
    const mine = ++generation.current;
    setLoadError(null);
    try {
      const answer = await api.get<AddressPage>(addressesPath(filter, after));
      if (mine === generation.current) setPage(answer);
    } catch (err) {
      if (mine === generation.current) setLoadError(err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => {
    setCursors([undefined]);
    setQ(filter.q ?? '');
  }, [filterKey]);
  useEffect(() => {
    void load();
  }, [filterKey, after]);

  const go = (f: RegistryFilter) => {
    location.hash = routeHref('/mail', registryQuery(f, route.query));
  };
  const fail = (err: unknown) =>
    setMessage({ ok: false, text: err instanceof ApiError ? msg('mail.refused', { message: err.message }) : msg('common.error', { message: String(err) }) });
  const setMode = (address: string, mode: RowMode) => setModes((m) => ({ ...m, [address]: mode }));

  /** Runs one change, says how it went and reloads the page; true when it went through. */
  const run = async (action: () => Promise<Msg>): Promise<boolean> => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ ok: true, text: await action() });
      await load();
      return true;
    } catch (err) {
      fail(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = (body: Record<string, unknown>, address: string) =>
    run(async () => {
      await api.post(`/mail/addresses`, body);
      return msg('mail.added', { address });
    });
  const save = (a: MailAddress, draft: EditDraft) =>
    void run(async () => {
      const body = editBody(a, draft);
      if (Object.keys(body).length > 0) await api.patch(addressPath(a.address), body);
      setMode(a.address, 'view');
      return msg('mail.saved', { address: a.address });
    });
  const remove = (a: MailAddress) =>
    void run(async () => {
      await api.delete(addressPath(a.address));
      setMode(a.address, 'view');
      return msg('mail.deleted', { address: a.address });
    });

  const filtered = filter.group !== undefined || filter.state !== undefined || filter.q !== undefined;
  return (
    <section class="mail-registry" aria-labelledby="mail-registry-heading">
      <h2 id="mail-registry-heading">{t('mail.registry.heading')}</h2>
      <form
        class="toolbar mail-filters"
        onSubmit={(e) => {
          e.preventDefault();
          go({ ...filter, q: q.trim() || undefined });
        }}
        data-testid="mail-filters"
      >
        <label>
          {t('mail.filter.group')}
          <select value={filter.group ?? ''} onChange={(e) => go({ ...filter, group: e.currentTarget.value || undefined })} data-testid="mail-filter-group">
            <option value="">{t('mail.filter.any')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('mail.filter.state')}
          <select
            value={filter.state ?? ''}
            onChange={(e) => go({ ...filter, state: ADDRESS_STATES.find((s) => s === e.currentTarget.value) })}
            data-testid="mail-filter-state"
          >
            <option value="">{t('mail.filter.any')}</option>
            {ADDRESS_STATES.map((s) => (
              <option key={s} value={s}>
                {t(`mail.state.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('mail.filter.q')}
          <input type="search" value={q} maxLength={200} onInput={(e) => setQ(e.currentTarget.value)} data-testid="mail-filter-q" />
        </label>
        <button type="submit" class="secondary" data-testid="mail-filter-apply">
          {t('mail.filter.apply')}
        </button>
        {filtered && (
          <button type="button" class="link" onClick={() => go({})} data-testid="mail-filter-clear">
            {t('mail.filter.clear')}
          </button>
        )}
      </form>

      <CsvTools onImported={() => void load()} />
      {canEdit && <AddressAddForm groups={groups} busy={busy} onAdd={add} onProblem={(text) => setMessage({ ok: false, text })} />}

      {message !== null && (
        <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'ok' : 'error'} data-testid="mail-message">
          {tm(message.text)}
        </p>
      )}
      {loadError !== null && (
        <p role="alert" class="error" data-testid="mail-load-error">
          {t('common.error', { message: loadError })}
        </p>
      )}

      {page === null ? (
        loadError === null && <p role="status">{t('common.loading')}</p>
      ) : page.addresses.length === 0 ? (
        <p data-testid="mail-empty">{t('mail.empty')}</p>
      ) : (
        <table class="mail-table" data-testid="mail-table">
          <thead>
            <tr>
              <th scope="col">{t('mail.col.address')}</th>
              <th scope="col">{t('mail.col.owner')}</th>
              <th scope="col">{t('mail.col.group')}</th>
              <th scope="col">{t('mail.col.logins')}</th>
              <th scope="col">{t('mail.col.state')}</th>
              <th scope="col">{t('mail.col.updated')}</th>
              {canEdit && <th scope="col">{t('mail.col.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {page.addresses.map((a) => (
              <AddressRow
                key={a.address}
                a={a}
                groups={groups}
                canEdit={canEdit}
                mode={modes[a.address] ?? 'view'}
                busy={busy}
                onMode={(mode) => setMode(a.address, mode)}
                onSave={save}
                onDelete={remove}
              />
            ))}
          </tbody>
        </table>
      )}

      {(cursors.length > 1 || (page?.next ?? null) !== null) && (
        <div class="toolbar mail-paging">
          <button type="button" class="secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="mail-prev">
            {t('mail.prev')}
          </button>
          <span data-testid="mail-page">{t('mail.page', { page: cursors.length })}</span>
          <button
            type="button"
            class="secondary"
            disabled={(page?.next ?? null) === null}
            onClick={() => {
              const next = page?.next;
              if (next !== undefined && next !== null) setCursors((c) => [...c, next]);
            }}
            data-testid="mail-next"
          >
            {t('mail.next')}
          </button>
        </div>
      )}
    </section>
  );
}
