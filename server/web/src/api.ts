/** A failed API call: the server's `{error: {code, message, details?}}` with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * The REST API from the console. The session is the HttpOnly cookie the server set at sign-in
 * (SameSite=Strict); state-changing calls are same-origin, which the server checks (Origin).
 * Nothing is kept in localStorage but the language.
 */
export class Api {
  constructor(
    private readonly fetchImpl: Fetch = (input, init) => fetch(input, init),
    private readonly base = '/api/v1',
  ) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  /** A download link for the current filter (the browser sends the cookie itself). */
  href(path: string): string {
    return `${this.base}${path}`;
  }

  /** A POST of text as it is (a CSV file to import), with its content type. */
  postText<T>(path: string, text: string, contentType: string): Promise<T> {
    return this.send<T>('POST', path, { text, contentType });
  }

  call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.send<T>(method, path, body === undefined ? undefined : { text: JSON.stringify(body), contentType: 'application/json' });
  }

  private async send<T>(method: string, path: string, body: { text: string; contentType: string } | undefined): Promise<T> {
    const res = await this.fetchImpl(`${this.base}${path}`, {
      method,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': body.contentType } : {}) },
      ...(body !== undefined ? { body: body.text } : {}),
    });
    const text = await res.text();
    let json: unknown = null;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, 'PORTCULLIS_ERR_INTERNAL', `the server answered ${res.status} with something that is not JSON`);
      }
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
      throw new ApiError(
        res.status,
        typeof error?.code === 'string' ? error.code : 'PORTCULLIS_ERR_INTERNAL',
        typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`,
        error?.details,
      );
    }
    return json as T;
  }
}
