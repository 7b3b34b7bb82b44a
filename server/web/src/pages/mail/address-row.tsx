import { useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime, msg, type Msg } from '../../i18n/i18n.js';
import { ADDRESS_STATES, isAddressState, loginsText, type MailAddress } from './mail-registry.js';

export type RowMode = 'view' | 'edit' | 'confirm-delete';

interface Props {
  readonly a: MailAddress;
  readonly groups: readonly string[];
  readonly canEdit: boolean;
  readonly mode: RowMode;
  readonly busy: boolean;
  readonly onMode: (mode: RowMode) => void;
  readonly onSave: (a: MailAddress, draft: EditDraft) => void;
  readonly onDelete: (a: MailAddress) => void;
}

export interface EditDraft {
  readonly owner: string;
  readonly group: string;
  readonly logins: string;
  /** One of ADDRESS_STATES, or the stored state when a newer server sent another. */
  readonly state: string;
  readonly notes: string;
}

/** The state in words on a coloured badge (the word is the cue; the colour only repeats it). */
export function StateBadge({ state }: { state: string }) {
  const { t } = useApp();
  return (
    <span class={`mail-badge mail-state-${isAddressState(state) ? state : 'unknown'}`} data-testid="mail-state">
      {isAddressState(state) ? t(`mail.state.${state}`) : state}
    </span>
  );
}

/** An address that may break after its @ (a narrow column would otherwise cut it anywhere). */
function AddressText({ address }: { address: string }) {
  const at = address.lastIndexOf('@');
  return (
    <code>
      {address.slice(0, at + 1)}
      <wbr />
      {address.slice(at + 1)}
    </code>
  );
}

/** One registry row: read, edited in place, or asking whether to delete. */
export function AddressRow({ a, groups, canEdit, mode, busy, onMode, onSave, onDelete }: Props) {
  const { t, tm, locale } = useApp();
  const [draft, setDraft] = useState<EditDraft>(() => draftOf(a));
  const set = (patch: Partial<EditDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const label = (field: Msg) => tm(msg('mail.edit.label', { address: a.address, field }));

  if (mode === 'edit') {
    // The stored group may be gone from the list (deleted since); it stays choosable.
    const choices = groups.includes(a.group) ? groups : [a.group, ...groups];
    return (
      <tr class="mail-row mail-row-edit" data-testid="mail-row" data-address={a.address}>
        <td>
          <AddressText address={a.address} />
        </td>
        <td>
          <input aria-label={label(msg('mail.col.owner'))} value={draft.owner} onInput={(e) => set({ owner: e.currentTarget.value })} data-testid="mail-edit-owner" />
          <input
            class="mail-notes-input"
            aria-label={label(msg('mail.add.notes'))}
            placeholder={t('mail.add.notes')}
            value={draft.notes}
            onInput={(e) => set({ notes: e.currentTarget.value })}
            data-testid="mail-edit-notes"
          />
        </td>
        <td>
          <select aria-label={label(msg('mail.col.group'))} value={draft.group} onChange={(e) => set({ group: e.currentTarget.value })} data-testid="mail-edit-group">
            {choices.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </td>
        <td>
          <input aria-label={label(msg('mail.col.logins'))} value={draft.logins} onInput={(e) => set({ logins: e.currentTarget.value })} data-testid="mail-edit-logins" />
        </td>
        <td>
          <select
            aria-label={label(msg('mail.col.state'))}
            value={draft.state}
            onChange={(e) => set({ state: e.currentTarget.value })}
            data-testid="mail-edit-state"
          >
            {!isAddressState(a.state) && <option value={a.state}>{a.state}</option>}
            {ADDRESS_STATES.map((s) => (
              <option key={s} value={s}>
                {t(`mail.state.${s}`)}
              </option>
            ))}
          </select>
        </td>
        <td>{formatTime(locale, a.updatedAt)}</td>
        <td>
          <div class="mail-actions">
            <button type="button" disabled={busy} onClick={() => onSave(a, draft)} data-testid="mail-edit-save">
              {t('mail.edit.save')}
            </button>
            <button type="button" class="secondary" onClick={() => onMode('view')} data-testid="mail-edit-cancel">
              {t('common.cancel')}
            </button>
          </div>
        </td>
      </tr>
    );
  }

  return (
    <tr class="mail-row" data-testid="mail-row" data-address={a.address}>
      <td>
        <AddressText address={a.address} />
      </td>
      <td>
        {a.owner}
        {a.notes !== '' && <span class="mail-muted mail-notes">{a.notes}</span>}
      </td>
      <td>{a.group}</td>
      <td>{a.logins.length > 0 ? loginsText(a.logins) : <span class="mail-muted">{t('mail.logins.any')}</span>}</td>
      <td>
        <StateBadge state={a.state} />
      </td>
      <td>{formatTime(locale, a.updatedAt)}</td>
      {canEdit && (
        <td>
          {mode === 'confirm-delete' ? (
            <div class="mail-confirm" role="group">
              <p>{t('mail.delete.confirm', { address: a.address })}</p>
              <button type="button" class="danger" disabled={busy} onClick={() => onDelete(a)} data-testid="mail-delete-confirm">
                {t('mail.delete.yes')}
              </button>{' '}
              <button type="button" class="secondary" onClick={() => onMode('view')} data-testid="mail-delete-cancel">
                {t('common.cancel')}
              </button>
            </div>
          ) : (
            <div class="mail-actions">
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  setDraft(draftOf(a));
                  onMode('edit');
                }}
                data-testid="mail-edit"
              >
                {t('mail.edit')}
              </button>
              <button type="button" class="secondary" onClick={() => onMode('confirm-delete')} data-testid="mail-delete">
                {t('mail.delete')}
              </button>
            </div>
          )}
        </td>
      )}
    </tr>
  );
}

function draftOf(a: MailAddress): EditDraft {
  return { owner: a.owner, group: a.group, logins: loginsText(a.logins), state: a.state, notes: a.notes };
}
