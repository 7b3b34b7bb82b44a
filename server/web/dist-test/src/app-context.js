import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { translate } from './i18n/i18n.js';
const RANK = { viewer: 1, security: 2, admin: 3 };
/** Whether `user` has at least `role` (admin > security > viewer); the server checks again. */
export function can(user, role) {
    return user !== null && RANK[user.role] >= RANK[role];
}
export const AppContext = createContext(null);
export function useApp() {
    const value = useContext(AppContext);
    if (value === null)
        throw new Error('useApp outside <AppContext.Provider>');
    return value;
}
export function makeT(locale) {
    return (key, params) => translate(locale, key, params);
}
//# sourceMappingURL=app-context.js.map