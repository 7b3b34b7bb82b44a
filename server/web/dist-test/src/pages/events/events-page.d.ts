import type { Route } from '../../router.js';
export declare function EventsPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=events-page.d.ts.map