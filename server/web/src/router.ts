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

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart = '/', queryPart = ''] = raw.split('?', 2);
  const path = `/${pathPart.split('/').filter((s) => s.length > 0).map(safeDecode).join('/')}`;
  return { path, segments: path.split('/').filter((s) => s.length > 0), query: new URLSearchParams(queryPart) };
}

export function routeHref(path: string, query: Readonly<Record<string, string | undefined>> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const qs = params.toString();
  return `#${path.split('/').map((s) => encodeURIComponent(s)).join('/')}${qs ? `?${qs}` : ''}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape in a hand-edited URL is kept as typed; it will match no page.
    return segment;
  }
}
