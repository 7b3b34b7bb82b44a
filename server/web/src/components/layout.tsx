import type { ComponentChildren } from 'preact';
import { can, useApp, type Role } from '../app-context.js';
import { LOCALES, type MessageKey } from '../i18n/i18n.js';
import { routeHref, type Route } from '../router.js';

interface NavItem {
  readonly path: string;
  readonly label: MessageKey;
  readonly role: Role;
}

/** The pages a role may open; links a role may not use are not shown (the server refuses them anyway). */
export const NAV: readonly NavItem[] = [
  { path: '/overview', label: 'nav.overview', role: 'viewer' },
  { path: '/events', label: 'nav.events', role: 'viewer' },
  { path: '/computers', label: 'nav.computers', role: 'viewer' },
  { path: '/policies', label: 'nav.policies', role: 'viewer' },
  { path: '/devices', label: 'nav.devices', role: 'viewer' },
  { path: '/mail', label: 'nav.mail', role: 'viewer' },
  { path: '/audit', label: 'nav.audit', role: 'admin' },
  { path: '/users', label: 'nav.users', role: 'admin' },
  { path: '/tokens', label: 'nav.tokens', role: 'admin' },
];

export function Layout({ route, children }: { route: Route; children: ComponentChildren }) {
  const { t, user, api, setUser, locale, setLocale } = useApp();
  const signOut = async () => {
    try {
      await api.delete('/session');
    } finally {
      setUser(null);
      location.hash = '';
    }
  };
  const current = `/${route.segments[0] ?? 'overview'}`;
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={routeHref('/overview')}>
          {t('app.name')} <span class="tagline">{t('app.tagline')}</span>
        </a>
        <div class="topbar-right">
          <label class="lang">
            <span class="visually-hidden">{t('lang.switch')}</span>
            <select value={locale} onChange={(e) => setLocale((e.currentTarget as HTMLSelectElement).value as typeof locale)} data-testid="lang">
              {LOCALES.map((l) => (
                <option value={l} key={l}>
                  {t(`lang.${l}`)}
                </option>
              ))}
            </select>
          </label>
          <span class="who" data-testid="who">
            {t('user.menu', { name: user?.username ?? '', role: user ? t(`role.${user.role}`) : '' })}
          </span>
          <a href={routeHref('/password')}>{t('user.changePassword')}</a>
          <button type="button" class="link" onClick={() => void signOut()} data-testid="sign-out">
            {t('user.signOut')}
          </button>
        </div>
      </header>
      <nav class="sidenav" aria-label={t('nav.main')}>
        <ul>
          {NAV.filter((n) => can(user, n.role)).map((n) => (
            <li key={n.path}>
              <a href={routeHref(n.path)} aria-current={current === n.path ? 'page' : undefined}>
                {t(n.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main class="content" id="main">
        {children}
      </main>
    </div>
  );
}
