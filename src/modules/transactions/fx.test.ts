/** FX: exact rates, the spread, conversion through the position accounts, and who may convert. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
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
import { customers } from '../customers/customers.tables.ts';
import { convertAmount, parseRate } from './transactions.fx.ts';

describe('FX conversion', () => {
  let t: TestContext;
  let premium: TestCustomer;
  let basic: TestCustomer;
  let kes: TestWallet;
  let usd: TestWallet;

  before(async () => {
    t = await startTestApp();
    premium = await createCustomer(t, 'Premium', '+254755000001');
    basic = await createCustomer(t, 'Basic', '+254755000002');
    await t.deps.database.db
      .update(customers)
      .set({ kycTier: 'premium' })
      .where(eq(customers.id, premium.id));
    kes = await openWallet(t, premium.id, 'KES');
    usd = await openWallet(t, premium.id, 'USD');
    await openWallet(t, basic.id, 'KES');
    await openWallet(t, basic.id, 'USD');
    await deposit(t, kes.id, 1_000_000);
    const rate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/rate/set',
      headers: bearer(t.adminToken),
      payload: { base_currency: 'USD', quote_currency: 'KES', rate: '129.5', spread_bps: 100 },
    });
    assert.equal(rate.statusCode, 200, rate.body);
  });
  after(async () => t.close());

  test('rates are exact fractions and conversion rounds down after the spread', () => {
    assert.deepEqual(parseRate('129.5'), { numerator: 1295n, denominator: 10n });
    const row = {
      baseCurrency: 'USD',
      quoteCurrency: 'KES',
      rateNumerator: 1295n,
      rateDenominator: 10n,
      spreadBps: 100,
    };
    const asRow = row as unknown as Parameters<typeof convertAmount>[3];
    // KES 100.00 → USD 100 / 129.5 × 0.99 = 0.7645 → 76 cents.
    assert.equal(convertAmount(10_000n, 'KES', 'USD', asRow), 76n);
    // USD 1.00 → KES 129.5 × 0.99 = 128.205 → KES 128.20.
    assert.equal(convertAmount(100n, 'USD', 'KES', asRow), 12_820n);
    // UGX has no minor unit: 1 USD → 3,700 UGX exactly with no spread.
    const ugx = { ...row, quoteCurrency: 'UGX', rateNumerator: 3700n, rateDenominator: 1n, spreadBps: 0 };
    assert.equal(
      convertAmount(100n, 'USD', 'UGX', ugx as unknown as Parameters<typeof convertAmount>[3]),
      3700n,
    );
  });

  test('a quote and a conversion between the customer’s own wallets', async () => {
    const quote = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/quote',
      headers: bearer(premium.token),
      payload: { from_currency: 'KES', to_currency: 'USD', amount: 10_000 },
    });
    assert.equal(quote.statusCode, 200, quote.body);
    assert.equal(quote.json().destination_amount, 76);
    const convert = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/convert',
      headers: idempotent(premium.token),
      payload: { from_currency: 'KES', to_currency: 'USD', amount: 10_000, pin: TEST_PIN },
    });
    assert.equal(convert.statusCode, 201, convert.body);
    assert.equal(convert.json().type, 'fx');
    assert.equal(convert.json().destination_amount, 76);
    assert.equal((await balanceOf(t, kes.id)).balance, 1_000_000 - 10_000);
    assert.equal((await balanceOf(t, usd.id)).balance, 76);
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });

  test('refusals: tier without FX, unknown pair, same currency, bad rate', async () => {
    const basicConvert = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/convert',
      headers: idempotent(basic.token),
      payload: { from_currency: 'KES', to_currency: 'USD', amount: 10_000, pin: TEST_PIN },
    });
    assert.equal(basicConvert.statusCode, 403, basicConvert.body);
    assert.equal(basicConvert.json().error_code, 'FEATURE_NOT_ALLOWED');
    const noPair = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/quote',
      headers: bearer(premium.token),
      payload: { from_currency: 'KES', to_currency: 'EUR', amount: 10_000 },
    });
    assert.equal(noPair.json().error_code, 'NO_FX_RATE');
    const same = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/quote',
      headers: bearer(premium.token),
      payload: { from_currency: 'KES', to_currency: 'KES', amount: 10_000 },
    });
    assert.equal(same.json().error_code, 'SAME_CURRENCY');
    const zero = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/rate/set',
      headers: bearer(t.adminToken),
      payload: { base_currency: 'USD', quote_currency: 'EUR', rate: '0', spread_bps: 0 },
    });
    assert.equal(zero.statusCode, 422);
    const customerSets = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/rate/set',
      headers: bearer(premium.token),
      payload: { base_currency: 'USD', quote_currency: 'EUR', rate: '0.9', spread_bps: 0 },
    });
    assert.equal(customerSets.statusCode, 403);
  });
});
