import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { useApp, type Role } from '../../app-context.js';
import { formatTime, msg, type Msg } from '../../i18n/i18n.js';
import type { Route } from '../../router.js';
import { MIN_PASSWORD_LENGTH, USERNAME_PATTERN, sortUsers, type UserView } from './user-logic.js';

const ROLES: readonly Role[] = ['admin', 'security', 'viewer'];

export function UsersPage(_props: { route: Route }) {
  const { api, t, tn, tm, locale, user: me } = useApp();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [passwordFor, setPasswordFor] = useState<string | null>(null);
  const [newPassword, setNewPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: Msg } | null>(null);

  // The server's refusal is shown as it words it (password rules, last admin, …).
  const fail = (err: unknown) =>
    setMessage({ ok: false, text: err instanceof ApiError ? msg('users.refused', { message: err.message }) : msg('common.error', { message: String(err) }) });

  const load = async () => {
    try {
      setUsers(sortUsers((await api.get<{ users: UserView[] }>('/users')).users));
    } catch (err) {
      fail(err);
    }
  };
  useEffect(() => void load(), [api]);

  const run = async (action: () => Promise<Msg>) => {
    setBusy(true);
    setMessage(null);
    try {
      const text = await action();
      setMessage({ ok: true, text });
      await load();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/users', { username: name, role, password });
      const created = name;
      setName('');
      setPassword('');
      return msg('users.created', { name: created });
    });
  };

  const setDisabled = (u: UserView, disabled: boolean) =>
    void run(async () => {
      await api.patch(`/users/${encodeURIComponent(u.username)}`, { disabled });
      return msg(disabled ? 'users.disabled' : 'users.enabled', { name: u.username });
    });

  const setRoleOf = (u: UserView, next: Role) =>
    void run(async () => {
      await api.patch(`/users/${encodeURIComponent(u.username)}`, { role: next });
      return msg('users.roleChanged', { name: u.username, role: msg(`role.${next}`) });
    });

  const savePassword = (e: Event, username: string) => {
    e.preventDefault();
    void run(async () => {
      await api.put(`/users/${encodeURIComponent(username)}/password`, { password: newPassword });
      setPasswordFor(null);
      setNewPassword('');
      return msg('users.passwordSet', { name: username });
    });
  };

  return (
    <section class="users-page">
      <h1>{t('users.title')}</h1>

      <form class="toolbar" onSubmit={create} data-testid="users-create-form">
        <h2 class="visually-hidden">{t('users.create.heading')}</h2>
        <label>
          {t('users.create.username')}
          <input
            required
            autocomplete="off"
            pattern={USERNAME_PATTERN}
            title={t('users.create.usernameHint')}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            data-testid="users-new-name"
          />
        </label>
        <label>
          {t('users.create.role')}
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="users-new-role">
            {ROLES.map((r) => (
              <option value={r} key={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('users.create.password')}
          <input
            type="password"
            required
            autocomplete="new-password"
            aria-describedby="users-password-rule"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="users-new-password"
          />
        </label>
        <button type="submit" disabled={busy} data-testid="users-create">
          {t('users.create.submit')}
        </button>
      </form>
      <p id="users-password-rule" class="users-hint">
        {tn('users.passwordRule', MIN_PASSWORD_LENGTH)}
      </p>

      {message !== null && (
        <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'ok' : 'error'} data-testid="users-message">
          {tm(message.text)}
        </p>
      )}

      {users === null ? (
        <p role="status">{t('common.loading')}</p>
      ) : users.length === 0 ? (
        <p>{t('users.empty')}</p>
      ) : (
        <table data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">{t('users.col.name')}</th>
              <th scope="col">{t('users.col.role')}</th>
              <th scope="col">{t('users.col.state')}</th>
              <th scope="col">{t('users.col.created')}</th>
              <th scope="col">{t('users.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const self = u.username === me?.username;
              return (
                <tr key={u.username} data-testid="users-row" data-username={u.username}>
                  <td>
                    {u.username} {self && <span class="users-muted">{t('users.you')}</span>}
                  </td>
                  <td>
                    {self ? (
                      t(`role.${u.role}`)
                    ) : (
                      <label>
                        <span class="visually-hidden">{t('users.changeRole', { name: u.username })}</span>
                        <select
                          value={u.role}
                          disabled={busy}
                          onChange={(e) => setRoleOf(u, e.currentTarget.value as Role)}
                          data-testid="users-role"
                        >
                          {ROLES.map((r) => (
                            <option value={r} key={r}>
                              {t(`role.${r}`)}
                            </option>
                          ))}
                        </select>
                      </label>
                    )}
                  </td>
                  <td class={u.disabled ? 'error' : 'ok'}>{t(u.disabled ? 'users.state.disabled' : 'users.state.active')}</td>
                  <td>{formatTime(locale, u.createdAt)}</td>
                  <td>
                    <div class="users-actions">
                      {!self && (
                        <button
                          type="button"
                          class={u.disabled ? 'secondary' : 'danger'}
                          disabled={busy}
                          onClick={() => setDisabled(u, !u.disabled)}
                          data-testid={u.disabled ? 'users-enable' : 'users-disable'}
                        >
                          {t(u.disabled ? 'users.enable' : 'users.disable')}
                        </button>
                      )}
                      {passwordFor === u.username ? (
                        <form class="users-password" onSubmit={(e) => savePassword(e, u.username)}>
                          <label>
                            {t('users.setPassword.label', { name: u.username })}
                            <input
                              type="password"
                              required
                              autocomplete="new-password"
                              aria-describedby="users-password-rule"
                              value={newPassword}
                              onInput={(e) => setNewPassword(e.currentTarget.value)}
                              data-testid="users-password-input"
                            />
                          </label>
                          <button type="submit" disabled={busy} data-testid="users-password-save">
                            {t('users.setPassword.save')}
                          </button>
                          <button type="button" class="secondary" onClick={() => setPasswordFor(null)}>
                            {t('common.cancel')}
                          </button>
                        </form>
                      ) : (
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => {
                            setPasswordFor(u.username);
                            setNewPassword('');
                          }}
                          data-testid="users-set-password"
                        >
                          {t('users.setPassword')}
                        </button>
                      )}
                    </div>
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
