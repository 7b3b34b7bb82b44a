import type { Route } from '../../router.js';
export declare function PoliciesPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=policies-page.d.ts.map