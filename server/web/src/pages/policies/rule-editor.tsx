import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { checkRules, offsetOf, type RuleProblem } from './rule-check.js';
import { tokenizeRuleLine } from './rule-highlight.js';

/** How long typing must pause before the rules are parsed again. */
const CHECK_DELAY_MS = 150;

/**
 * The rule editor: a plain textarea (so typing, pasting, undo and screen readers work as usual)
 * over a highlighted copy of its text, with line numbers and error markers beside it. The two
 * layers share font, padding and scroll position; the textarea's own text is transparent.
 */
export function RuleEditor(props: {
  value: string;
  onInput: (text: string) => void;
  readOnly: boolean;
  /** Called after each check with the problems found and the text they were found in. */
  onProblems: (problems: RuleProblem[], text: string) => void;
}) {
  const { t } = useApp();
  const [problems, setProblems] = useState<RuleProblem[]>(() => checkRules(props.value));
  const area = useRef<HTMLTextAreaElement>(null);
  const layer = useRef<HTMLPreElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const timer = setTimeout(() => {
      const found = checkRules(props.value);
      setProblems(found);
      props.onProblems(found, props.value);
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [props.value]);

  const lines = useMemo(() => props.value.split('\n'), [props.value]);
  const badLines = useMemo(() => new Map(problems.map((p) => [p.line, p])), [problems]);

  const syncScroll = () => {
    const a = area.current;
    if (!a) return;
    if (layer.current) {
      layer.current.scrollTop = a.scrollTop;
      layer.current.scrollLeft = a.scrollLeft;
    }
    if (gutter.current) gutter.current.scrollTop = a.scrollTop;
  };
  useEffect(syncScroll, [props.value]);

  const goTo = (p: RuleProblem) => {
    const a = area.current;
    if (!a) return;
    const at = offsetOf(props.value, p.line, p.column);
    a.focus();
    a.setSelectionRange(at, Math.min(at + 1, props.value.length));
  };

  return (
    <div class="policy-editor-block">
      <label for="policy-rules" class="policy-editor-label">
        {t('policies.editor.label')}
      </label>
      <p id="policy-rules-help" class="policy-muted">
        {t('policies.editor.help')}
      </p>
      <div class={`policy-editor${problems.length > 0 ? ' policy-editor-invalid' : ''}`}>
        <div class="policy-gutter" ref={gutter} aria-hidden="true">
          {lines.map((_, i) => {
            const bad = badLines.get(i + 1);
            return (
              <div key={i} class={bad ? 'policy-gutter-line policy-gutter-bad' : 'policy-gutter-line'} title={bad ? t('policies.editor.errorMarker') : undefined} data-testid={bad ? 'policy-error-marker' : undefined}>
                {bad ? '● ' : ''}
                {i + 1}
              </div>
            );
          })}
        </div>
        <div class="policy-editor-stack">
          <pre class="policy-highlight" ref={layer} aria-hidden="true">
            {lines.map((line, i) => (
              <div key={i} class={badLines.has(i + 1) ? 'policy-hl-line policy-hl-bad' : 'policy-hl-line'}>
                {tokenizeRuleLine(line).map((tok, j) => (
                  <span key={j} class={tok.target ? `tok-${tok.kind} tok-target-${tok.target}` : `tok-${tok.kind}`}>
                    {tok.text}
                  </span>
                ))}
                {'\n'}
              </div>
            ))}
          </pre>
          <textarea
            id="policy-rules"
            ref={area}
            class="policy-textarea"
            value={props.value}
            readOnly={props.readOnly}
            spellcheck={false}
            wrap="off"
            autocomplete="off"
            aria-invalid={problems.length > 0 ? 'true' : 'false'}
            aria-describedby="policy-rules-help policy-rules-status"
            onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
            onScroll={syncScroll}
            data-testid="policy-rules"
          />
        </div>
      </div>
      <div id="policy-rules-status" role="status" aria-live="polite" data-testid="policy-rules-status">
        {problems.length === 0 ? (
          <p class="ok">{t('policies.editor.ok')}</p>
        ) : (
          <div class="error">
            <p>{t('policies.editor.errors', { count: problems.length })}</p>
            <ul class="policy-errors" data-testid="policy-errors">
              {problems.map((p) => (
                <li key={`${p.line}:${p.column}`}>
                  <button type="button" class="link" onClick={() => goTo(p)} data-testid="policy-error">
                    {t('policies.editor.errorAt', { line: p.line, column: p.column, message: p.message })}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}
