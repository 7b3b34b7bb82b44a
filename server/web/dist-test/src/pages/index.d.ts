import type { JSX } from 'preact';
import { type Role, type SessionUser } from '../app-context.js';
import type { Route } from '../router.js';
type Page = (props: {
    route: Route;
}) => JSX.Element;
/** First path segment → page and the lowest role that may open it. */
export declare const PAGES: Readonly<Record<string, {
    page: Page;
    role: Role;
}>>;
export declare function pageFor(route: Route, user: SessionUser): JSX.Element;
export {};
//# sourceMappingURL=index.d.ts.map