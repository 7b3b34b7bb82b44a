import type { FastifyInstance } from 'fastify';
import {
  activeExceptions,
  buildPolicyDocument,
  canonicalJson,
  classifyDevice,
  CompiledPolicy,
  parseDevice,
  parseRule,
  parseRuleFile,
  policySigningPayload,
  prepareDevice,
  validatePolicyInput,
  type Device,
  type NormalizedPolicyInput,
  type PolicyDocument,
  type Rule,
  type SignedPolicy,
  type Target, ErrorCodes } from '@portcullis/shared';
import type { PolicyVersionRecord } from '../../store/store.js';
import { ApiError, badRequest, conflict, notFound } from '../api-error.js';
import { audit } from '../audit.js';
import type { ServerDeps } from '../deps.js';

export const GROUP_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';

/** Documents the body; validatePolicyInput does the checking (with "did you mean" messages). */
const policyBody = {
  type: 'object',
  required: ['rules'],
  properties: {
    rules: { type: 'string', description: 'USBGuard rule text' },
    implicitTarget: { type: 'string', enum: ['allow', 'block', 'reject', 'readonly'] },
    presentDevices: { type: 'string', enum: ['apply-policy', 'allow', 'block', 'keep'] },
    compositeDevices: { type: 'string', enum: ['whole-device', 'per-interface'], description: 'per-interface: a blocked composite device keeps its allowed interfaces on' },
    ports: { type: 'object' },
    mailEgress: { type: 'object', description: '{"mode": "off"|"enforce", "servers": ["10.0.0.25", "10.1.0.0/16"]}: mail ports reach only these' },
    exceptions: { type: 'array' },
  },
} as const;

/** Why a version was saved; required when saving, kept beside the version, not signed. */
export const POLICY_COMMENT_MAX = 500;

/** PUT's body: the policy fields and the comment, which savePolicy keeps apart from the document. */
const saveBody = {
  ...policyBody,
  required: ['rules', 'comment'],
  properties: {
    ...policyBody.properties,
    comment: { type: 'string', minLength: 1, maxLength: POLICY_COMMENT_MAX, description: 'Why the policy changes (shown in the version history; not part of the signed document)' },
  },
} as const;

/** Simulate takes what a save takes, the comment optional (and ignored). */
const simulateBody = { ...saveBody, required: ['rules'] } as const;

const versionQuery = {
  type: 'object',
  additionalProperties: false,
  // A string: the API does not coerce query parameters, so the pattern does the checking.
  properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'An earlier version instead of the latest' } },
} as const;

const groupParams = { type: 'object', required: ['group'], properties: { group: { type: 'string', pattern: GROUP_PATTERN } } } as const;

/** The stored version as agents receive it: the signed document and its signature. */
export function signedPolicyOf(v: PolicyVersionRecord): SignedPolicy {
  return { document: JSON.parse(v.document) as PolicyDocument, keyId: v.keyId, signature: v.signature };
}

function policyInvalid(errors: unknown): ApiError {
  return new ApiError(400, ErrorCodes.POLICY_INVALID, 'the policy is not valid; see details', errors);
}

/** The comment trimmed, or a 400 that names the field (a blank comment explains nothing). */
export function policyComment(value: unknown): string {
  const comment = typeof value === 'string' ? value.trim() : '';
  if (comment.length === 0) throw badRequest('comment is required: say in a few words why the policy changes', [{ path: 'comment', message: 'must not be empty' }]);
  if (comment.length > POLICY_COMMENT_MAX) {
    throw badRequest(`comment must be at most ${POLICY_COMMENT_MAX} characters`, [{ path: 'comment', message: `at most ${POLICY_COMMENT_MAX} characters` }]);
  }
  return comment;
}

/**
 * Saves a new signed version of a group's policy and pushes it to the group's agents. Shared by
 * the API and the first start (the default group's starter policy). `comment` says why; it is
 * stored with the version, outside the signed document.
 */
