import type { SignedPolicy } from '@portcullis/shared';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { useApp } from '../../app-context.js';
import { formatTime, msg, type Msg } from '../../i18n/i18n.js';
import { exceptionsOf, policyInputOf, temporaryException } from '../devices/rule-builder.js';
import type { SeenDevice } from './computer-detail.js';
import { GRANT_HOURS, type AgentView } from './computer-filter.js';

type Notice = { readonly kind: 'status' | 'alert'; readonly text: Msg } | null;

const failure = (err: unknown): Notice => ({ kind: 'alert', text: msg('common.error', { message: err instanceof Error ? err.message : String(err) }) });

function NoticeLine({ notice, testid }: { notice: Notice; testid: string }) {
  const { tm } = useApp();
  if (notice === null) return null;
  return (
    <p role={notice.kind} class={notice.kind === 'alert' ? 'error' : 'ok'} data-testid={testid}>
      {tm(notice.text)}
    </p>
  );
}

/** POST /agents/:id/uninstall-code: the code that lets this computer's agent be removed. */
export interface UninstallCode {
  readonly agentId: string;
  readonly hostname: string;
  readonly code: string;
  readonly validUntil: string;
}

/**
 * What to run on the computer with the code: the .deb's removal (the agent's own refusal message
 * says the same); null on Windows, whose installer takes the code its own way.
 */
export function removalCommand(os: string, code: string): string | null {
  if (/windows/i.test(os)) return null;
  return `sudo PORTCULLIS_UNINSTALL_CODE=${code} apt remove portcullis-agent`;
}

/** Admin actions: move to a group (with confirmation), refresh inventory, rescan, revoke (with confirmation), uninstall code. */
export function ComputerActions({ agent, onChanged }: { agent: AgentView; onChanged: () => void }) {
  const { t, api, locale } = useApp();
  const [uninstall, setUninstall] = useState<UninstallCode | null>(null);
  const [groups, setGroups] = useState<string[]>([]);
  const [target, setTarget] = useState('');
  const [confirming, setConfirming] = useState<'move' | 'revoke' | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((r) => setGroups(r.groups.map((g) => g.name).filter((g) => g !== agent.group)))
      .catch((err: unknown) => setNotice(failure(err)));
  }, [api, agent.group]);

  const run = async (work: () => Promise<Msg>) => {
    setBusy(true);
    try {
      setNotice({ kind: 'status', text: await work() });
    } catch (err) {
      const offline = err instanceof ApiError && err.status === 409;
      setNotice(offline ? { kind: 'alert', text: msg('computers.command.offline') } : failure(err));
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };
  const enc = encodeURIComponent(agent.id);
  const command = (name: 'refresh-inventory' | 'rescan') =>
    run(async () => msg('computers.command.sent', { id: (await api.post<{ commandId: string }>(`/agents/${enc}/commands`, { name })).commandId }));
  const move = () =>
    run(async () => {
      await api.put(`/agents/${enc}/group`, { group: target });
      onChanged();
      return msg('computers.move.done', { group: target });
    });
  const revoke = () =>
    run(async () => {
      await api.post(`/agents/${enc}/revoke`);
      onChanged();
      return msg('computers.revoke.done');
    });
  const uninstallCode = () =>
    run(async () => {
      setUninstall(await api.post<UninstallCode>(`/agents/${enc}/uninstall-code`));
      return msg('computers.uninstall.audited');
    });
  const removal = uninstall === null ? null : removalCommand(agent.os, uninstall.code);

  return (
    <section aria-labelledby="computer-actions-h" class="computer-actions">
      <h2 id="computer-actions-h">{t('computers.actions')}</h2>
      <div class="toolbar">
        <label>
          {t('computers.move.label')}
          <select value={target} onChange={(e) => (setTarget(e.currentTarget.value), setConfirming(null))} data-testid="computer-move-group">
            <option value="">—</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={target === '' || busy} onClick={() => setConfirming('move')} data-testid="computer-move">
          {t('computers.move.submit')}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void command('refresh-inventory')} data-testid="computer-refresh">
          {t('computers.refresh')}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void command('rescan')} data-testid="computer-rescan">
          {t('computers.rescan')}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void uninstallCode()} data-testid="computer-uninstall-code">
          {t('computers.uninstall')}
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => setConfirming('revoke')} data-testid="computer-revoke">
          {t('computers.revoke')}
        </button>
      </div>
      {uninstall !== null && uninstall.agentId === agent.id && (
        <div class="confirm" data-testid="uninstall-code">
          <p>
            {t('computers.uninstall.for', { host: uninstall.hostname })}{' '}
            <strong>
              <code data-testid="uninstall-code-value">{uninstall.code}</code>
            </strong>
          </p>
          <p>{t('computers.uninstall.valid', { time: formatTime(locale, uninstall.validUntil) })}</p>
          {removal !== null && (
            <p>
              {t('computers.uninstall.run')} <code>{removal}</code>
            </p>
          )}
        </div>
      )}
      {confirming !== null && (
        <div class="confirm" role="alertdialog" aria-labelledby="computer-confirm-text">
          <p id="computer-confirm-text">
            {confirming === 'move' ? t('computers.move.confirm', { host: agent.hostname, group: target }) : t('computers.revoke.confirm', { host: agent.hostname })}
          </p>
          <button type="button" class={confirming === 'revoke' ? 'danger' : ''} disabled={busy} onClick={() => void (confirming === 'move' ? move() : revoke())} data-testid="computer-confirm">
            {t('computers.confirm')}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(null)} data-testid="computer-confirm-cancel">
            {t('common.cancel')}
          </button>
        </div>
      )}
      <NoticeLine notice={notice} testid="computer-action-result" />
    </section>
  );
}

