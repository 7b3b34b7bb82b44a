import type { CommandName, SignedPolicy } from '@portcullis/shared';
import type { Store } from '../store/store.js';

/** The minimum of a logger the server needs (winston fits; tests pass a recorder). */
export interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface PolicySigner {
  readonly keyId: string;
  /** Ed25519 public key (SPKI PEM) agents verify policies with; given to them at enrollment. */
  readonly publicKeyPem: string;
  sign(payload: Uint8Array): string;
}

/** What the API tells connected agents (the hub). */
export interface PolicyPublisher {
  /** A new policy version of the group: push it to the group's connected agents. */
  publish(group: string, signed: SignedPolicy): void;
  /** An agent was moved or revoked: re-read it (new group's policy) or disconnect it. */
  agentChanged(agentId: string): Promise<void>;
  /** Sends a command to a connected agent; its id, or null when the agent is not connected. */
  sendCommand(agentId: string, name: CommandName, args: Record<string, unknown>, actor: string): string | null;
}

export interface ApiOptions {
  readonly sessionTtlHours: number;
  /** Cookies get the Secure flag (false only for plain-HTTP tests). */
  readonly secureCookies: boolean;
  /**
   * How many events one page of a substring search (`q`) reads at most; a page that found fewer
   * than `limit` matches in that span says so and carries on from there with its cursor.
   */
  readonly searchScanRows?: number;
  /** How long one overview computation is served to every console (0: none; the server uses 5 s). */
  readonly overviewCacheMs?: number;
  /** The built web console (server/web/dist); no console routes when undefined. */
  readonly webRoot?: string;
  /** The URL agents and browsers reach the server at, for the console's ready install command. */
  readonly publicUrl?: string;
  /** SHA-256 fingerprint of the CA agents pin at enrollment (`portcullis-agent enroll --fingerprint`). */
  readonly caFingerprint256?: string;
}

/** The Postfix policy service as the API sees it; absent when it is turned off. */
export interface MailControl {
  /** The registry or a mail policy changed: the service reloads its snapshot (resolves when done). */
  registryChanged(): Promise<void>;
  stats(): { since: string; decisions: number; allowed: number; messagesAccepted: number; rejected: Record<string, number> };
}

export interface ServerDeps {
  readonly store: Store;
  readonly clock: () => Date;
  readonly signer: PolicySigner;
  readonly publisher: PolicyPublisher;
  readonly logger: Logger;
  readonly options: ApiOptions;
  readonly mail?: MailControl;
}
