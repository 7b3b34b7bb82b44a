import { jsx as _jsx } from "preact/jsx-runtime";
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { AppContext, makeT } from './app-context.js';
import { Layout } from './components/layout.js';
import { DEFAULT_LOCALE, isLocale } from './i18n/i18n.js';
import { pageFor } from './pages/index.js';
import { SignInPage } from './pages/sign-in-page.js';
import { parseRoute } from './router.js';
const LOCALE_KEY = 'portcullis.locale';
function initialLocale() {
    const saved = globalThis.localStorage?.getItem(LOCALE_KEY);
    return isLocale(saved) ? saved : DEFAULT_LOCALE;
}
export function App() {
    const api = useMemo(() => new Api(), []);
    const [locale, setLocaleState] = useState(initialLocale);
    const [user, setUser] = useState(null);
    const [checked, setChecked] = useState(false);
    const [route, setRoute] = useState(() => parseRoute(location.hash));
    useEffect(() => {
        const onHash = () => setRoute(parseRoute(location.hash));
        addEventListener('hashchange', onHash);
        return () => removeEventListener('hashchange', onHash);
    }, []);
    useEffect(() => {
        document.documentElement.lang = locale;
    }, [locale]);
    useEffect(() => {
        api
            .get('/me')
            .then((me) => setUser(me))
            .catch((err) => {
            if (!(err instanceof ApiError && err.status === 401))
                console.error(err);
        })
            .finally(() => setChecked(true));
    }, [api]);
    const setLocale = (next) => {
        globalThis.localStorage?.setItem(LOCALE_KEY, next);
        setLocaleState(next);
    };
    const value = useMemo(() => ({ api, locale, setLocale, user, setUser, t: makeT(locale) }), [api, locale, user]);
    if (!checked)
        return null;
    return (_jsx(AppContext.Provider, { value: value, children: user === null ? (_jsx(SignInPage, {})) : (_jsx(Layout, { route: route, children: pageFor(route, user) })) }));
}
//# sourceMappingURL=app.js.map