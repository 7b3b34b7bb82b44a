import { ErrorCodes, PortcullisError } from '@portcullis/shared';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, type DetailedPeerCertificate } from 'node:tls';
import { parseEnrollAnswer, serverErrorMessage, type EnrollAnswer, type EnrollRequest } from './enroll-answer.js';
import { normalizeFingerprint } from './fingerprint.js';

export const ENROLL_PATH = '/api/v1/enroll';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_CHAIN = 8;

/** The seams tests turn: how long to wait and how much to read. */
export interface EnrollClientOptions {
  /** For the TLS look at the chain, and again for the whole POST (default 30 s each). */
  readonly timeoutMs?: number;
  /** The largest answer read before giving up (default 1 MiB; a real answer is a few KiB). */
  readonly maxAnswerBytes?: number;
}

/** The certificates the server presented, checked link by link; leaf first, self-signed CA last. */
export interface ServerChain {
  readonly leaf: X509Certificate;
  readonly ca: X509Certificate;
  /** SHA-256 of each certificate, 64 lowercase hex digits. */
  readonly leafFingerprint: string;
  readonly caFingerprint: string;
}

/**
 * The server address as `enroll` takes it: `https://host[:port]` and nothing else. A path,
 * query or credentials would be silently dropped or, worse, sent somewhere; plain http would
 * carry the token and the secret in clear text. Throws ErrorCodes.ENROLL saying what is wrong.
 */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw enrollError(`the server address is not a URL: ${text.slice(0, 200)} (e.g. https://portcullis.example:8443)`);
  }
  if (url.protocol !== 'https:') throw enrollError(`the server address must start with https:// (got ${url.protocol}//): the token and the agent's secret must not travel in clear text`);
  if (url.username !== '' || url.password !== '') throw enrollError('the server address must not contain a user name or password');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw enrollError(`the server address takes no path, query or fragment: use ${url.origin}`);
  return url;
}

/**
 * Reads the certificate chain the server presents, without trusting it yet: a TLS handshake
 * that accepts any certificate, on which nothing is sent; the chain is then checked by
 * checkChain and pinned by the caller. Portcullis servers send `leaf + CA`, so the CA is here.
 */
export function fetchServerChain(server: URL, options: EnrollClientOptions = {}): Promise<ServerChain> {
  const { host, port } = endpoint(server);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined, rejectUnauthorized: false });
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(
      () => finish(() => reject(enrollError(`no TLS handshake with ${server.host} within ${seconds(timeoutMs)}`))),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      try {
        const chain = checkChain(peerChain(socket.getPeerCertificate(true)));
        finish(() => resolve(chain));
      } catch (err) {
        finish(() => reject(err));
      }
    });
    socket.once('error', (err) => finish(() => reject(enrollError(`cannot connect to ${server.host}: ${describe(err)}`))));
    // Without an error, a peer that hangs up mid-handshake would otherwise wait out the timeout.
    socket.once('close', () => finish(() => reject(enrollError(`${server.host} closed the connection during the TLS handshake`))));
  });
}

/**
 * Checks that every certificate of the chain was issued and signed by the next one, that each
 * issuer is a CA, and that the last one is a self-signed CA: the one the agent will pin.
 */
export function checkChain(certs: readonly X509Certificate[]): ServerChain {
  const leaf = certs[0];
  const ca = certs[certs.length - 1];
  if (leaf === undefined || ca === undefined) throw enrollError('the server presented no certificate');
  if (!ca.checkIssued(ca) || !ca.verify(ca.publicKey)) {
    throw enrollError(
      `the server's certificate chain ends at ${subjectOf(ca)}, which is not a self-signed CA: the server must send its CA certificate after its own (portcullis-server does)`,
    );
  }
  if (!ca.ca) throw enrollError(`the root of the server's chain, ${subjectOf(ca)}, is not a CA certificate`);
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as X509Certificate;
    const issuer = certs[i + 1] as X509Certificate;
    if (!issuer.ca || !child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw enrollError(`the server's certificate ${subjectOf(child)} was not issued and signed by ${subjectOf(issuer)}`);
    }
  }
  return { leaf, ca, leafFingerprint: hexOf(leaf), caFingerprint: hexOf(ca) };
}

/** Which certificate of the chain `pin` (any accepted fingerprint form) names, or null for neither. */
export function matchPin(chain: ServerChain, pin: string): 'ca' | 'leaf' | null {
  const want = normalizeFingerprint(pin);
  if (want === chain.caFingerprint) return 'ca';
  if (want === chain.leafFingerprint) return 'leaf';
  return null;
}

/**
 * `POST /api/v1/enroll` over TLS that trusts only the pinned CA, with the usual host name check,
 * so a machine in the middle that was not there for the look at the chain still fails here.
 * 201 → the checked answer; anything else throws ErrorCodes.ENROLL with a one-line message.
 */
export function postEnroll(server: URL, caPem: string, body: EnrollRequest, options: EnrollClientOptions = {}): Promise<EnrollAnswer> {
  const { host, port } = endpoint(server);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = httpsRequest(
      {
        host,
        port,
        method: 'POST',
        path: ENROLL_PATH,
        ca: caPem,
        rejectUnauthorized: true,
        servername: isIP(host) === 0 ? host : undefined,
        // A fresh connection that is closed afterwards: no pooled socket keeps the process alive.
        agent: false,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const tooBig = (): Error => enrollError(`unexpected answer from the server: larger than ${maxBytes} bytes`);
        if (Number(res.headers['content-length'] ?? 0) > maxBytes) return fail(tooBig());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) fail(tooBig());
          else chunks.push(chunk);
        });
        res.on('error', (err) => fail(enrollError(`the answer from ${server.host} broke off: ${describe(err)}`)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          try {
            resolve(answerOf(res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'), body.token));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    const timer = setTimeout(() => fail(enrollError(`no answer from ${server.host} within ${seconds(timeoutMs)}`)), timeoutMs);
    req.on('error', (err) => fail(enrollError(`cannot enroll at ${server.host}: ${describe(err)}`)));
    req.end(payload);
  });
}

function answerOf(status: number, statusText: string, text: string, token: string): EnrollAnswer {
  if (status === 201) return parseEnrollAnswer(text);
  if (status === 401) throw enrollError('enrollment token invalid, expired or revoked');
  throw enrollError(`the server refused the enrollment: ${serverErrorMessage(status, statusText, text, token)}`);
}

function endpoint(server: URL): { host: string; port: number } {
  // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = server.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: server.port === '' ? 443 : Number(server.port) };
}

/** The chain as the handshake delivered it, leaf first; node marks the self-signed root as its own issuer. */
function peerChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const certs: X509Certificate[] = [];
  let cur: DetailedPeerCertificate | undefined = peer;
  while (cur !== undefined && Buffer.isBuffer(cur.raw) && certs.length < MAX_CHAIN) {
    certs.push(new X509Certificate(cur.raw));
    const next: DetailedPeerCertificate | undefined = cur.issuerCertificate;
    if (next === undefined || next === cur || next.fingerprint256 === cur.fingerprint256) break;
    cur = next;
  }
  return certs;
}

function hexOf(cert: X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

function subjectOf(cert: X509Certificate): string {
  return `"${cert.subject.split('\n').join(', ')}"`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * One line for a socket error. With several addresses to try (localhost is ::1 and 127.0.0.1),
 * node reports an AggregateError whose own message is empty: its parts say what happened.
 */
function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0) return err.errors.map(describe).join('; ');
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message === '' ? (code ?? err.name) : err.message;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}

function enrollError(message: string): PortcullisError {
  return new PortcullisError(ErrorCodes.ENROLL, message);
}
