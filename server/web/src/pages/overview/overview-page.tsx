import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { cardTone } from './overview-cards.js';
import { layoutBars, shortDay, type DayCount } from './overview-chart.js';

type Presence = 'online' | 'stale' | 'offline' | 'revoked';

interface AgentBrief {
  readonly id: string;
  readonly hostname: string;
  readonly group: string;
  readonly status: Presence;
}

/** GET /api/v1/overview (server/src/api/routes/fleet-extra-routes.ts). */
export interface Overview {
  readonly generatedAt: string;
  readonly agents: Readonly<Record<Presence | 'total', number>>;
  readonly drift: { readonly count: number; readonly agents: ReadonlyArray<AgentBrief & { appliedVersion: number | null; latestVersion: number | null }> };
  readonly violations: { readonly types: readonly string[]; readonly today: number; readonly total: number; readonly perDay: readonly DayCount[] };
  readonly topDevices: ReadonlyArray<{ id: string; name: string; label: string; count: number }>;
  readonly topComputers: ReadonlyArray<{ id: string; hostname: string; group: string | null; count: number }>;
  readonly silent: { readonly count: number; readonly agents: ReadonlyArray<AgentBrief & { reason: 'no-contact' | 'no-events'; lastSeenAt: string | null; lastEventAt: string | null }> };
}

const PRESENCES: readonly Presence[] = ['online', 'stale', 'offline', 'revoked'];

