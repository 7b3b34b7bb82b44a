import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime, msg, msgN, type Msg } from '../../i18n/i18n.js';
import type { Route } from '../../router.js';
import { CopyField } from './copy-field.js';
import { EXPIRY_PRESETS, MAX_TOKEN_DAYS, expiresInUntil, installLines, tokenState, type ExpiryPreset, type ServerInfo } from './token-logic.js';

interface TokenView {
  readonly id: string;
  readonly group: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly uses: number;
}

interface Created {
  readonly id: string;
  readonly token: string;
  readonly group: string;
  readonly expiresAt: string;
}

type Expiry = ExpiryPreset | 'date';

export function TokensPage(_props: { route: Route }) {
  const { api, t, tm, locale } = useApp();
  const [tokens, setTokens] = useState<TokenView[] | null>(null);
  const [groups, setGroups] = useState<string[]>([]);
  const [info, setInfo] = useState<ServerInfo>({ url: null, caFingerprint256: null, agentVersion: null });
  const [group, setGroup] = useState('');
  const [expiry, setExpiry] = useState<Expiry>('1d');
  const [until, setUntil] = useState('');
  const [created, setCreated] = useState<Created | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: Msg } | null>(null);

  const fail = (err: unknown) => setMessage({ ok: false, text: msg('common.error', { message: err instanceof Error ? err.message : String(err) }) });

  const load = async () => {
    try {
      const answer = await api.get<{ tokens: TokenView[] }>('/enrollment-tokens');
      setTokens([...answer.tokens].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
    } catch (err) {
      fail(err);
    }
  };

  useEffect(() => {
    void load();
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((answer) => {
        const names = answer.groups.map((g) => g.name);
        setGroups(names);
        setGroup((current) => current || (names[0] ?? ''));
      })
      .catch(fail);
    api.get<ServerInfo>('/server-info').then(setInfo).catch(fail);
  }, [api]);

  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    let expiresIn: string | null = expiry;
    if (expiry === 'date') {
      expiresIn = expiresInUntil(new Date(until), new Date());
      if (expiresIn === null) {
        setMessage({ ok: false, text: msgN('tokens.create.badDate', MAX_TOKEN_DAYS) });
        return;
      }
    }
    setBusy(true);
    try {
      setCreated(await api.post<Created>('/enrollment-tokens', { group, expiresIn }));
      await load();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setBusy(true);
    try {
      await api.delete(`/enrollment-tokens/${encodeURIComponent(id)}`);
      setConfirming(null);
      setMessage({ ok: true, text: msg('tokens.revoked', { id }) });
      await load();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const lines = created && installLines(created.token, info, location.origin);
  const now = new Date();

  return (
    <section class="tokens-page">
      <h1>{t('tokens.title')}</h1>
      <p>{t('tokens.intro')}</p>

      <form class="toolbar" onSubmit={(e) => void create(e)} data-testid="tokens-create-form">
        <h2 class="visually-hidden">{t('tokens.create.heading')}</h2>
        <label>
          {t('tokens.create.group')}
          <select value={group} onChange={(e) => setGroup(e.currentTarget.value)} required data-testid="tokens-group">
            {groups.map((g) => (
              <option value={g} key={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('tokens.create.expiry')}
          <select value={expiry} onChange={(e) => setExpiry(e.currentTarget.value as Expiry)} data-testid="tokens-expiry">
            {EXPIRY_PRESETS.map((p) => (
              <option value={p} key={p}>
                {t(`tokens.create.expiry.${p}`)}
              </option>
            ))}
            <option value="date">{t('tokens.create.expiry.date')}</option>
          </select>
        </label>
        {expiry === 'date' && (
          <label>
            {t('tokens.create.until')}
            <input type="datetime-local" required value={until} onInput={(e) => setUntil(e.currentTarget.value)} data-testid="tokens-until" />
          </label>
        )}
        <button type="submit" disabled={busy || group === ''} data-testid="tokens-create">
          {t('tokens.create.submit')}
        </button>
      </form>
      {groups.length === 0 && tokens !== null && <p class="notice">{t('tokens.create.noGroups')}</p>}

      {message !== null && (
        <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'ok' : 'error'} data-testid="tokens-message">
          {tm(message.text)}
        </p>
      )}

      {created !== null && lines !== null && (
        <div class="tokens-created" role="region" aria-labelledby="tokens-created-heading" data-testid="tokens-created">
          <h2 id="tokens-created-heading">{t('tokens.created.heading')}</h2>
          <p class="notice">{t('tokens.created.once')}</p>
          <CopyField label={t('tokens.created.token')} value={created.token} testid="tokens-secret" />
          {lines.deb && (
            <>
              <CopyField label={t('tokens.created.commandDeb')} value={lines.deb.command} multiline testid="tokens-command-deb" />
              <p class="tokens-muted">{t('tokens.created.commandDebHint', { file: lines.deb.file })}</p>
            </>
          )}
          <CopyField label={t('tokens.created.command')} value={lines.enroll} multiline testid="tokens-command" />
          {info.caFingerprint256 === null && <p class="error">{t('tokens.created.noFingerprint')}</p>}
          {info.url === null && <p>{t('tokens.created.urlGuessed')}</p>}
          <button type="button" class="secondary" onClick={() => setCreated(null)} data-testid="tokens-created-hide">
            {t('tokens.created.hide')}
          </button>
        </div>
      )}

      <h2>{t('tokens.list.heading')}</h2>
      {tokens === null ? (
        <p role="status">{t('common.loading')}</p>
      ) : tokens.length === 0 ? (
        <p>{t('tokens.list.empty')}</p>
      ) : (
        <table data-testid="tokens-table">
          <thead>
            <tr>
              <th scope="col">{t('tokens.col.id')}</th>
              <th scope="col">{t('tokens.col.group')}</th>
              <th scope="col">{t('tokens.col.created')}</th>
              <th scope="col">{t('tokens.col.expires')}</th>
              <th scope="col">{t('tokens.col.uses')}</th>
              <th scope="col">{t('tokens.col.state')}</th>
              <th scope="col">{t('tokens.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((tok) => {
              const state = tokenState(tok, now);
              return (
                <tr key={tok.id} data-testid="tokens-row" data-token-id={tok.id}>
                  <td>
                    <code>{tok.id}</code>
                  </td>
                  <td>{tok.group}</td>
                  <td>
                    {formatTime(locale, tok.createdAt)}
                    <br />
                    <span class="tokens-muted">{t('tokens.createdBy', { by: tok.createdBy })}</span>
                  </td>
                  <td>{formatTime(locale, tok.expiresAt)}</td>
                  <td>{tok.uses}</td>
                  <td class={`tokens-state-${state}`}>
                    {state === 'revoked' ? t('tokens.state.revoked', { at: formatTime(locale, tok.revokedAt ?? '') }) : t(`tokens.state.${state}`)}
                  </td>
                  <td>
                    {state !== 'revoked' &&
                      (confirming === tok.id ? (
                        <div class="tokens-confirm" role="group">
                          <p>{t('tokens.revoke.confirm', { id: tok.id })}</p>
                          <button type="button" class="danger" disabled={busy} onClick={() => void revoke(tok.id)} data-testid="tokens-revoke-confirm">
                            {t('tokens.revoke.yes')}
                          </button>{' '}
                          <button type="button" class="secondary" onClick={() => setConfirming(null)} data-testid="tokens-revoke-cancel">
                            {t('common.cancel')}
                          </button>
                        </div>
                      ) : (
                        <button type="button" class="secondary" onClick={() => setConfirming(tok.id)} data-testid="tokens-revoke">
                          {t('tokens.revoke')}
                        </button>
                      ))}
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
