/**
 * Enhanced due diligence lowers limits (issue 20): a customer rated high has every KYC-tier and product amount limit
 * scaled to `aml.high_risk_limit_percent` (customers' limit scale, reason `aml_high_risk`), set in the rating's
 * transaction and lifted when the rating leaves high; a staff restriction is never lifted or overridden by AML; the
 * refusal shows the scaled limit and names nothing of AML; and the one-call commit re-checks a scale changed between
 * the check and the commit.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { inTransaction, rawRows } from '../../platform/db.ts';
import type { AppError } from '../../platform/errors.ts';
import { clearCustomerLimitScale, customerLimitScale, setCustomerLimitScale } from '../customers/index.ts';
import { policyModule } from '../policy/index.ts';
import { type SettingKey, settingsModule } from '../settings/index.ts';
import { amlModule } from './index.ts';

const phone = () => `+2547${String(randomInt(10_000_000, 99_999_999))}`;
// The basic tier's KES limit per payment (seed/kyc_tiers.json); 50% of it by default while high.
const TIER_SINGLE = 7_000_000;

describe('lower limits for high-risk customers', () => {
  let t: TestContext;

  const db = () => t.deps.database.db;
  const risk = () => t.application.system.api(amlModule).risk;
  const setting = (key: SettingKey, value: unknown) =>
    t.application.system.api(settingsModule).update(key, value, undefined, systemContext());
  // Every customer rates high (score ≥ 0), or back to the default bands (a new customer is low).
  const allHigh = () => setting('aml.risk_bands', { medium: 0, high: 0 });
  const defaultBands = () => setting('aml.risk_bands', { medium: 40, high: 70 });

  // A payer with 90,000.00 and a payee of their own (each payee's balance cap is 100,000.00).
  let payeeWallet: TestWallet;
  async function payer(): Promise<{ customer: TestCustomer; wallet: TestWallet }> {
    const customer = await createCustomer(t, 'Hadija', phone());
    const wallet = await openWallet(t, customer.id);
    await deposit(t, wallet.id, 9_000_000);
    payeeWallet = await openWallet(t, (await createCustomer(t, 'Baraka', phone())).id);
    return { customer, wallet };
  }

  const transfer = (customer: TestCustomer, amount: number) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(customer.token),
      payload: { to_wallet_number: payeeWallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
    });

  before(async () => {
    t = await startTestApp();
    // The real-time rules would decide these large payments too (review): this file is about limits only.
    await setting('aml.realtime_enabled', false);
  });
  after(async () => t.close());

  test('rated high: a payment within the tier limit but above the scaled one is refused, with the scaled limit; after the rating drops it goes through', async () => {
    const { customer, wallet } = await payer();
    const amount = 4_000_000; // within 7,000,000, above 50% of it
    await allHigh();
    try {
      assert.equal((await risk().recompute(customer.id, 'test')).band, 'high');
    } finally {
      await defaultBands();
    }
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 50, reason: 'aml_high_risk' });

    const refused = await transfer(customer, amount);
    assert.equal(refused.statusCode, 422, refused.body);
    const body = refused.json();
    assert.equal(body.error_code, 'LIMIT_EXCEEDED');
    assert.deepEqual(body.details, {
      scope: 'kyc_tier',
      period: 'single',
      kind: 'amount',
      limit: TIER_SINGLE / 2,
      remaining: TIER_SINGLE / 2,
    });
    // Tipping-off: the customer sees lower limits, never why.
    assert.doesNotMatch(refused.body, /aml|risk|due diligence/i);
    const balance = await balanceOf(t, wallet.id);
    assert.equal(balance.balance, 9_000_000, 'nothing moved');

    // Staff see it beside the rating.
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/aml/risk/${customer.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(view.statusCode, 200, view.body);
    assert.deepEqual(view.json().limits, { reduced: true, percent: 50, reason: 'aml_high_risk' });
    // Audited, under an action that names no reason (the customer's export lists the actions).
    const audits = await rawRows<{ action: string; after: { limit_percent: number; limit_reason: string } }>(
      db(),
      sql`select action, after from audit_log where entity_type = 'customer' and entity_id = ${customer.id}
          and action like 'customer.limits_%' order by seq`,
    );
    assert.deepEqual(
      audits.map((row) => [row.action, row.after.limit_percent, row.after.limit_reason]),
      [['customer.limits_scaled', 50, 'aml_high_risk']],
    );

    // Still high on a second rating: nothing changes, no second audit row.
    await allHigh();
    try {
      assert.equal((await risk().recompute(customer.id, 'test')).band, 'high');
    } finally {
      await defaultBands();
    }
    // A payment within the scaled limit goes through while high.
    const small = await transfer(customer, 3_000_000);
    assert.equal(small.statusCode, 201, small.body);

    // The rating drops: the scale is lifted and the refused payment goes through.
    assert.equal((await risk().recompute(customer.id, 'test')).band, 'low');
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 100, reason: null });
    const through = await transfer(customer, amount);
    assert.equal(through.statusCode, 201, through.body);
    const actions = await rawRows<{ action: string }>(
      db(),
      sql`select action from audit_log where entity_type = 'customer' and entity_id = ${customer.id}
          and action like 'customer.limits_%' order by seq`,
    );
    assert.deepEqual(
      actions.map((row) => row.action),
      ['customer.limits_scaled', 'customer.limits_restored'],
    );
    const lifted = await t.app.inject({
      method: 'GET',
      url: `/api/v1/aml/risk/${customer.id}`,
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(lifted.json().limits, { reduced: false, percent: 100, reason: null });
  });

  test('the daily limit is scaled too, and the remaining shown is of the scaled limit', async () => {
    const { customer } = await payer();
    await setting('aml.high_risk_limit_percent', 30);
    await allHigh();
    try {
      assert.equal((await risk().recompute(customer.id, 'test')).band, 'high');
    } finally {
      await defaultBands();
      await setting('aml.high_risk_limit_percent', 50);
    }
    // 30% of the 7,000,000 single limit is 2,100,000 and of the 15,000,000 daily limit 4,500,000.
    const first = await transfer(customer, 2_000_000);
    assert.equal(first.statusCode, 201, first.body);
    const second = await transfer(customer, 2_000_000);
    assert.equal(second.statusCode, 201, second.body);
    const third = await transfer(customer, 2_000_000);
    assert.equal(third.statusCode, 422, third.body);
    assert.deepEqual(third.json().details, {
      scope: 'kyc_tier',
      period: 'daily',
      kind: 'amount',
      limit: 4_500_000,
      remaining: 500_000,
    });
    // The setting at 100 disables the reduction: the next rating lifts AML's scale even while high.
    await setting('aml.high_risk_limit_percent', 100);
    await allHigh();
    try {
      assert.equal((await risk().recompute(customer.id, 'test')).band, 'high');
    } finally {
      await defaultBands();
      await setting('aml.high_risk_limit_percent', 50);
    }
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 100, reason: null });
  });

  test('a staff restriction is neither overridden nor lifted by AML', async () => {
    const { customer } = await payer();
    await inTransaction(db(), (tx) =>
      setCustomerLimitScale(tx, customer.id, { percent: 80, reason: 'staff' }, systemContext()),
    );
    await allHigh();
    try {
      assert.equal((await risk().recompute(customer.id, 'test')).band, 'high');
    } finally {
      await defaultBands();
    }
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 80, reason: 'staff' });
    assert.equal((await risk().recompute(customer.id, 'test')).band, 'low');
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 80, reason: 'staff' });
    // Nor by a direct clear under AML's reason; staff's own clear lifts it.
    assert.equal(
      await inTransaction(db(), (tx) =>
        clearCustomerLimitScale(tx, customer.id, 'aml_high_risk', systemContext()),
      ),
      false,
    );
    // The staff scale applies to payments: 80% of 7,000,000 is 5,600,000.
    const refused = await transfer(customer, 6_000_000);
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().details.limit, 5_600_000);
    assert.equal(
      await inTransaction(db(), (tx) => clearCustomerLimitScale(tx, customer.id, 'staff', systemContext())),
      true,
    );
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 100, reason: null });
    // A staff restriction replaces AML's scale (staff may loosen it), and AML then leaves it.
    await allHigh();
    try {
      await risk().recompute(customer.id, 'test');
      assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 50, reason: 'aml_high_risk' });
      await inTransaction(db(), (tx) =>
        setCustomerLimitScale(tx, customer.id, { percent: 90, reason: 'staff' }, systemContext()),
      );
      await risk().recompute(customer.id, 'test');
    } finally {
      await defaultBands();
    }
    assert.deepEqual(await customerLimitScale(db(), customer.id), { percent: 90, reason: 'staff' });
    await assert.rejects(
      inTransaction(db(), (tx) =>
        setCustomerLimitScale(tx, customer.id, { percent: 0, reason: 'staff' }, systemContext()),
      ),
      RangeError,
    );
  });

  test('the scale changed between the check and the one-call commit: the commit finds the state stale, checks again and refuses', async () => {
    const { customer, wallet } = await payer();
    const { engine } = t.application.transactions;
    const plan = {
      type: 'p2p' as const,
      channel: 'mobile',
      initiator: { type: 'customer' as const, id: customer.id },
      source: { kind: 'wallet' as const, walletId: wallet.id },
      destination: { kind: 'wallet' as const, walletId: payeeWallet.id },
      amount: 4_000_000n,
      currency: 'KES',
      feature: 'p2p',
    };
    const context = {
      actor: { type: 'customer' as const, id: customer.id },
      ip: null,
      userAgent: null,
      requestId: 'r',
    };
    const steps = [{ state: 'initiated' as const, at: new Date().toISOString() }];
    const before = { ...engine.commits };
    const checked = await engine.check(plan);
    await inTransaction(db(), (tx) =>
      setCustomerLimitScale(tx, customer.id, { percent: 50, reason: 'aml_high_risk' }, systemContext()),
    );
    await assert.rejects(engine.commit(plan, steps, context, checked), (error: AppError) => {
      assert.equal(error.errorCode, 'LIMIT_EXCEEDED');
      assert.equal((error.details as { limit: bigint }).limit, BigInt(TIER_SINGLE / 2));
      return true;
    });
    assert.equal(engine.commits.stale, before.stale + 1);
    assert.equal(engine.commits.oneCall, before.oneCall);
    assert.equal((await balanceOf(t, wallet.id)).balance, 9_000_000, 'nothing moved');
    // The state a payment's checks read carries the scale (null for a wallet no customer owns).
    const states = await rawRows<{ percent: number | null }>(
      db(),
      sql`select (state->>'limit_percent')::int as percent from payment_wallet_state(array[${wallet.id}]::uuid[],
            'd:x', 'm:x')`,
    );
    assert.deepEqual(states, [{ percent: 50 }]);
  });

  test('policy scales every amount limit it is asked about, rounded down, and not the counts', async () => {
    const policy = t.application.system.api(policyModule);
    // A limit of its own transaction type, so no payment of this file meets it.
    await policy.createLimit(
      {
        kyc_tier: 'basic',
        channel: '*',
        transaction_type: 'risk_scale_test',
        period: 'daily',
        currency: 'KES',
        max_amount_minor: 1_001n,
        max_count: 2,
      },
      systemContext(),
    );
    const ask = (amount: bigint, limit_percent?: number) =>
      policy.evaluateTransaction({
        kyc_tier: 'basic',
        channel: 'mobile',
        transaction_type: 'risk_scale_test',
        currency: 'KES',
        amount,
        used: { daily_amount: 100n, daily_count: 2, monthly_amount: 100n, monthly_count: 2 },
        ...(limit_percent === undefined ? {} : { limit_percent }),
      });
    const unscaled = await ask(901n);
    assert.deepEqual(
      unscaled.violations.map((v) => [v.kind, v.limit, v.remaining]),
      [['count', 2n, 0n]],
    );
    // 50% of 1,001 is 500 (rounded down): 100 used + 400 fits, + 401 does not; the count limit stays 2.
    assert.deepEqual(
      (await ask(400n, 50)).violations.map((v) => [v.kind, v.limit, v.remaining]),
      [['count', 2n, 0n]],
    );
    assert.deepEqual(
      (await ask(401n, 50)).violations.map((v) => [v.kind, v.limit, v.remaining]),
      [
        ['amount', 500n, 400n],
        ['count', 2n, 0n],
      ],
    );
    assert.deepEqual(
      (await ask(401n, 100)).violations.map((v) => v.kind),
      ['count'],
    );
  });
});
