import type { Route } from '../../router.js';
export declare function UsersPage(_props: {
    route: Route;
}): import("preact").JSX.Element;
//# sourceMappingURL=users-page.d.ts.map