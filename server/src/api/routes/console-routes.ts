import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The web console: the static files Vite built into `server/web/dist`, served from the same
 * origin as the API (so the session cookie, SameSite=Strict, and the Origin check just work) and
 * never from a CDN. The console is one page with hash routes, so only `/` and `/assets/<file>`
 * exist. Every response carries a Content-Security-Policy that allows this origin only: no
 * inline script, no eval, no frames.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** Vite's hashed file names: letters, digits, dot, dash and underscore; nothing that walks. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

/** Text files are sent gzipped when the browser takes it (the bundle shrinks about 3×). */
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

export function consoleRoutes(webRoot: string) {
  // Hashed assets never change while the server runs: each is compressed once.
  const gzipped = new Map<string, Buffer>();
  return async (app: FastifyInstance): Promise<void> => {
    const page = async (reply: FastifyReply, file: string, type: string, cache: string): Promise<FastifyReply> => {
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return reply
          .status(404)
          .header('Content-Type', 'text/plain; charset=utf-8')
          .send(file.endsWith('index.html') ? 'The console is not built: run `npm run build` (or `npm start`).\n' : 'Not found\n');
      }
      const acceptsGzip = /\bgzip\b/.test(String(reply.request.headers['accept-encoding'] ?? ''));
      if (acceptsGzip && COMPRESSIBLE.test(type) && body.length > 1024) {
        const key = cache === 'immutable' ? file : '';
        let packed = key ? gzipped.get(key) : undefined;
        if (packed === undefined) {
          packed = gzipSync(body);
          if (key && gzipped.size < 256) gzipped.set(key, packed);
        }
        body = packed;
        reply.header('Content-Encoding', 'gzip');
      }
      return reply
        .header('Vary', 'Accept-Encoding')
        .header('Content-Type', type)
        .header('Content-Security-Policy', CONSOLE_CSP)
        .header('X-Frame-Options', 'DENY')
        .header('Referrer-Policy', 'no-referrer')
        .header('Cross-Origin-Opener-Policy', 'same-origin')
        .header('X-Console-Cache', cache)
        .send(body);
    };

    app.get('/', { config: { access: 'public', summary: 'The web console' } }, async (_request, reply) =>
      page(reply, join(webRoot, 'index.html'), 'text/html; charset=utf-8', 'no-cache'),
    );

    app.get<{ Params: { file: string } }>(
      '/assets/:file',
      {
        config: { access: 'public', summary: 'A file of the web console' },
        schema: { params: { type: 'object', required: ['file'], properties: { file: { type: 'string', maxLength: 201 } } } },
      },
      async (request, reply) => {
        const name = request.params.file;
        const type = TYPES[extname(name)];
        if (!ASSET_NAME.test(name) || name.includes('..') || type === undefined) {
          return reply.status(404).header('Content-Type', 'text/plain; charset=utf-8').send('Not found\n');
        }
        // Hashed names never change content: cache for a year.
        return page(reply, join(webRoot, 'assets', name), type, 'immutable');
      },
    );
  };
}
