import {
  PORT_CLASSES,
  validatePolicyInput,
  type CompositeDeviceMode,
  type MailEgressMode,
  type SignedPolicyDocument,
  type PortAction,
  type PortClass,
  type PresentDevicePolicy,
  type Target,
  type TemporaryException,
} from '@portcullis/shared';

/** What the page edits: the policy fields of a document (the server adds group, version, …). */
export interface PolicyForm {
  readonly rules: string;
  readonly implicitTarget: Target;
  readonly presentDevices: PresentDevicePolicy;
  readonly compositeDevices: CompositeDeviceMode;
  readonly ports: Readonly<Record<PortClass, PortAction>>;
  /** The mail egress guard; `servers` as the textarea holds it, one address or network per line. */
  readonly mailEgress: { readonly mode: MailEgressMode; readonly servers: string };
  /** Kept as they are: the page does not edit exceptions (the computers page grants them). */
  readonly exceptions: readonly TemporaryException[];
}

/** The editable fields of a stored document (one signed before compositeDevices existed reads as whole-device). */
export function formOf(doc: SignedPolicyDocument): PolicyForm {
  return {
    rules: doc.rules,
    implicitTarget: doc.implicitTarget,
    presentDevices: doc.presentDevices,
    compositeDevices: doc.compositeDevices ?? 'whole-device',
    ports: { ...doc.ports },
    // Signed before the field existed: the guard was off.
    mailEgress: { mode: doc.mailEgress?.mode ?? 'off', servers: (doc.mailEgress?.servers ?? []).join('\n') },
    exceptions: doc.exceptions,
  };
}

/** A group with no policy yet starts from the fail-closed defaults and no rules. */
export const EMPTY_FORM: PolicyForm = {
  rules: '',
  implicitTarget: 'block',
  presentDevices: 'apply-policy',
  compositeDevices: 'whole-device',
  ports: { serial: 'block', parallel: 'block', bluetooth: 'block', optical: 'block' },
  mailEgress: { mode: 'off', servers: '' },
  exceptions: [],
};

/** The servers textarea as the API takes it: one entry per non-blank line, trimmed. */
export function mailServerList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * What the server would refuse in the mail egress settings, as `entry: why` lines, found with the
 * same shared validation it runs (so the words match the refusal a save would get).
 */
export function mailEgressProblems(form: PolicyForm): string[] {
  const servers = mailServerList(form.mailEgress.servers);
  const result = validatePolicyInput({ rules: '', mailEgress: { mode: form.mailEgress.mode, servers } });
  if (result.ok) return [];
  return result.errors.map((e) => {
    const index = /^mailEgress\.servers\[(\d+)\]$/.exec(e.path)?.[1];
    return index !== undefined ? `${servers[Number(index)] ?? ''}: ${e.message}` : e.message;
  });
}

/** The body of PUT …/policy (with the comment) and of …/simulate (without). */
export function policyBody(form: PolicyForm, comment?: string): Record<string, unknown> {
  return {
    rules: form.rules,
    implicitTarget: form.implicitTarget,
    presentDevices: form.presentDevices,
    compositeDevices: form.compositeDevices,
    ports: { ...form.ports },
    mailEgress: { mode: form.mailEgress.mode, servers: mailServerList(form.mailEgress.servers) },
    exceptions: [...form.exceptions],
    ...(comment !== undefined ? { comment: comment.trim() } : {}),
  };
}

/** A field other than the rules that differs between two versions, for the diff view. */
export interface FieldChange {
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

export function fieldChanges(before: PolicyForm, after: PolicyForm): FieldChange[] {
  const changes: FieldChange[] = [];
  const add = (field: string, a: string, b: string) => {
    if (a !== b) changes.push({ field, before: a, after: b });
  };
  add('implicitTarget', before.implicitTarget, after.implicitTarget);
  add('presentDevices', before.presentDevices, after.presentDevices);
  add('compositeDevices', before.compositeDevices, after.compositeDevices);
  for (const port of PORT_CLASSES) add(`ports.${port}`, before.ports[port], after.ports[port]);
  add('mailEgress.mode', before.mailEgress.mode, after.mailEgress.mode);
  add('mailEgress.servers', mailServerList(before.mailEgress.servers).join(', '), mailServerList(after.mailEgress.servers).join(', '));
  const ids = (xs: readonly TemporaryException[]) => xs.map((x) => `${x.id} (${x.rule})`).join(', ');
  add('exceptions', ids(before.exceptions), ids(after.exceptions));
  return changes;
}

/** Whether the form differs from the saved policy (so leaving or saving means something). */
export function sameForm(a: PolicyForm, b: PolicyForm): boolean {
  return a.rules === b.rules && fieldChanges(a, b).length === 0;
}

export const COMMENT_MAX = 500;

/** Why the save button is off, or null when it may be pressed (the page shows the reason). */
export type SaveBlocker = 'rules' | 'comment' | 'commentTooLong' | 'unchanged' | null;

export function saveBlocker(opts: { problems: number; comment: string; changed: boolean }): SaveBlocker {
  if (opts.problems > 0) return 'rules';
  if (!opts.changed) return 'unchanged';
  const comment = opts.comment.trim();
  if (comment.length === 0) return 'comment';
  if (comment.length > COMMENT_MAX) return 'commentTooLong';
  return null;
}
