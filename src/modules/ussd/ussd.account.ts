/**
 * The account port: who a number belongs to, PIN checks and changes, the USSD channel switch and language. Built
 * from the customers module's exports, so a PIN tried on USSD counts against the same failures and lock as the app.
 * No method logs a PIN or keeps it anywhere: it is hashed by CustomerAuth and dropped.
 */
import { eq } from 'drizzle-orm';
import { type Actor, type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import {
  type CustomerAuth,
  type CustomerNames,
  customerIdByPhone,
  customerNames,
  customerStanding,
  lockLiveCustomer,
  pinVerdict,
} from '../customers/index.ts';
import { ussdErrors } from './ussd.errors.ts';
import { isLanguage, type Language } from './ussd.menu.ts';
import { ussdProfiles } from './ussd.tables.ts';

export interface UssdCustomer {
  customerId: string;
  /** The USSD channel is on for this customer (`ussd_profiles.enabled`, on when no row). */
  enabled: boolean;
  /** The customer's USSD language, or null for the default. */
  language: string | null;
  /** The customer may sign in (not closed, blocked or erased). */
  active: boolean;
  /** Display name for the welcome screen. */
  firstName: string;
}

/** A PIN try: `wrong` carries the tries left before the lock (null when not known). */
export type PinCheck =
  | { result: 'ok' }
  | { result: 'wrong'; triesLeft: number | null }
  | { result: 'locked' }
  /** The customer never set a PIN (created by staff): they set it in the app or with an agent. */
  | { result: 'not_set' }
  /** Right PIN, but the customer is suspended, closed or erased (the app refuses them too). */
  | { result: 'inactive' };

/** Why a new PIN is refused (the app's policy, `pinVerdict`), or null when it may be used. */
export type PinProblem = 'format' | 'sequence' | 'repeat' | 'common' | 'year';

/** A customer's USSD channel as staff see it. */
export interface UssdSubscription {
  customerId: string;
  enabled: boolean;
  language: Language | null;
  changedBy: { type: 'customer' | 'user'; id: string | null } | null;
  reason: string | null;
  updatedAt: Date | null;
}

export interface SubscriptionChange {
  enabled?: boolean;
  /** null: back to the default language. */
  language?: Language | null;
  /** Why the channel was switched (staff must say; a customer may not). */
  reason?: string | null;
}

export interface AccountPort {
  /** The customer whose phone this is (the number the app signs in with), or null for an unknown number. */
  lookup(msisdn: string): Promise<UssdCustomer | null>;
  /** The name the welcome screen greets the customer by (empty when the customer is gone). */
  greetingName(customerId: string): Promise<string>;
  /** Checks the PIN with the app's counters: a wrong one counts towards the lock, a right one resets the count. */
  verifyPin(customerId: string, pin: string): Promise<PinCheck>;
  /** What the app's PIN policy says of a new PIN, checked before anything is spent. */
  pinProblem(pin: string): PinProblem | null;
  /**
   * Sets the new PIN of a customer who entered their current one in this session (`verifyPin` answered ok): a
   * screen takes one PIN, so the current and the new one never reach one call. The app's policy applies again here.
   */
  changePin(customerId: string, next: string, context: RequestContext): Promise<'ok' | PinProblem>;
  setLanguage(customerId: string, language: Language): Promise<void>;
  /** The customer's USSD channel, or null when there is no such customer (or it was erased). */
  subscription(customerId: string): Promise<UssdSubscription | null>;
  /** Changes the channel and/or its language in one transaction (the app's and staff's routes). */
  update(customerId: string, change: SubscriptionChange, context: RequestContext): Promise<UssdSubscription>;
  /** Switches the USSD channel on or off, audited as `ussd.subscription_changed`. 404 for an unknown customer. */
  setEnabled(
    customerId: string,
    enabled: boolean,
    by: Actor,
    reason: string | null,
    request?: Omit<RequestContext, 'actor'>,
  ): Promise<UssdSubscription>;
}

const NO_REQUEST = { ip: null, userAgent: null, requestId: null } as const;

function nameOf(names: CustomerNames | undefined): string {
  if (!names) return '';
  return names.businessName ?? names.firstName;
}

export class UssdAccounts implements AccountPort {
  readonly #db: Executor;
  readonly #auth: CustomerAuth;

  constructor(db: Executor, auth: CustomerAuth) {
    this.#db = db;
    this.#auth = auth;
  }

  async lookup(msisdn: string): Promise<UssdCustomer | null> {
    const customerId = await customerIdByPhone(this.#db, msisdn);
    if (!customerId) return null;
    const [standing, names, profile] = await Promise.all([
      customerStanding(this.#db, customerId),
      customerNames(this.#db, [customerId]),
      this.#profileRow(this.#db, customerId),
    ]);
    if (!standing) return null;
    return {
      customerId,
      enabled: profile?.enabled ?? true,
      language: profile?.language ?? null,
      active: !standing.erasedAt && (standing.status === 'pending' || standing.status === 'active'),
      firstName: nameOf(names.get(customerId)),
    };
  }

  async greetingName(customerId: string): Promise<string> {
    const names = await customerNames(this.#db, [customerId]);
    return nameOf(names.get(customerId));
  }

  async verifyPin(customerId: string, pin: string): Promise<PinCheck> {
    try {
      await this.#auth.verifyPin(customerId, pin);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.errorCode === 'INVALID_PIN') {
        const left = (error.details as { attempts_left?: unknown } | null)?.attempts_left;
        return { result: 'wrong', triesLeft: typeof left === 'number' ? left : null };
      }
      if (error.errorCode === 'PIN_LOCKED') return { result: 'locked' };
      if (error.errorCode === 'PIN_NOT_SET') return { result: 'not_set' };
      throw error;
    }
    // As the app's sign-in: the PIN is checked first, then the customer's standing.
    const standing = await customerStanding(this.#db, customerId);
    const active =
      standing && !standing.erasedAt && (standing.status === 'pending' || standing.status === 'active');
    return active ? { result: 'ok' } : { result: 'inactive' };
  }

  pinProblem(pin: string): PinProblem | null {
    return pinVerdict(pin)?.weakness ?? null;
  }

  async changePin(customerId: string, next: string, context: RequestContext): Promise<'ok' | PinProblem> {
    const problem = this.pinProblem(next);
    if (problem) return problem;
    await this.#auth.setPin(customerId, next, context);
    return 'ok';
  }

  async setLanguage(customerId: string, language: Language): Promise<void> {
    await this.update(
      customerId,
      { language },
      { actor: { type: 'customer', id: customerId }, ...NO_REQUEST },
    );
  }

  setEnabled(
    customerId: string,
    enabled: boolean,
    by: Actor,
    reason: string | null,
    request: Omit<RequestContext, 'actor'> = NO_REQUEST,
  ): Promise<UssdSubscription> {
    return this.update(customerId, { enabled, reason }, { actor: by, ...request });
  }

  async subscription(customerId: string): Promise<UssdSubscription | null> {
    const standing = await customerStanding(this.#db, customerId);
    if (!standing || standing.erasedAt) return null;
    return toSubscription(customerId, await this.#profileRow(this.#db, customerId));
  }

  /**
   * One use case for every switch (USSD, the app, staff): the customer row is locked so two switches of one
   * customer apply in turn, and a change of the channel is audited with who made it and why.
   */
  async update(
    customerId: string,
    change: SubscriptionChange,
    context: RequestContext,
  ): Promise<UssdSubscription> {
    return inTransaction(this.#db, async (tx) => {
      if (!(await lockLiveCustomer(tx, customerId))) throw commonErrors.notFound('Customer');
      const before = toSubscription(customerId, await this.#profileRow(tx, customerId));
      const switched = change.enabled !== undefined;
      const by = context.actor.type === 'user' ? 'user' : 'customer';
      // Staff switch a number off for a reason (a stolen SIM, fraud): only staff switch it back on.
      const current = await this.#profileRow(tx, customerId);
      if (
        by === 'customer' &&
        change.enabled === true &&
        current?.enabled === false &&
        current.changedByType === 'user'
      )
        throw ussdErrors.USSD_SWITCHED_OFF_BY_STAFF();
      const values = {
        ...(change.language !== undefined ? { language: change.language } : {}),
        ...(switched
          ? {
              enabled: change.enabled,
              changedByType: by,
              changedById: context.actor.id,
              reason: change.reason ?? null,
            }
          : {}),
        updatedAt: new Date(),
      };
      const [row] = await tx
        .insert(ussdProfiles)
        .values({ customerId, ...values })
        .onConflictDoUpdate({ target: ussdProfiles.customerId, set: values })
        .returning();
      const after = toSubscription(customerId, row);
      if (switched)
        await writeAudit(tx, context, {
          action: 'ussd.subscription_changed',
          entityType: 'customer',
          entityId: customerId,
          before: { enabled: before.enabled },
          after: { enabled: after.enabled, reason: after.reason },
        });
      return after;
    });
  }

  async #profileRow(db: Executor, customerId: string) {
    const [row] = await db
      .select()
      .from(ussdProfiles)
      .where(eq(ussdProfiles.customerId, customerId))
      .limit(1);
    return row;
  }
}

type ProfileRow = typeof ussdProfiles.$inferSelect;

function toSubscription(customerId: string, row: ProfileRow | undefined): UssdSubscription {
  return {
    customerId,
    enabled: row?.enabled ?? true,
    language: isLanguage(row?.language) ? row.language : null,
    changedBy:
      row?.changedByType === 'customer' || row?.changedByType === 'user'
        ? { type: row.changedByType, id: row.changedById }
        : null,
    reason: row?.reason ?? null,
    updatedAt: row?.updatedAt ?? null,
  };
}
