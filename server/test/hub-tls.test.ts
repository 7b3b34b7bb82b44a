/**
 * End to end over TLS: the real composition root (startServer) on port 0 with a fresh data
 * folder, an agent enrolled through the API, connecting with wss:// and trusting only the CA
 * the server created in `<data>/pki/ca.crt`.
 */
import { expect } from 'chai';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifySignedPolicy } from '@portcullis/shared';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/main.js';
import { TestAgent, hello } from './hub-support.js';

const ADMIN_PASSWORD = 'correct-horse-battery-staple';

describe('agent hub over TLS (startServer)', function () {
  this.timeout(20_000);
  let dir = '';
  let server: RunningServer | undefined;
  let closed = false;
  const printed: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-tls-'));
    const config = loadConfig(['--listen', '127.0.0.1:0', '--mail-policy-listen', '127.0.0.1:0', '--data', dir], { PORTCULLIS_LOG_LEVEL: 'error' }, {});
    server = await startServer(config, { PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD }, (line) => printed.push(line));
  });

  after(async () => {
    if (server && !closed) await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const running = (): RunningServer => {
    if (!server) throw new Error('the server did not start (see the before hook)');
    return server;
  };

  async function enrollDefault(): Promise<{ agentId: string; secret: string; publicKeyPem: string; keyId: string }> {
    const { app } = running();
    const login = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(login.statusCode, login.body).to.equal(200);
    const session = login.json<{ token: string }>().token;
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/enrollment-tokens',
      headers: { authorization: `Bearer ${session}` },
      payload: { group: 'default' },
    });
    expect(created.statusCode, created.body).to.equal(201);
    const enrolled = await app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      payload: { token: created.json<{ token: string }>().token, hostname: 'pc-tls-01', machineId: 'machine-tls-01', os: 'linux', agentVersion: '0.1.0' },
    });
    expect(enrolled.statusCode, enrolled.body).to.equal(201);
    const body = enrolled.json<{ agentId: string; secret: string; signingKeys: Array<{ keyId: string; publicKeyPem: string }> }>();
    const key = body.signingKeys[0];
    if (!key) throw new Error('enrollment gave no signing key');
    return { agentId: body.agentId, secret: body.secret, ...key };
  }

  it('prints its https URL on a real port', () => {
    expect(running().url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(running().url).not.to.match(/:0$/);
    expect(printed.join('\n')).to.include(`listening on ${running().url}`);
  });

  it('an agent trusting only <data>/pki/ca.crt connects over wss, gets welcome and a policy it can verify', async () => {
    const agent = await enrollDefault();
    const ca = await readFile(join(dir, 'pki', 'ca.crt'));
    const url = `${running().url.replace(/^https:/, 'wss:')}/agent`;
    const client = await TestAgent.connect(url, `Bearer ${agent.agentId}.${agent.secret}`, { ca });
    expect((await client.next('welcome')).body.agentId).to.equal(agent.agentId);
    client.send(hello(null));
    const { body } = await client.next('policy');
    const publicKey = createPublicKey(agent.publicKeyPem);
    const document = verifySignedPolicy(body.signed, (keyId, payload, signature) => keyId === agent.keyId && verify(null, payload, publicKey, signature));
    expect(document.group).to.equal('default');
    await client.close();
  });

  it('a client that does not trust the CA cannot connect', async () => {
    const url = `${running().url.replace(/^https:/, 'wss:')}/agent`;
    let failure: unknown;
    await TestAgent.connect(url, 'Bearer agt_AAAAAAAAAAAA.' + 'A'.repeat(43)).catch((err: unknown) => (failure = err));
    expect(String(failure)).to.match(/self[- ]signed|unable to verify|certificate/i);
  });

  it('close() says 1001 to connected agents and stops listening', async () => {
    // Same machine id as before: this enrollment replaces the earlier identity.
    const agent = await enrollDefault();
    const ca = await readFile(join(dir, 'pki', 'ca.crt'));
    const url = `${running().url.replace(/^https:/, 'wss:')}/agent`;
    const client = await TestAgent.connect(url, `Bearer ${agent.agentId}.${agent.secret}`, { ca });
    await client.next('welcome');
    const started = Date.now();
    await running().close();
    closed = true;
    expect(Date.now() - started).to.be.below(5000);
    expect((await client.closed).code).to.equal(1001);
    let refused: unknown;
    await TestAgent.connect(url, `Bearer ${agent.agentId}.${agent.secret}`, { ca }).catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/ECONNREFUSED/);
  });
});
