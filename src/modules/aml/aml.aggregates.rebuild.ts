/**
 * Rebuilds the real-time aggregates from PostgreSQL (`aml_payment_facts`, AML's own record of every completed
 * payment): after a Redis loss, a flush, or a change of bucket layout. Replays the facts of the longest window
 * (7 days and an hour) through the same `add` the live path uses, then the all-time counterparties of each customer.
 *
 * Cost: one keyset-paged scan of the window's facts (index aml_payment_facts_customer for one customer), one Redis
 * round trip per fact replayed, and one distinct scan of (customer, counterparty wallet) pairs. A payment that
 * commits while a rebuild runs may be counted twice (live and replayed): run it when quiet, or per customer.
 *
 * Callable from a CLI: `rebuildAggregates(deps)` (every customer) or `rebuildAggregates(deps, customerId)`.
 */
import { and, asc, eq, gt, gte, isNotNull, or, type SQL, sql } from 'drizzle-orm';
import { RedisStore } from '../../platform/cache.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { type AggregateStore, MemoryAggregates, RedisAggregates } from './aml.aggregates.ts';
import type { PaymentFacts } from './aml.rules.evaluate.ts';
import { amlPaymentFacts } from './aml.tables.ts';

const WINDOW_MS = 604_800_000 + 3_600_000;
const PAGE = 1000;

type FactRow = typeof amlPaymentFacts.$inferSelect;

/**
 * A fact as the live path sees the payment (aml.decisions.ts `paymentFacts`): the customer, their wallet (the
 * source, or the destination when the money came from a house account), and the counterparty wallet when a wallet
 * paid a wallet.
 */
export function factToPayment(fact: FactRow): PaymentFacts {
  return {
    transactionId: fact.transactionId,
    reference: '',
    type: fact.type,
    channel: fact.channel ?? '',
    amount: fact.amountMinor,
    currency: fact.currency,
    customerId: fact.customerId,
    walletId: fact.sourceWalletId ?? fact.destinationWalletId,
    deviceId: fact.deviceId,
    agentId: fact.agentId,
    counterparty: fact.sourceWalletId ? fact.destinationWalletId : null,
    destinationCountry: null,
    sourceCountry: null,
    at: fact.occurredAt.getTime(),
  };
}

/** The aggregate store of this deployment: Redis when configured, else process memory. */
export function aggregateStoreFor(deps: Dependencies): AggregateStore {
  return deps.store instanceof RedisStore
    ? new RedisAggregates(deps.store.client, deps.config.REDIS_KEY_PREFIX)
    : new MemoryAggregates();
}

export interface RebuildResult {
  facts: number;
  customers: number;
}

export async function rebuild(
  db: Executor,
  store: AggregateStore,
  customerId?: string,
  now: number = Date.now(),
): Promise<RebuildResult> {
  await store.clear(customerId);
  const since = new Date(now - WINDOW_MS);
  const scope: SQL | undefined = customerId ? eq(amlPaymentFacts.customerId, customerId) : undefined;
  let facts = 0;
  let after: { at: Date; id: string } | null = null;
  for (;;) {
    const page: FactRow[] = await db
      .select()
      .from(amlPaymentFacts)
      .where(
        and(
          gte(amlPaymentFacts.occurredAt, since),
          scope,
          after
            ? or(
                gt(amlPaymentFacts.occurredAt, after.at),
                and(eq(amlPaymentFacts.occurredAt, after.at), gt(amlPaymentFacts.transactionId, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(amlPaymentFacts.occurredAt), asc(amlPaymentFacts.transactionId))
      .limit(PAGE);
    for (const fact of page) await store.add(factToPayment(fact), customerId ? ['customer'] : undefined);
    facts += page.length;
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { at: last.occurredAt, id: last.transactionId };
  }
  const pairs = await db
    .selectDistinct({ customerId: amlPaymentFacts.customerId, wallet: amlPaymentFacts.destinationWalletId })
    .from(amlPaymentFacts)
    .where(
      and(
        isNotNull(amlPaymentFacts.customerId),
        isNotNull(amlPaymentFacts.sourceWalletId),
        isNotNull(amlPaymentFacts.destinationWalletId),
        scope,
      ),
    )
    .orderBy(sql`1`);
  const byCustomer = new Map<string, string[]>();
  for (const pair of pairs) {
    const list = byCustomer.get(pair.customerId!) ?? [];
    list.push(pair.wallet!);
    byCustomer.set(pair.customerId!, list);
  }
  for (const [customer, wallets] of byCustomer) await store.remember(customer, wallets);
  return { facts, customers: byCustomer.size };
}

/** The CLI's entry: rebuilds this deployment's aggregates (all, or one customer's). */
export function rebuildAggregates(deps: Dependencies, customerId?: string): Promise<RebuildResult> {
  return rebuild(deps.database.db, aggregateStoreFor(deps), customerId);
}
