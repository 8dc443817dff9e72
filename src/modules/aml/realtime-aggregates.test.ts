/**
 * The real-time aggregates (Redis, and the in-memory store of the embedded mode): sliding windows over time buckets
 * (payments fall out of a window as the clock moves), counts, sums and distinct counterparties including the current
 * payment, `counterparty_new`, fan-in on the counterparty subject, and a rebuild from aml_payment_facts equal to the
 * incremental counts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { RedisStore } from '../../platform/cache.ts';
import { factToPayment, rebuild } from './aml.aggregates.rebuild.ts';
import { type AggregateStore, MemoryAggregates, RedisAggregates } from './aml.aggregates.ts';
import type { PaymentFacts } from './aml.rules.evaluate.ts';
import type { AggregateSubject, AggregateWindow } from './aml.rules.ts';
import { amlPaymentFacts } from './aml.tables.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALL = { distinct: true };

function payment(over: Partial<PaymentFacts> & { at: number }): PaymentFacts {
  return {
    transactionId: randomUUID(),
    reference: 'REF',
    type: 'p2p',
    channel: 'mobile',
    amount: 1_000n,
    currency: 'KES',
    customerId: null,
    walletId: null,
    deviceId: null,
    agentId: null,
    counterparty: null,
    destinationCountry: null,
    sourceCountry: null,
    ...over,
  };
}

const windows = (
  ...pairs: [AggregateSubject, AggregateWindow][]
): { subject: AggregateSubject; window: AggregateWindow; distinct: boolean }[] =>
  pairs.map(([subject, window]) => ({ subject, window, ...ALL }));

describe('AML aggregates', () => {
  let t: TestContext;
  const stores: [string, () => AggregateStore][] = [];

  before(async () => {
    t = await startTestApp();
    const store = t.deps.store;
    stores.push(['memory', () => new MemoryAggregates()]);
    if (store instanceof RedisStore)
      stores.push([
        'redis',
        () => new RedisAggregates(store.client, `${t.config.REDIS_KEY_PREFIX}${randomUUID()}:`),
      ]);
  });
  after(async () => t.close());

  test('windows slide: counts, sums and distinct counterparties include the current payment', async () => {
    for (const [kind, make] of stores) {
      const store = make();
      // The start of the current hour: every bucket written expires in the future.
      const t0 = Math.floor(Date.now() / HOUR) * HOUR;
      const customer = randomUUID();
      const paid = (at: number, counterparty: string, amount: bigint) =>
        store.add(payment({ at, customerId: customer, walletId: `w-${customer}`, counterparty, amount }));
      await paid(t0, 'w1', 1_000n);
      await paid(t0 + 10 * MINUTE, 'w2', 2_000n);
      await paid(t0 + 30 * MINUTE, 'w1', 4_000n);
      const current = (at: number) =>
        payment({ at, customerId: customer, walletId: `w-${customer}`, counterparty: 'w3', amount: 500n });
      const query = {
        windows: windows(['customer', '1h'], ['customer', '24h'], ['wallet', '7d']),
        counterpartyNew: true,
      };

      const soon = await store.read(current(t0 + 31 * MINUTE), query);
      assert.deepEqual(soon.values.get('customer:1h'), { count: 4, sum: 7_500n, distinct: 3 }, kind);
      assert.deepEqual(soon.values.get('wallet:7d'), { count: 4, sum: 7_500n, distinct: 3 }, kind);
      assert.equal(soon.counterpartyNew, true, `${kind}: w3 was never paid`);

      // 65 minutes on, the first payment has left the 1-hour window (twelve 5-minute buckets) but not the day.
      const later = await store.read(current(t0 + 65 * MINUTE), query);
      assert.deepEqual(later.values.get('customer:1h'), { count: 3, sum: 6_500n, distinct: 3 }, kind);
      assert.deepEqual(later.values.get('customer:24h'), { count: 4, sum: 7_500n, distinct: 3 }, kind);

      // Two hours on: nothing in the hour but the current payment; the day still has them all.
      const hours = await store.read(current(t0 + 2 * HOUR), query);
      assert.deepEqual(hours.values.get('customer:1h'), { count: 1, sum: 500n, distinct: 1 }, kind);
      assert.equal(hours.values.get('customer:24h')?.count, 4, kind);

      // Eight days on, the 7-day window is empty too.
      const week = await store.read(current(t0 + 8 * 24 * HOUR), query);
      assert.equal(week.values.get('wallet:7d')?.count, 1, kind);

      // A counterparty paid before is not new; another currency's sum is its own.
      const again = await store.read(
        payment({
          at: t0 + 31 * MINUTE,
          customerId: customer,
          counterparty: 'w1',
          currency: 'USD',
          amount: 7n,
        }),
        query,
      );
      assert.equal(again.counterpartyNew, false, kind);
      assert.equal(again.values.get('customer:1h')?.sum, 7n, `${kind}: sums are per currency`);
    }
  });

  test('the counterparty subject counts distinct payers (fan-in); a payment without a device reads none', async () => {
    for (const [kind, make] of stores) {
      const store = make();
      const at = Date.now();
      const mule = `w-${randomUUID()}`;
      for (const payer of ['a', 'b', 'a', 'c'])
        await store.add(
          payment({ at, customerId: `c-${payer}`, walletId: `w-${payer}`, counterparty: mule }),
        );
      const read = await store.read(payment({ at, customerId: 'c-d', walletId: 'w-d', counterparty: mule }), {
        windows: windows(['counterparty', '24h'], ['device', '1h']),
        counterpartyNew: false,
      });
      assert.deepEqual(read.values.get('counterparty:24h'), { count: 5, sum: 5_000n, distinct: 4 }, kind);
      assert.equal(read.values.has('device:1h'), false, `${kind}: no device, no value`);
      assert.equal(read.counterpartyNew, null);
    }
  });

  test('a rebuild from aml_payment_facts equals the incremental counts (all, and one customer)', async () => {
    const db = t.deps.database.db;
    const now = Date.now();
    const customers = Array.from({ length: 4 }, () => randomUUID());
    const wallets = customers.map(() => randomUUID());
    const facts: (typeof amlPaymentFacts.$inferInsert)[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let index = 0; index < 120; index += 1) {
      const from = Math.floor(next() * customers.length);
      const to = (from + 1 + Math.floor(next() * (customers.length - 1))) % customers.length;
      const deposit = next() < 0.2;
      facts.push({
        transactionId: randomUUID(),
        type: deposit ? 'cash_deposit' : 'p2p',
        channel: deposit ? 'teller' : 'mobile',
        customerId: customers[from]!,
        counterpartyCustomerId: deposit ? null : customers[to]!,
        sourceWalletId: deposit ? null : wallets[from]!,
        destinationWalletId: deposit ? wallets[from]! : wallets[to]!,
        deviceId: next() < 0.5 ? `dev-${from}` : null,
        amountMinor: BigInt(1 + Math.floor(next() * 50_000)),
        currency: 'KES',
        // Spread over the last 8 days: some fall outside every window.
        occurredAt: new Date(now - Math.floor(next() * 8 * 24 * HOUR)),
      });
    }
    await db.insert(amlPaymentFacts).values(facts);
    for (const [kind, make] of stores) {
      const incremental = make();
      for (const fact of facts) await incremental.add(factToPayment({ ...defaults(), ...fact } as never));
      const rebuilt = make();
      const result = await rebuild(db, rebuilt, undefined, now);
      assert.ok(
        result.facts > 0 && result.facts < facts.length,
        `${kind}: only the window's facts are replayed`,
      );
      const query = {
        windows: windows(
          ['customer', '1h'],
          ['customer', '24h'],
          ['customer', '7d'],
          ['wallet', '7d'],
          ['device', '24h'],
          ['counterparty', '7d'],
        ),
        counterpartyNew: true,
      };
      for (const [index, customer] of customers.entries()) {
        const probe = payment({
          at: now,
          customerId: customer,
          walletId: wallets[index]!,
          deviceId: `dev-${index}`,
          counterparty: wallets[(index + 1) % wallets.length]!,
        });
        assert.deepEqual(await rebuilt.read(probe, query), await incremental.read(probe, query), kind);
      }
      // One customer's rebuild (after losing their keys) gives their customer subject back.
      await rebuilt.clear(customers[0]);
      await rebuild(db, rebuilt, customers[0], now);
      const probe = payment({ at: now, customerId: customers[0]!, counterparty: wallets[1]! });
      const customerOnly = {
        windows: windows(['customer', '7d'], ['customer', '1h']),
        counterpartyNew: true,
      };
      assert.deepEqual(
        await rebuilt.read(probe, customerOnly),
        await incremental.read(probe, customerOnly),
        kind,
      );
    }
  });
});

function defaults() {
  return { channel: null, counterpartyCustomerId: null, merchantId: null, agentId: null, storeId: null };
}
