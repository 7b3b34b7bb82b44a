import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';
import { translate, translateMsg, translatePlural, type Locale, type MessageKey, type Msg, type MsgParams, type PluralKey } from './i18n/i18n.js';

export type Role = 'admin' | 'security' | 'viewer';

export interface SessionUser {
  readonly username: string;
  readonly role: Role;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 1, security: 2, admin: 3 };

/** Whether `user` has at least `role` (admin > security > viewer); the server checks again. */
export function can(user: SessionUser | null, role: Role): boolean {
  return user !== null && RANK[user.role] >= RANK[role];
}

export interface AppContextValue {
  readonly api: Api;
  readonly locale: Locale;
  readonly setLocale: (locale: Locale) => void;
  readonly user: SessionUser | null;
  readonly setUser: (user: SessionUser | null) => void;
  /** A message's text; a parameter may be a kept message (translated too). */
  readonly t: (key: MessageKey, params?: MsgParams) => string;
  /** A count and its noun: `tn('devices.count', 1)` is "1 device" (keys `devices.count.one` / `.other`). */
  readonly tn: (key: PluralKey, count: number, params?: MsgParams) => string;
  /** A message kept in state as key and parameters (see msg / msgN), in the current language; a string as it is. */
  readonly tm: (m: Msg | string) => string;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === null) throw new Error('useApp outside <AppContext.Provider>');
  return value;
}

export function makeT(locale: Locale): AppContextValue['t'] {
  return (key, params) => translate(locale, key, params);
}

/** t, tn and tm for `locale`. */
export function translators(locale: Locale): Pick<AppContextValue, 't' | 'tn' | 'tm'> {
  return {
    t: makeT(locale),
    tn: (key, count, params) => translatePlural(locale, key, count, params),
    tm: (m) => translateMsg(locale, m),
  };
}
