import { createEnrollmentToken } from './api/routes/token-routes.js';
import type { Store } from './store/store.js';

/** What a server command reads and writes; tests pass buffers. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  readStdin(): string;
}

/** `token create`: the token goes on the last line, alone, so scripts can take it with `tail -1`. */
export async function createTokenWith(store: Store, group: string, expires: string, io: CliIo): Promise<number> {
  const created = await createEnrollmentToken({ store, clock: () => new Date() }, group, expires, 'cli');
  await store.appendAudit({ actor: 'cli', action: 'token.create', target: created.id, details: { group, expiresAt: created.expiresAt } }, new Date().toISOString());
  io.stdout(`enrollment token ${created.id} for group ${group}, expires ${created.expiresAt}:\n${created.token}\n`);
  return 0;
}
