export function parseRoute(hash) {
    const raw = hash.replace(/^#/, '') || '/';
    const [pathPart = '/', queryPart = ''] = raw.split('?', 2);
    const path = `/${pathPart.split('/').filter((s) => s.length > 0).map(safeDecode).join('/')}`;
    return { path, segments: path.split('/').filter((s) => s.length > 0), query: new URLSearchParams(queryPart) };
}
export function routeHref(path, query = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
        if (v !== undefined && v !== '')
            params.set(k, v);
    const qs = params.toString();
    return `#${path.split('/').map((s) => encodeURIComponent(s)).join('/')}${qs ? `?${qs}` : ''}`;
}
function safeDecode(segment) {
    try {
        return decodeURIComponent(segment);
    }
    catch {
        // A malformed escape in a hand-edited URL is kept as typed; it will match no page.
        return segment;
    }
}
//# sourceMappingURL=router.js.map