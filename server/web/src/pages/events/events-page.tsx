import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can, useApp } from '../../app-context.js';
import { formatTime, msg, msgN, type Msg } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { EventDetail } from './event-detail.js';
import { EventFilters, type AgentOption } from './event-filters.js';
import { KEY_HELP, keyAction, moveSelection, type KeyAction } from './event-keys.js';
import { severityText, statusText, targetWord, typeText } from './event-labels.js';
import { mailSummary } from './event-text.js';
import { apiParams, appendOlder, filterFromQuery, filterToQuery, matchesText, mergeNewer, withQuery, type EventFilter } from './event-query.js';
import { decisionOf, deviceLabel, type EventRecord } from './event-view.js';
import { TriageDialog, type TriageRequest } from './triage-dialog.js';

/** One page of rows: the first load reads this many and never counts the log. */
const PAGE_SIZE = 100;
/** Under a second between polls, so a new event shows within about a second. */
const TAIL_MS = 750;

interface Page {
  readonly events: EventRecord[];
  readonly nextCursor: string | null;
}
interface Tail {
  readonly events: EventRecord[];
  readonly cursor: number;
  readonly gap: boolean;
}

export function EventsPage({ route }: { route: Route }) {
  const { api, t, tn, tm, locale, user } = useApp();
  const queryKey = route.query.toString();
  const filter = useMemo(() => filterFromQuery(route.query), [queryKey]);
  const canTriage = can(user, 'security');

  const [events, setEvents] = useState<EventRecord[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [gap, setGap] = useState(false);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [checked, setChecked] = useState<ReadonlySet<number>>(new Set());
  const [triage, setTriage] = useState<TriageRequest | null>(null);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<Msg | null>(null);
  const [agents, setAgents] = useState<AgentOption[]>([]);
  const [groups, setGroups] = useState<string[]>([]);
  const [reloads, setReloads] = useState(0);

  const searchRef = useRef<HTMLInputElement>(null);
  const tableRef = useRef<HTMLTableElement>(null);
  /** The API query fixed at load time (a quick range's start does not creep between polls). */
  const queryRef = useRef(apiParams(filter, Date.now()));
  const tailCursor = useRef<number | null>(null);
  /** Bumped on every load: answers for an older filter are dropped. */
  const generation = useRef(0);
  const focusSelected = useRef(false);
  const pendingG = useRef(false);
  const triageOpen = useRef(false);

  // The filter lists wait until the first rows are on screen: the rows are what the reviewer
  // opened the page for, and on a big fleet /agents takes longer than the rows do.
  const [firstShown, setFirstShown] = useState(false);
  useEffect(() => {
    if (!firstShown) return;
    api
      .get<{ agents: Array<{ id: string; hostname: string }> }>('/agents')
      .then((r) => setAgents(r.agents.map((a) => ({ id: a.id, hostname: a.hostname })).sort((a, b) => a.hostname.localeCompare(b.hostname))))
      .catch((err: unknown) => console.error(err));
    api
      .get<{ groups: Array<{ name: string }> }>('/groups')
      .then((r) => setGroups(r.groups.map((g) => g.name).sort()))
      .catch((err: unknown) => console.error(err));
  }, [api, firstShown]);

  // Load: one page first; the live tail then continues after the newest row of that page (or,
  // when nothing matches yet, after where the log ends), so a row that arrives meanwhile is
  // caught by the tail and none is shown twice.
  useEffect(() => {
    const gen = ++generation.current;
    const query = apiParams(filter, Date.now());
    queryRef.current = query;
    tailCursor.current = null;
    setLoading(true);
    setError(null);
    setGap(false);
    setExpanded(new Set());
    setChecked(new Set());
    void (async () => {
      try {
        const page = await api.get<Page>(withQuery('/events', query.params, { limit: String(PAGE_SIZE) }));
        if (gen !== generation.current) return;
        const newest = page.events.reduce((max, e) => Math.max(max, e.id), 0);
        tailCursor.current = newest > 0 ? newest : (await api.get<Tail>(withQuery('/events/since', query.params))).cursor;
        if (gen !== generation.current) return;
        const rows = page.events.filter((e) => matchesText(e.data, query.localText));
        setEvents(rows);
        setNextCursor(page.nextCursor);
        setSelectedId((id) => (id !== null && rows.some((e) => e.id === id) ? id : (rows[0]?.id ?? null)));
      } catch (err) {
        if (gen === generation.current) setError(err instanceof Error ? err.message : String(err));
      } finally {
        if (gen === generation.current) setLoading(false);
        setFirstShown(true);
      }
    })();
  }, [api, queryKey, reloads]);

  // Live tail: poll once a second for rows above the cursor, only while shown and switched on.
  useEffect(() => {
    if (!live) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const gen = generation.current;
      const after = tailCursor.current;
      if (document.visibilityState === 'visible' && after !== null) {
        try {
          const query = queryRef.current;
          const r = await api.get<Tail>(withQuery('/events/since', query.params, { after: String(after) }));
          if (!stopped && gen === generation.current && tailCursor.current === after) {
            tailCursor.current = r.cursor;
            const rows = r.events.filter((e) => matchesText(e.data, query.localText));
            if (rows.length > 0) setEvents((shown) => mergeNewer(shown, rows));
            if (r.gap) setGap(true);
          }
        } catch (err) {
          // The next tick tries again; a signed-out session shows on the next navigation.
          console.warn('live tail poll failed', err);
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), TAIL_MS);
    };
    timer = setTimeout(() => void tick(), TAIL_MS);
    const onVisible = () => {
      if (document.visibilityState !== 'visible' || stopped) return;
      clearTimeout(timer);
      void tick();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [api, live]);

  const loadOlder = async () => {
    if (nextCursor === null) return;
    const gen = generation.current;
    setLoadingOlder(true);
    try {
      const query = queryRef.current;
      const page = await api.get<Page>(withQuery('/events', query.params, { limit: String(PAGE_SIZE), cursor: nextCursor }));
      if (gen !== generation.current) return;
      setEvents((shown) => appendOlder(shown, page.events.filter((e) => matchesText(e.data, query.localText))));
      setNextCursor(page.nextCursor);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoadingOlder(false);
    }
  };

  const applyFilter = (next: EventFilter) => {
    location.hash = routeHref('/events', filterToQuery(next));
  };

  const agentName = useMemo(() => new Map(agents.map((a) => [a.id, a.hostname])), [agents]);
  // Server events about a PC (agent.silent, mail.account.unapproved) name it in their data.
  const pcOf = (e: EventRecord) => {
    const id = e.agentId ?? (typeof e.data.agentId === 'string' ? e.data.agentId : null);
    if (id === null) return t('events.server');
    return agentName.get(id) ?? (typeof e.data.hostname === 'string' ? e.data.hostname : id);
  };

  const toggle = (set: ReadonlySet<number>, id: number): Set<number> => {
    const next = new Set(set);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  };

  const openTriage = (status: TriageRequest['status']) => {
    if (!canTriage) return;
    const ids = checked.size > 0 ? events.filter((e) => checked.has(e.id)).map((e) => e.id) : selectedId !== null ? [selectedId] : [];
    if (ids.length > 0) setTriage({ ids, status });
  };

  const onTriaged = (ids: readonly number[], status: TriageRequest['status'], comment: string | null) => {
    const done = new Set(ids);
    setEvents((shown) => shown.map((e) => (done.has(e.id) ? { ...e, status, comment } : e)));
    setTriage(null);
    setNotice(msgN('events.triage.done', ids.length, { status: msg(`events.status.${status}`) }));
    if (checked.size > 0) {
      setChecked(new Set());
    } else {
      // Working down the list: the next row is the one to look at.
      const index = events.findIndex((e) => e.id === ids[0]);
      const next = events[index + 1];
      if (next) {
        focusSelected.current = true;
        setSelectedId(next.id);
      }
    }
  };

  // Keys read the state of the latest render through a ref: a reviewer typing `x j x r` fast
  // must not act on the rows as they were before the previous key.
  const runAction = useRef<(action: KeyAction) => void>(() => undefined);
  runAction.current = (action: KeyAction) => {
      switch (action.kind) {
        case 'move': {
          const index = events.findIndex((e) => e.id === selectedId);
          const next = events[moveSelection(index, action.by, events.length)];
          if (next) {
            focusSelected.current = true;
            setSelectedId(next.id);
          }
          return;
        }
        case 'expand':
          if (selectedId !== null) setExpanded((s) => toggle(s, selectedId));
          return;
        case 'check':
          if (selectedId !== null && canTriage) setChecked((s) => toggle(s, selectedId));
          return;
        case 'triage':
          openTriage(action.status);
          return;
        case 'search':
          searchRef.current?.focus();
          return;
        case 'reload':
          setReloads((n) => n + 1);
          return;
        case 'help':
          setHelp((h) => !h);
          return;
        case 'close':
          setHelp(false);
          return;
      }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (triageOpen.current) return; // the dialog has the keyboard
      const target = e.target instanceof HTMLElement ? e.target : null;
      const { action, pendingG: pending } = keyAction(
        { key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, targetTag: target?.tagName, targetEditable: target?.isContentEditable === true },
        pendingG.current,
      );
      pendingG.current = pending;
      if (action === null) return;
      e.preventDefault();
      runAction.current(action);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!focusSelected.current || selectedId === null) return;
    focusSelected.current = false;
    const row = tableRef.current?.querySelector<HTMLTableRowElement>(`tr[data-event-id="${selectedId}"]`);
    row?.focus({ preventScroll: true });
    row?.scrollIntoView({ block: 'nearest' });
  }, [selectedId]);

  triageOpen.current = triage !== null;
  const exportHref = (format: 'csv' | 'jsonl') => api.href(withQuery('/events/export', apiParams(filter, Date.now()).params, { format }));
  const allChecked = events.length > 0 && events.every((e) => checked.has(e.id));
  const columns = canTriage ? 9 : 8;

  return (
    <section class="events-page">
      <div class="events-head">
        <h1>{t('events.title')}</h1>
        <div class="toolbar events-actions">
          <label class="events-live">
            <input type="checkbox" checked={live} data-testid="events-live" onChange={(e) => setLive((e.currentTarget as HTMLInputElement).checked)} />
            {t('events.live')}
          </label>
          <button type="button" class="secondary" data-testid="events-reload" onClick={() => setReloads((n) => n + 1)}>
            {t('events.reload')}
          </button>
          {canTriage && (
            <>
              <a href={exportHref('csv')} data-testid="events-export-csv" download>
                {t('events.export.csv')}
              </a>
              <a href={exportHref('jsonl')} data-testid="events-export-jsonl" download>
                {t('events.export.jsonl')}
              </a>
            </>
          )}
          <button type="button" class="secondary" aria-expanded={help} aria-controls="events-help" data-testid="events-help-toggle" onClick={() => setHelp((h) => !h)}>
            ?<span class="visually-hidden">{t('events.keys.title')}</span>
          </button>
        </div>
      </div>

      {help && (
        <aside id="events-help" class="events-help" aria-label={t('events.keys.title')} data-testid="events-help">
          <h2>{t('events.keys.title')}</h2>
          <dl>
            {KEY_HELP.map(([keys, text]) => (
              <div key={keys}>
                <dt>
                  <kbd>{keys}</kbd>
                </dt>
                <dd>{t(text)}</dd>
              </div>
            ))}
          </dl>
        </aside>
      )}

      <EventFilters filter={filter} agents={agents} groups={groups} searchRef={searchRef} onApply={applyFilter} />

      <div class="toolbar events-bulk">
        {canTriage && (
          <>
            <span>{t('events.checked', { count: checked.size })}</span>
            <button type="button" class="secondary" disabled={checked.size === 0 && selectedId === null} data-testid="events-ack" onClick={() => openTriage('acknowledged')}>
              {t('events.action.ack')}
            </button>
            <button type="button" class="secondary" disabled={checked.size === 0 && selectedId === null} data-testid="events-resolve" onClick={() => openTriage('resolved')}>
              {t('events.action.resolve')}
            </button>
            <button type="button" class="secondary" disabled={checked.size === 0 && selectedId === null} data-testid="events-false-positive" onClick={() => openTriage('false-positive')}>
              {t('events.action.falsePositive')}
            </button>
          </>
        )}
        <span role="status" data-testid="events-status">
          {loading ? t('common.loading') : notice !== null ? tm(notice) : tn('events.shown', events.length)}
        </span>
      </div>

      {error && (
        <p role="alert" class="error" data-testid="events-error">
          {t('common.error', { message: error })}
        </p>
      )}
      {gap && (
        <p role="alert" class="notice" data-testid="events-gap">
          {t('events.gap')}{' '}
          <button type="button" class="link" onClick={() => setReloads((n) => n + 1)}>
            {t('events.reload')}
          </button>
        </p>
      )}

      <table ref={tableRef} class="events-table" role="grid" aria-label={t('events.title')} aria-multiselectable={false} aria-busy={loading} data-testid="events-table">
        <thead>
          <tr>
            {canTriage && (
              <th scope="col" class="events-check">
                <input
                  type="checkbox"
                  aria-label={t('events.checkAll')}
                  data-testid="events-check-all"
                  checked={allChecked}
                  disabled={events.length === 0}
                  onChange={() => setChecked(allChecked ? new Set() : new Set(events.slice(0, 500).map((e) => e.id)))}
                />
              </th>
            )}
            <th scope="col">{t('events.col.time')}</th>
            <th scope="col">{t('events.col.severity')}</th>
            <th scope="col">{t('events.col.type')}</th>
            <th scope="col">{t('events.col.pc')}</th>
            <th scope="col">{t('events.col.device')}</th>
            <th scope="col">{t('events.col.decision')}</th>
            <th scope="col">{t('events.col.status')}</th>
            <th scope="col">
              <span class="visually-hidden">{t('events.col.details')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {!loading && events.length === 0 && (
            <tr>
              <td colSpan={columns} data-testid="events-empty">
                {t('events.empty')}
              </td>
            </tr>
          )}
          {events.map((e) => {
            const decision = decisionOf(e.data);
            const open = expanded.has(e.id);
            const selected = e.id === selectedId;
            return [
              <tr
                key={e.id}
                data-testid="events-row"
                data-event-id={e.id}
                aria-selected={selected}
                tabIndex={selected ? 0 : -1}
                class={`events-row status-${e.status}`}
                onClick={() => {
                  setSelectedId(e.id);
                  setExpanded((s) => toggle(s, e.id));
                }}
              >
                {canTriage && (
                  <td class="events-check" onClick={(ev) => ev.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={t('events.checkOne', { id: e.id })}
                      data-testid="events-check"
                      checked={checked.has(e.id)}
                      onChange={() => setChecked((s) => toggle(s, e.id))}
                    />
                  </td>
                )}
                <td class="events-time">
                  <time dateTime={e.occurredAt}>{formatTime(locale, e.occurredAt)}</time>
                </td>
                <td>
                  <span class={`events-sev sev-${e.severity}`}>{severityText(t, e.severity)}</span>
                </td>
                <td title={typeText(t, e.type)}>{e.type}</td>
                <td>{pcOf(e)}</td>
                <td>{tm(mailSummary(e.type, e.data) ?? deviceLabel(e.data))}</td>
                <td>
                  {decision?.target !== undefined ? targetWord(t, decision.target) : ''}
                  {decision?.line !== undefined && <span class="events-line"> · {t('events.trace.line', { line: decision.line })}</span>}
                </td>
                <td data-testid="events-row-status">{statusText(t, e.status)}</td>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open}
                    data-testid="events-expand"
                    onClick={(ev) => {
                      ev.stopPropagation();
                      setSelectedId(e.id);
                      setExpanded((s) => toggle(s, e.id));
                    }}
                  >
                    {open ? t('events.hide') : t('events.show')}
                    <span class="visually-hidden"> #{e.id}</span>
                  </button>
                </td>
              </tr>,
              open && (
                <tr key={`${e.id}-detail`} class="events-detail-row">
                  <td colSpan={columns}>
                    <EventDetail event={e} pcName={pcOf(e)} />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>

      <div class="toolbar events-more">
        {nextCursor !== null && (
          <button type="button" class="secondary" disabled={loadingOlder} data-testid="events-older" onClick={() => void loadOlder()}>
            {loadingOlder ? t('common.loading') : t('events.older')}
          </button>
        )}
      </div>

      {triage && <TriageDialog request={triage} onDone={onTriaged} onCancel={() => setTriage(null)} />}
    </section>
  );
}
