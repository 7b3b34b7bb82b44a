/** A failed API call: the server's `{error: {code, message, details?}}` with the HTTP status. */
export declare class ApiError extends Error {
    readonly status: number;
    readonly code: string;
    readonly details?: unknown | undefined;
    constructor(status: number, code: string, message: string, details?: unknown | undefined);
}
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;
/**
 * The REST API from the console. The session is the HttpOnly cookie the server set at sign-in
 * (SameSite=Strict); state-changing calls are same-origin, which the server checks (Origin).
 * Nothing is kept in localStorage but the language.
 */
export declare class Api {
    private readonly fetchImpl;
    private readonly base;
    constructor(fetchImpl?: Fetch, base?: string);
    get<T>(path: string): Promise<T>;
    post<T>(path: string, body?: unknown): Promise<T>;
    put<T>(path: string, body?: unknown): Promise<T>;
    patch<T>(path: string, body?: unknown): Promise<T>;
    delete<T>(path: string): Promise<T>;
    /** A download link for the current filter (the browser sends the cookie itself). */
    href(path: string): string;
    call<T>(method: string, path: string, body?: unknown): Promise<T>;
}
//# sourceMappingURL=api.d.ts.map