import { useEffect, useState } from 'preact/hooks';
import { can, useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { routeHref } from '../../router.js';
import { severityText, targetWord } from '../events/event-labels.js';
import { reasonText } from '../events/event-text.js';
import { decisionOf } from '../events/event-view.js';
import { ComputerActions, TemporaryAccess } from './computer-actions.js';
import type { AgentView } from './computer-filter.js';
import { InventoryView } from './inventory-view.js';

/** One device of GET /usb-devices?agent=… (server/src/api/routes/fleet-extra-routes.ts). */
export interface SeenDevice {
  readonly key: string;
  readonly id: string;
  readonly name: string;
  readonly serial: string;
  readonly label: string;
  readonly lastSeenAt: string;
  readonly computers: ReadonlyArray<{ agentId: string; lastSeenAt: string; lastDecision?: { target: string; at: string; eventId: number; line: number | null; rule: string | null } | null }>;
}

interface EventRow {
  readonly id: number;
  readonly type: string;
  readonly severity: string;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

export interface Detail {
  readonly agent: AgentView;
  readonly inventory: { inventory: Record<string, unknown>; updatedAt: string } | null;
}

export function ComputerDetail({ id }: { id: string }) {
  const { t, api, user } = useApp();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [devices, setDevices] = useState<SeenDevice[]>([]);
  const [events, setEvents] = useState<EventRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    const enc = encodeURIComponent(id);
    api
      .get<Detail>(`/agents/${enc}`)
      .then((d) => (setDetail(d), setError(null)))
      .catch((err: unknown) => setError((err as Error).message));
    api
      .get<{ devices: SeenDevice[] }>(`/usb-devices?agent=${enc}`)
      .then((r) => setDevices(r.devices))
      .catch((err: unknown) => setError((err as Error).message));
    api
      .get<{ events: EventRow[] }>(`/events?agent=${enc}&limit=20`)
      .then((r) => setEvents(r.events))
      .catch((err: unknown) => setError((err as Error).message));
  }, [api, id, version]);

  if (error !== null && detail === null) {
    return (
      <section>
        <p>
          <a href={routeHref('/computers')}>{t('computers.back')}</a>
        </p>
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      </section>
    );
  }
  if (detail === null) return <p role="status">{t('common.loading')}</p>;
  const a = detail.agent;
  const admin = can(user, 'admin') && a.revokedAt === null;
  return (
    <section class="computer">
      <p>
        <a href={routeHref('/computers')}>{t('computers.back')}</a>
      </p>
      <h1 data-testid="computer-hostname">
        {a.hostname} <span class={`presence presence-${a.status}`} data-testid="computer-status">{t(`computers.status.${a.status}`)}</span>
      </h1>
      {error !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      )}
      <Facts agent={a} />
      <p>
        <a href={routeHref('/events', { agent: a.id })} data-testid="computer-events-link">
          {t('computers.detail.events')}
        </a>
      </p>
      {admin && <ComputerActions agent={a} onChanged={reload} />}
      {admin && <TemporaryAccess agent={a} devices={devices} />}
      <UsbSeen devices={devices} agentId={a.id} />
      <MailAccounts inventory={detail.inventory?.inventory ?? null} />
      <InventoryView inventory={detail.inventory} />
      <RecentEvents events={events} agentId={a.id} />
    </section>
  );
}

