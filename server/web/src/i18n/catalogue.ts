import * as audit from '../pages/audit/messages.js';
import * as computers from '../pages/computers/messages.js';
import * as devices from '../pages/devices/messages.js';
import * as events from '../pages/events/messages.js';
import * as mail from '../pages/mail/messages.js';
import * as overview from '../pages/overview/messages.js';
import * as policies from '../pages/policies/messages.js';
import * as tokens from '../pages/tokens/messages.js';
import * as users from '../pages/users/messages.js';
import * as common from './common-messages.js';

/** Every message set, merged; a key used twice is a mistake the catalogue test reports. */
export const MESSAGE_SETS = { common, overview, events, computers, policies, devices, audit, users, tokens, mail } as const;

export const az = { ...common.az, ...overview.az, ...events.az, ...computers.az, ...policies.az, ...devices.az, ...audit.az, ...users.az, ...tokens.az, ...mail.az };
export const en = { ...common.en, ...overview.en, ...events.en, ...computers.en, ...policies.en, ...devices.en, ...audit.en, ...users.en, ...tokens.en, ...mail.en };

export type MessageKey = keyof typeof az;
export type Messages = Readonly<Record<MessageKey, string>>;
