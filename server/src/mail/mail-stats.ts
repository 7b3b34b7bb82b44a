import { MAIL_RULES, type MailDecision, type MailRule } from './mail-decider.js';

/** What the policy service has decided since the server started (`GET /api/v1/mail/stats`). */
export class MailStats {
  readonly since: string;
  #decisions = 0;
  #allowed = 0;
  #accepted = 0;
  readonly #rejected = new Map<MailRule, number>(MAIL_RULES.map((r) => [r, 0]));

  constructor(now: Date) {
    this.since = now.toISOString();
  }

  count(decision: MailDecision): void {
    this.#decisions++;
    if (decision.kind === 'dunno') {
      this.#allowed++;
      if (decision.accepted) this.#accepted++;
    } else {
      this.#rejected.set(decision.rule, (this.#rejected.get(decision.rule) ?? 0) + 1);
    }
  }

  snapshot() {
    return {
      since: this.since,
      decisions: this.#decisions,
      allowed: this.#allowed,
      /** Messages that passed the end-of-message check (where Postfix asks it). */
      messagesAccepted: this.#accepted,
      rejected: Object.fromEntries(this.#rejected) as Record<MailRule, number>,
    };
  }
}
