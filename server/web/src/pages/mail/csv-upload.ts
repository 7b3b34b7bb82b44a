/**
 * POST of a CSV file's text (the Api class sends JSON only). Same session cookie, same error
 * shape: a refusal becomes an ApiError with the server's code, message and details.
 */
import { ApiError, type Fetch } from '../../api.js';

export async function postCsv<T>(url: string, csv: string, fetchImpl: Fetch = (input, init) => fetch(input, init)): Promise<T> {
  const res = await fetchImpl(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/json', 'content-type': 'text/csv' },
    body: csv,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page, say: the status is all there is to tell.
    throw new ApiError(res.status, 'PORTCULLIS_ERR_INTERNAL', `the server answered ${res.status} with something that is not JSON`);
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
