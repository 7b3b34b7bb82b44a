import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import type { Msg } from '../../i18n/i18n.js';
import { ADDRESS_STATES, newAddressBody, type AddressDraft, type AddressState } from './mail-registry.js';

const EMPTY: AddressDraft = { address: '', owner: '', group: '', logins: '', state: 'active', notes: '' };

interface Props {
  readonly groups: readonly string[];
  readonly busy: boolean;
  /** Sends the body; resolves true when the address was stored (the form then empties). */
  readonly onAdd: (body: Record<string, unknown>, address: string) => Promise<boolean>;
  readonly onProblem: (problem: Msg) => void;
}

/** The admin's form for one new registry address. */
export function AddressAddForm({ groups, busy, onAdd, onProblem }: Props) {
  const { t } = useApp();
  const [draft, setDraft] = useState<AddressDraft>(EMPTY);
  const set = (patch: Partial<AddressDraft>) => setDraft((d) => ({ ...d, ...patch }));

  // The group list arrives after the form: start on its first group.
  useEffect(() => {
    if (draft.group === '' && groups[0] !== undefined) set({ group: groups[0] });
  }, [groups]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const { body, problem } = newAddressBody(draft);
    if (body === null) {
      onProblem(problem);
      return;
    }
    if (await onAdd(body, String(body.address))) setDraft({ ...EMPTY, group: draft.group });
  };

  return (
    <form class="toolbar mail-add" onSubmit={(e) => void submit(e)} noValidate data-testid="mail-add-form">
      <h3>{t('mail.add.heading')}</h3>
      <label>
        {t('mail.add.address')}
        <input type="email" required autocomplete="off" value={draft.address} onInput={(e) => set({ address: e.currentTarget.value })} data-testid="mail-new-address" />
      </label>
      <label>
        {t('mail.add.owner')}
        <input required autocomplete="off" value={draft.owner} onInput={(e) => set({ owner: e.currentTarget.value })} data-testid="mail-new-owner" />
      </label>
      <label>
        {t('mail.add.group')}
        <select value={draft.group} onChange={(e) => set({ group: e.currentTarget.value })} required data-testid="mail-new-group">
          {groups.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('mail.add.logins')}
        <input
          autocomplete="off"
          aria-describedby="mail-logins-hint"
          value={draft.logins}
          onInput={(e) => set({ logins: e.currentTarget.value })}
          data-testid="mail-new-logins"
        />
      </label>
      <label>
        {t('mail.add.state')}
        <select value={draft.state} onChange={(e) => set({ state: e.currentTarget.value as AddressState })} data-testid="mail-new-state">
          {ADDRESS_STATES.map((s) => (
            <option key={s} value={s}>
              {t(`mail.state.${s}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('mail.add.notes')}
        <input autocomplete="off" value={draft.notes} onInput={(e) => set({ notes: e.currentTarget.value })} data-testid="mail-new-notes" />
      </label>
      <button type="submit" disabled={busy || draft.group === ''} data-testid="mail-add">
        {t('mail.add.submit')}
      </button>
      <p id="mail-logins-hint" class="mail-hint">
        {t('mail.add.loginsHint')}
      </p>
    </form>
  );
}
