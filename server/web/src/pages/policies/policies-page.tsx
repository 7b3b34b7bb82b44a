import type { SignedPolicy } from '@portcullis/shared';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api.js';
import { can, useApp } from '../../app-context.js';
import { msg, type Msg } from '../../i18n/i18n.js';
import { routeHref, type Route } from '../../router.js';
import { checkRules, type RuleProblem } from './rule-check.js';
import { COMMENT_MAX, EMPTY_FORM, formOf, policyBody, saveBlocker, sameForm, type PolicyForm } from './policy-form.js';
import { PolicySettings } from './policy-settings.js';
import { RuleEditor } from './rule-editor.js';
import { SimulatePanel, type SimulationResult } from './simulate-panel.js';
import { decisionChanges, type Simulation } from './simulation.js';
import { VersionHistory, type VersionInfo } from './version-history.js';

interface GroupInfo {
  readonly name: string;
  readonly description: string;
  readonly policyVersion: number | null;
}

interface Loaded {
  readonly group: string;
  /** The saved policy, or null for a group that has none yet. */
  readonly saved: PolicyForm | null;
  readonly version: number | null;
  readonly versions: readonly VersionInfo[];
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** #/policies/<group>: the group's rule editor, settings, simulation, save and history. */
export function PoliciesPage({ route }: { route: Route }) {
  const { t, api } = useApp();
  const [groups, setGroups] = useState<readonly GroupInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const group = route.segments[1];

  const loadGroups = () => {
    api
      .get<{ groups: GroupInfo[] }>('/groups')
      .then((r) => setGroups(r.groups))
      .catch((err: unknown) => setError(messageOf(err)));
  };
  useEffect(loadGroups, [api]);

  // No group in the address: open the first one, so the page is never empty.
  useEffect(() => {
    if (group === undefined && groups !== null && groups[0] !== undefined) location.replace(routeHref(`/policies/${groups[0].name}`));
  }, [group, groups]);

  return (
    <section class="policies-page">
      <h1>{t('policies.title')}</h1>
      {error !== null ? (
        <p role="alert" class="error">
          {t('common.error', { message: error })}
        </p>
      ) : null}
      {groups === null ? (
        <p role="status">{t('common.loading')}</p>
      ) : groups.length === 0 ? (
        <p>{t('policies.noGroups')}</p>
      ) : (
        <div class="toolbar">
          <label>
            {t('policies.group')}
            <select
              value={group ?? ''}
              onChange={(e) => {
                location.hash = routeHref(`/policies/${(e.currentTarget as HTMLSelectElement).value}`);
              }}
              data-testid="policy-group"
            >
              {group === undefined ? <option value="">{t('policies.pickGroup')}</option> : null}
              {groups.map((g) => (
                <option key={g.name} value={g.name}>
                  {g.policyVersion === null ? t('policies.groupNoPolicy', { group: g.name }) : t('policies.groupVersion', { group: g.name, version: g.policyVersion })}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {group !== undefined ? <GroupPolicy key={group} group={group} onSaved={loadGroups} /> : null}
    </section>
  );
}

/** onSaved: a new version exists (the group picker shows each group's version). */
function GroupPolicy({ group, onSaved }: { group: string; onSaved: () => void }) {
  const { t, tm, api, user } = useApp();
  const canEdit = can(user, 'admin');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<PolicyForm>(EMPTY_FORM);
  const [checked, setChecked] = useState<{ text: string; problems: RuleProblem[] }>({ text: '', problems: [] });
  const [comment, setComment] = useState('');
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; text: Msg } | null>(null);
  const [sim, setSim] = useState<{ result: SimulationResult | null; running: boolean; error: string | null }>({ result: null, running: false, error: null });
  const path = `/groups/${encodeURIComponent(group)}/policy`;

  const load = async (): Promise<void> => {
    setLoadError(null);
    try {
      const [signed, list] = await Promise.all([
        api.get<SignedPolicy>(path).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
        api.get<{ versions: VersionInfo[] }>(`${path}/versions`),
      ]);
      const saved = signed === null ? null : formOf(signed.document);
      const next = saved ?? EMPTY_FORM;
      setLoaded({ group, saved, version: signed?.document.version ?? null, versions: list.versions });
      setForm(next);
      setChecked({ text: next.rules, problems: checkRules(next.rules) });
      setComment('');
      setSim({ result: null, running: false, error: null });
    } catch (err) {
      setLoadError(messageOf(err));
    }
  };
  useEffect(() => {
    void load();
  }, [group]);

  if (loadError !== null) {
    return (
      <p role="alert" class="error">
        {t('common.error', { message: loadError })}
      </p>
    );
  }
  if (loaded === null) return <p role="status">{t('common.loading')}</p>;

  const upToDate = checked.text === form.rules;
  const problems = upToDate ? checked.problems : checkRules(form.rules);
  const changed = loaded.saved === null || !sameForm(form, loaded.saved);
  const blocker = saveBlocker({ problems: problems.length, comment, changed });
  const snapshot = JSON.stringify(policyBody(form));

  const simulate = async () => {
    setSim((s) => ({ ...s, running: true, error: null }));
    try {
      const run = (body: Record<string, unknown>) => api.post<Simulation>(`${path}/simulate`, body);
      const [before, after] = await Promise.all([loaded.saved === null ? Promise.resolve(null) : run(policyBody(loaded.saved)), run(policyBody(form))]);
      setSim({ result: { changes: decisionChanges(before, after), edited: after, snapshot }, running: false, error: null });
    } catch (err) {
      setSim((s) => ({ ...s, running: false, error: messageOf(err) }));
    }
  };

  const save = async () => {
    setSaving(true);
    setStatus(null);
    try {
      // Someone else's save since this page loaded would be silently overwritten: say so instead.
      const latest = (await api.get<{ versions: VersionInfo[] }>(`${path}/versions`)).versions[0]?.version ?? null;
      if (latest !== loaded.version) {
        setStatus({ kind: 'error', text: msg('policies.save.conflict', { version: latest ?? 0 }) });
        return;
      }
      const saved = await api.put<SignedPolicy>(path, policyBody(form, comment));
      await load();
      onSaved();
      setStatus({ kind: 'ok', text: msg('policies.save.saved', { version: saved.document.version }) });
    } catch (err) {
      setStatus({ kind: 'error', text: msg('common.error', { message: messageOf(err) }) });
    } finally {
      setSaving(false);
    }
  };

  const blockerText =
    blocker === 'rules'
      ? t('policies.save.needRules')
      : blocker === 'comment'
        ? t('policies.save.needComment')
        : blocker === 'commentTooLong'
          ? t('policies.save.commentTooLong')
          : blocker === 'unchanged'
            ? t('policies.save.unchanged')
            : null;

  return (
    <div class="policy-layout" data-testid="policy-editor">
      {!canEdit ? (
        <p class="notice" role="note" data-testid="policy-read-only">
          {t('policies.readOnly')}
        </p>
      ) : null}
      <div class="policy-main">
        <RuleEditor
          key={`${group}:${loaded.version ?? 0}`}
          value={form.rules}
          readOnly={!canEdit}
          onInput={(rules) => setForm({ ...form, rules })}
          onProblems={(found, text) => setChecked({ text, problems: found })}
        />
        <PolicySettings form={form} readOnly={!canEdit} onChange={setForm} />
      </div>
      <SimulatePanel
        result={sim.result}
        running={sim.running}
        error={sim.error}
        stale={sim.result !== null && sim.result.snapshot !== snapshot}
        blocked={problems.length > 0}
        onRun={() => void simulate()}
      />
      {canEdit ? (
        <section class="policy-panel" aria-labelledby="policy-save-title">
          <h2 id="policy-save-title">{t('policies.save.title')}</h2>
          {changed && loaded.saved !== null ? <p class="notice">{t('policies.unsaved')}</p> : null}
          <form
            class="policy-save"
            onSubmit={(e) => {
              e.preventDefault();
              if (blocker === null) void save();
            }}
          >
            <label>
              {t('policies.save.comment')}
              <textarea
                rows={2}
                value={comment}
                maxLength={COMMENT_MAX}
                aria-describedby="policy-save-why"
                onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)}
                data-testid="policy-comment"
              />
            </label>
            <span class="policy-muted policy-small">{t('policies.save.commentCount', { count: comment.trim().length })}</span>
            <div class="toolbar">
              <button type="submit" disabled={blocker !== null || saving} aria-describedby="policy-save-why" data-testid="policy-save">
                {saving ? t('policies.save.saving') : t('policies.save.button')}
              </button>
              {changed && loaded.saved !== null ? (
                <button type="button" class="secondary" onClick={() => void load()} data-testid="policy-discard">
                  {t('policies.save.discard')}
                </button>
              ) : null}
            </div>
            <p id="policy-save-why" class="policy-muted" data-testid="policy-save-why">
              {blockerText ?? ''}
            </p>
          </form>
          <div role="status" aria-live="polite" data-testid="policy-save-status">
            {status !== null ? <p class={status.kind === 'ok' ? 'ok' : 'error'}>{tm(status.text)}</p> : null}
          </div>
        </section>
      ) : null}
      <VersionHistory
        group={group}
        versions={loaded.versions}
        editor={form}
        canEdit={canEdit}
        onRolledBack={(from, version) => {
          onSaved();
          void load().then(() => setStatus({ kind: 'ok', text: msg('policies.history.rolledBack', { from, version }) }));
        }}
      />
    </div>
  );
}
