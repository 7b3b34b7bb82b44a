import { STARTER_POLICY_INPUT } from '@portcullis/shared';
import type { ServerDeps } from './api/deps.js';
import { savePolicy } from './api/routes/group-routes.js';
import { hashPassword, passwordProblem } from './auth/passwords.js';
import { newSecret } from './auth/secrets.js';

/**
 * First start: the `default` group with the safe starter policy, and an `admin` user whose
 * password comes from PORTCULLIS_ADMIN_PASSWORD or is generated and shown once. Later starts
 * change nothing.
 */
export async function bootstrap(
  deps: Pick<ServerDeps, 'store' | 'clock' | 'signer' | 'publisher' | 'logger'>,
  env: NodeJS.ProcessEnv,
  print: (line: string) => void,
): Promise<void> {
  const at = deps.clock().toISOString();
  if (!(await deps.store.getGroup('default'))) {
    await deps.store.createGroup({ name: 'default', description: 'Every newly enrolled computer until moved', createdAt: at });
    const signed = await savePolicy(deps, 'default', STARTER_POLICY_INPUT, 'system', 'starter policy');
    await deps.store.appendAudit({ actor: 'system', action: 'group.create', target: 'default', details: { starterPolicyVersion: signed.document.version } }, at);
    print('Created group "default" with the starter policy (hubs, keyboards and mice allowed; storage, phones, network adapters blocked).');
  }
  if ((await deps.store.listUsers()).length === 0) {
    const given = env.PORTCULLIS_ADMIN_PASSWORD;
    if (given !== undefined) {
      const problem = passwordProblem(given);
      if (problem) throw new Error(`PORTCULLIS_ADMIN_PASSWORD: ${problem}`);
    }
    const password = given ?? newSecret().slice(0, 24);
    await deps.store.createUser({ username: 'admin', role: 'admin', passwordHash: await hashPassword(password) }, at);
    await deps.store.appendAudit({ actor: 'system', action: 'user.create', target: 'admin', details: { role: 'admin' } }, at);
    if (given === undefined) {
      print(`Created user "admin" with password: ${password}`);
      print('This password is shown only once; change it with `portcullis-server user passwd admin`.');
    } else {
      print('Created user "admin" with the password from PORTCULLIS_ADMIN_PASSWORD.');
    }
  }
}
