import { expect } from 'chai';
import { Api, ApiError } from '../src/api.js';
import { parseRoute, routeHref } from '../src/router.js';
describe('console router', () => {
    const rows = [
        // An empty hash is the start page.
        ['', '/', [], {}],
        ['#/events?severity=high&q=usb', '/events', ['events'], { severity: 'high', q: 'usb' }],
        // Doubled and trailing slashes do not make another page.
        ['#//computers/agt-1/', '/computers/agt-1', ['computers', 'agt-1'], {}],
        // A malformed escape is kept as typed rather than throwing.
        ['#/computers/%E0%A4%A', '/computers/%E0%A4%A', ['computers', '%E0%A4%A'], {}],
    ];
    for (const [hash, path, segments, query] of rows) {
        it(`reads ${JSON.stringify(hash)}`, () => {
            const r = parseRoute(hash);
            expect(r.path).to.equal(path);
            expect(r.segments).to.deep.equal(segments);
            expect(Object.fromEntries(r.query)).to.deep.equal(query);
        });
    }
    it('writes links that read back the same, dropping empty parameters', () => {
        const href = routeHref('/computers/pc 1', { group: 'finance', q: '' });
        expect(href).to.equal('#/computers/pc%201?group=finance');
        expect(parseRoute(href).segments).to.deep.equal(['computers', 'pc 1']);
    });
});
describe('console API client', () => {
    function fake(status, body) {
        const calls = [];
        const api = new Api(async (url, init) => {
            calls.push({ url, init });
            return new Response(body, { status });
        });
        return { api, calls };
    }
    it('sends JSON same-origin and reads JSON', async () => {
        const { api, calls } = fake(200, '{"ok":true}');
        expect(await api.post('/session', { username: 'a' })).to.deep.equal({ ok: true });
        expect(calls[0]?.url).to.equal('/api/v1/session');
        expect(calls[0]?.init).to.deep.include({ method: 'POST', credentials: 'same-origin', body: '{"username":"a"}' });
    });
    it('turns the server\u2019s error body into an ApiError with status, code and details', async () => {
        const { api } = fake(429, '{"error":{"code":"PORTCULLIS_ERR_RATE_LIMITED","message":"too many","details":{"retryAfterSeconds":840}}}');
        const err = await api.get('/me').then(() => null, (e) => e);
        expect(err).to.be.instanceOf(ApiError);
        expect(err).to.deep.include({ status: 429, code: 'PORTCULLIS_ERR_RATE_LIMITED', message: 'too many', details: { retryAfterSeconds: 840 } });
    });
    it('reports an answer that is not JSON (a proxy\u2019s HTML error page) clearly', async () => {
        const { api } = fake(502, '<html>Bad gateway</html>');
        const err = await api.get('/me').then(() => null, (e) => e);
        expect(err?.status).to.equal(502);
        expect(err?.message).to.match(/not JSON/);
    });
});
//# sourceMappingURL=router-api.test.js.map