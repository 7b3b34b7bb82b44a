/**
 * Per-sender sending counts over the last hour and the last day, for the policy service's rate
 * limits. A window is a ring of slots (60 one-minute slots for the hour, 24 one-hour slots for
 * the day), so a count is exact to one slot and memory is fixed per sender. Only registered,
 * active senders get here, so the book is bounded by the registry's size. In memory, per server
 * process: a restart forgets the counts (documented in the README), and several server nodes
 * each count what they see.
 */

class Window {
  readonly #counts: number[];
  readonly #epochs: number[];

  constructor(
    private readonly slots: number,
    private readonly slotMs: number,
  ) {
    this.#counts = new Array<number>(slots).fill(0);
    this.#epochs = new Array<number>(slots).fill(-1);
  }

  total(nowMs: number): number {
    const current = Math.floor(nowMs / this.slotMs);
    let sum = 0;
    for (let i = 0; i < this.slots; i++) {
      const epoch = this.#epochs[i] ?? -1;
      if (epoch > current - this.slots && epoch <= current) sum += this.#counts[i] ?? 0;
    }
    return sum;
  }

  add(nowMs: number, n: number): void {
    const epoch = Math.floor(nowMs / this.slotMs);
    const i = epoch % this.slots;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#counts[i] = 0;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + n;
  }
}

export interface SenderCounts {
  readonly messagesHour: number;
  readonly messagesDay: number;
  readonly externalRecipientsHour: number;
  readonly externalRecipientsDay: number;
}

class SenderWindows {
  readonly messagesHour = new Window(60, 60_000);
  readonly messagesDay = new Window(24, 3_600_000);
  readonly externalHour = new Window(60, 60_000);
  readonly externalDay = new Window(24, 3_600_000);
}

export class RateBook {
  readonly #senders = new Map<string, SenderWindows>();

  counts(sender: string, nowMs: number): SenderCounts {
    const w = this.#senders.get(sender);
    if (w === undefined) return { messagesHour: 0, messagesDay: 0, externalRecipientsHour: 0, externalRecipientsDay: 0 };
    return {
      messagesHour: w.messagesHour.total(nowMs),
      messagesDay: w.messagesDay.total(nowMs),
      externalRecipientsHour: w.externalHour.total(nowMs),
      externalRecipientsDay: w.externalDay.total(nowMs),
    };
  }

  addMessage(sender: string, nowMs: number): void {
    const w = this.#windows(sender);
    w.messagesHour.add(nowMs, 1);
    w.messagesDay.add(nowMs, 1);
  }

  addExternalRecipient(sender: string, nowMs: number): void {
    const w = this.#windows(sender);
    w.externalHour.add(nowMs, 1);
    w.externalDay.add(nowMs, 1);
  }

  /** Senders no longer registered need no counts (called when the registry reloads). */
  retain(keep: (sender: string) => boolean): void {
    for (const sender of this.#senders.keys()) if (!keep(sender)) this.#senders.delete(sender);
  }

  get size(): number {
    return this.#senders.size;
  }

  #windows(sender: string): SenderWindows {
    let w = this.#senders.get(sender);
    if (w === undefined) {
      w = new SenderWindows();
      this.#senders.set(sender, w);
    }
    return w;
  }
}

/**
 * The recipients Postfix accepted for each message in flight, by `instance`: at END-OF-MESSAGE
 * Postfix sends `recipient` only when there was exactly one, so the size check needs the ones
 * seen at RCPT. Bounded: at most `maxInstances` messages (oldest dropped) and `maxRecipients`
 * each, and an entry older than `ttlMs` is gone (a client that never sent DATA).
 */
export class InstanceBook {
  readonly #entries = new Map<string, { readonly at: number; readonly recipients: string[]; counted: boolean }>();

  constructor(
    private readonly maxInstances = 50_000,
    private readonly maxRecipients = 1_000,
    private readonly ttlMs = 3_600_000,
  ) {}

  /** Records an accepted recipient; true when it is the message's first (count the message once). */
  addRecipient(instance: string, recipient: string, nowMs: number): boolean {
    let entry = this.#entries.get(instance);
    if (entry !== undefined && nowMs - entry.at > this.ttlMs) {
      this.#entries.delete(instance);
      entry = undefined;
    }
    if (entry === undefined) {
      if (this.#entries.size >= this.maxInstances) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
      entry = { at: nowMs, recipients: [], counted: false };
      this.#entries.set(instance, entry);
    }
    if (!entry.recipients.includes(recipient) && entry.recipients.length < this.maxRecipients) entry.recipients.push(recipient);
    const first = !entry.counted;
    entry.counted = true;
    return first;
  }

  has(instance: string): boolean {
    return this.#entries.has(instance);
  }

  /** The message's recipients, and forgets it (END-OF-MESSAGE is the last question about it). */
  take(instance: string, nowMs: number): string[] {
    const entry = this.#entries.get(instance);
    this.#entries.delete(instance);
    return entry === undefined || nowMs - entry.at > this.ttlMs ? [] : entry.recipients;
  }

  get size(): number {
    return this.#entries.size;
  }
}
