import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useApp } from '../app-context.js';
import { msg, type Msg } from '../i18n/i18n.js';

export function PasswordPage() {
  const { api, t, tm } = useApp();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: Msg } | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== repeat) {
      setMessage({ ok: false, text: msg('password.mismatch') });
      return;
    }
    try {
      await api.put('/me/password', { current, password: next });
      setCurrent('');
      setNext('');
      setRepeat('');
      setMessage({ ok: true, text: msg('password.saved') });
    } catch (err) {
      setMessage({ ok: false, text: msg('common.error', { message: err instanceof ApiError || err instanceof Error ? err.message : String(err) }) });
    }
  };

  return (
    <section>
      <h1>{t('password.title')}</h1>
      <form class="narrow" onSubmit={(e) => void submit(e)}>
        <label>
          {t('password.current')}
          <input type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        </label>
        <label>
          {t('password.new')}
          <input type="password" autocomplete="new-password" required value={next} onInput={(e) => setNext(e.currentTarget.value)} />
        </label>
        <label>
          {t('password.repeat')}
          <input type="password" autocomplete="new-password" required value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
        </label>
        {message !== null && (
          <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'ok' : 'error'}>
            {tm(message.text)}
          </p>
        )}
        <button type="submit">{t('password.submit')}</button>
      </form>
    </section>
  );
}
