import { readTimestamp } from './iso-timestamp.js';
import { MAIL_EGRESS_OFF, NAME_TEXT, readExceptions, readMailEgress, readPorts, readPresentDevices, readRuleText, readTarget } from './policy-fields.js';
import {
  COMPOSITE_DEVICE_MODES,
  POLICY_SCHEMA,
  PolicyInvalidError,
  type CompositeDeviceMode,
  type PolicyDocument,
  type PortPolicy,
} from './policy-model.js';
import { Issues, field, isPlainObject, own, readEnum, readInteger, readObject, readText } from './shape-checks.js';

/**
 * Strict validation of a policy document from outside the process — the agent's cache file, the
 * `document` of a signed policy, a row read back from the store:
 *
 *     {"schema":1,"group":"default","version":7,"rules":"allow id 1d6b:*\n…","implicitTarget":"block",
 *      "presentDevices":"apply-policy","compositeDevices":"whole-device","ports":{"serial":"block",
 *      "parallel":"block","bluetooth":"allow","optical":"readonly"},"mailEgress":{"mode":"enforce",
 *      "servers":["10.1.0.0/16","2001:db8::25"]},"exceptions":[],"createdAt":"2026-11-25T10:00:00Z",
 *      "createdBy":"admin"}
 *
 * Every field is required and no other field is allowed: a document is produced by a program,
 * and a field this build does not know means a schema it does not speak. The exceptions are the
 * fields added later, `compositeDevices` and `mailEgress`: documents signed before they existed
 * sit in stores and agent caches, and a signature covers the document as it was signed, so the
 * fields cannot be added to them. Such a document is read with the behaviour it was signed under
 * (`whole-device`; mail egress `off` with no servers); a present but wrong value is an error like
 * any other. The rule text and every exception rule must parse. Throws
 * PolicyInvalidError listing every problem.
 */
export function parsePolicyDocument(value: unknown): PolicyDocument {
  const issues = new Issues();
  const doc = readPolicyDocument(value, '', issues);
  if (!doc) throw new PolicyInvalidError('invalid policy document', issues.list, issues.summary());
  return doc;
}

export const POLICY_DOCUMENT_FIELDS = [
  'schema',
  'group',
  'version',
  'rules',
  'implicitTarget',
  'presentDevices',
  'compositeDevices',
  'ports',
  'mailEgress',
  'exceptions',
  'createdAt',
  'createdBy',
] as const;

/** Fields added after documents were first signed; a document without one reads as its default. */
const LATER_FIELDS: ReadonlySet<string> = new Set(['compositeDevices', 'mailEgress']);
const REQUIRED_FIELDS = POLICY_DOCUMENT_FIELDS.filter((f) => !LATER_FIELDS.has(f));
const OPTIONAL_FIELDS = POLICY_DOCUMENT_FIELDS.filter((f) => LATER_FIELDS.has(f));

/** What a document signed before `compositeDevices` existed was enforced with. */
const COMPOSITE_DEVICES_BEFORE_THE_FIELD: CompositeDeviceMode = 'whole-device';

/** parsePolicyDocument for a document nested in something else (a message), reporting under `path`. */
export function readPolicyDocument(value: unknown, path: string, issues: Issues): PolicyDocument | undefined {
  // A newer schema explains every other difference; report only that.
  if (isPlainObject(value) && Object.hasOwn(value, 'schema') && value.schema !== POLICY_SCHEMA) {
    const schema = value.schema;
    issues.add(
      field(path, 'schema'),
      typeof schema === 'number'
        ? `schema ${schema} is not supported: this build reads schema ${POLICY_SCHEMA} (update it to read newer policies)`
        : `must be ${POLICY_SCHEMA}`,
    );
    return undefined;
  }
  const obj = readObject(value, path, issues, { what: 'a policy document', required: REQUIRED_FIELDS, optional: OPTIONAL_FIELDS });
  if (!obj) return undefined;
  const at = (key: string): string => field(path, key);
  const group = readText(own(obj, 'group'), at('group'), issues, NAME_TEXT);
  const version = readInteger(own(obj, 'version'), at('version'), issues, 1);
  const rules = readRuleText(own(obj, 'rules'), at('rules'), issues);
  const implicitTarget = readTarget(own(obj, 'implicitTarget'), at('implicitTarget'), issues);
  const presentDevices = readPresentDevices(own(obj, 'presentDevices'), at('presentDevices'), issues);
  const compositeDevices = Object.hasOwn(obj, 'compositeDevices')
    ? readEnum(obj.compositeDevices, at('compositeDevices'), issues, COMPOSITE_DEVICE_MODES)
    : COMPOSITE_DEVICES_BEFORE_THE_FIELD;
  const ports = readPorts(own(obj, 'ports'), at('ports'), issues, 'complete') as PortPolicy | undefined;
  const mailEgress = Object.hasOwn(obj, 'mailEgress') ? readMailEgress(obj.mailEgress, at('mailEgress'), issues, 'document') : MAIL_EGRESS_OFF;
  const exceptions = readExceptions(own(obj, 'exceptions'), at('exceptions'), issues);
  const createdAt = readTimestamp(own(obj, 'createdAt'), at('createdAt'), issues);
  const createdBy = readText(own(obj, 'createdBy'), at('createdBy'), issues, NAME_TEXT);
  if (
    group === undefined || version === undefined || rules === undefined || implicitTarget === undefined ||
    presentDevices === undefined || compositeDevices === undefined || ports === undefined || mailEgress === undefined ||
    exceptions === undefined ||
    createdAt === undefined || createdBy === undefined ||
    Object.keys(obj).length !== REQUIRED_FIELDS.length + OPTIONAL_FIELDS.filter((f) => Object.hasOwn(obj, f)).length
  ) {
    return undefined;
  }
  return {
    schema: POLICY_SCHEMA,
    group,
    version,
    rules,
    implicitTarget,
    presentDevices,
    compositeDevices,
    ports: { serial: ports.serial, parallel: ports.parallel, bluetooth: ports.bluetooth, optical: ports.optical },
    mailEgress: { mode: mailEgress.mode, servers: [...mailEgress.servers] },
    exceptions,
    createdAt,
    createdBy,
  };
}
