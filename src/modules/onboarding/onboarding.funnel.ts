/**
 * The registration funnel for staff: of the registrations started in a period, how many reached each stage, how
 * many dropped off before it, and the median time from the previous stage. Read from each registration's step times,
 * which a PII purge keeps, so purged registrations still count.
 */
import { and, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { rawRows } from '../../platform/db.ts';
import type { FunnelAnswer } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';
import { registrations } from './onboarding.tables.ts';

/** The funnel's stages in order, each reached by any of its steps. */
export const FUNNEL: readonly { stage: string; steps: readonly string[] }[] = [
  { stage: 'phone_check', steps: ['phone_check'] },
  // USSD (onboarding.ussd.ts): the identity typed on the phone starts and ends the identity stage at once, and the
  // mobile network's MSISDN verifies the phone instead of an OTP.
  { stage: 'identity_started', steps: ['identity_cbs', 'identity_didit', 'identity_declared'] },
  { stage: 'identity_verified', steps: ['identity_cbs', 'didit_approved', 'identity_declared'] },
  { stage: 'phone_verified', steps: ['phone_otp_verify', 'phone_network'] },
  { stage: 'email_done', steps: ['email_otp_verify', 'email_skip'] },
  { stage: 'terms_accepted', steps: ['terms_accept'] },
  { stage: 'credentials_set', steps: ['pin_set'] },
  { stage: 'completed', steps: ['complete_approved', 'review_approve'] },
];

/** The first time any of the steps was done (null when none was). */
function reachedAt(steps: readonly string[]): SQL {
  const times = steps.map((step) => sql`(step_times ->> ${step})::timestamptz`);
  return times.length === 1 ? times[0]! : sql`least(${sql.join(times, sql`, `)})`;
}

export class Funnel {
  readonly #journey: Journey;

  constructor(journey: Journey) {
    this.#journey = journey;
  }

  async report(query: { from?: string; to?: string }): Promise<Static<typeof FunnelAnswer>> {
    // Started registrations only (an existing customer's pointer to sign-in has no phone_check step).
    const conditions: SQL[] = [sql`step_times ->> 'phone_check' is not null`];
    const range: SQL[] = [];
    if (query.from) range.push(gte(registrations.createdAt, new Date(query.from)));
    if (query.to) range.push(lt(registrations.createdAt, new Date(query.to)));
    const where = sql.join([...conditions, ...(range.length ? [and(...range)!] : [])], sql` and `);
    const stages = FUNNEL.map(({ steps }, index) => {
      const at = reachedAt(steps);
      const previous = index === 0 ? sql`created_at` : reachedAt(FUNNEL[index - 1]!.steps);
      return sql`count(${at}) as ${sql.identifier(`n${index}`)},
        percentile_cont(0.5) within group (order by extract(epoch from (${at} - ${previous})))
          filter (where ${at} is not null and ${previous} is not null) as ${sql.identifier(`m${index}`)}`;
    });
    const [totals] = await rawRows<Record<string, string | number | null>>(
      this.#journey.db,
      sql`select count(*) as started, ${sql.join(stages, sql`, `)} from registrations where ${where}`,
    );
    const byState = await rawRows<{ state: string; count: string | number }>(
      this.#journey.db,
      sql`select state, count(*) as count from registrations where ${where} group by state order by state`,
    );
    let previousReached = Number(totals?.started ?? 0);
    const steps = FUNNEL.map(({ stage }, index) => {
      const reached = Number(totals?.[`n${index}`] ?? 0);
      const median = totals?.[`m${index}`];
      const row = {
        step: stage,
        reached,
        drop_off: Math.max(0, previousReached - reached),
        median_seconds: median === null || median === undefined ? null : Math.round(Number(median) * 10) / 10,
      };
      previousReached = reached;
      return row;
    });
    return {
      from: query.from ?? null,
      to: query.to ?? null,
      started: Number(totals?.started ?? 0),
      by_state: Object.fromEntries(byState.map((row) => [row.state, Number(row.count)])),
      steps,
    };
  }
}
