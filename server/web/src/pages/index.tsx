import type { JSX } from 'preact';
import { can, useApp, type Role, type SessionUser } from '../app-context.js';
import type { Route } from '../router.js';
import { AuditPage } from './audit/audit-page.js';
import { ComputersPage } from './computers/computers-page.js';
import { DevicesPage } from './devices/devices-page.js';
import { EventsPage } from './events/events-page.js';
import { MailPage } from './mail/mail-page.js';
import { OverviewPage } from './overview/overview-page.js';
import { PasswordPage } from './password-page.js';
import { PoliciesPage } from './policies/policies-page.js';
import { TokensPage } from './tokens/tokens-page.js';
import { UsersPage } from './users/users-page.js';

type Page = (props: { route: Route }) => JSX.Element;

/** First path segment → page and the lowest role that may open it. */
export const PAGES: Readonly<Record<string, { page: Page; role: Role }>> = {
  overview: { page: OverviewPage, role: 'viewer' },
  events: { page: EventsPage, role: 'viewer' },
  computers: { page: ComputersPage, role: 'viewer' },
  policies: { page: PoliciesPage, role: 'viewer' },
  devices: { page: DevicesPage, role: 'viewer' },
  mail: { page: MailPage, role: 'viewer' },
  audit: { page: AuditPage, role: 'admin' },
  users: { page: UsersPage, role: 'admin' },
  tokens: { page: TokensPage, role: 'admin' },
  password: { page: PasswordPage, role: 'viewer' },
};

export function pageFor(route: Route, user: SessionUser): JSX.Element {
  const entry = Object.hasOwn(PAGES, route.segments[0] ?? 'overview') ? PAGES[route.segments[0] ?? 'overview'] : undefined;
  if (entry === undefined) return <Message keyName="common.notFound" />;
  if (!can(user, entry.role)) return <Message keyName="common.forbidden" />;
  const Page = entry.page;
  return <Page route={route} />;
}

function Message({ keyName }: { keyName: 'common.notFound' | 'common.forbidden' }) {
  const { t } = useApp();
  return (
    <p role="alert" class="notice">
      {t(keyName)}
    </p>
  );
}