function Facts({ agent: a }: { agent: AgentView }) {
  const { t, locale } = useApp();
  const time = (iso: string | null) => (iso === null ? t('computers.never') : formatTime(locale, iso));
  const rows: Array<[string, string]> = [
    [t('computers.col.group'), a.group],
    [t('computers.col.policy'), `${a.appliedVersion ?? '—'} / ${a.latestVersion ?? '—'}${a.drift ? ` (${t('computers.drift')})` : ''}`],
    [t('computers.col.os'), a.os],
    [t('computers.detail.version'), a.agentVersion],
    [t('computers.detail.machineId'), a.machineId],
    [t('computers.detail.enrolled'), time(a.enrolledAt)],
    [t('computers.col.lastSeen'), time(a.lastSeenAt)],
  ];
  return (
    <dl class="computer-facts" data-testid="computer-facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function UsbSeen({ devices, agentId }: { devices: readonly SeenDevice[]; agentId: string }) {
  const { t, locale } = useApp();
  return (
    <section aria-labelledby="computer-usb-h">
      <h2 id="computer-usb-h">{t('computers.usb')}</h2>
      {devices.length === 0 ? (
        <p>{t('computers.usb.none')}</p>
      ) : (
        <table data-testid="computer-usb-table">
          <thead>
            <tr>
              <th scope="col">{t('computers.usb.device')}</th>
              <th scope="col">{t('computers.usb.name')}</th>
              <th scope="col">{t('computers.usb.serial')}</th>
              <th scope="col">{t('computers.usb.label')}</th>
              <th scope="col">{t('computers.usb.lastSeen')}</th>
              <th scope="col">{t('computers.usb.decision')}</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => {
              const here = d.computers.find((c) => c.agentId === agentId);
              const decision = here?.lastDecision ?? null;
              return (
                <tr key={d.key} data-testid="computer-usb-row">
                  <td>
                    <a href={routeHref('/events', { agent: agentId, device: d.serial || d.id })}>
                      <code>{d.id}</code>
                    </a>
                  </td>
                  <td>{d.name}</td>
                  <td>
                    <code>{d.serial}</code>
                  </td>
                  <td>{d.label}</td>
                  <td>{formatTime(locale, here?.lastSeenAt ?? d.lastSeenAt)}</td>
                  <td>
                    {decision === null ? (
                      <span class="muted">{t('computers.usb.noDecision')}</span>
                    ) : (
                      <span class={`decision decision-${decision.target}`} title={decision.rule ?? undefined}>
                        {targetWord(t, decision.target)}
                        {decision.line !== null && ` (${t('computers.usb.line', { line: decision.line })})`}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The mail issue will add a `mail` inventory section with the accounts found; until then, none reported. */
function MailAccounts({ inventory }: { inventory: Record<string, unknown> | null }) {
  const { t } = useApp();
  const mail = inventory?.mail as { accounts?: unknown } | undefined;
  const accounts = Array.isArray(mail?.accounts) ? (mail.accounts as Array<Record<string, unknown>>) : [];
  return (
    <section aria-labelledby="computer-mail-h">
      <h2 id="computer-mail-h">{t('computers.mail')}</h2>
      {accounts.length === 0 ? (
        <p data-testid="computer-mail-none">{t('computers.mail.none')}</p>
      ) : (
        <ul data-testid="computer-mail-list">
          {accounts.map((acc, i) => (
            <li key={i}>{[acc.address, acc.client, acc.profile].filter((v) => typeof v === 'string' && v !== '').join(' — ')}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RecentEvents({ events, agentId }: { events: readonly EventRow[]; agentId: string }) {
  const { t, tm, locale } = useApp();
  /** The device, then the decision in words (as the violation log says it); else the event's own reason. */
  const summary = (e: EventRow) => {
    const device = e.data.device as { id?: unknown } | undefined;
    const decision = decisionOf(e.data);
    const why = decision !== undefined ? reasonText(decision) : typeof e.data.reason === 'string' ? e.data.reason : undefined;
    const parts = [
      e.data.label,
      device?.id,
      decision?.target !== undefined ? targetWord(t, decision.target) : undefined,
      why !== undefined ? tm(why) : undefined,
    ].filter((v) => typeof v === 'string' && v !== '');
    return parts.join(' · ');
  };
  return (
    <section aria-labelledby="computer-events-h">
      <h2 id="computer-events-h">{t('computers.events')}</h2>
      {events.length === 0 ? (
        <p>{t('computers.events.none')}</p>
      ) : (
        <table data-testid="computer-events-table">
          <thead>
            <tr>
              <th scope="col">{t('computers.events.time')}</th>
              <th scope="col">{t('computers.events.type')}</th>
              <th scope="col">{t('computers.events.severity')}</th>
              <th scope="col">{t('computers.events.summary')}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-testid="computer-event-row">
                <td>{formatTime(locale, e.occurredAt)}</td>
                <td>{e.type}</td>
                <td>
                  <span class={`events-sev sev-${e.severity}`}>{severityText(t, e.severity)}</span>
                </td>
                <td>{summary(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <a href={routeHref('/events', { agent: agentId })}>{t('computers.events.all')}</a>
      </p>
    </section>
  );
}
