/** The onboarding module's use cases: one transaction each, with its audit entry and event. */
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, type Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { onboardingItemCreated } from './onboarding.events.ts';
import { findItem, insertItem, type OnboardingItemRow } from './onboarding.repository.ts';
import type { ItemCreate, ItemView } from './onboarding.schemas.ts';

export function itemView(row: OnboardingItemRow): Static<typeof ItemView> {
  return {
    id: row.id,
    customer_id: row.customerId,
    reference: row.reference,
    amount_minor: Number(row.amountMinor),
    currency: row.currency,
    created_at: row.createdAt.toISOString(),
  };
}

export class OnboardingService {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  async create(
    principal: Principal,
    input: Static<typeof ItemCreate>,
    context: RequestContext,
  ): Promise<Static<typeof ItemView>> {
    const customerId = input.customer_id ?? (principal.type === 'customer' ? principal.id : undefined);
    if (!customerId)
      throw commonErrors.validation('Request validation failed', {
        errors: [
          { field: 'body.customer_id', message: 'is required when staff create an item', rule: 'required' },
        ],
      });
    assertOwnership(principal, customerId, 'Customer');
    return inTransaction(this.#deps.database.db, async (tx) => {
      const row = await insertItem(tx, {
        id: uuidv7(),
        customerId,
        reference: input.reference,
        amountMinor: BigInt(input.amount_minor),
        currency: input.currency,
      });
      if (!row) throw onboardingErrors.ONBOARDING_REFERENCE_TAKEN({ params: { reference: input.reference } });
      await writeAudit(tx, context, {
        action: 'onboarding.item_create',
        entityType: 'onboarding_item',
        entityId: row.id,
        after: { reference: row.reference, amount_minor: String(row.amountMinor), currency: row.currency },
      });
      await emitEvent(
        tx,
        onboardingItemCreated,
        { type: 'onboarding_item', id: row.id },
        {
          item_id: row.id,
          customer_id: row.customerId,
          amount_minor: String(row.amountMinor),
          currency: row.currency,
        },
      );
      return itemView(row);
    });
  }

  /** One item; a customer sees only their own (anyone else's answers 404, as if it did not exist). */
  async get(principal: Principal, id: string): Promise<Static<typeof ItemView>> {
    const row = await findItem(this.#deps.database.db, id);
    if (!row) throw commonErrors.notFound('Item');
    assertOwnership(principal, row.customerId, 'Item');
    return itemView(row);
  }
}
