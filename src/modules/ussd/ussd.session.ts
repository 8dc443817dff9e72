/**
 * USSD sessions in the ephemeral store (Redis, or the in-process store on the embedded default), keyed by gateway and
 * the gateway's session id, living as long as the gateway keeps a session. A session holds where the customer is
 * (journey, state, page, the back stack), the values collected so far (never a PIN), the language, and the reply
 * sent for each step so that a gateway delivering a step again gets the same answer without a second effect.
 */
import type { EphemeralStore } from '../../platform/cache.ts';
import type { GatewayName, UssdReply } from './ussd.gateway.types.ts';
import type { Language } from './ussd.menu.ts';

export interface SessionRecord {
  v: 1;
  msisdn: string;
  network: string | null;
  language: Language;
  customerId: string | null;
  signedIn: boolean;
  journey: string;
  state: string;
  page: number;
  stack: { journey: string; state: string }[];
  data: Record<string, string>;
  /** The options of the screen shown last: key → value (what a `choice` input may pick). */
  choices: Record<string, string> | null;
  /** Africa's Talking: how much of `text` the steps so far consumed. */
  consumed: number;
  /** The reply sent for each step, by its position (`t<text length>`, `s<sequence>`, `new`). */
  replies: Record<string, UssdReply>;
  /** Gateways without step positions: a keyed digest of the last input (it may be a PIN) and when it came. */
  last: { digest: string; at: number; reply: UssdReply } | null;
  /** The session ended with this reply: a late retry gets it again. */
  ended: UssdReply | null;
  steps: number;
}

const LOCK_POLL_MS = 15;

/** A session taken under its lock: read in the round trip that took the lock, written in the one that releases it. */
export interface OpenSession {
  record: SessionRecord | null;
  /** Writes the record and releases the lock (one round trip); nothing is written when the lock was lost. */
  save(record: SessionRecord, ttlMs: number): Promise<void>;
  /** Deletes the session and releases the lock. */
  forget(): Promise<void>;
  /** Releases the lock, writing nothing. */
  release(): Promise<void>;
}

export class SessionStore {
  readonly #store: EphemeralStore;

  constructor(store: EphemeralStore) {
    this.#store = store;
  }

  #key(gateway: GatewayName, sessionId: string): string {
    return `ussd:session:${gateway}:${sessionId}`;
  }

  /**
   * Takes the session's lock and reads it in one round trip, serialising the requests of one session (a gateway may
   * deliver a step twice at once): waits for the lock up to `waitMs`; null when it could not be had.
   */
  async open(
    gateway: GatewayName,
    sessionId: string,
    waitMs: number,
    holdMs: number,
  ): Promise<OpenSession | null> {
    const lock = `ussd:lock:${gateway}:${sessionId}`;
    const key = this.#key(gateway, sessionId);
    const until = Date.now() + waitMs;
    for (;;) {
      const locked = await this.#store.lockAndGet(lock, holdMs, key);
      if (locked) {
        let done = false;
        const once = async (change?: { value: string; ttlMs: number } | { delete: true }) => {
          if (done) return;
          done = true;
          await locked.release(change);
        };
        const parsed = locked.value ? (JSON.parse(locked.value) as SessionRecord) : null;
        return {
          record: parsed?.v === 1 ? parsed : null,
          save: (record, ttlMs) => once({ value: JSON.stringify(record), ttlMs }),
          forget: () => once({ delete: true }),
          release: () => once(),
        };
      }
      if (Date.now() >= until) return null;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
}
