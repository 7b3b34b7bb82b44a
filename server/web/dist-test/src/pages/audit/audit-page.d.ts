import type { Route } from '../../router.js';
export declare function AuditPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=audit-page.d.ts.map