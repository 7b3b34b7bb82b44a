import { jsx as _jsx, jsxs as _jsxs } from "preact/jsx-runtime";
import { can, useApp } from '../app-context.js';
import { LOCALES } from '../i18n/i18n.js';
import { routeHref } from '../router.js';
/** The pages a role may open; links a role may not use are not shown (the server refuses them anyway). */
export const NAV = [
    { path: '/overview', label: 'nav.overview', role: 'viewer' },
    { path: '/events', label: 'nav.events', role: 'viewer' },
    { path: '/computers', label: 'nav.computers', role: 'viewer' },
    { path: '/policies', label: 'nav.policies', role: 'viewer' },
    { path: '/devices', label: 'nav.devices', role: 'viewer' },
    { path: '/audit', label: 'nav.audit', role: 'admin' },
    { path: '/users', label: 'nav.users', role: 'admin' },
    { path: '/tokens', label: 'nav.tokens', role: 'admin' },
];
export function Layout({ route, children }) {
    const { t, user, api, setUser, locale, setLocale } = useApp();
    const signOut = async () => {
        try {
            await api.delete('/session');
        }
        finally {
            setUser(null);
            location.hash = '';
        }
    };
    const current = `/${route.segments[0] ?? 'overview'}`;
    return (_jsxs("div", { class: "shell", children: [_jsxs("header", { class: "topbar", children: [_jsxs("a", { class: "brand", href: routeHref('/overview'), children: [t('app.name'), " ", _jsx("span", { class: "tagline", children: t('app.tagline') })] }), _jsxs("div", { class: "topbar-right", children: [_jsxs("label", { class: "lang", children: [_jsx("span", { class: "visually-hidden", children: t('lang.switch') }), _jsx("select", { value: locale, onChange: (e) => setLocale(e.currentTarget.value), "data-testid": "lang", children: LOCALES.map((l) => (_jsx("option", { value: l, children: t(`lang.${l}`) }, l))) })] }), _jsx("span", { class: "who", "data-testid": "who", children: t('user.menu', { name: user?.username ?? '', role: user ? t(`role.${user.role}`) : '' }) }), _jsx("a", { href: routeHref('/password'), children: t('user.changePassword') }), _jsx("button", { type: "button", class: "link", onClick: () => void signOut(), "data-testid": "sign-out", children: t('user.signOut') })] })] }), _jsx("nav", { class: "sidenav", "aria-label": t('nav.main'), children: _jsx("ul", { children: NAV.filter((n) => can(user, n.role)).map((n) => (_jsx("li", { children: _jsx("a", { href: routeHref(n.path), "aria-current": current === n.path ? 'page' : undefined, children: t(n.label) }) }, n.path))) }) }), _jsx("main", { class: "content", id: "main", children: children })] }));
}
//# sourceMappingURL=layout.js.map