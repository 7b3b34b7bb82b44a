import type { Route } from '../../router.js';
export declare function TokensPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=tokens-page.d.ts.map