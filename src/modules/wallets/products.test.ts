/**
 * Wallet products' money: fee rules and limits carry their unit (`*_minor`), the API takes and answers whole minor
 * units, and `wallet_products.fees`/`limits` hold them as decimal strings (money inside jsonb is never a JSON number).
 * Migration 0029 rewrites rows of the old shape (and the threshold settings) and leaves new ones as they are.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { MIGRATIONS_FOLDER, rawRows } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { money } from '../../platform/money.ts';
import { feeFor, storedFees } from './wallets.products.ts';

const RULE = { fixed_minor: 2500, percent_bps: 100, min_minor: 3000, max_minor: 30000, tax_bps: 1500 };

describe('feeFor', () => {
  const [rule] = Object.values(storedFees({ cash_withdrawal: RULE }));

  test('fixed + basis points of the amount, clamped to [min, max], duty on the fee, in the amount’s currency', () => {
    // 2,500 + 1% of 100,000 = 3,500; duty 15% = 525.
    assert.deepEqual(feeFor(rule, money(100_000n, 'KES')), {
      fee: money(3_500n, 'KES'),
      tax: money(525n, 'KES'),
    });
    // 2,500 + 1% of 10,000 = 2,600, raised to the minimum 3,000.
    assert.equal(feeFor(rule, money(10_000n, 'KES')).fee.amount_minor, 3_000n);
    // 2,500 + 1% of 10,000,000 = 102,500, capped at 30,000.
    assert.equal(feeFor(rule, money(10_000_000n, 'KES')).fee.amount_minor, 30_000n);
    assert.deepEqual(
      feeFor({ ...rule!, max_minor: null }, money(10_000_000n, 'KES')).fee,
      money(102_500n, 'KES'),
    );
  });

  test('no rule is no fee, in the amount’s currency', () => {
    assert.deepEqual(feeFor(undefined, money(5n, 'UGX')), { fee: money(0n, 'UGX'), tax: money(0n, 'UGX') });
  });

  test('stored rules hold decimal strings of minor units', () => {
    assert.deepEqual(rule, {
      fixed_minor: '2500',
      percent_bps: 100,
      min_minor: '3000',
      max_minor: '30000',
      tax_bps: 1500,
    });
  });
});

describe('wallet products', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });

  async function stored(id: string) {
    const [row] = await rawRows<{
      fees: Record<string, Record<string, unknown>>;
      limits: Record<string, unknown>;
    }>(t.deps.database.db, sql`select fees, limits from wallet_products where id = ${id}`);
    return row!;
  }

  test('fee rules and limits are *_minor integers on the API and decimal strings in jsonb', async () => {
    const created = await call('POST', '/api/v1/wallet/product/add', {
      code: 'MONEY_TEST_KES',
      name: 'Money test (KES)',
      currency: 'KES',
      fees: { p2p: RULE, bill: { ...RULE, max_minor: null } },
      limits: { single_minor: 5_000_000, daily_minor: 9_007_199_254_740_991 },
      allowed_channels: ['mobile'],
    });
    assert.equal(created.statusCode, 201, created.body);
    const view = created.json();
    assert.deepEqual(view.fees.p2p, RULE);
    assert.equal(view.fees.bill.max_minor, null);
    assert.deepEqual(view.limits, { single_minor: 5_000_000, daily_minor: 9_007_199_254_740_991 });

    const row = await stored(view.id);
    assert.deepEqual(row.fees.p2p, {
      fixed_minor: '2500',
      percent_bps: 100,
      min_minor: '3000',
      max_minor: '30000',
      tax_bps: 1500,
    });
    assert.equal(row.fees.bill!.max_minor, null);
    assert.deepEqual(row.limits, { single_minor: '5000000', daily_minor: '9007199254740991' });

    const changed = await call('PATCH', `/api/v1/wallet/product/${view.id}`, {
      limits: { monthly_minor: 12_345 },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json().limits, { monthly_minor: 12_345 });
    assert.deepEqual((await stored(view.id)).limits, { monthly_minor: '12345' });
  });

  test('the old unit-less keys are refused', async () => {
    const response = await call('POST', '/api/v1/wallet/product/add', {
      code: 'MONEY_TEST_OLD',
      name: 'Old shape',
      currency: 'KES',
      fees: { p2p: { fixed: 0, percent_bps: 0, min: 0, max: null, tax_bps: 0 } },
      limits: {},
      allowed_channels: ['mobile'],
    });
    assert.equal(response.statusCode, 422, response.body);
  });

  test('the seeded products are stored in the new shape', async () => {
    const rows = await rawRows<{
      code: string;
      fees: Record<string, Record<string, unknown>>;
      limits: object;
    }>(t.deps.database.db, sql`select code, fees, limits from wallet_products where code = 'KES_STANDARD'`);
    const kes = rows[0]!;
    assert.deepEqual(kes.fees.p2p, {
      fixed_minor: '0',
      percent_bps: 50,
      min_minor: '1000',
      max_minor: '10000',
      tax_bps: 1500,
    });
    assert.deepEqual(kes.limits, {
      single_minor: '25000000',
      daily_minor: '50000000',
      monthly_minor: '300000000',
      max_balance_minor: '100000000',
    });
  });

  test('migration 0029 rewrites rows of the old shape and leaves new ones as they are', async () => {
    const db = t.deps.database.db;
    const id = uuidv7();
    await db.execute(sql`
      insert into wallet_products (id, code, name, currency, is_default, fees, limits, allowed_channels)
      values (${id}, 'MONEY_TEST_LEGACY', 'Legacy shape', 'UGX', false,
        ${JSON.stringify({
          p2p: { fixed: 500, percent_bps: 50, min: 500, max: 5000, tax_bps: 1500 },
          bill: { fixed: 1000, percent_bps: 0, min: 0, max: null, tax_bps: 1500 },
        })}::jsonb,
        ${JSON.stringify({ single: 5000000, daily: 10000000, max_balance: 20000000 })}::jsonb,
        '["mobile"]'::jsonb)`);
    await db.execute(sql`
      insert into app_settings (key, value) values ('payments.otp_threshold', '{"KES": 50000, "UGX": 3000000}'::jsonb)`);
    const before = await rawRows<{ code: string; fees: unknown; limits: unknown }>(
      db,
      sql`select code, fees, limits from wallet_products where code <> 'MONEY_TEST_LEGACY' order by code`,
    );

    const statements = readFileSync(join(MIGRATIONS_FOLDER, '0029_money_minor_units_in_jsonb.sql'), 'utf8')
      .split('--> statement-breakpoint')
      .map((statement) => statement.trim())
      .filter(Boolean);
    for (const statement of statements) await db.execute(sql.raw(statement));

    const legacy = await stored(id);
    assert.deepEqual(legacy.fees, {
      p2p: { fixed_minor: '500', percent_bps: 50, min_minor: '500', max_minor: '5000', tax_bps: 1500 },
      bill: { fixed_minor: '1000', percent_bps: 0, min_minor: '0', max_minor: null, tax_bps: 1500 },
    });
    assert.deepEqual(legacy.limits, {
      single_minor: '5000000',
      daily_minor: '10000000',
      max_balance_minor: '20000000',
    });
    const settings = await rawRows<{ key: string; value: unknown }>(
      db,
      sql`select key, value from app_settings where key like 'payments.otp_threshold%'`,
    );
    assert.deepEqual(settings, [
      { key: 'payments.otp_threshold_minor', value: { KES: '50000', UGX: '3000000' } },
    ]);
    const thresholds = await call('GET', '/api/v1/admin/config/payments.otp_threshold_minor');
    assert.equal(thresholds.statusCode, 200, thresholds.body);
    assert.deepEqual(thresholds.json().value, { KES: '50000', UGX: '3000000' });

    const after = await rawRows<{ code: string; fees: unknown; limits: unknown }>(
      db,
      sql`select code, fees, limits from wallet_products where code <> 'MONEY_TEST_LEGACY' order by code`,
    );
    assert.deepEqual(after, before, 'rows already in the new shape are unchanged');

    // The rewritten product works: its fee rule prices a payment.
    const products = await call('GET', '/api/v1/wallet/product');
    const view = products.json().items.find((item: { id: string }) => item.id === id);
    assert.deepEqual(view.fees.p2p, {
      fixed_minor: 500,
      percent_bps: 50,
      min_minor: 500,
      max_minor: 5000,
      tax_bps: 1500,
    });
  });
});