/**
 * A temporary grant is an exception in the group's policy that names this computer: read the
 * group's current policy, add (or drop) the exception, save it as a new version with a comment.
 */
export function TemporaryAccess({ agent, devices }: { agent: AgentView; devices: readonly SeenDevice[] }) {
  const { t, tn, api, locale } = useApp();
  const [policy, setPolicy] = useState<SignedPolicy | null>(null);
  const [deviceKey, setDeviceKey] = useState('');
  const [hours, setHours] = useState<number>(GRANT_HOURS[2]);
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);
  const path = `/groups/${encodeURIComponent(agent.group)}/policy`;

  useEffect(() => {
    api
      .get<SignedPolicy>(path)
      .then(setPolicy)
      .catch((err: unknown) => setNotice(failure(err)));
  }, [api, path]);

  const save = async (change: (doc: SignedPolicy['document']) => { exceptions: SignedPolicy['document']['exceptions']; comment: string; done: (v: number) => Msg }) => {
    setBusy(true);
    try {
      // Re-read right before saving so an edit made meanwhile by someone else is kept.
      const fresh = await api.get<SignedPolicy>(path);
      const { exceptions, comment, done } = change(fresh.document);
      const saved = await api.put<SignedPolicy>(path, policyInputOf(fresh.document, comment, { exceptions }));
      setPolicy(saved);
      setNotice({ kind: 'status', text: done(saved.document.version) });
    } catch (err) {
      setNotice(failure(err));
    } finally {
      setBusy(false);
    }
  };

  const grant = () => {
    const device = devices.find((d) => d.key === deviceKey);
    if (device === undefined) return;
    const x = temporaryException(agent.id, device, hours, reason.trim() || t('computers.grant.title'), new Date());
    void save((doc) => ({
      exceptions: [...doc.exceptions, x],
      // The comment is stored with the policy version: it is written once, in the current language.
      comment: tn('computers.grant.comment', hours, { host: agent.hostname, rule: shortRule(x.rule) }),
      done: (version) => msg('computers.grant.done', { version }),
    }));
  };
  const revoke = (id: string, rule: string) =>
    void save((doc) => ({
      exceptions: doc.exceptions.filter((x) => x.id !== id),
      comment: t('computers.grant.revokeComment', { host: agent.hostname, rule: shortRule(rule) }),
      done: () => msg('computers.exceptions.revoked'),
    }));

  const mine = policy === null ? [] : exceptionsOf(policy.document, agent.id, new Date());
  return (
    <section aria-labelledby="computer-grant-h" class="computer-grant">
      <h2 id="computer-grant-h">{t('computers.grant.title')}</h2>
      {devices.length === 0 ? (
        <p>{t('computers.grant.noDevices')}</p>
      ) : (
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            grant();
          }}
        >
          <label>
            {t('computers.grant.device')}
            <select value={deviceKey} onChange={(e) => setDeviceKey(e.currentTarget.value)} required data-testid="grant-device">
              <option value="">{t('computers.grant.pick')}</option>
              {devices.map((d) => (
                <option key={d.key} value={d.key}>
                  {d.id} {d.name} {d.serial}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('computers.grant.hours')}
            <select value={String(hours)} onChange={(e) => setHours(Number(e.currentTarget.value))} data-testid="grant-hours">
              {GRANT_HOURS.map((h) => (
                <option key={h} value={String(h)}>
                  {tn('computers.grant.hoursValue', h)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('computers.grant.reason')}
            <input value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} data-testid="grant-reason" />
          </label>
          <button type="submit" disabled={busy || deviceKey === '' || policy === null} data-testid="grant-submit">
            {t('computers.grant.submit')}
          </button>
        </form>
      )}
      <NoticeLine notice={notice} testid="grant-result" />
      <h3>{t('computers.exceptions')}</h3>
      {mine.length === 0 ? (
        <p>{t('computers.exceptions.none')}</p>
      ) : (
        <table data-testid="exceptions-table">
          <thead>
            <tr>
              <th scope="col">{t('computers.exceptions.rule')}</th>
              <th scope="col">{t('computers.exceptions.reason')}</th>
              <th scope="col">{t('computers.exceptions.until')}</th>
              <th scope="col">{t('computers.exceptions.state')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('computers.exceptions.revoke')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {mine.map((x) => (
              <tr key={x.id} data-testid="exception-row">
                <td>
                  <code>{x.rule}</code>
                </td>
                <td>{x.reason}</td>
                <td>{formatTime(locale, x.until)}</td>
                <td>{x.active ? t('computers.exceptions.active') : t('computers.exceptions.expired')}</td>
                <td>
                  <button type="button" class="secondary" disabled={busy} onClick={() => revoke(x.id, x.rule)} data-testid="exception-revoke">
                    {t('computers.exceptions.revoke')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * A rule as it goes into a policy comment: a device sets its own name and serial, so a rule can be
 * far longer than the 500 characters a comment may have; the version diff shows it whole.
 */
export function shortRule(rule: string): string {
  return rule.length <= 200 ? rule : `${rule.slice(0, 199)}…`;
}
