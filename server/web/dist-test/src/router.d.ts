/**
 * Hash routes (`#/events?severity=high`): the server serves one page and the API, nothing else,
 * so a reload or a bookmark never asks the server for a path it does not have.
 */
export interface Route {
    /** `/events`, `/computers/agt-1` */
    readonly path: string;
    readonly segments: readonly string[];
    readonly query: URLSearchParams;
}
export declare function parseRoute(hash: string): Route;
export declare function routeHref(path: string, query?: Readonly<Record<string, string | undefined>>): string;
//# sourceMappingURL=router.d.ts.map