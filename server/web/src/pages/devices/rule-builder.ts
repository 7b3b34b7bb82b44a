import { parseRule, parseRuleFile, printRule, printString, toByteString, type PolicyDocument, type SignedPolicyDocument, type TemporaryException } from '@portcullis/shared';

/** What identifies one physical device to a rule: vendor:product, and serial and name when it has them. */
export interface DeviceFacts {
  readonly id: string;
  readonly serial: string;
  readonly name: string;
}

/**
 * `allow id 0781:5567 serial "4C53…" name "Cruzer Blade"`: built from escaped strings, then
 * parsed and printed by the shared printer, so quotes, backslashes and non-ASCII bytes come out
 * exactly as USBGuard writes them.
 */
export function allowRuleFor(d: DeviceFacts): string {
  let text = `allow id ${d.id.toLowerCase()}`;
  if (d.serial !== '') text += ` serial ${printString(toByteString(d.serial))}`;
  if (d.name !== '') text += ` name ${printString(toByteString(d.name))}`;
  return printRule(parseRule(text));
}

export interface PreviewLine {
  /** 1-based line number in the new rule text. */
  readonly n: number;
  readonly text: string;
  readonly added: boolean;
}

export interface Insertion {
  /** The group's rule text with the new rule in place. */
  readonly rules: string;
  /** The new rule's line in `rules`. */
  readonly line: number;
  /** The block rule it goes before (its line in the old text), or null when it goes at the end. */
  readonly beforeLine: number | null;
  /** The new line with up to `context` lines either side, for the preview. */
  readonly preview: readonly PreviewLine[];
}

/**
 * Puts `rule` before the first `block` rule of `rules` (first match wins, so after it the allow
 * would never be reached), or at the end when there is none, keeping a final newline.
 */
export function insertRule(rules: string, rule: string, context = 3): Insertion {
  const lines = rules.split('\n');
  let firstBlock: number | null = null;
  try {
    firstBlock = parseRuleFile(rules, 'rules').find((r) => r.target === 'block')?.line ?? null;
  } catch {
    // The stored policy parsed when it was saved; if it no longer does, appending is the safe place.
    firstBlock = null;
  }
  let index: number;
  if (firstBlock !== null) {
    index = firstBlock - 1;
  } else {
    index = lines.length;
    // `a\nb\n` splits into [a, b, ''], and so does an empty text into ['']: go before that last empty piece.
    while (index > 0 && lines[index - 1] === '') index--;
  }
  const next = [...lines.slice(0, index), rule, ...lines.slice(index)];
  const from = Math.max(0, index - context);
  const to = Math.min(next.length, index + context + 1);
  // Empty pieces after the last rule or comment only carry final newlines; they are not worth showing.
  let lastContent = next.length - 1;
  while (lastContent > index && next[lastContent] === '') lastContent--;
  const preview = next
    .slice(from, Math.min(to, lastContent + 1))
    .map((text, i) => ({ n: from + i + 1, text, added: from + i === index }));
  return { rules: next.join('\n'), line: index + 1, beforeLine: firstBlock, preview };
}

/** The body of PUT /groups/:group/policy that keeps the document as it is but for `changes`. */
export function policyInputOf(doc: SignedPolicyDocument, comment: string, changes: Partial<Pick<PolicyDocument, 'rules' | 'exceptions'>> = {}) {
  return {
    rules: changes.rules ?? doc.rules,
    implicitTarget: doc.implicitTarget,
    presentDevices: doc.presentDevices,
    // Documents signed before the field existed lack it and mean the default.
    ...(doc.compositeDevices !== undefined ? { compositeDevices: doc.compositeDevices } : {}),
    ...(doc.mailEgress !== undefined ? { mailEgress: doc.mailEgress } : {}),
    ports: { ...doc.ports },
    exceptions: [...(changes.exceptions ?? doc.exceptions)],
    comment,
  };
}

/** A temporary grant for one computer, valid for `hours` from `now`. */
export function temporaryException(agentId: string, device: DeviceFacts, hours: number, reason: string, now: Date): TemporaryException {
  return {
    id: `tmp-${now.getTime().toString(36)}-${device.id.replace(':', '')}`,
    rule: allowRuleFor(device),
    reason,
    until: new Date(now.getTime() + hours * 3_600_000).toISOString(),
    agentId,
  };
}

/** The exceptions that name this computer, newest expiry first, with whether each still applies. */
export function exceptionsOf(doc: Pick<PolicyDocument, 'exceptions'>, agentId: string, now: Date): Array<TemporaryException & { active: boolean }> {
  return doc.exceptions
    .filter((x) => x.agentId === agentId)
    .map((x) => ({ ...x, active: Date.parse(x.until) > now.getTime() }))
    .sort((a, b) => b.until.localeCompare(a.until));
}
