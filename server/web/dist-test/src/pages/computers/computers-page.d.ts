import type { Route } from '../../router.js';
export declare function ComputersPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=computers-page.d.ts.map