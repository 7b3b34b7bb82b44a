import type { Route } from '../../router.js';
export declare function OverviewPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=overview-page.d.ts.map