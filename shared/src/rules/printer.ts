import type { Attribute, Condition, DeviceIdPattern, InterfacePattern, Rule } from './ast.js';
import { escapeByteString } from './byte-string.js';

/**
 * Prints a rule the way `usbguard-rule-parser` prints it: attributes in USBGuard's order, one
 * blank between tokens, `equals` left out, a one-value `equals` set printed as a plain value,
 * strings escaped as USBGuard escapes them.
 *
 * One deliberate difference: USBGuard 1.1.2 prints `rule-evaluated` as `rule-applied` (a bug in
 * RuleEvaluatedCondition's constructor); Portcullis prints what was written, so a normalized
 * policy keeps its meaning.
 */
export function printRule(rule: Rule): string {
  let out: string = rule.target;
  out += printAttribute('id', rule.id, printDeviceId);
  out += printAttribute('serial', rule.serial, printString);
  out += printAttribute('name', rule.name, printString);
  out += printAttribute('hash', rule.hash, printString);
  out += printAttribute('parent-hash', rule.parentHash, printString);
  out += printAttribute('via-port', rule.viaPort, printString);
  out += printAttribute('with-interface', rule.withInterface, printInterface);
  out += printAttribute('if', rule.conditions, printCondition);
  out += printAttribute('with-connect-type', rule.withConnectType, printString);
  out += printAttribute('label', rule.label, printString);
  return out;
}

function printAttribute<T>(name: string, attr: Attribute<T> | undefined, print: (v: T) => string): string {
  if (!attr || attr.values.length === 0) return '';
  const values = attr.values.map(print).join(' ');
  if (attr.operator === 'equals' && attr.values.length === 1) return ` ${name} ${values}`;
  const op = attr.operator === 'equals' ? '' : `${attr.operator} `;
  return ` ${name} ${op}{ ${values} }`;
}

export function printString(bytes: string): string {
  return `"${escapeByteString(bytes)}"`;
}

export function printDeviceId(id: DeviceIdPattern): string {
  return id.text;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function printInterface(i: InterfacePattern): string {
  const sub = i.subclass === null ? '*' : hex2(i.subclass);
  const proto = i.protocol === null ? '*' : hex2(i.protocol);
  return `${hex2(i.cls)}:${sub}:${proto}`;
}

export function printCondition(c: Condition): string {
  const bang = c.negated ? '!' : '';
  switch (c.kind) {
    case 'true':
    case 'false':
      return bang + c.kind;
    case 'localtime':
    case 'allowed-matches':
      return `${bang}${c.kind}(${c.param})`;
    case 'random':
    case 'rule-applied':
    case 'rule-evaluated':
      return c.param === null ? bang + c.kind : `${bang}${c.kind}(${c.param})`;
  }
}
