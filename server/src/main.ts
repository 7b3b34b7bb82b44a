import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ApiOptions, ServerDeps } from './api/deps.js';
import { buildApi } from './api/app.js';
import { bootstrap } from './bootstrap.js';
import { describeConfig, type ServerConfig } from './config.js';
import { AgentHub, DEFAULT_HUB_OPTIONS } from './hub/agent-hub.js';
import { ensureServerIdentity } from './pki/index.js';
import { createLogger, openConfiguredStore } from './runtime.js';
import { unapprovedAccountEvents } from './mail/mail-account-audit.js';
import { MailDirectory } from './mail/mail-directory.js';
import { MailEventSink } from './mail/mail-event-sink.js';
import { MailPolicyService } from './mail/mail-policy-service.js';
import { MailStats } from './mail/mail-stats.js';

export interface RunningServer {
  readonly url: string;
  readonly fingerprint256: string;
  /** The CA agents pin at enrollment; the TLS chain the server sends ends with it. */
  readonly caFingerprint256: string;
  readonly app: FastifyInstance;
  readonly hub: AgentHub;
  /** Where the Postfix policy service listens; null when turned off. */
  readonly mailPolicy: { readonly host: string; readonly port: number } | null;
  close(): Promise<void>;
}

/**
 * The composition root (STYLE §2): picks the adapters (store, PKI, hub, logger) and starts
 * HTTPS + WSS. Everything else receives what it needs through ServerDeps.
 */
export async function startServer(config: ServerConfig, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<RunningServer> {
  const clock = () => new Date();
  const logger = createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);
  logger.info('starting', { config: describeConfig(config) });
  const identity = await ensureServerIdentity(config.dataDir, { hostnames: config.hostnames, now: clock() });
  if (identity.status.renewalReason) logger.info('server certificate renewed', { reason: identity.status.renewalReason });
  const store = await openConfiguredStore(config);
  const hub = new AgentHub(store, clock, logger, { ...DEFAULT_HUB_OPTIONS, silentAfterSeconds: config.agentSilentAfterSeconds });
  // The public URL is final only once listening (port 0 picks a port); routes read it per request.
  const options: { -readonly [K in keyof ApiOptions]: ApiOptions[K] } = {
    sessionTtlHours: config.sessionTtlHours,
    secureCookies: true,
    overviewCacheMs: 5_000,
    webRoot: fileURLToPath(new URL('../../web/dist/', import.meta.url)),
    caFingerprint256: identity.caFingerprint256,
  };
  // Email control (DESIGN.md §5): the registry snapshot feeds the Postfix policy service and the
  // check of the mail accounts agents find; both write their events through one batching sink.
  const directory = new MailDirectory(store, logger);
  await directory.start();
  const mailEvents = new MailEventSink(store, clock, logger);
  const mailStats = new MailStats(clock());
  const mailService = config.mailPolicyListen === null ? null : new MailPolicyService({ directory, events: mailEvents, stats: mailStats, logger, clock }, config.mailPolicyListen);
  hub.onInventory = async (agent, before, after) => {
    // Server events have no agent sequence, so the PC is named in the data (as `agent.silent` does).
    for (const event of unapprovedAccountEvents(before, after, agent.group, directory.snapshot, clock().toISOString())) {
      mailEvents.add(agent.group, { ...event, data: { agentId: agent.id, hostname: agent.hostname, ...event.data } });
    }
  };
  const deps: ServerDeps = {
    store,
    clock,
    signer: { keyId: identity.signingKeyId, publicKeyPem: identity.signingPublicKeyPem, sign: identity.sign },
    publisher: hub,
    logger,
    options,
    mail: { registryChanged: () => directory.changed(), stats: () => mailStats.snapshot() },
  };
  await bootstrap(deps, env, print);
  // The chain includes the CA so that an agent enrolling with the CA's fingerprint can read the CA
  // certificate from the handshake and pin it (a renewed server certificate then stays trusted).
  const app = await buildApi(deps, { key: identity.keyPem, cert: identity.certPem + identity.caCertPem });
  hub.attach(app.server as Server);
  // The server certificate is renewed by ensureServerIdentity when it nears expiry; a server that
  // runs for years must pick that up without a restart.
  const renewal = setInterval(() => {
    void ensureServerIdentity(config.dataDir, { hostnames: config.hostnames, now: clock() })
      .then((id) => {
        if (id.status.serverCertificate !== 'renewed') return;
        (app.server as unknown as { setSecureContext(o: { key: string; cert: string }): void }).setSecureContext({ key: id.keyPem, cert: id.certPem + id.caCertPem });
        logger.info('server certificate renewed', { reason: id.status.renewalReason, fingerprint: id.fingerprint256 });
      })
      .catch((err: Error) => logger.error('certificate renewal failed', { error: err.message }));
  }, 24 * 3600_000);
  renewal.unref();
  // The policy service first: a port already taken stops the start-up before agents connect.
  const mailPolicy = mailService === null ? null : await mailService.listen();
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const url = config.listen.port === 0 ? config.publicUrl.replace(/:0$/, `:${port}`) : config.publicUrl;
  options.publicUrl = url;
  logger.info('listening', { url });
  print(`Portcullis server listening on ${url}`);
  print(`  Web console ${url}/ (sign in as an admin)`);
  print(`  REST API ${url}/api/v1 (OpenAPI document at ${url}/api/docs); agents connect to wss://${url.replace(/^https:\/\//, '')}/agent`);
  print(`  Server certificate SHA-256 fingerprint: ${identity.fingerprint256}`);
  print(`  CA certificate SHA-256 fingerprint:     ${identity.caFingerprint256} (agents pin this CA at enrollment)`);
  if (mailPolicy !== null) {
    logger.info('mail policy service listening', mailPolicy);
    print(`  Postfix policy service on ${mailPolicy.host}:${mailPolicy.port} (check_policy_service inet:${mailPolicy.host}:${mailPolicy.port})`);
  } else {
    print('  Postfix policy service: off');
  }
  return {
    url,
    fingerprint256: identity.fingerprint256,
    caFingerprint256: identity.caFingerprint256,
    app,
    hub,
    mailPolicy,
    async close() {
      clearInterval(renewal);
      directory.stop();
      await mailService?.close();
      await hub.close();
      await app.close();
      await mailEvents.close();
      await store.close();
    },
  };
}
