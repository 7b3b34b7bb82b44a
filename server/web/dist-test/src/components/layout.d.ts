import type { ComponentChildren } from 'preact';
import { type Role } from '../app-context.js';
import { type MessageKey } from '../i18n/i18n.js';
import { type Route } from '../router.js';
interface NavItem {
    readonly path: string;
    readonly label: MessageKey;
    readonly role: Role;
}
/** The pages a role may open; links a role may not use are not shown (the server refuses them anyway). */
export declare const NAV: readonly NavItem[];
export declare function Layout({ route, children }: {
    route: Route;
    children: ComponentChildren;
}): import("preact").JSX.Element;
export {};
//# sourceMappingURL=layout.d.ts.map