/**
 * End to end over real TLS: the server as `npm start` runs it (startServer, its own CA), an agent
 * identity enrolled through the API, and the agent's durable spool and link talking to the hub
 * with the CA pinned. Events appended on the "PC" must land in the server's event log exactly once,
 * and the signed policy the hub pushes must verify with the key handed out at enrollment.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSpool } from '@portcullis/agent/dist/src/spool/file-spool.js';
import { ServerLink } from '@portcullis/agent/dist/src/link/server-link.js';
import { ed25519Verifier } from '@portcullis/agent/dist/src/state/ed25519-verifier.js';
import { loadConfig } from '@portcullis/server/dist/src/config.js';
import { startServer, type RunningServer } from '@portcullis/server/dist/src/main.js';
import { verifySignedPolicy, type ServerMessage, type SignedPolicy } from '@portcullis/shared';
import { call, until, type Reply } from './support/server-api.js';

const ADMIN_PASSWORD = 'e2e-admin-password-123';

describe('end to end: agent spool and link to the server over TLS', () => {
  let dir: string;
  let server: RunningServer;
  let ca: Buffer;
  let admin: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-e2e-'));
    const config = loadConfig(['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', join(dir, 'server')], { PORTCULLIS_LOG_LEVEL: 'error' });
    server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, () => undefined);
    ca = await readFile(join(dir, 'server', 'pki', 'ca.crt'));
    const login = await call(server.url, ca, 'POST', '/api/v1/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(login.status).to.equal(200);
    admin = login.json.token;
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function enroll(machineId: string): Promise<{ agentId: string; secret: string; signingKeys: Array<{ keyId: string; publicKeyPem: string }> }> {
    const token = await call(server.url, ca, 'POST', '/api/v1/enrollment-tokens', { group: 'default' }, admin);
    expect(token.status).to.equal(201);
    const enrolled = await call(server.url, ca, 'POST', '/api/v1/enroll', {
      token: token.json.token,
      hostname: 'pc-e2e-01',
      machineId,
      os: 'Debian GNU/Linux 12',
      agentVersion: '0.1.0',
    });
    expect(enrolled.status).to.equal(201);
    return enrolled.json;
  }

  it('delivers every spooled event exactly once and applies the pushed signed policy', async () => {
    const { agentId, secret, signingKeys } = await enroll('e2e-machine-000001');

    const logger = { info: () => undefined, warn: () => undefined };
    const spool = await FileSpool.open(join(dir, 'spool'), { clock: () => new Date(), logger });
    const events = Array.from({ length: 1200 }, (_, i) => ({
      type: 'device.blocked',
      severity: 'high' as const,
      occurredAt: new Date().toISOString(),
      data: { n: i, device: { id: '0781:5567', name: 'Cruzer Blade', interfaces: ['08:06:50'] }, trace: { line: 5, rule: 'block with-interface one-of { 08:*:* }' } },
    }));
    // Half before the link starts (a PC that was offline), half while it runs.
    await spool.append(events.slice(0, 600));

    const received: ServerMessage[] = [];
    const link = new ServerLink({
      url: server.url.replace(/^https:/, 'wss:') + '/agent',
      agentId,
      secret,
      caCertPem: ca.toString('utf8'),
      spool,
      hello: () => ({ agentVersion: '0.1.0', hostname: 'pc-e2e-01', os: 'linux', appliedVersion: null, spoolDepth: spool.depth() }),
      clock: () => Date.now(),
      random: Math.random,
      backoff: { baseMs: 100, capMs: 1000 },
      heartbeatMs: 30_000,
      logger,
      onMessage: (msg) => received.push(msg),
    });
    link.start();
    try {
      await spool.append(events.slice(600));
      link.notify();
      await until('the spool to drain', () => spool.depth() === 0);
      await until('the policy push', () => received.some((m) => m.type === 'policy'));
    } finally {
      await link.stop();
      await spool.close();
    }

    const stored: Array<{ seq: number; data: { n: number } }> = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await call(server.url, ca, 'GET', `/api/v1/events?agent=${agentId}&type=device.blocked&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, undefined, admin);
      expect(page.status).to.equal(200);
      stored.push(...page.json.events);
      cursor = page.json.nextCursor;
    } while (cursor !== null);
    expect(stored).to.have.length(1200);
    expect(new Set(stored.map((e) => e.data.n)).size).to.equal(1200);
    expect(stored.map((e) => e.seq).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 1200 }, (_, i) => i + 1));

    const policyMsg = received.find((m) => m.type === 'policy') as Extract<ServerMessage, { type: 'policy' }>;
    const doc = verifySignedPolicy(policyMsg.body.signed as SignedPolicy, ed25519Verifier(signingKeys));
    expect(doc.group).to.equal('default');
    expect(doc.rules).to.contain('block');

    const verify = await call(server.url, ca, 'GET', '/api/v1/audit?limit=1', undefined, admin);
    expect(verify.status).to.equal(200);
  });

  it('refuses the link when the pinned CA is not the server\u2019s', async () => {
    const logger = { info: () => undefined, warn: () => undefined };
    const spool = await FileSpool.open(join(dir, 'spool-2'), { clock: () => new Date(), logger });
    await spool.append([{ type: 'agent.started', severity: 'info', occurredAt: new Date().toISOString(), data: {} }]);
    const warnings: string[] = [];
    const otherCa = (await readFile(join(dir, 'server', 'pki', 'server.crt'))).toString('utf8').split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n';
    // Valid credentials: the only thing wrong is the CA the agent pins.
    const { agentId, secret } = await enroll('e2e-machine-000002');
    const link = new ServerLink({
      url: server.url.replace(/^https:/, 'wss:') + '/agent',
      agentId,
      secret,
      caCertPem: otherCa,
      spool,
      hello: () => ({ agentVersion: '0.1.0', hostname: 'pc', os: 'linux', appliedVersion: null, spoolDepth: 1 }),
      clock: () => Date.now(),
      random: () => 0.5,
      backoff: { baseMs: 100, capMs: 200 },
      heartbeatMs: 30_000,
      logger: { info: () => undefined, warn: (m: string, meta?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(meta ?? {})}`) },
      onMessage: () => undefined,
    });
    link.start();
    try {
      await until('a refused connection', () => warnings.length > 0, 5000);
      expect(link.connected).to.equal(false);
      expect(warnings.join(' ')).to.match(/certificate|self[- ]signed|verify/i);
      expect(spool.depth()).to.equal(1);
    } finally {
      await link.stop();
      await spool.close();
    }
  });
});
