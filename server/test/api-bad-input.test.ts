/**
 * Bad input never yields a 500: every route the app documents (GET /api/docs) gets malformed and
 * unexpected input from an admin, and must answer 4xx in the API's error format.
 */
import { expect } from 'chai';
import type { LightMyRequestResponse } from 'fastify';
import { MAX_BODY_BYTES } from '../src/api/app.js';
import { HOUR_MS, documentedOperations, expectError, fillPath, key, seedAgent, useApi, type OpenApiOperation } from './api-support.js';

// One row per kind of bad body: sent as the raw request text, labelled application/json.
const BAD_BODIES: ReadonlyArray<readonly [string, string]> = [
  ['invalid JSON text', '{"name": "x",'],
  ['a JSON array', '[{"name": "x"}]'],
  ['a JSON string', '"x"'],
  ['an object with an unknown field', '{"unknownField": 1}'],
  ['a prototype-polluting object', '{"__proto__": {"role": "admin"}}'],
  ['a constructor.prototype object', '{"constructor": {"prototype": {"role": "admin"}}}'],
];

const OPERATIONS = await documentedOperations();

/** 4xx with the API's error body: {"error":{"code":"PORTCULLIS_ERR_…","message":"…"}}. */
function isClientError(res: LightMyRequestResponse): boolean {
  if (res.statusCode < 400 || res.statusCode >= 500) return false;
  try {
    const error = (res.json() as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof error?.code === 'string' && error.code.startsWith('PORTCULLIS_ERR_') && typeof error.message === 'string';
  } catch {
    return false; // not JSON at all
  }
}

/**
 * GET has no body semantics (RFC 9110 §9.3.1) and Fastify does not read one, so a GET's bad
 * input is an unknown query parameter; every other method reads its body or must refuse one.
 */
const takesBody = (op: OpenApiOperation): boolean => op.method !== 'GET';

describe('REST API bad input', () => {
  const api = useApi();
  const ids = { agent: 'agt_bad', event: '', token: 'tok_bad' };

  before(async () => {
    const { store, clock } = api();
    const now = clock.now().toISOString();
    await seedAgent(store, { id: ids.agent, group: 'default', hostname: 'pc-bad-01' });
    await store.ingestEvents(ids.agent, 'default', [{ seq: 1, type: 'device.blocked', severity: 'high', occurredAt: now, data: {} }], now);
    ids.event = String((await store.queryEvents({ limit: 1 }))[0]?.id);
    const expiresAt = new Date(clock.now().getTime() + HOUR_MS).toISOString();
    await store.createEnrollmentToken({ id: ids.token, tokenHash: 'e'.repeat(64), group: 'default', createdAt: now, createdBy: 'admin', expiresAt });
  });

  /** The route with real path values, so that only the bad input can stop the request. */
  const urlOf = (op: OpenApiOperation): string => {
    const id = op.path.startsWith('/api/v1/events') ? ids.event : op.path.startsWith('/api/v1/agents') ? ids.agent : ids.token;
    return fillPath(op.path, { group: 'default', username: 'viewer', id, address: 'nobody@mincom.gov.az' });
  };
  /** A fresh admin session per request: a route that wrongly acts on bad input may be a log-out. */
  const send = async (op: OpenApiOperation, url: string, body?: string, headers?: Record<string, string>): Promise<LightMyRequestResponse> =>
    api().call(op.method as 'GET', url, { token: await api().session('admin'), ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });

  it('reads the routes from the OpenAPI document', () => {
    expect(OPERATIONS.length, 'documented operations').to.be.above(20);
  });

  for (const op of OPERATIONS) {
    describe(key(op), () => {
      if (takesBody(op)) {
        it('refuses a malformed or unexpected JSON body with 4xx', async () => {
          const failures: string[] = [];
          for (const [name, text] of BAD_BODIES) {
            const res = await send(op, urlOf(op), text);
            if (!isClientError(res)) failures.push(`${name} → ${res.statusCode} ${res.body.slice(0, 70)}`);
          }
          expect(failures, 'bad bodies not refused').to.deep.equal([]);
        });

        it('refuses a body that is not JSON with 415, and one over 2 MiB with 413', async () => {
          expectError(await send(op, urlOf(op), '<policy/>', { 'content-type': 'application/xml' }), 415);
          expectError(await send(op, urlOf(op), JSON.stringify({ x: 'x'.repeat(MAX_BODY_BYTES) })), 413);
        });
      } else {
        it('never fails on a body it does not read', async () => {
          for (const [name, text] of BAD_BODIES) {
            const res = await send(op, urlOf(op), text);
            expect(res.statusCode, `${name}: ${res.body}`).to.be.below(500);
            if (res.statusCode >= 400) expectError(res, res.statusCode);
          }
        });

        it('refuses an unknown query parameter with 400', async () => {
          expectError(await send(op, `${urlOf(op)}?unknownField=1`), 400);
        });

        it('refuses bad query values with 4xx, never 5xx', async () => {
          for (const name of op.queryParams) {
            for (const value of ['', '%00', 'x'.repeat(5000), '-1', '1e999', '[object Object]']) {
              const res = await send(op, `${urlOf(op)}?${name}=${value}`);
              expect(res.statusCode, `${name}=${value.slice(0, 20)}: ${res.body}`).to.be.below(500);
              if (res.statusCode >= 400) expectError(res, res.statusCode);
            }
            const twice = await send(op, `${urlOf(op)}?${name}=a&${name}=b`);
            expect(twice.statusCode, `${name} twice`).to.be.within(400, 499);
          }
        });
      }

      it('refuses path values out of shape or unknown with 4xx in the error format, never 5xx', async () => {
        if (!op.path.includes('{')) return;
        // Encoded values, then raw ones: a broken percent-escape.
        const values = ['x'.repeat(300), '..', '%00', 'ÄÖÜ', ' ', '-1', '99999999999999999999'].map(encodeURIComponent).concat(['%E0%A4%A', '%zz']);
        const failures: string[] = [];
        for (const value of values) {
          const url = op.path.replace(/\{[A-Za-z0-9_]+\}/g, value);
          const res = await send(op, url, takesBody(op) ? '{}' : undefined);
          if (!isClientError(res)) failures.push(`${value.slice(0, 12)} → ${res.statusCode} ${res.body.slice(0, 70)}`);
        }
        expect(failures, 'path values not refused in the error format').to.deep.equal([]);
      });
    });
  }

  // Last (mocha runs describes in order).
  describe('afterwards', () => {
    it('logged no internal error for any of it', () => {
      expect(api().logs.filter((l) => l.level === 'error')).to.deep.equal([]);
    });
  });
});
