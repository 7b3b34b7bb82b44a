import { useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { can, useApp } from '../../app-context.js';
import { msg } from '../../i18n/i18n.js';
import { importDone, importRefused, type ImportCounts, type ImportOutcome } from './mail-registry.js';

/**
 * Export (security and up: a download of the whole registry) and import (admin: one CSV file,
 * stored whole or not at all). `onImported` reloads the table after a stored import.
 */
export function CsvTools({ onImported }: { onImported: () => void }) {
  const { api, t, tm, user } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const canImport = can(user, 'admin');
  if (!can(user, 'security')) return null;

  const upload = async (e: Event) => {
    e.preventDefault();
    if (file === null) {
      setOutcome({ ok: false, summary: msg('mail.csv.pick'), lines: [] });
      return;
    }
    setBusy(true);
    setOutcome(null);
    try {
      const counts = await api.postText<ImportCounts>('/mail/addresses/import', await file.text(), 'text/csv');
      setOutcome(importDone(counts));
      onImported();
    } catch (err) {
      setOutcome(err instanceof ApiError ? importRefused(err.message, err.details) : importRefused(String(err), undefined));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="mail-csv">
      <div class="toolbar">
        <a href={api.href('/mail/addresses/export')} download="mail-addresses.csv" data-testid="mail-export">
          {t('mail.csv.export')}
        </a>
        {canImport && (
          <form class="mail-import" onSubmit={(e) => void upload(e)} data-testid="mail-import-form">
            <label>
              {t('mail.csv.file')}
              <input
                type="file"
                accept=".csv,text/csv"
                aria-describedby="mail-csv-hint"
                onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
                data-testid="mail-import-file"
              />
            </label>
            <button type="submit" class="secondary" disabled={busy} data-testid="mail-import">
              {t('mail.csv.import')}
            </button>
          </form>
        )}
      </div>
      {canImport && (
        <p id="mail-csv-hint" class="mail-hint">
          {t('mail.csv.hint')}
        </p>
      )}
      {outcome !== null && (
        <div role={outcome.ok ? 'status' : 'alert'} class={outcome.ok ? 'ok' : 'error'} data-testid="mail-import-result">
          <p data-testid="mail-import-summary">{tm(outcome.summary)}</p>
          {outcome.lines.length > 0 && (
            <ul class="mail-import-errors">
              {outcome.lines.map((line, i) => (
                <li key={i} data-testid="mail-import-error">
                  {tm(line)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
