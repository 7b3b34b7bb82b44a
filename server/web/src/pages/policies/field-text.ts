/**
 * The policy fields the version diff lists besides the rules, in the console's language: the
 * same words as the settings form, so "implicitTarget: block" reads as the form does. Pure.
 */
import { COMPOSITE_DEVICE_MODES, PORT_ACTIONS, PORT_CLASSES, PRESENT_DEVICE_POLICIES, TARGETS } from '@portcullis/shared';
import { msg, type Msg } from '../../i18n/i18n.js';

const oneOf = <T extends string>(list: readonly T[], v: string): v is T => (list as readonly string[]).includes(v);

/** A FieldChange's `field` (`implicitTarget`, `ports.serial`, `exceptions`) as the form names it. */
export function fieldLabel(field: string): Msg | string {
  switch (field) {
    case 'implicitTarget':
      return msg('policies.settings.implicitTarget');
    case 'presentDevices':
      return msg('policies.settings.presentDevices');
    case 'compositeDevices':
      return msg('policies.settings.compositeDevices');
    case 'mailEgress.mode':
      return msg('policies.mail.mode');
    case 'mailEgress.servers':
      return msg('policies.mail.servers');
    case 'exceptions':
      return msg('policies.diff.exceptions');
  }
  const port = field.startsWith('ports.') ? field.slice('ports.'.length) : '';
  return oneOf(PORT_CLASSES, port) ? msg(`policies.port.${port}`) : field;
}

/** A field's value in words; the exceptions list (ids and rules) and anything unknown as they are. */
export function fieldValue(field: string, value: string): Msg | string {
  if (field === 'implicitTarget' && oneOf(TARGETS, value)) return msg(`policies.target.${value}`);
  if (field === 'presentDevices' && oneOf(PRESENT_DEVICE_POLICIES, value)) return msg(`policies.present.${value}`);
  if (field === 'compositeDevices' && oneOf(COMPOSITE_DEVICE_MODES, value)) return msg(`policies.composite.${value}`);
  if (field === 'mailEgress.mode' && (value === 'off' || value === 'enforce')) return msg(`policies.mail.mode.${value}`);
  if (field.startsWith('ports.') && oneOf(PORT_ACTIONS, value)) return msg(`policies.portAction.${value}`);
  if (field === 'exceptions' && value === '') return msg('common.none');
  return value;
}
