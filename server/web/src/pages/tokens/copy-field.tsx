import { useRef, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';

/**
 * A read-only text with a copy button. navigator.clipboard needs a secure context and permission;
 * when it is missing or refuses, the text is selected so that Ctrl+C copies it.
 */
export function CopyField({ label, value, multiline, testid }: { label: string; value: string; multiline?: boolean; testid: string }) {
  const { t } = useApp();
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [status, setStatus] = useState<'copied' | 'failed' | null>(null);

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API');
      await navigator.clipboard.writeText(value);
      setStatus('copied');
    } catch {
      // The fallback is the selection itself; the message tells the reader what to press.
      field.current?.focus();
      field.current?.select();
      setStatus('failed');
    }
  };

  return (
    <div class="tokens-copy">
      <label>
        {label}
        {multiline ? (
          <textarea ref={field} readOnly rows={4} value={value} class="tokens-secret" data-testid={testid} onFocus={(e) => e.currentTarget.select()} />
        ) : (
          <input ref={field} readOnly value={value} class="tokens-secret" data-testid={testid} onFocus={(e) => e.currentTarget.select()} />
        )}
      </label>
      <button type="button" class="secondary" onClick={() => void copy()} data-testid={`${testid}-copy`}>
        {t('tokens.copy')}
      </button>
      <span role="status" class={status === 'failed' ? 'error' : 'ok'}>
        {status === 'copied' ? t('tokens.copied') : status === 'failed' ? t('tokens.copyFailed') : ''}
      </span>
    </div>
  );
}
