/**
 * The registration deny list: phones and devices refused at the phone check, national IDs for the completion's
 * auto-approval rule (`denied('national_id', …)`). Values are kept as keyed hashes, never in clear.
 */
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { DenyListBody } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';
import type { PhoneCheck } from './onboarding.phone.ts';
import { denyListed } from './onboarding.repository.ts';
import { onboardingDenyList } from './onboarding.tables.ts';

export type DenyKind = 'phone' | 'device' | 'national_id';

export class DenyList {
  readonly #journey: Journey;
  readonly #phone: PhoneCheck;

  constructor(journey: Journey, phone: PhoneCheck) {
    this.#journey = journey;
    this.#phone = phone;
  }

  #normalise(kind: DenyKind, value: string): string {
    if (kind === 'phone') return this.#phone.normalise(value);
    // Customers' normalisation of a national ID: spaces and dashes dropped, upper case.
    if (kind === 'national_id') return value.replace(/[\s-]/g, '').toUpperCase();
    return value;
  }

  /** The keyed hash a value is listed under. */
  index(kind: DenyKind, value: string): string {
    return this.#journey.index(`deny:${kind}`, this.#normalise(kind, value));
  }

  /** The reason a value is listed for, or null. */
  async denied(kind: DenyKind, value: string): Promise<string | null> {
    return denyListed(this.#journey.db, kind, this.index(kind, value));
  }

  /** Adds an entry; adding one again keeps the first (answers whether it was new). */
  async add(input: Static<typeof DenyListBody>, context: RequestContext): Promise<{ added: boolean }> {
    const valueIndex = this.index(input.kind, input.value);
    return inTransaction(this.#journey.db, async (tx) => {
      const inserted = await tx
        .insert(onboardingDenyList)
        .values({
          id: uuidv7(),
          kind: input.kind,
          valueIndex,
          reason: input.reason,
          createdBy: context.actor.id,
        })
        .onConflictDoNothing()
        .returning({ id: onboardingDenyList.id });
      if (inserted[0])
        await writeAudit(tx, context, {
          action: 'onboarding.deny_list_add',
          entityType: 'onboarding_deny_list',
          entityId: inserted[0].id,
          after: { kind: input.kind, reason: input.reason },
        });
      return { added: inserted.length > 0 };
    });
  }
}
