import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { KNOWN_TYPES, RANGES, SEVERITIES, STATUSES, fromLocalInput, isEmptyFilter, toLocalInput, type EventFilter, type RangeKey } from './event-query.js';

export interface AgentOption {
  readonly id: string;
  readonly hostname: string;
}

interface Props {
  readonly filter: EventFilter;
  readonly agents: readonly AgentOption[];
  readonly groups: readonly string[];
  readonly searchRef: RefObject<HTMLInputElement>;
  readonly onApply: (next: EventFilter) => void;
}

/** The filter form. Choices apply at once; typed text applies on Enter or "Apply". */
export function EventFilters({ filter, agents, groups, searchRef, onApply }: Props) {
  const { t } = useApp();
  const [draft, setDraft] = useState<EventFilter>(filter);
  useEffect(() => setDraft(filter), [filter]);

  const set = (patch: Partial<EventFilter>) => setDraft((d) => ({ ...d, ...patch }));
  const applyNow = (patch: Partial<EventFilter>) => onApply({ ...draft, ...patch });
  const value = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value || undefined;

  return (
    <form
      class="events-filters"
      aria-label={t('events.filter.title')}
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft);
      }}
    >
      <div class="toolbar events-ranges" role="group" aria-label={t('events.filter.range')}>
        {(Object.keys(RANGES) as RangeKey[]).map((r) => (
          <button
            type="button"
            key={r}
            class={draft.range === r ? '' : 'secondary'}
            aria-pressed={draft.range === r}
            data-testid={`events-range-${r}`}
            onClick={() => applyNow({ range: draft.range === r ? undefined : r, from: undefined, to: undefined })}
          >
            {t(`events.range.${r}`)}
          </button>
        ))}
        <label>
          {t('events.filter.from')}
          <input type="datetime-local" data-testid="events-filter-from" value={draft.range ? '' : toLocalInput(draft.from)} onChange={(e) => set({ range: undefined, from: fromLocalInput((e.currentTarget as HTMLInputElement).value) })} />
        </label>
        <label>
          {t('events.filter.to')}
          <input type="datetime-local" data-testid="events-filter-to" value={draft.range ? '' : toLocalInput(draft.to)} onChange={(e) => set({ range: undefined, to: fromLocalInput((e.currentTarget as HTMLInputElement).value) })} />
        </label>
      </div>
      <div class="toolbar">
        <label>
          {t('events.filter.severity')}
          <select data-testid="events-filter-severity" value={draft.severity ?? ''} onChange={(e) => applyNow({ severity: value(e) as EventFilter['severity'] })}>
            <option value="">{t('events.filter.any')}</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {t(`events.severity.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('events.filter.status')}
          <select data-testid="events-filter-status" value={draft.status ?? ''} onChange={(e) => applyNow({ status: value(e) as EventFilter['status'] })}>
            <option value="">{t('events.filter.any')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`events.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('events.filter.type')}
          <input data-testid="events-filter-type" list="events-types" size={16} value={draft.type ?? ''} pattern="[a-z0-9.\-]{1,64}" onInput={(e) => set({ type: value(e) })} />
          <datalist id="events-types">
            {KNOWN_TYPES.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          {t('events.filter.group')}
          <select data-testid="events-filter-group" value={draft.group ?? ''} onChange={(e) => applyNow({ group: value(e) })}>
            <option value="">{t('events.filter.any')}</option>
            {[...new Set([...groups, ...(draft.group ? [draft.group] : [])])].map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('events.filter.pc')}
          <select data-testid="events-filter-agent" value={draft.agent ?? ''} onChange={(e) => applyNow({ agent: value(e) })}>
            <option value="">{t('events.filter.any')}</option>
            {draft.agent !== undefined && !agents.some((a) => a.id === draft.agent) && <option value={draft.agent}>{draft.agent}</option>}
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.hostname}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('events.filter.device')}
          <input data-testid="events-filter-device" size={16} maxLength={200} placeholder="0781:5567" value={draft.device ?? ''} onInput={(e) => set({ device: value(e) })} />
        </label>
        <label>
          {t('events.filter.search')}
          <input ref={searchRef} type="search" data-testid="events-search" size={20} maxLength={200} value={draft.q ?? ''} onInput={(e) => set({ q: value(e) })} />
        </label>
        <button type="submit" data-testid="events-apply">
          {t('events.filter.apply')}
        </button>
        <button type="button" class="secondary" data-testid="events-clear" disabled={isEmptyFilter(filter) && isEmptyFilter(draft)} onClick={() => onApply({})}>
          {t('events.filter.clear')}
        </button>
      </div>
    </form>
  );
}
