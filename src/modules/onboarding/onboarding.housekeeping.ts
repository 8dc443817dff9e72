/**
 * Housekeeping: an unfinished registration (or an existing customer's pointer to sign-in) whose token lapsed is expired (each through `journey.advance`, so it is
 * audited and counted); an ended one's PII is purged ONBOARDING_PII_RETENTION_DAYS after it ended — phone, device,
 * declared details, identity result, email, consent address, PIN hash and stored step answers go, while the row keeps
 * its state history (step times, country, path) so the funnel's counts stay. Both run in batches and are idempotent.
 */
import { and, asc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Journey } from './onboarding.journey.ts';
import { ENDED_STATES, EXPIRABLE_STATES } from './onboarding.machine.ts';
import { registrationSteps, registrations } from './onboarding.tables.ts';

const BATCH = 200;
const DAY_MS = 86_400_000;

export class Housekeeping {
  readonly #journey: Journey;

  constructor(journey: Journey) {
    this.#journey = journey;
  }

  get #db(): Executor {
    return this.#journey.db;
  }

  /** Expires unfinished registrations whose token lapsed before `now`; answers how many. */
  async expireAbandoned(now = new Date()): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.#db
        .select({ id: registrations.id })
        .from(registrations)
        .where(and(inArray(registrations.state, [...EXPIRABLE_STATES]), lt(registrations.expiresAt, now)))
        .orderBy(asc(registrations.expiresAt))
        .limit(BATCH);
      for (const { id } of due) {
        const done = await inTransaction(this.#db, async (tx) => {
          const [row] = await tx
            .select({ state: registrations.state, expiresAt: registrations.expiresAt })
            .from(registrations)
            .where(eq(registrations.id, id))
            .for('update');
          // Moved on (or resumed with a fresh lifetime) since it was selected.
          if (!row || !(EXPIRABLE_STATES as readonly string[]).includes(row.state) || row.expiresAt >= now)
            return false;
          await this.#journey.advance(tx, id, 'expire', {}, { audit: { reason: 'token lifetime passed' } });
          return true;
        });
        if (done) expired += 1;
      }
      if (due.length < BATCH) return expired;
    }
  }

  /** Purges the PII of registrations that ended more than the retention period before `now`; answers how many. */
  async purgeEnded(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.#journey.config.ONBOARDING_PII_RETENTION_DAYS * DAY_MS);
    let purged = 0;
    for (;;) {
      const due = await this.#db
        .select({ id: registrations.id })
        .from(registrations)
        .where(
          and(
            inArray(registrations.state, [...ENDED_STATES]),
            isNull(registrations.purgedAt),
            lt(registrations.updatedAt, before),
          ),
        )
        .orderBy(asc(registrations.updatedAt))
        .limit(BATCH);
      for (const { id } of due) {
        const done = await inTransaction(this.#db, async (tx) => {
          const [row] = await tx
            .select({ state: registrations.state, updatedAt: registrations.updatedAt })
            .from(registrations)
            .where(eq(registrations.id, id))
            .for('update');
          if (!row || !(ENDED_STATES as readonly string[]).includes(row.state) || row.updatedAt >= before)
            return false;
          await tx.delete(registrationSteps).where(eq(registrationSteps.registrationId, id));
          await this.#journey.advance(
            tx,
            id,
            'purge',
            {
              phone: null,
              deviceId: null,
              declaredSealed: null,
              nationalIdIndex: null,
              identitySealed: null,
              cbsClientId: null,
              diditSessionId: null,
              emailSealed: null,
              consentIp: null,
              consentDeviceId: null,
              pinHash: null,
              pinCustomerId: null,
              // The push token reaches the device, and a name may be the person's; the public key identifies nobody.
              devicePushToken: null,
              deviceName: null,
              outcomeReason: null,
              purgedAt: now,
            },
            { audit: { reason: 'retention period passed', ended_as: row.state } },
          );
          return true;
        });
        if (done) purged += 1;
      }
      if (due.length < BATCH) return purged;
    }
  }
}
