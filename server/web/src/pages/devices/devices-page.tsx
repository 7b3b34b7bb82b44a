import type { SignedPolicy } from '@portcullis/shared';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { can, useApp } from '../../app-context.js';
import { formatTime, msg, type Msg } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { allowRuleFor, insertRule, policyInputOf } from './rule-builder.js';

/** One device of GET /usb-devices (server/src/api/routes/fleet-extra-routes.ts). */
interface FleetDevice {
  readonly key: string;
  readonly id: string;
  readonly name: string;
  readonly serial: string;
  readonly label: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly computerCount: number;
  readonly computers: ReadonlyArray<{ agentId: string; hostname: string; group: string | null; lastSeenAt: string }>;
}

export function DevicesPage({ route }: { route: Route }) {
  const { t, tn, api, locale, user } = useApp();
  const q = route.query.get('q') ?? '';
  const [devices, setDevices] = useState<FleetDevice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [allowing, setAllowing] = useState<FleetDevice | null>(null);

  useEffect(() => {
    // A short pause while typing, so every keystroke does not ask the server.
    const timer = setTimeout(() => {
      api
        .get<{ devices: FleetDevice[] }>(`/usb-devices${q.trim() ? `?q=${encodeURIComponent(q.trim())}` : ''}`)
        .then((r) => (setDevices(r.devices), setError(null)))
        .catch((err: unknown) => setError((err as Error).message));
    }, 200);
    return () => clearTimeout(timer);
  }, [api, q]);

  const admin = can(user, 'admin');
  return (
    <section>
      <h1>{t('devices.title')}</h1>
      <form class="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('devices.search')}
          <input type="search" value={q} onInput={(e) => (location.hash = routeHref('/devices', { q: e.currentTarget.value }))} data-testid="devices-search" />
        </label>
      </form>
      {error !== null && (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      )}
      {devices === null && error === null && <p role="status">{t('common.loading')}</p>}
      {allowing !== null && <AllowPanel device={allowing} onClose={() => setAllowing(null)} />}
      {devices !== null && (
        <>
          <p role="status" class="muted" data-testid="devices-count">
            {tn('devices.count', devices.length)}
          </p>
          {devices.length === 0 ? (
            <p>{t('devices.empty')}</p>
          ) : (
            <table data-testid="devices-table">
              <thead>
                <tr>
                  <th scope="col">{t('devices.col.id')}</th>
                  <th scope="col">{t('devices.col.name')}</th>
                  <th scope="col">{t('devices.col.serial')}</th>
                  <th scope="col">{t('devices.col.label')}</th>
                  <th scope="col">{t('devices.col.pcs')}</th>
                  <th scope="col">{t('devices.col.first')}</th>
                  <th scope="col">{t('devices.col.last')}</th>
                  {admin && <th scope="col">{t('devices.col.actions')}</th>}
                </tr>
              </thead>
              <tbody>
                {devices.map((d) => (
                  <tr key={d.key} data-testid="devices-row">
                    <td>
                      <a href={routeHref('/events', { device: d.serial || d.id })}>
                        <code>{d.id}</code>
                      </a>
                    </td>
                    <td>{d.name}</td>
                    <td>
                      <code>{d.serial}</code>
                    </td>
                    <td>{d.label}</td>
                    <td>
                      <ul class="devices-pcs">
                        {d.computers.map((c) => (
                          <li key={c.agentId}>
                            <a href={routeHref(`/computers/${c.agentId}`)}>{c.hostname}</a>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>{formatTime(locale, d.firstSeenAt)}</td>
                    <td>{formatTime(locale, d.lastSeenAt)}</td>
                    {admin && (
                      <td>
                        <button type="button" class="secondary" onClick={() => setAllowing(d)} data-testid="devices-allow">
                          {t('devices.allow')}
                        </button>
                      </td>
                    )}
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

/** Pick a group, see the exact rule and where it lands, then save it as the group's next policy version. */
function AllowPanel({ device, onClose }: { device: FleetDevice; onClose: () => void }) {
  const { t, tm, api } = useApp();
  const [groups, setGroups] = useState<string[]>([]);
  const [group, setGroup] = useState(device.computers[0]?.group ?? '');
  const [policy, setPolicy] = useState<SignedPolicy | null>(null);
  // Null until edited: the suggested comment is shown in the current language.
  const [edited, setComment] = useState<string | null>(null);
  const comment = edited ?? t('devices.allow.defaultComment', { id: device.id, serial: device.serial });
  const [notice, setNotice] = useState<{ kind: 'status' | 'alert'; text: Msg } | null>(null);
  const failed = (err: unknown) => setNotice({ kind: 'alert', text: msg('common.error', { message: err instanceof Error ? err.message : String(err) }) });
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((r) => setGroups(r.groups.map((g) => g.name)))
      .catch(failed);
  }, [api]);
  useEffect(() => {
    setPolicy(null);
    if (group === '') return;
    api
      .get<SignedPolicy>(`/groups/${encodeURIComponent(group)}/policy`)
      .then(setPolicy)
      .catch(failed);
  }, [api, group]);

  const rule = useMemo(() => {
    try {
      return { text: allowRuleFor(device), error: null };
    } catch (err) {
      return { text: null, error: (err as Error).message };
    }
  }, [device]);
  const insertion = policy !== null && rule.text !== null ? insertRule(policy.document.rules, rule.text) : null;

  const save = async () => {
    if (rule.text === null) return;
    setBusy(true);
    try {
      // Re-read the policy so a change saved meanwhile is kept; the rule is placed in that text.
      const fresh = await api.get<SignedPolicy>(`/groups/${encodeURIComponent(group)}/policy`);
      const next = insertRule(fresh.document.rules, rule.text);
      const saved = await api.put<SignedPolicy>(`/groups/${encodeURIComponent(group)}/policy`, policyInputOf(fresh.document, comment.trim(), { rules: next.rules }));
      setPolicy(saved);
      setNotice({ kind: 'status', text: msg('devices.allow.saved', { group, version: saved.document.version }) });
    } catch (err) {
      failed(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="devices-allow" aria-labelledby="devices-allow-h" data-testid="devices-allow-panel">
      <h2 id="devices-allow-h">{t('devices.allow.title', { id: device.id })}</h2>
      <form
        class="devices-allow-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          {t('devices.allow.group')}
          <select value={group} onChange={(e) => setGroup(e.currentTarget.value)} required data-testid="devices-allow-group">
            <option value="">{t('devices.allow.pickGroup')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <p>{t('devices.allow.rule')}</p>
        {rule.text !== null ? (
          <pre class="devices-rule" data-testid="devices-allow-rule">
            {rule.text}
          </pre>
        ) : (
          <p role="alert" class="error">
            {t('devices.allow.badRule', { message: rule.error ?? '' })}
          </p>
        )}
        {insertion !== null && (
          <>
            <p role="status">
              {insertion.beforeLine !== null ? t('devices.allow.before', { line: insertion.line, before: insertion.beforeLine }) : t('devices.allow.end', { line: insertion.line })}
            </p>
            <table class="devices-preview" aria-label={t('devices.allow.preview')} data-testid="devices-allow-preview">
              <tbody>
                {insertion.preview.map((l) => (
                  <tr key={l.n} class={l.added ? 'devices-preview-added' : undefined}>
                    <th scope="row">{l.n}</th>
                    <td>
                      <code>
                        {l.added ? '+ ' : '  '}
                        {l.text}
                      </code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {group !== '' && policy === null && notice === null && <p role="status">{t('common.loading')}</p>}
        <label>
          {t('devices.allow.comment')}
          <input value={comment} required maxLength={500} onInput={(e) => setComment(e.currentTarget.value)} data-testid="devices-allow-comment" />
        </label>
        <div class="toolbar">
          <button type="submit" disabled={busy || insertion === null || comment.trim() === ''} data-testid="devices-allow-save">
            {t('devices.allow.save')}
          </button>
          <button type="button" class="secondary" onClick={onClose} data-testid="devices-allow-close">
            {t('devices.close')}
          </button>
        </div>
      </form>
      {notice !== null && (
        <p role={notice.kind} class={notice.kind === 'alert' ? 'error' : 'ok'} data-testid="devices-allow-result">
          {tm(notice.text)}
        </p>
      )}
    </section>
  );
}
