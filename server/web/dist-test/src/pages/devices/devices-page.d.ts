import type { Route } from '../../router.js';
export declare function DevicesPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=devices-page.d.ts.map