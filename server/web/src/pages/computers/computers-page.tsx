import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { ComputerDetail } from './computer-detail.js';
import { filterComputers, osFamilies, SEEN_WINDOWS, type AgentView, type ComputerFilter } from './computer-filter.js';

const STATUSES = ['online', 'stale', 'offline', 'revoked'] as const;
const FILTER_KEYS = ['q', 'group', 'status', 'os', 'seen'] as const;

/** `#/computers` is the list (filters in the URL), `#/computers/<agent id>` one computer. */
export function ComputersPage({ route }: { route: Route }) {
  const id = route.segments[1];
  return id === undefined ? <ComputerList route={route} /> : <ComputerDetail id={id} />;
}

function ComputerList({ route }: { route: Route }) {
  const { t, tn, api, locale } = useApp();
  const [agents, setAgents] = useState<AgentView[] | null>(null);
  const [groups, setGroups] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const filter: ComputerFilter = Object.fromEntries(FILTER_KEYS.map((k) => [k, route.query.get(k) ?? ''])) as ComputerFilter;
  const revoked = filter.status === 'revoked';

  useEffect(() => {
    // Revoked computers are listed only when asked for (the server leaves them out otherwise).
    api
      .get<{ agents: AgentView[] }>(revoked ? '/agents?status=revoked' : '/agents')
      .then((r) => (setAgents(r.agents), setError(null)))
      .catch((err: unknown) => setError((err as Error).message));
  }, [api, revoked]);
  useEffect(() => {
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((r) => setGroups(r.groups.map((g) => g.name)))
      .catch((err: unknown) => setError((err as Error).message));
  }, [api]);

  const set = (key: (typeof FILTER_KEYS)[number], value: string) => {
    location.hash = routeHref('/computers', { ...filter, [key]: value });
  };
  const shown = agents === null ? [] : filterComputers(agents, filter, new Date());
  return (
    <section>
      <h1>{t('computers.title')}</h1>
      <form class="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('computers.search')}
          <input type="search" value={filter.q} onInput={(e) => set('q', e.currentTarget.value)} data-testid="computers-search" />
        </label>
        <label>
          {t('computers.filter.group')}
          <select value={filter.group} onChange={(e) => set('group', e.currentTarget.value)} data-testid="computers-filter-group">
            <option value="">{t('computers.filter.any')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('computers.filter.status')}
          <select value={filter.status} onChange={(e) => set('status', e.currentTarget.value)} data-testid="computers-filter-status">
            <option value="">{t('computers.filter.any')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`computers.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('computers.filter.os')}
          <select value={filter.os} onChange={(e) => set('os', e.currentTarget.value)} data-testid="computers-filter-os">
            <option value="">{t('computers.filter.any')}</option>
            {osFamilies(agents ?? []).map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('computers.filter.seen')}
          <select value={filter.seen} onChange={(e) => set('seen', e.currentTarget.value)} data-testid="computers-filter-seen">
            <option value="">{t('computers.filter.any')}</option>
            {SEEN_WINDOWS.map((w) => (
              <option key={w} value={w}>
                {t(`computers.seen.${w}`)}
              </option>
            ))}
          </select>
        </label>
      </form>
      {error !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      )}
      {agents === null && error === null && <p role="status">{t('common.loading')}</p>}
      {agents !== null && (
        <>
          <p role="status" class="muted" data-testid="computers-count">
            {tn('computers.count', agents.length, { shown: shown.length })}
          </p>
          {shown.length === 0 ? (
            <p>{t('computers.empty')}</p>
          ) : (
            <table data-testid="computers-table">
              <thead>
                <tr>
                  <th scope="col">{t('computers.col.hostname')}</th>
                  <th scope="col">{t('computers.col.group')}</th>
                  <th scope="col">{t('computers.col.status')}</th>
                  <th scope="col">{t('computers.col.os')}</th>
                  <th scope="col">{t('computers.col.agent')}</th>
                  <th scope="col">{t('computers.col.policy')}</th>
                  <th scope="col">{t('computers.col.lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((a) => (
                  <tr key={a.id} data-testid="computers-row">
                    <td>
                      <a href={routeHref(`/computers/${a.id}`)}>{a.hostname}</a>
                    </td>
                    <td>{a.group}</td>
                    <td>
                      <span class={`presence presence-${a.status}`}>{t(`computers.status.${a.status}`)}</span>
                    </td>
                    <td>{a.os}</td>
                    <td>{a.agentVersion}</td>
                    <td>
                      {a.appliedVersion ?? '—'} / {a.latestVersion ?? '—'}
                      {a.drift && <span class="computers-drift"> {t('computers.drift')}</span>}
                    </td>
                    <td>{a.lastSeenAt === null ? t('computers.never') : formatTime(locale, a.lastSeenAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
