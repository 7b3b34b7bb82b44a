import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';
import { translate, type Locale, type MessageKey } from './i18n/i18n.js';

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
  readonly t: (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;
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
