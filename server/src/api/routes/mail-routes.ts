import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { parseMailAddress } from '../../mail/mail-address.js';
import { CSV_COLUMNS, csvField, parseAddressCsv, type CsvProblem } from '../../mail/mail-csv.js';
import { DEFAULT_MAIL_POLICY, MAIL_POLICY_SCHEMA, normalizeMailPolicy, storedMailPolicy, type MailPolicyInput } from '../../mail/mail-policy.js';
import { MAIL_RULES } from '../../mail/mail-decider.js';
import { MAIL_ADDRESS_STATES, type MailAddressRecord, type MailAddressState } from '../../store/store.js';
import { badRequest, conflict, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';
import { GROUP_PATTERN, requireGroup } from './group-routes.js';

/** A SASL login as Postfix passes it: printable, no spaces or commas (they separate logins). */
const LOGIN = { type: 'string', pattern: '^[^\\s,]{1,128}$' } as const;
const FIELDS = {
  // Trimmed before it is stored: all spaces would be an empty owner, which the CSV import refuses.
  owner: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
  group: { type: 'string', pattern: GROUP_PATTERN },
  logins: { type: 'array', maxItems: 20, uniqueItems: true, items: LOGIN },
  state: { type: 'string', enum: MAIL_ADDRESS_STATES },
  notes: { type: 'string', maxLength: 2000 },
} as const;
const addressParams = { type: 'object', required: ['address'], properties: { address: { type: 'string', minLength: 3, maxLength: 254 } } } as const;
const groupParams = { type: 'object', required: ['group'], properties: { group: { type: 'string', pattern: GROUP_PATTERN } } } as const;
const MAX_IMPORT_ROWS = 20_000;

interface AddressBody {
  address: string;
  owner: string;
  group: string;
  logins?: string[];
  state?: MailAddressState;
  notes?: string;
}
type AddressPatch = Partial<Omit<AddressBody, 'address'>>;
interface ListQuery {
  group?: string;
  state?: MailAddressState;
  q?: string;
  limit?: string;
  after?: string;
}

/** The address registry and the groups' mail policies (DESIGN.md §5). */
export function mailRoutes(deps: ServerDeps) {
  const reload = () => deps.mail?.registryChanged() ?? Promise.resolve();
  return async (app: FastifyInstance): Promise<void> => {
    // CSV import bodies; only this plugin takes them (fastify encapsulation).
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

    app.get<{ Querystring: ListQuery }>(
      '/mail/addresses',
      {
        config: { access: 'viewer', summary: 'List registered mail addresses (by address, paged with ?after=)' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              group: FIELDS.group,
              state: FIELDS.state,
              q: { type: 'string', maxLength: 200 },
              limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
              after: { type: 'string', maxLength: 254 },
            },
          },
        },
      },
      async (request) => {
        const limit = Math.min(Math.max(Number(request.query.limit ?? 100), 1), 1000);
        const { group, state, q, after } = request.query;
        const addresses = await deps.store.listMailAddresses({ limit: limit + 1, ...defined({ group, state, q, after }) });
        const page = addresses.slice(0, limit);
        return { addresses: page, next: addresses.length > limit ? (page[page.length - 1]?.address ?? null) : null };
      },
    );

    // Before /:address, so "export" is not read as an address.
    app.get('/mail/addresses/export', { config: { access: 'security', summary: 'The address registry as CSV' } }, async (request, reply) => {
      await audit(deps, request, 'mail.address.export', 'csv');
      reply.header('Content-Type', 'text/csv; charset=utf-8');
      reply.header('Content-Disposition', 'attachment; filename="portcullis-mail-addresses.csv"');
      return reply.send(Readable.from(csvExport(deps)));
    });

    app.get<{ Params: { address: string } }>(
      '/mail/addresses/:address',
      { config: { access: 'viewer', summary: 'One registered mail address' }, schema: { params: addressParams } },
      async (request) => {
        const found = await deps.store.getMailAddress(addressParam(request.params.address));
        if (!found) throw notFound(`mail address ${request.params.address}`);
        return found;
      },
    );

    app.post<{ Body: AddressBody }>(
      '/mail/addresses',
      {
        config: { access: 'admin', summary: 'Register a mail address' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['address', 'owner', 'group'],
            properties: { address: { type: 'string', maxLength: 254 }, ...FIELDS },
          },
        },
      },
      async (request, reply) => {
        const address = addressParam(request.body.address);
        await requireGroup(deps, request.body.group);
        if (await deps.store.getMailAddress(address)) throw conflict(`mail address ${address} is already registered`);
        const now = deps.clock().toISOString();
        const record: MailAddressRecord = {
          address,
          owner: request.body.owner.trim(),
          group: request.body.group,
          logins: request.body.logins ?? [],
          state: request.body.state ?? 'active',
          notes: request.body.notes ?? '',
          createdAt: now,
          updatedAt: now,
        };
        await deps.store.createMailAddress(record);
        await audit(deps, request, 'mail.address.create', address, { owner: record.owner, group: record.group, logins: record.logins, state: record.state });
        await reload();
        return reply.status(201).send(record);
      },
    );

    app.patch<{ Params: { address: string }; Body: AddressPatch }>(
      '/mail/addresses/:address',
      {
        config: { access: 'admin', summary: "Change a mail address's owner, group, logins, state or notes" },
        schema: { params: addressParams, body: { type: 'object', additionalProperties: false, minProperties: 1, properties: FIELDS } },
      },
      async (request) => {
        const address = addressParam(request.params.address);
        const found = await deps.store.getMailAddress(address);
        if (!found) throw notFound(`mail address ${address}`);
        if (request.body.group !== undefined) await requireGroup(deps, request.body.group);
        const patch = { ...request.body, ...(request.body.owner !== undefined ? { owner: request.body.owner.trim() } : {}) };
        const record: MailAddressRecord = { ...found, ...patch, updatedAt: deps.clock().toISOString() };
        if (!(await deps.store.updateMailAddress(record))) throw notFound(`mail address ${address}`);
        const changed = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, { from: found[k as keyof MailAddressRecord], to: v }]));
        await audit(deps, request, 'mail.address.update', address, changed);
        await reload();
        return record;
      },
    );

    app.delete<{ Params: { address: string } }>(
      '/mail/addresses/:address',
      { config: { access: 'admin', summary: 'Remove a mail address from the registry' }, schema: { params: addressParams } },
      async (request, reply) => {
        const address = addressParam(request.params.address);
        const found = await deps.store.getMailAddress(address);
        if (!found || !(await deps.store.deleteMailAddress(address))) throw notFound(`mail address ${address}`);
        await audit(deps, request, 'mail.address.delete', address, { owner: found.owner, group: found.group, state: found.state });
        await reload();
        return reply.status(204).send();
      },
    );

    app.post<{ Body: string }>(
      '/mail/addresses/import',
      {
        config: { access: 'admin', summary: 'Create or update addresses from CSV (all rows or none)' },
        schema: { body: { type: 'string', maxLength: 2 * 1024 * 1024 } },
      },
      async (request) => {
        // A JSON string body would pass the schema too: only the CSV content types are read as CSV.
        const csv = /^text\/(csv|plain)\s*(;|$)/i.test(request.headers['content-type'] ?? '');
        if (!csv || typeof request.body !== 'string') throw badRequest('send the CSV with Content-Type: text/csv');
        const records = await importRecords(deps, request.body);
        const counts = await deps.store.importMailAddresses(records);
        await audit(deps, request, 'mail.address.import', 'csv', { rows: records.length, ...counts });
        await reload();
        return counts;
      },
    );

    app.get<{ Params: { group: string } }>(
      '/groups/:group/mail-policy',
      { config: { access: 'viewer', summary: "The group's mail policy (the default when none was set)" }, schema: { params: groupParams } },
      async (request) => {
        await requireGroup(deps, request.params.group);
        const found = await deps.store.getMailPolicy(request.params.group);
        return found
          ? { group: found.group, policy: storedMailPolicy(found.policy), updatedAt: found.updatedAt, updatedBy: found.updatedBy }
          : { group: request.params.group, policy: DEFAULT_MAIL_POLICY, updatedAt: null, updatedBy: null };
      },
    );

    app.put<{ Params: { group: string }; Body: MailPolicyInput }>(
      '/groups/:group/mail-policy',
      { config: { access: 'admin', summary: "Set the group's mail policy (domains, size and rate limits)" }, schema: { params: groupParams, body: MAIL_POLICY_SCHEMA } },
      async (request) => {
        await requireGroup(deps, request.params.group);
        const result = normalizeMailPolicy(request.body);
        if (!result.ok) throw badRequest(`invalid mail policy: ${result.problems.join('; ')}`, { problems: result.problems });
        const before = await deps.store.getMailPolicy(request.params.group);
        const record = { group: request.params.group, policy: { ...result.policy }, updatedAt: deps.clock().toISOString(), updatedBy: request.user?.username ?? '?' };
        await deps.store.putMailPolicy(record);
        await audit(deps, request, 'mail.policy.set', record.group, { from: before?.policy ?? null, to: record.policy });
        await reload();
        return { group: record.group, policy: result.policy, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
      },
    );

    app.get('/mail/stats', { config: { access: 'viewer', summary: "The policy service's decisions since the server started" } }, async () => {
      if (deps.mail) return { enabled: true, ...deps.mail.stats() };
      return { enabled: false, since: null, decisions: 0, allowed: 0, messagesAccepted: 0, rejected: Object.fromEntries(MAIL_RULES.map((r) => [r, 0])) };
    });
  };
}

