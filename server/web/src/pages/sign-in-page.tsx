import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useApp, type SessionUser } from '../app-context.js';
import { LOCALES, msg, msgN, type Msg } from '../i18n/i18n.js';

export function SignInPage() {
  const { api, t, tm, setUser, locale, setLocale } = useApp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Kept as a message, not as text: switching the language below re-words it.
  const [error, setError] = useState<Msg | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.post<SessionUser>('/session', { username, password });
      setPassword('');
      setUser({ username: session.username, role: session.role });
      if (location.hash === '' || location.hash === '#/') location.hash = '#/overview';
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const seconds = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 900;
        const minutes = Math.ceil(seconds / 60);
        setError(msgN('signIn.locked', minutes, { minutes }));
      } else if (err instanceof ApiError && err.status === 401) {
        setError(msg('signIn.failed'));
      } else {
        setError(msg('common.error', { message: err instanceof Error ? err.message : String(err) }));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          {t('app.name')} — {t('signIn.title')}
        </h1>
        <label>
          {t('signIn.username')}
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          {t('signIn.password')}
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error !== null && (
          <p role="alert" class="error" data-testid="sign-in-error">
            {tm(error)}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {t('signIn.submit')}
        </button>
        <label class="lang">
          {t('lang.switch')}
          <select value={locale} onChange={(e) => setLocale(e.currentTarget.value as typeof locale)}>
            {LOCALES.map((l) => (
              <option value={l} key={l}>
                {t(`lang.${l}`)}
              </option>
            ))}
          </select>
        </label>
      </form>
    </main>
  );
}
