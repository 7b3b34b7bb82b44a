import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { AppContext, translators, type SessionUser } from './app-context.js';
import { Layout } from './components/layout.js';
import { DEFAULT_LOCALE, isLocale, type Locale } from './i18n/i18n.js';
import { pageFor } from './pages/index.js';
import { SignInPage } from './pages/sign-in-page.js';
import { parseRoute, type Route } from './router.js';

const LOCALE_KEY = 'portcullis.locale';

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(LOCALE_KEY);
  return isLocale(saved) ? saved : DEFAULT_LOCALE;
}

export function App() {
  const api = useMemo(() => new Api(), []);
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [user, setUser] = useState<SessionUser | null>(null);
  const [checked, setChecked] = useState(false);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  // Whether a session exists: the cookie is HttpOnly, so only the server can say. Without one
  // the answer is 401, which the browser itself logs as a failed resource load (no script can
  // silence that line); it is the expected answer here, not an error, and is not logged again.
  useEffect(() => {
    api
      .get<SessionUser>('/me')
      .then((me) => setUser(me))
      .catch((err: unknown) => {
        if (!(err instanceof ApiError && err.status === 401)) console.error(err);
      })
      .finally(() => setChecked(true));
  }, [api]);

  const setLocale = (next: Locale) => {
    globalThis.localStorage?.setItem(LOCALE_KEY, next);
    setLocaleState(next);
  };
  const value = useMemo(() => ({ api, locale, setLocale, user, setUser, ...translators(locale) }), [api, locale, user]);

  if (!checked) return null;
  return (
    <AppContext.Provider value={value}>
      {user === null ? (
        <SignInPage />
      ) : (
        <Layout route={route}>{pageFor(route, user)}</Layout>
      )}
    </AppContext.Provider>
  );
}
