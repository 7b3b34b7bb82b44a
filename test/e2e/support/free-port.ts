import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now, for listeners whose port must be known before they
 * start (a server the test restarts on the same port, Postfix's master.cf). Another process may
 * take it in between; on this single test machine that has not been seen.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
