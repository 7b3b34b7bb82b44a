/** The web console's files as the server serves them: security headers, caching, compression, refusals. */
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CONSOLE_CSP } from '../src/api/routes/console-routes.js';
import { makeApi, type ApiFixture } from './api-support.js';

describe('REST API: the web console files', () => {
  let web: string;
  let api: ApiFixture;
  const bundle = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

  before(async function () {
    this.timeout(10_000);
    web = await mkdtemp(join(tmpdir(), 'portcullis-web-'));
    await mkdir(join(web, 'assets'));
    await writeFile(join(web, 'index.html'), '<!doctype html><title>Portcullis</title><script type="module" src="/assets/index-Ab12.js"></script>\n');
    await writeFile(join(web, 'assets', 'index-Ab12.js'), bundle);
    await writeFile(join(web, 'assets', 'notes.txt'), 'not a console file type\n');
    api = await makeApi({ webRoot: web });
  });

  after(async () => {
    await api.close();
    await rm(web, { recursive: true, force: true });
  });

  it('serves the page with the strict CSP, no framing, no referrer, and revalidation', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).to.equal(CONSOLE_CSP);
    expect(CONSOLE_CSP).to.contain("script-src 'self'").and.contain("frame-ancestors 'none'").and.not.contain('unsafe');
    expect(res.headers).to.include({ 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(res.headers['x-console-cache'], 'the internal cache hint does not leave the server').to.equal(undefined);
  });

  it('serves hashed assets cached for a year, gzipped when the browser takes it', async () => {
    const plain = await api.app.inject({ method: 'GET', url: '/assets/index-Ab12.js' });
    expect(plain.statusCode).to.equal(200);
    expect(plain.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.body).to.equal(bundle);
    const packed = await api.app.inject({ method: 'GET', url: '/assets/index-Ab12.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(packed.headers['content-encoding']).to.equal('gzip');
    expect(packed.headers.vary).to.equal('Accept-Encoding');
    expect(packed.rawPayload.length).to.be.lessThan(bundle.length / 5);
    expect(gunzipSync(packed.rawPayload).toString('utf8')).to.equal(bundle);
  });

  const refused: Array<[string, string]> = [
    // Walking out of the assets folder, plainly or encoded.
    ['a parent path', '/assets/..%2Findex.html'],
    ['an encoded slash', '/assets/a%2Fb.js'],
    // A file type the console never has.
    ['a .txt file', '/assets/notes.txt'],
    // A name that is not there.
    ['a missing asset', '/assets/nothing-Zz99.js'],
    // Only / and /assets exist: no other path is a page.
    ['another path', '/computers'],
  ];
  for (const [name, url] of refused) {
    it(`answers 404 for ${name}`, async () => {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode, res.body).to.equal(404);
      expect(res.body).to.not.contain('Portcullis</title>');
    });
  }

  it('says how to build the console when it is not built', async () => {
    const bare = await makeApi({ webRoot: join(web, 'missing') });
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).to.equal(404);
      expect(res.body).to.match(/npm run build/);
    } finally {
      await bare.close();
    }
  });
});
