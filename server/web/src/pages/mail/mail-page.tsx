import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { AddressRegistry } from './address-registry.js';
import { MailPolicyPanel } from './mail-policy-panel.js';
import { statCards, type MailStats } from './mail-registry.js';
import './mail.css';

/**
 * #/mail: the counters of the mail policy service, the address registry and each group's mail
 * policy. Every role reads it; only an admin changes anything (the server checks again).
 */
export function MailPage({ route }: { route: Route }) {
  const { api, t } = useApp();
  const [groups, setGroups] = useState<string[]>([]);
  const [groupsError, setGroupsError] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((answer) => setGroups(answer.groups.map((g) => g.name)))
      .catch((err: unknown) => setGroupsError(err instanceof Error ? err.message : String(err)));
  }, [api]);

  return (
    <section class="mail-page">
      <h1>{t('mail.title')}</h1>
      <p>{t('mail.intro')}</p>
      {groupsError !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: groupsError })}
        </p>
      )}
      <MailStatsCards />
      <AddressRegistry route={route} groups={groups} />
      <MailPolicyPanel route={route} groups={groups} />
    </section>
  );
}

function MailStatsCards() {
  const { api, t, tm, locale } = useApp();
  const [stats, setStats] = useState<MailStats | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<MailStats>('/mail/stats')
      .then(setStats)
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [api]);

  return (
    <section class="mail-stats" aria-labelledby="mail-stats-heading" data-testid="mail-stats">
      <div class="mail-stats-head">
        <h2 id="mail-stats-heading">{t('mail.stats.heading')}</h2>
        {stats !== null && stats.since !== null && <span class="mail-muted">{t('mail.stats.since', { since: formatTime(locale, stats.since) })}</span>}
        <a href={routeHref('/events', { type: 'mail.rejected' })} data-testid="mail-refused-link">
          {t('mail.refusedLink')}
        </a>
      </div>
      {error !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      )}
      {stats?.enabled === false && (
        <p class="notice" data-testid="mail-stats-off">
          {t('mail.stats.off')}
        </p>
      )}
      {stats !== null && (
        <div class="mail-cards">
          {statCards(stats).map((c) => (
            <div key={c.key} class={`mail-card${c.tone === 'bad' ? ' mail-card-bad' : ''}`} data-testid={`mail-stat-${c.key}`}>
              <span class="mail-card-value">{c.value}</span>
              <span class="mail-card-label">{tm(c.label)}</span>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