function addressParam(text: string): string {
  const parsed = parseMailAddress(text);
  if (!parsed.ok) throw badRequest(`invalid mail address: ${parsed.problem}`);
  return parsed.value;
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Every row checked before anything is stored; any problem refuses the whole file, by line. */
async function importRecords(deps: ServerDeps, text: string): Promise<MailAddressRecord[]> {
  const { rows, problems } = parseAddressCsv(text, MAX_IMPORT_ROWS);
  const groups = new Set((await deps.store.listGroups()).map((g) => g.name));
  const seen = new Map<string, number>();
  const now = deps.clock().toISOString();
  const records: MailAddressRecord[] = [];
  const bad = (line: number, message: string) => problems.push({ line, message });
  for (const row of rows) {
    const address = parseMailAddress(row.address ?? '');
    const owner = (row.owner ?? '').trim();
    const group = (row.group ?? '').trim();
    const logins = (row.logins ?? '').split(/[\s,]+/).filter((l) => l !== '');
    const state = (row.state ?? '').trim().toLowerCase() || 'active';
    const notes = row.notes ?? '';
    const before = problems.length;
    if (!address.ok) bad(row.line, address.problem);
    else if (seen.has(address.value)) bad(row.line, `${address.value} is already on line ${seen.get(address.value)}`);
    if (owner === '' || owner.length > 200) bad(row.line, 'owner must be 1 to 200 characters');
    if (!groups.has(group)) bad(row.line, group === '' ? 'group is empty' : `group ${group} does not exist`);
    if (logins.length > 20 || logins.some((l) => l.length > 128)) bad(row.line, 'at most 20 logins of up to 128 characters');
    if (!(MAIL_ADDRESS_STATES as readonly string[]).includes(state)) bad(row.line, `state must be ${MAIL_ADDRESS_STATES.join(', ')}, not "${state}"`);
    if (notes.length > 2000) bad(row.line, 'notes are longer than 2000 characters');
    if (address.ok) seen.set(address.value, row.line);
    // createdAt counts for new addresses only: the store's import keeps a stored one's.
    if (problems.length === before && address.ok) {
      records.push({ address: address.value, owner, group, logins, state: state as MailAddressState, notes, createdAt: now, updatedAt: now });
    }
  }
  if (problems.length > 0) throw importError(problems);
  return records;
}

function importError(problems: readonly CsvProblem[]) {
  const sorted = [...problems].sort((a, b) => a.line - b.line);
  const first = sorted[0];
  const summary = first === undefined ? '' : `line ${first.line}: ${first.message}`;
  return badRequest(`the CSV was not imported (${sorted.length} problem${sorted.length === 1 ? '' : 's'}; nothing was stored): ${summary}`, {
    errors: sorted.slice(0, 100),
  });
}

async function* csvExport(deps: ServerDeps): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after: string | undefined;
  for (;;) {
    const page = await deps.store.listMailAddresses({ limit: 1000, ...(after !== undefined ? { after } : {}) });
    for (const a of page) yield `${[a.address, a.owner, a.group, a.logins.join(' '), a.state, a.notes].map(csvField).join(',')}\r\n`;
    if (page.length < 1000) return;
    after = page[page.length - 1]?.address;
  }
}