export async function savePolicy(
  deps: Pick<ServerDeps, 'store' | 'clock' | 'signer' | 'publisher'>,
  group: string,
  body: unknown,
  createdBy: string,
  comment: string,
): Promise<SignedPolicy> {
  const why = policyComment(comment);
  const result = validatePolicyInput(body);
  if (!result.ok) throw policyInvalid(result.errors);
  for (let attempt = 0; attempt < 3; attempt++) {
    const latest = await deps.store.latestPolicy(group);
    const createdAt = deps.clock().toISOString();
    const document = buildPolicyDocument(result.input, { group, version: (latest?.version ?? 0) + 1, createdAt, createdBy });
    const signature = deps.signer.sign(policySigningPayload(document));
    const stored = await deps.store.addPolicyVersion({
      group,
      version: document.version,
      document: canonicalJson(document),
      signature,
      keyId: deps.signer.keyId,
      createdAt,
      createdBy,
      comment: why,
    });
    if (stored) {
      const signed: SignedPolicy = { document, keyId: deps.signer.keyId, signature };
      deps.publisher.publish(group, signed);
      return signed;
    }
  }
  throw conflict('the policy was changed by someone else at the same time; reload and try again');
}

export function groupRoutes(deps: ServerDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/groups', { config: { access: 'viewer', summary: 'List groups' } }, async () => {
      const groups = await deps.store.listGroups();
      return {
        groups: await Promise.all(groups.map(async (g) => ({ ...g, policyVersion: (await deps.store.latestPolicy(g.name))?.version ?? null }))),
      };
    });

    app.post<{ Body: { name: string; description?: string } }>(
      '/groups',
      {
        config: { access: 'admin', summary: 'Create a group of computers' },
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string', pattern: GROUP_PATTERN }, description: { type: 'string', maxLength: 500 } },
          },
        },
      },
      async (request, reply) => {
        const { name, description = '' } = request.body;
        if (await deps.store.getGroup(name)) throw conflict(`group ${name} already exists`);
        await deps.store.createGroup({ name, description, createdAt: deps.clock().toISOString() });
        await audit(deps, request, 'group.create', name, { description });
        return reply.status(201).send({ name, description });
      },
    );

    app.get<{ Params: { group: string }; Querystring: { version?: string } }>(
      '/groups/:group/policy',
      {
        config: { access: 'viewer', summary: "The group's current signed policy, or an earlier version (?version=N)" },
        schema: { params: groupParams, querystring: versionQuery },
      },
      async (request) => {
        const { group } = request.params;
        const version = request.query.version === undefined ? undefined : Number(request.query.version);
        await requireGroup(deps, group);
        const found = version === undefined ? await deps.store.latestPolicy(group) : await deps.store.getPolicyVersion(group, version);
        if (!found) throw notFound(version === undefined ? `policy of group ${group}` : `version ${version} of the policy of group ${group}`);
        return signedPolicyOf(found);
      },
    );

    app.put<{ Params: { group: string }; Body: Record<string, unknown> & { comment: string } }>(
      '/groups/:group/policy',
      { config: { access: 'admin', summary: 'Save and push a new policy version (with a comment saying why)' }, schema: { params: groupParams, body: saveBody } },
      async (request) => {
        await requireGroup(deps, request.params.group);
        const { comment, ...policy } = request.body;
        const signed = await savePolicy(deps, request.params.group, policy, request.user?.username ?? '?', comment);
        await audit(deps, request, 'policy.save', request.params.group, { version: signed.document.version, comment: policyComment(comment) });
        return signed;
      },
    );

    app.get<{ Params: { group: string } }>(
      '/groups/:group/policy/versions',
      { config: { access: 'viewer', summary: 'Policy version history' }, schema: { params: groupParams } },
      async (request) => {
        await requireGroup(deps, request.params.group);
        return { versions: await deps.store.listPolicyVersions(request.params.group) };
      },
    );

    app.post<{ Params: { group: string }; Body: Record<string, unknown> }>(
      '/groups/:group/policy/simulate',
      { config: { access: 'viewer', summary: 'What a policy would do to the devices seen in the fleet' }, schema: { params: groupParams, body: simulateBody } },
      async (request) => {
        await requireGroup(deps, request.params.group);
        // The body a save would send may be simulated as it is: the comment changes no decision.
        const { comment: _comment, ...policy } = request.body;
        const result = validatePolicyInput(policy);
        if (!result.ok) throw policyInvalid(result.errors);
        return simulate(deps, request.params.group, result.input);
      },
    );
  };
}

