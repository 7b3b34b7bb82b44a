import type { Store } from '../store/store.js';
import { domainOf } from './mail-address.js';
import { compileMailPolicy, type MailSnapshot, type RegisteredSender } from './mail-decider.js';
import { DEFAULT_MAIL_POLICY, storedMailPolicy } from './mail-policy.js';

const PAGE = 5_000;

/**
 * Reads the whole registry and every group's mail policy into a snapshot the policy service
 * decides from without touching the database (tens of thousands of decisions a second).
 */
export async function loadMailSnapshot(store: Pick<Store, 'listMailAddresses' | 'listMailPolicies'>): Promise<MailSnapshot> {
  const senders = new Map<string, RegisteredSender>();
  const ownDomains = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await store.listMailAddresses({ limit: PAGE, ...(after !== undefined ? { after } : {}) });
    for (const a of page) {
      senders.set(a.address, { group: a.group, state: a.state, logins: new Set(a.logins) });
      ownDomains.add(domainOf(a.address));
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.address;
  }
  const policies = new Map<string, ReturnType<typeof compileMailPolicy>>();
  for (const record of await store.listMailPolicies()) {
    const policy = compileMailPolicy(storedMailPolicy(record.policy));
    policies.set(record.group, policy);
    for (const d of policy.internalDomains) ownDomains.add(d);
  }
  return { senders, policies, defaultPolicy: compileMailPolicy(DEFAULT_MAIL_POLICY), ownDomains };
}

export interface DirectoryLogger {
  error(message: string, meta?: Record<string, unknown>): void;
}

/**
 * The snapshot the service reads, reloaded when the API changes the registry (`changed()`, at
 * once, coalesced) and every `refreshMs` (another server node may have changed it). A failed
 * reload keeps the previous snapshot and is logged: the service goes on deciding.
 */
export class MailDirectory {
  #snapshot: MailSnapshot = {
    senders: new Map(),
    policies: new Map(),
    defaultPolicy: compileMailPolicy(DEFAULT_MAIL_POLICY),
    ownDomains: new Set(),
  };
  #loading: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #listeners: Array<(snapshot: MailSnapshot) => void> = [];

  constructor(
    private readonly store: Pick<Store, 'listMailAddresses' | 'listMailPolicies'>,
    private readonly logger: DirectoryLogger,
    private readonly refreshMs = 30_000,
  ) {}

  get snapshot(): MailSnapshot {
    return this.#snapshot;
  }

  onReload(listener: (snapshot: MailSnapshot) => void): void {
    this.#listeners.push(listener);
  }

  /** Loads the first snapshot (a failure here stops the start-up) and starts the refresh timer. */
  async start(): Promise<void> {
    this.#set(await loadMailSnapshot(this.store));
    this.#timer = setInterval(() => void this.changed(), this.refreshMs);
    this.#timer.unref();
  }

  /** The registry or a policy changed: reload (after the one running, if any). Resolves when loaded. */
  changed(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#again = false;
        try {
          this.#set(await loadMailSnapshot(this.store));
        } catch (err) {
          this.logger.error('mail registry reload failed; the previous one stays in force', { error: (err as Error).message });
        }
      } while (this.#again);
      this.#loading = null;
    })();
    return this.#loading;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #set(snapshot: MailSnapshot): void {
    this.#snapshot = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
  }
}
