import { useState } from 'preact/hooks';
import { useApp } from '../../app-context.js';
import { formatTime, type MessageKey } from '../../i18n/i18n.js';

type Row = Record<string, unknown>;

/** One list section of the agent's inventory (agent/src/inventory/inventory-model.ts), with the columns shown. */
const LISTS = {
  network: { list: 'interfaces', title: 'computers.inv.network', columns: [['iface', 'computers.inv.iface'], ['mac', 'computers.inv.mac'], ['ip4', 'computers.inv.ip4'], ['ip6', 'computers.inv.ip6'], ['operstate', 'computers.inv.state']] },
  ports: { list: 'listening', title: 'computers.inv.ports', columns: [['protocol', 'computers.inv.protocol'], ['localAddress', 'computers.inv.address'], ['localPort', 'computers.inv.port'], ['process', 'computers.inv.process']] },
  users: { list: 'sessions', title: 'computers.inv.users', columns: [['user', 'computers.inv.user'], ['tty', 'computers.inv.tty'], ['loginDate', 'computers.inv.login'], ['from', 'computers.inv.from']] },
} as const satisfies Record<string, { list: string; title: MessageKey; columns: ReadonlyArray<readonly [string, MessageKey]> }>;

const asObject = (v: unknown): Row | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Row) : null);
const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function InventoryView({ inventory }: { inventory: { inventory: Record<string, unknown>; updatedAt: string } | null }) {
  const { t, locale } = useApp();
  return (
    <section aria-labelledby="computer-inventory-h" class="inventory" data-testid="computer-inventory">
      <h2 id="computer-inventory-h">{t('computers.inventory')}</h2>
      {inventory === null ? (
        <p>{t('computers.inventory.none')}</p>
      ) : (
        <>
          <p class="muted">{t('computers.inventory.updated', { time: formatTime(locale, inventory.updatedAt) })}</p>
          <Facts title="computers.inv.hardware" section={inventory.inventory.hardware} testid="inventory-hardware" />
          <Facts title="computers.inv.os" section={inventory.inventory.os} testid="inventory-os" />
          <Software section={inventory.inventory.software} />
          {(Object.keys(LISTS) as Array<keyof typeof LISTS>).map((name) => (
            <ListSection key={name} name={name} section={inventory.inventory[name]} />
          ))}
        </>
      )}
    </section>
  );
}

function SectionProblem({ section }: { section: Row | null }) {
  const { t } = useApp();
  if (section === null || typeof section.error !== 'string') return null;
  return <p class="error">{t('computers.inventory.sectionError', { error: section.error })}</p>;
}

/** Field names are the agent's (`cpuBrand`, `kernel`); they are data, shown as reported. */
function Facts({ title, section, testid }: { title: MessageKey; section: unknown; testid: string }) {
  const { t } = useApp();
  const obj = asObject(section);
  const rows = obj === null || typeof obj.error === 'string' ? [] : Object.entries(obj).filter(([, v]) => v !== '' && v !== null && typeof v !== 'object');
  return (
    <details open data-testid={testid}>
      <summary>{t(title)}</summary>
      <SectionProblem section={obj} />
      {rows.length === 0 ? (
        obj === null && <p>{t('common.none')}</p>
      ) : (
        <table class="inventory-facts">
          <thead>
            <tr>
              <th scope="col">{t('computers.inv.field')}</th>
              <th scope="col">{t('computers.inv.value')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{cell(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

function Truncated({ section, shown }: { section: Row; shown: number }) {
  const { tn } = useApp();
  if (section.truncated !== true) return null;
  const total = typeof section.total === 'number' && Number.isFinite(section.total) ? section.total : shown;
  return <p class="muted">{tn('computers.inventory.truncated', total, { shown })}</p>;
}

function Software({ section }: { section: unknown }) {
  const { t } = useApp();
  const [filter, setFilter] = useState('');
  const obj = asObject(section);
  const packages = Array.isArray(obj?.packages) ? (obj.packages as Row[]) : [];
  const needle = filter.trim().toLowerCase();
  const shown = needle === '' ? packages : packages.filter((p) => cell(p.name).toLowerCase().includes(needle));
  return (
    <details data-testid="inventory-software">
      <summary>
        {t('computers.inv.software')} ({packages.length})
      </summary>
      <SectionProblem section={obj} />
      {obj !== null && <Truncated section={obj} shown={packages.length} />}
      <label class="inventory-filter">
        {t('computers.inv.softwareFilter')}
        <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} data-testid="software-filter" />
      </label>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('computers.inv.package')}</th>
            <th scope="col">{t('computers.inv.version')}</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, 500).map((p, i) => (
            <tr key={`${cell(p.name)}-${i}`} data-testid="software-row">
              <td>{cell(p.name)}</td>
              <td>{cell(p.version)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function ListSection({ name, section }: { name: keyof typeof LISTS; section: unknown }) {
  const { t } = useApp();
  const spec = LISTS[name];
  const obj = asObject(section);
  const rows = Array.isArray(obj?.[spec.list]) ? (obj[spec.list] as Row[]) : [];
  return (
    <details open data-testid={`inventory-${name}`}>
      <summary>
        {t(spec.title)} ({rows.length})
      </summary>
      <SectionProblem section={obj} />
      {obj !== null && <Truncated section={obj} shown={rows.length} />}
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              {spec.columns.map(([, label]) => (
                <th scope="col" key={label}>
                  {t(label)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {spec.columns.map(([field]) => (
                  <td key={field}>{cell(r[field])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
