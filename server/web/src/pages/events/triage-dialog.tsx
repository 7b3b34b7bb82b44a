import { useEffect, useRef, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { ApiError } from '../../api.js';
import { STATUSES, type TriageStatus } from './event-query.js';

export interface TriageRequest {
  readonly ids: readonly number[];
  readonly status: TriageStatus;
}

interface Props {
  readonly request: TriageRequest;
  readonly onDone: (ids: readonly number[], status: TriageStatus, comment: string | null) => void;
  readonly onCancel: () => void;
}

/** Acknowledge / resolve / mark false positive one event (PATCH) or many (POST /events/triage). */
export function TriageDialog({ request, onDone, onCancel }: Props) {
  const { api, t, tn } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [status, setStatus] = useState<TriageStatus>(request.status);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const text = comment.trim() === '' ? undefined : comment.trim();
    try {
      if (request.ids.length === 1) await api.patch(`/events/${request.ids[0]}`, { status, ...(text ? { comment: text } : {}) });
      else await api.post('/events/triage', { ids: request.ids, status, ...(text ? { comment: text } : {}) });
      onDone(request.ids, status, text ?? null);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={ref}
      class="events-triage"
      aria-labelledby="events-triage-title"
      data-testid="events-triage-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="events-triage-title">{tn('events.triage.title', request.ids.length)}</h2>
        <fieldset>
          <legend>{t('events.col.status')}</legend>
          {STATUSES.filter((s) => s !== 'new').map((s) => (
            <label key={s} class="events-radio">
              <input type="radio" name="events-triage-status" value={s} checked={status === s} data-testid={`events-triage-${s}`} onChange={() => setStatus(s)} />
              {t(`events.status.${s}`)}
            </label>
          ))}
          <label class="events-radio">
            <input type="radio" name="events-triage-status" value="new" checked={status === 'new'} data-testid="events-triage-new" onChange={() => setStatus('new')} />
            {t('events.triage.reopen')}
          </label>
        </fieldset>
        <label>
          {t('events.triage.comment')}
          <textarea data-testid="events-triage-comment" rows={3} maxLength={2000} value={comment} autoFocus onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        {error && (
          <p role="alert" class="error">
            {t('common.error', { message: error })}
          </p>
        )}
        <div class="toolbar">
          <button type="submit" disabled={busy} data-testid="events-triage-submit">
            {t('events.triage.submit')}
          </button>
          <button type="button" class="secondary" onClick={onCancel} data-testid="events-triage-cancel">
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
