import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A certificate and its key, as PEM, with its SHA-256 fingerprint (64 lowercase hex digits). */
export interface TestCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly fingerprint: string;
}

/** A CA and a server certificate it issued, made with the openssl CLI as an admin would. */
export interface TestPki {
  readonly ca: TestCert;
  readonly leaf: TestCert;
}

/**
 * Makes a P-256 CA and a server certificate for `names` (default localhost and 127.0.0.1), in
 * a temporary folder removed afterwards. Explicit config files keep the system openssl.cnf
 * (and its default extensions) out of it.
 */
export async function makeTestPki(names: readonly string[] = ['DNS:localhost', 'IP:127.0.0.1'], caName = 'Portcullis Test CA'): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-pki-'));
  const at = (f: string): string => join(dir, f);
  try {
    await writeFile(
      at('ca.cnf'),
      `[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3_ca\n[dn]\nCN = ${caName}\n[v3_ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n`,
    );
    await writeFile(at('leaf.cnf'), `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = portcullis test server\n`);
    await writeFile(
      at('leaf-ext.cnf'),
      `[v3_leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = ${names.join(', ')}\nauthorityKeyIdentifier = keyid\n`,
    );
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await exec('openssl', ['req', '-x509', '-config', at('ca.cnf'), ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '7']);
    await exec('openssl', ['req', '-new', '-config', at('leaf.cnf'), ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr')]);
    await exec('openssl', [
      'x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '7',
      '-extfile', at('leaf-ext.cnf'), '-extensions', 'v3_leaf', '-out', at('leaf.pem'),
    ]);
    const cert = async (name: string): Promise<TestCert> => {
      const certPem = await readFile(at(`${name}.pem`), 'utf8');
      const fingerprint = new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
      return { certPem, keyPem: await readFile(at(`${name}.key`), 'utf8'), fingerprint };
    };
    return { ca: await cert('ca'), leaf: await cert('leaf') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The body `POST /api/v1/enroll` takes, with the server's own limits and patterns (enroll-routes.ts). */
const FIELDS: Readonly<Record<string, { min: number; max: number; pattern?: RegExp }>> = {
  token: { min: 8, max: 128 },
  hostname: { min: 1, max: 253, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ },
  machineId: { min: 8, max: 128, pattern: /^[A-Za-z0-9{}-]+$/ },
  os: { min: 1, max: 128 },
  agentVersion: { min: 1, max: 32, pattern: /^[0-9A-Za-z.+-]+$/ },
};

/** How the fake server answers a valid request with the right token. */
export type FakeBehaviour =
  | { readonly kind: 'enroll'; readonly answer: Record<string, unknown> }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: 'huge'; readonly bytes: number }
  | { readonly kind: 'hang' };

export interface FakeEnrollServer {
  readonly url: string;
  /** Every request body received, parsed (or the raw text when it is not JSON). */
  readonly requests: unknown[];
  behaviour: FakeBehaviour;
  close(): Promise<void>;
}

/**
 * A `node:https` server that answers `POST /api/v1/enroll` as the real route does: 400 with
 * the API's `{error:{code,message}}` for a body that breaks the schema, 401 for a token other
 * than `token`, otherwise what `behaviour` says. `chain` is what the handshake presents
 * (default leaf + CA, like portcullis-server).
 */
export async function startFakeEnrollServer(options: {
  readonly pki: TestPki;
  readonly token: string;
  readonly behaviour: FakeBehaviour;
  readonly chain?: string;
}): Promise<FakeEnrollServer> {
  const requests: unknown[] = [];
  const state = { behaviour: options.behaviour };
  const server: Server = createServer({ key: options.pki.leaf.keyPem, cert: options.chain ?? options.pki.leaf.certPem + options.pki.ca.certPem }, (req, res) => {
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/api/v1/enroll') {
        json(404, { error: { code: 'PORTCULLIS_ERR_NOT_FOUND', message: `no route ${req.method ?? ''} ${req.url ?? ''}` } });
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        requests.push(text);
        json(400, { error: { code: 'PORTCULLIS_ERR_BAD_REQUEST', message: 'invalid request: body is not JSON' } });
        return;
      }
      requests.push(body);
      const problem = schemaProblem(body);
      if (problem !== null) {
        json(400, { error: { code: 'PORTCULLIS_ERR_BAD_REQUEST', message: `invalid request: ${problem}` } });
        return;
      }
      if ((body as { token: string }).token !== options.token) {
        json(401, { error: { code: 'PORTCULLIS_ERR_UNAUTHENTICATED', message: 'enrollment token invalid, expired or revoked' } });
        return;
      }
      const b = state.behaviour;
      if (b.kind === 'enroll') json(201, b.answer);
      else if (b.kind === 'raw') {
        res.writeHead(b.status, { 'content-type': b.contentType ?? 'application/json' });
        res.end(b.body);
      } else if (b.kind === 'huge') {
        // Chunked, with no content-length: the client has to count.
        res.writeHead(201, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = b.bytes;
        const pump = (): void => {
          while (left > 0) {
            left -= chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        // The client is expected to hang up part-way: that is the point of the test.
        res.on('error', () => undefined);
        pump();
      }
      // 'hang': never answer.
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: FakeBehaviour) {
      state.behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What fastify's schema check would complain about, or null. */
function schemaProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be object';
  const obj = body as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!(key in FIELDS)) return 'body must NOT have additional properties';
  for (const [field, rule] of Object.entries(FIELDS)) {
    const v = obj[field];
    if (v === undefined) return `body must have required property '${field}'`;
    if (typeof v !== 'string') return `body/${field} must be string`;
    if (v.length < rule.min) return `body/${field} must NOT have fewer than ${rule.min} characters`;
    if (v.length > rule.max) return `body/${field} must NOT have more than ${rule.max} characters`;
    if (rule.pattern && !rule.pattern.test(v)) return `body/${field} must match pattern "${rule.pattern.source}"`;
  }
  return null;
}