/** 404 unless the group exists (every route under /groups/:group, and the mail routes). */
export async function requireGroup(deps: Pick<ServerDeps, 'store'>, group: string): Promise<void> {
  if (!(await deps.store.getGroup(group))) throw notFound(`group ${group}`);
}

/**
 * Decides every USB device seen on the group's PCs against the proposed policy, now, as each PC
 * would: that PC's active temporary exceptions first, then the rules. Results are grouped by
 * device and outcome, with the PCs each applies to (an exception can name one PC).
 */
async function simulate(deps: Pick<ServerDeps, 'store' | 'clock'>, group: string, input: NormalizedPolicyInput) {
  const now = deps.clock();
  const policy = new CompiledPolicy(parseRuleFile(input.rules, 'rules'), input.implicitTarget);
  const exceptionRules = new Map(input.exceptions.map((x) => [x.id, parseRule(x.rule, { file: `exceptions[${x.id}]` })]));
  // Compiled once per request, not once per sighting: a fleet has tens of thousands of sightings.
  const exceptionPolicies = new Map([...exceptionRules].map(([id, rule]) => [id, new CompiledPolicy([rule])]));
  const agents = new Map((await deps.store.listAgents({ group })).map((a) => [a.id, a.hostname]));
  const outcomes = new Map<string, { key: string; device: Device; target: Target; line: number | null; rule: string | null; exception: string | null; computers: string[] }>();
  const totals: Record<Target, number> = { allow: 0, block: 0, reject: 0, readonly: 0 };
  let unreadable = 0;
  for (const seen of await deps.store.listUsbSeen()) {
    const host = agents.get(seen.agentId);
    if (host === undefined) continue;
    let device: Device;
    try {
      device = parseDevice(seen.device);
    } catch {
      // Sightings are validated on arrival; one that no longer parses (older format) is counted, not decided.
      unreadable++;
      continue;
    }
    const prepared = prepareDevice(device);
    const exception = activeExceptions(input, now, seen.agentId).find((x) => exceptionPolicies.get(x.id)?.decide(prepared, { now }).implicit === false);
    const decision = policy.decide(prepared, { now });
    const outcome = exception
      ? { target: (exceptionRules.get(exception.id) as Rule).target, line: null, rule: exception.rule, exception: exception.id }
      : { target: decision.target, line: decision.line, rule: policy.ruleText(decision), exception: null };
    const id = `${seen.key}\u0000${outcome.target}\u0000${outcome.line}\u0000${outcome.exception}`;
    const entry = outcomes.get(id) ?? { key: seen.key, device, ...outcome, computers: [] };
    entry.computers.push(host);
    outcomes.set(id, entry);
  }
  // Totals count devices, not sightings: a device counts once per outcome it gets somewhere.
  for (const target of Object.keys(totals) as Target[]) {
    totals[target] = new Set([...outcomes.values()].filter((o) => o.target === target).map((o) => o.key)).size;
  }
  const devices = [...outcomes.values()].map((o) => ({ ...o, label: classifyDevice(o.device).label, computers: [...new Set(o.computers)].sort() }));
  return { group, evaluatedAt: now.toISOString(), totals, unreadable, devices };
}
