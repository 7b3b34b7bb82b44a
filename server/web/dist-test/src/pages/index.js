import { jsx as _jsx } from "preact/jsx-runtime";
import { can, useApp } from '../app-context.js';
import { AuditPage } from './audit/audit-page.js';
import { ComputersPage } from './computers/computers-page.js';
import { DevicesPage } from './devices/devices-page.js';
import { EventsPage } from './events/events-page.js';
import { OverviewPage } from './overview/overview-page.js';
import { PasswordPage } from './password-page.js';
import { PoliciesPage } from './policies/policies-page.js';
import { TokensPage } from './tokens/tokens-page.js';
import { UsersPage } from './users/users-page.js';
/** First path segment → page and the lowest role that may open it. */
export const PAGES = {
    overview: { page: OverviewPage, role: 'viewer' },
    events: { page: EventsPage, role: 'viewer' },
    computers: { page: ComputersPage, role: 'viewer' },
    policies: { page: PoliciesPage, role: 'viewer' },
    devices: { page: DevicesPage, role: 'viewer' },
    audit: { page: AuditPage, role: 'admin' },
    users: { page: UsersPage, role: 'admin' },
    tokens: { page: TokensPage, role: 'admin' },
    password: { page: PasswordPage, role: 'viewer' },
};
export function pageFor(route, user) {
    const entry = Object.hasOwn(PAGES, route.segments[0] ?? 'overview') ? PAGES[route.segments[0] ?? 'overview'] : undefined;
    if (entry === undefined)
        return _jsx(Message, { keyName: "common.notFound" });
    if (!can(user, entry.role))
        return _jsx(Message, { keyName: "common.forbidden" });
    const Page = entry.page;
    return _jsx(Page, { route: route });
}
function Message({ keyName }) {
    const { t } = useApp();
    return (_jsx("p", { role: "alert", class: "notice", children: t(keyName) }));
}
//# sourceMappingURL=index.js.map