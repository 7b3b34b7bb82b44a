/** A failed API call: the server's `{error: {code, message, details?}}` with the HTTP status. */
export class ApiError extends Error {
    status;
    code;
    details;
    constructor(status, code, message, details) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details;
        this.name = 'ApiError';
    }
}
/**
 * The REST API from the console. The session is the HttpOnly cookie the server set at sign-in
 * (SameSite=Strict); state-changing calls are same-origin, which the server checks (Origin).
 * Nothing is kept in localStorage but the language.
 */
export class Api {
    fetchImpl;
    base;
    constructor(fetchImpl = (input, init) => fetch(input, init), base = '/api/v1') {
        this.fetchImpl = fetchImpl;
        this.base = base;
    }
    get(path) {
        return this.call('GET', path);
    }
    post(path, body) {
        return this.call('POST', path, body);
    }
    put(path, body) {
        return this.call('PUT', path, body);
    }
    patch(path, body) {
        return this.call('PATCH', path, body);
    }
    delete(path) {
        return this.call('DELETE', path);
    }
    /** A download link for the current filter (the browser sends the cookie itself). */
    href(path) {
        return `${this.base}${path}`;
    }
    async call(method, path, body) {
        const res = await this.fetchImpl(`${this.base}${path}`, {
            method,
            credentials: 'same-origin',
            headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        let json = null;
        if (text.length > 0) {
            try {
                json = JSON.parse(text);
            }
            catch {
                throw new ApiError(res.status, 'PORTCULLIS_ERR_INTERNAL', `the server answered ${res.status} with something that is not JSON`);
            }
        }
        if (!res.ok) {
            const error = json?.error;
            throw new ApiError(res.status, typeof error?.code === 'string' ? error.code : 'PORTCULLIS_ERR_INTERNAL', typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`, error?.details);
        }
        return json;
    }
}
//# sourceMappingURL=api.js.map