export function OverviewPage(_props: { route: Route }) {
  const { t, api, locale } = useApp();
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    api
      .get<Overview>('/overview')
      .then((o) => live && (setData(o), setError(null)))
      .catch((err: unknown) => live && setError((err as Error).message));
    return () => {
      live = false;
    };
  }, [api, tick]);

  const time = (iso: string | null) => (iso === null ? t('overview.never') : formatTime(locale, iso));
  return (
    <section class="overview">
      <div class="overview-head">
        <h1>{t('overview.title')}</h1>
        <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)} data-testid="overview-refresh">
          {t('overview.refresh')}
        </button>
      </div>
      {error !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      )}
      {data === null && error === null && <p role="status">{t('common.loading')}</p>}
      {data !== null && (
        <>
          <p class="muted" role="status">
            {t('overview.generatedAt', { time: time(data.generatedAt) })}
          </p>
          <div class="overview-cards">
            <Card label={t('overview.agents.total')} value={data.agents.total} href={routeHref('/computers')} testid="overview-total" />
            {PRESENCES.map((p) => (
              <Card key={p} label={t(`overview.agents.${p}`)} value={data.agents[p]} href={routeHref('/computers', { status: p })} testid={`overview-${p}`} tone={cardTone(p, data.agents[p])} />
            ))}
            <Card label={t('overview.drift')} value={data.drift.count} testid="overview-drift" tone={cardTone('drift', data.drift.count)} />
            <Card label={t('overview.violations.today')} value={data.violations.today} href={routeHref('/events', { range: '24h' })} testid="overview-today" />
            <Card label={t('overview.violations.month')} value={data.violations.total} href={routeHref('/events', { range: '30d' })} testid="overview-month" />
          </div>
          <ViolationChart days={data.violations.perDay} />
          <p class="muted">{t('overview.violations.counted', { types: data.violations.types.join(', ') })}</p>
          <div class="overview-grid">
            <TopDevices data={data} />
            <TopComputers data={data} />
            <section aria-labelledby="overview-drift-h">
              <h2 id="overview-drift-h">{t('overview.drift')}</h2>
              <p class="muted">{t('overview.drift.help')}</p>
              {data.drift.agents.length === 0 ? (
                <p>{t('overview.empty')}</p>
              ) : (
                <table data-testid="overview-drift-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('overview.col.computer')}</th>
                      <th scope="col">{t('overview.col.group')}</th>
                      <th scope="col">{t('overview.drift.applied')}</th>
                      <th scope="col">{t('overview.drift.latest')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.drift.agents.map((a) => (
                      <tr key={a.id} data-testid="overview-drift-row">
                        <td>
                          <a href={routeHref(`/computers/${a.id}`)}>{a.hostname}</a>
                        </td>
                        <td>{a.group}</td>
                        <td>{a.appliedVersion ?? '—'}</td>
                        <td>{a.latestVersion ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {data.drift.count > data.drift.agents.length && <p class="muted">{t('overview.drift.more', { count: data.drift.count - data.drift.agents.length })}</p>}
            </section>
            <section aria-labelledby="overview-silent-h">
              <h2 id="overview-silent-h">{t('overview.silent')}</h2>
              {data.silent.agents.length === 0 ? (
                <p>{t('overview.empty')}</p>
              ) : (
                <table data-testid="overview-silent-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('overview.col.computer')}</th>
                      <th scope="col">{t('overview.col.reason')}</th>
                      <th scope="col">{t('overview.col.lastSeen')}</th>
                      <th scope="col">{t('overview.col.lastEvent')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.silent.agents.map((a) => (
                      <tr key={a.id} data-testid="overview-silent-row">
                        <td>
                          <a href={routeHref(`/computers/${a.id}`)}>{a.hostname}</a>
                        </td>
                        <td>{t(`overview.silent.${a.reason}`)}</td>
                        <td>{time(a.lastSeenAt)}</td>
                        <td>{time(a.lastEventAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {data.silent.count > data.silent.agents.length && <p class="muted">{t('overview.drift.more', { count: data.silent.count - data.silent.agents.length })}</p>}
            </section>
          </div>
        </>
      )}
    </section>
  );
}

function Card({ label, value, href, testid, tone }: { label: string; value: number; href?: string; testid: string; tone?: string | undefined }) {
  const body = (
    <>
      <span class="overview-card-value">{value}</span>
      <span class="overview-card-label">{label}</span>
    </>
  );
  return (
    <div class={`overview-card${tone ? ` overview-card-${tone}` : ''}`} data-testid={testid}>
      {href ? <a href={href}>{body}</a> : body}
    </div>
  );
}

const BOX = { width: 900, height: 240, left: 44, bottom: 28, top: 12 };

function ViolationChart({ days }: { days: readonly DayCount[] }) {
  const { t, tn } = useApp();
  const layout = layoutBars(days, BOX);
  const total = days.reduce((n, d) => n + d.count, 0);
  const peak = days.reduce<DayCount | undefined>((best, d) => (best === undefined || d.count > best.count ? d : best), undefined);
  const summary = tn('overview.chart.summary', total, { max: peak?.count ?? 0, day: peak ? shortDay(peak.day) : '—' });
  return (
    <section aria-labelledby="overview-chart-h" class="overview-chart">
      <h2 id="overview-chart-h">{t('overview.chart.title')}</h2>
      <svg viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-labelledby="overview-chart-t overview-chart-d" data-testid="overview-chart" class="overview-svg">
        <title id="overview-chart-t">{t('overview.chart.title')}</title>
        <desc id="overview-chart-d">{summary}</desc>
        {layout.ticks.map((tick) => (
          <g key={tick.value}>
            <line x1={BOX.left} x2={BOX.width} y1={tick.y} y2={tick.y} class="overview-grid-line" />
            <text x={BOX.left - 6} y={tick.y + 4} text-anchor="end" class="overview-axis">
              {Number.isInteger(tick.value) ? tick.value : tick.value.toFixed(1)}
            </text>
          </g>
        ))}
        {layout.bars.map((b) => (
          <rect key={b.day} x={b.x} y={b.y} width={b.width} height={Math.max(b.height, 0)} class="overview-bar" data-testid="overview-bar">
            <title>{tn('overview.chart.bar', b.count, { day: shortDay(b.day) })}</title>
          </rect>
        ))}
        {layout.labelled.map((i) => {
          const b = layout.bars[i];
          return b === undefined ? null : (
            <text key={b.day} x={b.x + b.width / 2} y={BOX.height - 8} text-anchor="middle" class="overview-axis">
              {shortDay(b.day)}
            </text>
          );
        })}
      </svg>
      <details>
        <summary>{t('overview.chart.table')}</summary>
        <table data-testid="overview-chart-table">
          <thead>
            <tr>
              <th scope="col">{t('overview.col.day')}</th>
              <th scope="col">{t('overview.col.count')}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <td>{d.day}</td>
                <td>{d.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function TopDevices({ data }: { data: Overview }) {
  const { t } = useApp();
  return (
    <section aria-labelledby="overview-devices-h">
      <h2 id="overview-devices-h">{t('overview.topDevices')}</h2>
      {data.topDevices.length === 0 ? (
        <p>{t('overview.empty')}</p>
      ) : (
        <table data-testid="overview-top-devices">
          <thead>
            <tr>
              <th scope="col">{t('overview.col.device')}</th>
              <th scope="col">{t('overview.col.name')}</th>
              <th scope="col">{t('overview.col.label')}</th>
              <th scope="col">{t('overview.col.count')}</th>
            </tr>
          </thead>
          <tbody>
            {data.topDevices.map((d) => (
              <tr key={`${d.id} ${d.name}`} data-testid="overview-device-row">
                <td>
                  <a href={routeHref('/devices', { q: d.id })}>
                    <code>{d.id}</code>
                  </a>
                </td>
                <td>{d.name}</td>
                <td>{d.label}</td>
                <td>
                  <a href={routeHref('/events', { device: d.id, range: '30d' })} title={t('overview.openLog')}>
                    {d.count}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TopComputers({ data }: { data: Overview }) {
  const { t } = useApp();
  return (
    <section aria-labelledby="overview-computers-h">
      <h2 id="overview-computers-h">{t('overview.topComputers')}</h2>
      {data.topComputers.length === 0 ? (
        <p>{t('overview.empty')}</p>
      ) : (
        <table data-testid="overview-top-computers">
          <thead>
            <tr>
              <th scope="col">{t('overview.col.computer')}</th>
              <th scope="col">{t('overview.col.group')}</th>
              <th scope="col">{t('overview.col.count')}</th>
            </tr>
          </thead>
          <tbody>
            {data.topComputers.map((c) => (
              <tr key={c.id} data-testid="overview-computer-row">
                <td>
                  <a href={routeHref(`/computers/${c.id}`)}>{c.hostname}</a>
                </td>
                <td>{c.group ?? '—'}</td>
                <td>
                  <a href={routeHref('/events', { agent: c.id, range: '30d' })} title={t('overview.openLog')}>
                    {c.count}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
