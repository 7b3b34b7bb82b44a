import type { SignedPolicy } from '@portcullis/shared';
import { useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { useApp } from '../../app-context.js';
import { formatTime, msg, type Msg } from '../../i18n/i18n.js';
import { fieldLabel, fieldValue } from './field-text.js';
import { diffLines, diffStats, foldUnchanged } from './line-diff.js';
import { COMMENT_MAX, fieldChanges, formOf, policyBody, type PolicyForm } from './policy-form.js';

/** One row of GET …/policy/versions. */
export interface VersionInfo {
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly comment: string;
}

interface Side {
  readonly label: Msg;
  readonly form: PolicyForm;
}

/** The history table: pick one or two versions to diff; roll back to one with a comment. */
export function VersionHistory(props: {
  group: string;
  versions: readonly VersionInfo[];
  editor: PolicyForm;
  canEdit: boolean;
  onRolledBack: (from: number, version: number) => void;
}) {
  const { t, api, locale } = useApp();
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<{ left: Side; right: Side } | null>(null);
  /** comment: null until edited, so the suggested one is shown in the current language. */
  const [rollback, setRollback] = useState<{ version: number; comment: string | null } | null>(null);
  const rollbackComment = rollback === null ? '' : (rollback.comment ?? t('policies.history.rollbackDefault', { version: rollback.version }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = props.versions[0]?.version;

  const load = async (version: number): Promise<PolicyForm> => {
    const signed = await api.get<SignedPolicy>(`/groups/${encodeURIComponent(props.group)}/policy?version=${version}`);
    return formOf(signed.document);
  };
  const label = (version: number) => msg('policies.diff.versionLabel', { version });

  const toggle = (version: number, on: boolean) => {
    // The two most recent picks count: a third pick replaces the oldest.
    setPicked((p) => (on ? [...p.filter((v) => v !== version), version].slice(-2) : p.filter((v) => v !== version)));
  };

  const compare = async () => {
    setError(null);
    setBusy(true);
    try {
      const [a, b] = [...picked].sort((x, y) => x - y);
      if (a === undefined) return;
      const left = { label: label(a), form: await load(a) };
      const right = b === undefined ? { label: msg('policies.diff.editor'), form: props.editor } : { label: label(b), form: await load(b) };
      setDiff({ left, right });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const confirmRollback = async () => {
    if (rollback === null) return;
    setError(null);
    setBusy(true);
    try {
      const old = await load(rollback.version);
      // Rules and settings go back; temporary grants stay as they are now, so a grant revoked
      // since that version (a device found hostile) does not come back with it.
      const current = await api.get<SignedPolicy>(`/groups/${encodeURIComponent(props.group)}/policy`);
      const body = policyBody({ ...old, exceptions: current.document.exceptions }, rollbackComment);
      const saved = await api.put<SignedPolicy>(`/groups/${encodeURIComponent(props.group)}/policy`, body);
      const from = rollback.version;
      setRollback(null);
      props.onRolledBack(from, saved.document.version);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="policy-panel" aria-labelledby="policy-history-title" data-testid="policy-history">
      <h2 id="policy-history-title">{t('policies.history.title')}</h2>
      {props.versions.length === 0 ? (
        <p>{t('policies.history.none')}</p>
      ) : (
        <>
          <p class="policy-muted">{t('policies.history.compareHelp')}</p>
          <table class="policy-table">
            <thead>
              <tr>
                <th scope="col">{t('policies.history.version')}</th>
                <th scope="col">{t('policies.history.when')}</th>
                <th scope="col">{t('policies.history.who')}</th>
                <th scope="col">{t('policies.history.comment')}</th>
                <th scope="col">{t('policies.history.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {props.versions.map((v) => (
                <tr key={v.version} data-testid="policy-version-row" aria-selected={picked.includes(v.version) ? 'true' : 'false'}>
                  <td>
                    <label class="policy-radio">
                      <input
                        type="checkbox"
                        checked={picked.includes(v.version)}
                        onChange={(e) => toggle(v.version, (e.currentTarget as HTMLInputElement).checked)}
                        aria-label={t('policies.history.pick', { version: v.version })}
                        data-testid="policy-version-pick"
                      />
                      {v.version} {v.version === current ? t('policies.history.current') : ''}
                    </label>
                  </td>
                  <td>{formatTime(locale, v.createdAt)}</td>
                  <td>{v.createdBy}</td>
                  <td class="policy-comment">{v.comment}</td>
                  <td>
                    {props.canEdit && v.version !== current ? (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => setRollback({ version: v.version, comment: null })}
                        data-testid="policy-rollback"
                      >
                        {t('policies.history.rollback')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="toolbar policy-history-toolbar">
            <button type="button" class="secondary" disabled={picked.length === 0 || busy} onClick={() => void compare()} data-testid="policy-compare">
              {t('policies.history.compare')}
            </button>
          </div>
        </>
      )}
      {rollback !== null ? (
        <form
          class="policy-confirm"
          role="group"
          aria-labelledby="policy-rollback-title"
          onSubmit={(e) => {
            e.preventDefault();
            void confirmRollback();
          }}
          data-testid="policy-rollback-confirm"
        >
          <h3 id="policy-rollback-title">{t('policies.history.rollbackTitle', { version: rollback.version })}</h3>
          <p>{t('policies.history.rollbackExplain', { version: rollback.version })}</p>
          <label>
            {t('policies.history.rollbackComment')}
            <input
              type="text"
              value={rollbackComment}
              maxLength={COMMENT_MAX}
              onInput={(e) => setRollback({ ...rollback, comment: (e.currentTarget as HTMLInputElement).value })}
              data-testid="policy-rollback-comment"
            />
          </label>
          <div class="toolbar">
            <button type="submit" class="danger" disabled={busy || rollbackComment.trim().length === 0} data-testid="policy-rollback-yes">
              {t('policies.history.rollbackConfirm')}
            </button>
            <button type="button" class="secondary" onClick={() => setRollback(null)} data-testid="policy-rollback-cancel">
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : null}
      {error !== null ? (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      ) : null}
      {diff !== null ? <DiffView left={diff.left} right={diff.right} onClose={() => setDiff(null)} /> : null}
    </section>
  );
}

function DiffView({ left, right, onClose }: { left: Side; right: Side; onClose: () => void }) {
  const { t, tn, tm } = useApp();
  const lines = diffLines(left.form.rules, right.form.rules);
  const stats = diffStats(lines);
  const fields = fieldChanges(left.form, right.form);
  return (
    <div class="policy-diff" data-testid="policy-diff">
      <div class="toolbar">
        <h3>{t('policies.diff.title', { left: left.label, right: right.label })}</h3>
        <button type="button" class="secondary" onClick={onClose} data-testid="policy-diff-close">
          {t('policies.diff.close')}
        </button>
      </div>
      <p data-testid="policy-diff-stats">{t('policies.diff.stats', stats)}</p>
      {stats.added + stats.removed === 0 ? (
        <p>{t('policies.diff.same')}</p>
      ) : (
        <table class="policy-diff-table">
          <caption class="visually-hidden">{t('policies.diff.rulesCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('policies.diff.lineOld')}</th>
              <th scope="col">{t('policies.diff.lineNew')}</th>
              <th scope="col">{t('policies.diff.text')}</th>
            </tr>
          </thead>
          <tbody>
            {foldUnchanged(lines).map((d, i) =>
              d.kind === 'skip' ? (
                <tr key={i} class="diff-skip">
                  <td colSpan={3} class="policy-muted">
                    {tn('policies.diff.skipped', d.count)}
                  </td>
                </tr>
              ) : (
              <tr key={i} class={`diff-${d.kind}`} data-testid={`policy-diff-${d.kind}`}>
                <td class="diff-num">{d.oldLine ?? ''}</td>
                <td class="diff-num">{d.newLine ?? ''}</td>
                <td>
                  <code>
                    {d.kind === 'add' ? '+ ' : d.kind === 'del' ? '− ' : '  '}
                    {d.text}
                  </code>
                </td>
              </tr>
              ),
            )}
          </tbody>
        </table>
      )}
      <h4>{t('policies.diff.fields')}</h4>
      {fields.length === 0 ? (
        <p>{t('policies.diff.noFields')}</p>
      ) : (
        <table class="policy-table">
          <thead>
            <tr>
              <th scope="col">{t('policies.diff.field')}</th>
              <th scope="col">{tm(left.label)}</th>
              <th scope="col">{tm(right.label)}</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => (
              <tr key={f.field} data-testid="policy-diff-field">
                <td>{tm(fieldLabel(f.field))}</td>
                <td>{tm(fieldValue(f.field, f.before))}</td>
                <td>{tm(fieldValue(f.field, f.after))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
