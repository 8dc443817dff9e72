/**
 * The AML payment screen's decisions (the PaymentScreen the payment engine calls), on the module's own screen with
 * the seeded default ruleset: each default rule trips and has a near miss; test mode records without acting; the
 * decision names the rule version; the switch off allows without evaluating; Redis unavailable applies the degraded
 * policy and records `aggregates_unavailable`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';
import type { ScreenInput } from '../transactions/index.ts';
import type { WalletRow } from '../wallets/index.ts';
import { RedisAggregates } from './aml.aggregates.ts';
import { AmlScreen } from './aml.decisions.ts';
import { amlAlerts, amlDecisions, amlRiskRatings } from './aml.tables.ts';
import { type AmlApi, amlModule } from './index.ts';

interface Party {
  customerId: string;
  walletId: string;
}
const party = (): Party => ({ customerId: randomUUID(), walletId: randomUUID() });

function input(from: Party, to: string, amount: bigint): ScreenInput {
  const wallet = { id: from.walletId, customerId: from.customerId, ownerType: 'customer' } as WalletRow;
  return {
    transactionId: randomUUID(),
    reference: `R${Math.floor(Math.random() * 1e9)}`,
    plan: {
      type: 'p2p',
      channel: 'mobile',
      initiator: { type: 'customer', id: from.customerId },
      source: { kind: 'wallet', walletId: from.walletId },
      destination: { kind: 'wallet', walletId: to },
      amount,
      currency: 'KES',
    },
    quote: { fee: 0n, tax: 0n, total: amount },
    wallets: new Map([[from.walletId, wallet]]),
    context: systemContext(),
  };
}

describe('AML payment screen', () => {
  let t: TestContext;
  let aml: AmlApi;
  let screen: AmlScreen;

  before(async () => {
    t = await startTestApp();
    aml = t.application.system.api(amlModule);
    screen = aml.realtime.screen;
  });
  after(async () => t.close());

  const decisionOf = async (transactionId: string) => {
    await screen.idle();
    const [row] = await t.deps.database.db
      .select()
      .from(amlDecisions)
      .where(eq(amlDecisions.transactionId, transactionId));
    return row;
  };
  const alertOf = async (transactionId: string, code: string) => {
    const [row] = await t.deps.database.db
      .select()
      .from(amlAlerts)
      .where(eq(amlAlerts.dedupeKey, `realtime:${transactionId}:${code}`));
    return row;
  };
  const record = async (payment: ScreenInput) => {
    screen.recorded(payment, 'completed');
    await screen.idle();
  };

  test('an ordinary payment is allowed and recorded (batched) with nothing fired', async () => {
    const payment = input(party(), randomUUID(), 5_000n);
    assert.deepEqual(await screen.decide(payment), { outcome: 'allow' });
    const decision = await decisionOf(payment.transactionId);
    assert.equal(decision?.outcome, 'allow');
    assert.deepEqual(decision?.fired, []);
    assert.ok(decision!.durationUs >= 0);
  });

  test('rt_large_single_payment: review at the threshold (alert, SLA due), allow one unit below', async () => {
    // Paid before: rt_new_counterparty_large stays quiet.
    const payer = party();
    const payee = randomUUID();
    await record(input(payer, payee, 100n));
    const near = input(payer, payee, 99_999_999n);
    assert.equal((await screen.decide(near)).outcome, 'allow');
    const payment = input(payer, payee, 100_000_000n);
    const before = Date.now();
    assert.equal((await screen.decide(payment)).outcome, 'review');
    const decision = await decisionOf(payment.transactionId);
    assert.equal(decision?.outcome, 'review');
    assert.deepEqual(
      decision?.fired.map((rule) => [rule.code, rule.version, rule.mode]),
      [['rt_large_single_payment', 1, 'active']],
    );
    const due = decision!.reviewDueAt!.getTime() - before;
    assert.ok(due >= 24 * 3_600_000 - 5_000 && due <= 24 * 3_600_000 + 5_000, 'due in aml.review_sla_hours');
    const alert = await alertOf(payment.transactionId, 'rt_large_single_payment');
    assert.equal(alert?.priority, 'high');
    assert.equal(alert?.ruleVersion, 1);
    assert.deepEqual(alert?.evidence.transaction_ids, [payment.transactionId]);
  });

  test('rt_velocity_1h: the 101st payment in an hour is held, the 100th is not', async () => {
    const payer = party();
    const payee = randomUUID();
    for (let index = 0; index < 99; index += 1) await record(input(payer, payee, 100n));
    const hundredth = input(payer, randomUUID(), 100n);
    assert.equal((await screen.decide(hundredth)).outcome, 'allow');
    await record(hundredth);
    const next = input(payer, randomUUID(), 100n);
    assert.equal((await screen.decide(next)).outcome, 'review');
    const fired = (await decisionOf(next.transactionId))!.fired;
    assert.equal(fired[0]?.code, 'rt_velocity_1h');
    assert.equal(fired[0]?.detail?.customer_count_1h, 101);
  });

  test('rt_many_counterparties_24h: the 30th distinct payee raises an alert and the payment goes on', async () => {
    const payer = party();
    for (let index = 0; index < 28; index += 1) await record(input(payer, randomUUID(), 100n));
    const twentyNinth = input(payer, randomUUID(), 100n);
    assert.equal((await screen.decide(twentyNinth)).outcome, 'allow');
    assert.equal(await alertOf(twentyNinth.transactionId, 'rt_many_counterparties_24h'), undefined);
    await record(twentyNinth);
    const thirtieth = input(payer, randomUUID(), 100n);
    assert.equal((await screen.decide(thirtieth)).outcome, 'allow', 'alert allows');
    const decision = await decisionOf(thirtieth.transactionId);
    assert.equal(decision?.outcome, 'allow');
    assert.equal(decision?.fired[0]?.action, 'alert');
    assert.ok(await alertOf(thirtieth.transactionId, 'rt_many_counterparties_24h'), 'an alert is raised');
  });

  test('rt_high_risk_large_payment: a high-risk payer is held at KES 100,000; a medium-risk one is not', async () => {
    const high = party();
    const medium = party();
    await t.deps.database.db.insert(amlRiskRatings).values([
      { customerId: high.customerId, score: 80, band: 'high', factors: [], trigger: 'test' },
      { customerId: medium.customerId, score: 50, band: 'medium', factors: [], trigger: 'test' },
    ]);
    assert.equal((await screen.decide(input(medium, randomUUID(), 10_000_000n))).outcome, 'allow');
    const small = input(high, randomUUID(), 9_999_999n);
    assert.equal((await screen.decide(small)).outcome, 'allow', 'below the amount');
    const payment = input(high, randomUUID(), 10_000_000n);
    assert.equal((await screen.decide(payment)).outcome, 'review');
    const fired = (await decisionOf(payment.transactionId))!.fired;
    assert.deepEqual(fired[0]?.detail, { risk_band: 'high', amount_minor: '10000000' });
  });

  test('rt_new_counterparty_large: KES 200,000 to a new payee is held, to a known payee it is not', async () => {
    const payer = party();
    const known = randomUUID();
    await record(input(payer, known, 100n));
    assert.equal((await screen.decide(input(payer, known, 20_000_000n))).outcome, 'allow');
    const payment = input(payer, randomUUID(), 20_000_000n);
    assert.equal((await screen.decide(payment)).outcome, 'review');
    assert.equal((await decisionOf(payment.transactionId))!.fired[0]?.code, 'rt_new_counterparty_large');
  });

  test('test mode records what the rule would do and never acts; decisions name the version', async () => {
    const mode = (value: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/aml/rules/rt_large_single_payment/mode',
        headers: bearer(t.adminToken),
        payload: { mode: value },
      });
    assert.equal((await mode('test')).json().version, 2);
    const payer = party();
    const payee = randomUUID();
    await record(input(payer, payee, 100n));
    const payment = input(payer, payee, 150_000_000n);
    assert.equal((await screen.decide(payment)).outcome, 'allow');
    const decision = await decisionOf(payment.transactionId);
    assert.deepEqual(
      decision?.fired.map((rule) => [rule.code, rule.version, rule.mode]),
      [['rt_large_single_payment', 2, 'test']],
    );
    assert.equal(await alertOf(payment.transactionId, 'rt_large_single_payment'), undefined, 'no alert');

    assert.equal((await mode('active')).json().version, 3);
    const again = input(payer, payee, 150_000_000n);
    assert.equal((await screen.decide(again)).outcome, 'review');
    assert.equal((await decisionOf(again.transactionId))!.fired[0]?.version, 3);
    assert.equal((await alertOf(again.transactionId, 'rt_large_single_payment'))?.ruleVersion, 3);
  });

  test('a movement with no customer (house or float accounts) is allowed unscreened', async () => {
    const payment = input(party(), randomUUID(), 500_000_000n);
    payment.plan.source = { kind: 'account', accountId: randomUUID() };
    payment.plan.destination = { kind: 'account', accountId: randomUUID() };
    payment.plan.initiator = { type: 'user', id: randomUUID() };
    assert.deepEqual(await screen.decide(payment), { outcome: 'allow' });
    assert.equal(await decisionOf(payment.transactionId), undefined);
  });

  // The p99 target (< 5 ms added) is the bench's (same-run ratio); on a shared test machine the tail is noise from
  // other processes, so the test holds the median and reports the p99.
  test('decisions take well under 5 ms (the allow path: rules in memory, one Redis round trip)', async (context) => {
    const payer = party();
    const payee = randomUUID();
    await record(input(payer, payee, 100n));
    const ids: string[] = [];
    for (let index = 0; index < 300; index += 1) {
      const payment = input(payer, payee, 1_000n);
      ids.push(payment.transactionId);
      assert.equal((await screen.decide(payment)).outcome, 'allow');
    }
    await screen.idle();
    const rows = await t.deps.database.db
      .select({ us: amlDecisions.durationUs, id: amlDecisions.transactionId })
      .from(amlDecisions);
    const durations = rows
      .filter((row) => ids.includes(row.id))
      .map((row) => row.us)
      .sort((a, b) => a - b);
    assert.equal(durations.length, 300, 'every allow is written by the batch');
    const p50 = durations[Math.floor(durations.length * 0.5)]!;
    const p99 = durations[Math.floor(durations.length * 0.99) - 1]!;
    context.diagnostic(`decision duration p50 ${p50} µs, p99 ${p99} µs`);
    assert.ok(p50 < 5_000, `p50 ${p50} µs`);
  });

  test('aml.realtime_enabled off: allowed without evaluating, nothing recorded', async () => {
    const settings = t.application.settings;
    await settings.update('aml.realtime_enabled', false, undefined, systemContext());
    try {
      const payment = input(party(), randomUUID(), 500_000_000n);
      assert.deepEqual(await screen.decide(payment), { outcome: 'allow' });
      assert.equal(await decisionOf(payment.transactionId), undefined);
    } finally {
      await settings.update('aml.realtime_enabled', true, undefined, systemContext());
    }
  });

  test('Redis unavailable: decided without aggregates, held at the degraded threshold, allowed below', async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const degraded = new AmlScreen({
      db: t.deps.database.db,
      rules: aml.realtime.rules,
      aggregates: new RedisAggregates(dead, 'dead:'),
      settings: t.application.settings,
      alerts: aml.cases.alerts,
      risk: aml.risk,
      customers: async () => null,
    });
    try {
      const small = input(party(), randomUUID(), 4_999_999n);
      assert.equal((await degraded.decide(small)).outcome, 'allow');
      const large = input(party(), randomUUID(), 5_000_000n);
      assert.equal((await degraded.decide(large)).outcome, 'review');
      await degraded.idle();
      const db = t.deps.database.db;
      const [allowed] = await db
        .select()
        .from(amlDecisions)
        .where(eq(amlDecisions.transactionId, small.transactionId));
      const [held] = await db
        .select()
        .from(amlDecisions)
        .where(eq(amlDecisions.transactionId, large.transactionId));
      assert.equal(allowed?.aggregatesUnavailable, true);
      assert.equal(held?.aggregatesUnavailable, true);
      assert.equal(held?.outcome, 'review');
      assert.ok(await alertOf(large.transactionId, 'aggregates_unavailable'));
      // Rules that need no aggregates still act.
      const huge = input(party(), randomUUID(), 100_000_000n);
      assert.equal((await degraded.decide(huge)).outcome, 'review');
      assert.ok(await alertOf(huge.transactionId, 'rt_large_single_payment'));
    } finally {
      await degraded.close();
      dead.disconnect();
    }
  });
});
