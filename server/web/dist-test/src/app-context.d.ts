import type { Api } from './api.js';
import { type Locale, type MessageKey } from './i18n/i18n.js';
export type Role = 'admin' | 'security' | 'viewer';
export interface SessionUser {
    readonly username: string;
    readonly role: Role;
}
/** Whether `user` has at least `role` (admin > security > viewer); the server checks again. */
export declare function can(user: SessionUser | null, role: Role): boolean;
export interface AppContextValue {
    readonly api: Api;
    readonly locale: Locale;
    readonly setLocale: (locale: Locale) => void;
    readonly user: SessionUser | null;
    readonly setUser: (user: SessionUser | null) => void;
    readonly t: (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;
}
export declare const AppContext: import("preact").Context<AppContextValue | null>;
export declare function useApp(): AppContextValue;
export declare function makeT(locale: Locale): AppContextValue['t'];
//# sourceMappingURL=app-context.d.ts.map