/** Billers and bill payment end to end through the API: registry, reference validation, payment, refusals. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
import { luhnCheckDigit } from '../../platform/ids.ts';
import { backtrackingHazard } from './bills.adapters.ts';
import { luhnValid, PatternAdapter, seedBillers } from './index.ts';

/** An 11-digit meter number with a valid Luhn check digit, and the same with the check digit broken. */
const METER_BODY = '1422830459';
const METER = `${METER_BODY}${luhnCheckDigit(METER_BODY)}`;
const BAD_METER = `${METER_BODY}${(luhnCheckDigit(METER_BODY) + 1) % 10}`;

test('patterns that backtrack catastrophically are refused when a biller is saved', () => {
  for (const pattern of [
    '^(a+)+$',
    '^(\\d|\\d\\d)*$',
    '^(?:[0-9]{1,3})+$',
    '^(a*)*b$',
    '^(\\w+\\s?)*$',
    '^(a)\\1$',
    '^(?=a)a$',
  ])
    assert.ok(backtrackingHazard(pattern), pattern);
  for (const pattern of ['^[0-9]{11}$', '^(?:01|02)[0-9]{8}$', '^[A-Z]{2}-[0-9]{4,8}$', '^\\d+(?:-\\d{2})?$'])
    assert.equal(backtrackingHazard(pattern), null, pattern);
});

describe('bill payment adapters', () => {
  test('the pattern adapter anchors the pattern and checks the Luhn digit when asked', async () => {
    assert.ok(luhnValid('79927398713'));
    assert.ok(!luhnValid('79927398710'));
    const meter = new PatternAdapter('^[0-9]{11}$', true);
    assert.deepEqual(await meter.validate(METER), { valid: true });
    assert.deepEqual(await meter.validate(BAD_METER), { valid: false, reason: 'check_digit' });
    assert.deepEqual(await meter.validate(`${METER}1`), { valid: false, reason: 'format' });
    // An alternation must not match a substring: the pattern is compiled inside a further anchored group.
    const either = new PatternAdapter('^A1|B2$', false);
    assert.equal((await either.validate('A1')).valid, true);
    assert.equal((await either.validate('A1XX')).valid, false);
    assert.throws(() => new PatternAdapter('[0-9]+', false), /anchored/);
    assert.throws(() => new PatternAdapter('^([0-9]$', false), /not usable/);
  });
});

describe('billers and bill payment', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let aliceWallet: TestWallet;

  before(async () => {
    t = await startTestApp();
    // `seedAll` (run by startTestApp, as by `npm start`) loaded the five seed billers already.
    assert.equal(await seedBillers(t.deps.database.db, t.application.ledger), 0);
    alice = await createCustomer(t, 'Alice', '+254722100001');
    aliceWallet = await openWallet(t, alice.id);
    await deposit(t, aliceWallet.id, 1_000_000);
  });
  after(async () => t.close());

  const pay = (token: string, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/bill',
      headers: idempotent(token, key),
      payload,
    });

  const billerByCode = async (code: string) => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/biller?limit=100',
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 200, response.body);
    const found = (
      response.json().items as { code: string; id: string; settlement_account_id: string }[]
    ).find((item) => item.code === code);
    assert.ok(found, `biller ${code} listed`);
    return found;
  };

  test('customers list active billers without internal ledger ids; pages follow the cursor', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/biller?limit=2',
      headers: bearer(alice.token),
    });
    assert.equal(response.statusCode, 200, response.body);
    const first = response.json();
    assert.equal(first.items.length, 2);
    assert.equal(first.items[0].code, 'AIRTIME_AIRTEL_KE');
    assert.equal(first.items[0].settlement_account_id, undefined);
    assert.ok(first.next_cursor);
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/biller?limit=10&cursor=${first.next_cursor}`,
      headers: bearer(alice.token),
    });
    const codes = next.json().items.map((item: { code: string }) => item.code);
    assert.deepEqual(codes, [
      'AIRTIME_MTN_UG',
      'AIRTIME_SAFARICOM',
      'AIRTIME_TELKOM_KE',
      'DSTV_KE',
      'KPLC_POSTPAID',
      'KPLC_PREPAID',
      'NAIROBI_WATER',
      'UMEME_YAKA',
    ]);
    const ugx = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/biller?currency=UGX',
      headers: bearer(alice.token),
    });
    assert.deepEqual(
      ugx.json().items.map((item: { code: string }) => item.code),
      ['AIRTIME_AIRTEL_UG', 'AIRTIME_MTN_UG', 'UMEME_YAKA'],
    );
    const yaka = ugx.json().items.find((item: { code: string }) => item.code === 'UMEME_YAKA');
    assert.equal(yaka.min_amount_display, 'UGX 2,000');
  });

  test('seeding again is idempotent and keeps changes staff made', async () => {
    const water = await billerByCode('NAIROBI_WATER');
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/wallet/biller/${water.id}`,
      headers: bearer(t.adminToken),
      payload: { name: 'Nairobi Water (NCWSC)' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(await seedBillers(t.deps.database.db, t.application.ledger), 0);
    const again = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/biller/${water.id}`,
      headers: bearer(alice.token),
    });
    assert.equal(again.json().name, 'Nairobi Water (NCWSC)');
  });

  test('validate a reference: valid meter, broken check digit, wrong length, unknown biller', async () => {
    const validate = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/biller/validate',
        headers: bearer(alice.token),
        payload,
      });
    const good = await validate({
      biller_code: 'KPLC_PREPAID',
      reference: `${METER.slice(0, 4)} ${METER.slice(4)}`,
    });
    assert.equal(good.statusCode, 200, good.body);
    assert.deepEqual(good.json(), { biller_code: 'KPLC_PREPAID', reference: METER, valid: true });
    const broken = await validate({ biller_code: 'KPLC_PREPAID', reference: BAD_METER });
    assert.deepEqual(broken.json(), {
      biller_code: 'KPLC_PREPAID',
      reference: BAD_METER,
      valid: false,
      reason: 'check_digit',
    });
    const short = await validate({ biller_code: 'DSTV_KE', reference: '12345' });
    assert.equal(short.json().valid, false);
    assert.equal(short.json().reason, 'format');
    const unknown = await validate({ biller_code: 'NO_SUCH', reference: '1' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, 'BILLER_NOT_FOUND');
  });

  test('a bill payment debits amount + fee + duty; the biller settlement account is credited the amount', async () => {
    const kplc = await billerByCode('KPLC_PREPAID');
    const before = await balanceOf(t, aliceWallet.id);
    const response = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: 100_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.type, 'bill');
    assert.equal(body.status, 'completed');
    assert.equal(body.biller_id, kplc.id);
    // KES_STANDARD bill fee: 30.00 fixed, 15% excise duty on it.
    assert.equal(body.fee, 3000);
    assert.equal(body.tax, 450);
    assert.equal(body.total, 103_450);
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, before.balance - 103_450);
    const settlement = await t.application.ledger.balance(kplc.settlement_account_id);
    assert.equal(settlement.balance, 100_000n);
    const record = await t.application.transactions.row(body.id);
    assert.equal(record.metadata?.bill_reference, METER);
    assert.equal(record.metadata?.biller_code, 'KPLC_PREPAID');
  });

  test('the same Idempotency-Key replays the payment without paying twice', async () => {
    const payload = { biller_code: 'DSTV_KE', reference: '7012345678', amount: 20_000, pin: TEST_PIN };
    const first = await pay(alice.token, payload, 'bill-replay-0001');
    assert.equal(first.statusCode, 201, first.body);
    const balance = await balanceOf(t, aliceWallet.id);
    const replay = await pay(alice.token, payload, 'bill-replay-0001');
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.body, first.body);
    assert.deepEqual(await balanceOf(t, aliceWallet.id), balance);
  });

  test('refusals: bad reference, amount out of range, unknown biller, currency, no PIN, wrong PIN', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const bad = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: BAD_METER,
      amount: 10_000,
      pin: TEST_PIN,
    });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.equal(bad.json().error_code, 'INVALID_BILL_REFERENCE');
    assert.equal(bad.json().details.reason, 'check_digit');
    const low = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: 4_999,
      pin: TEST_PIN,
    });
    assert.equal(low.statusCode, 422);
    assert.equal(low.json().error_code, 'AMOUNT_OUT_OF_RANGE');
    assert.deepEqual(low.json().details, { amount: 4_999, min_amount: 5_000, max_amount: 3_500_000 });
    const high = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: 3_500_001,
      pin: TEST_PIN,
    });
    assert.equal(high.statusCode, 422);
    assert.equal(high.json().error_code, 'AMOUNT_OUT_OF_RANGE');
    const unknown = await pay(alice.token, {
      biller_code: 'NOT_A_BILLER',
      reference: '123',
      amount: 10_000,
      pin: TEST_PIN,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, 'BILLER_NOT_FOUND');
    const currency = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: 10_000,
      currency: 'USD',
      pin: TEST_PIN,
    });
    assert.equal(currency.statusCode, 422);
    assert.equal(currency.json().error_code, 'CURRENCY_MISMATCH');
    const noWallet = await pay(alice.token, {
      biller_code: 'UMEME_YAKA',
      reference: METER,
      amount: 10_000,
      pin: TEST_PIN,
    });
    assert.equal(noWallet.statusCode, 404);
    const noPin = await pay(alice.token, { biller_code: 'KPLC_PREPAID', reference: METER, amount: 10_000 });
    assert.equal(noPin.statusCode, 422);
    assert.equal(noPin.json().error_code, 'VALIDATION_ERROR');
    const malformed = await pay(alice.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: '10000',
      pin: TEST_PIN,
    });
    assert.equal(malformed.statusCode, 422);
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
  });

  test('another customer’s wallet cannot be named as the source', async () => {
    const bob = await createCustomer(t, 'Bob', '+254722100002');
    const response = await pay(bob.token, {
      biller_code: 'KPLC_PREPAID',
      reference: METER,
      amount: 10_000,
      source_wallet_id: aliceWallet.id,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 404);
  });

  test('an inactive biller refuses payments and disappears for customers', async () => {
    const dstv = await billerByCode('DSTV_KE');
    const off = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/wallet/biller/${dstv.id}`,
      headers: bearer(t.adminToken),
      payload: { active: false },
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(off.json().active, false);
    const response = await pay(alice.token, {
      biller_code: 'DSTV_KE',
      reference: '7012345678',
      amount: 20_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 422);
    assert.equal(response.json().error_code, 'BILLER_UNAVAILABLE');
    const hidden = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/biller/${dstv.id}`,
      headers: bearer(alice.token),
    });
    assert.equal(hidden.statusCode, 404);
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/wallet/biller/${dstv.id}`,
      headers: bearer(t.adminToken),
      payload: { active: true },
    });
  });

  test('bill payments switched off answer 403 FEATURE_DISABLED', async () => {
    await t.application.settings.update('features.bill_payments', false, undefined, systemContext());
    try {
      const response = await pay(alice.token, {
        biller_code: 'KPLC_PREPAID',
        reference: METER,
        amount: 10_000,
        pin: TEST_PIN,
      });
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().error_code, 'FEATURE_DISABLED');
    } finally {
      await t.application.settings.update('features.bill_payments', true, undefined, systemContext());
    }
  });

  test('staff add billers; unknown adapters, unanchored patterns and duplicate codes are refused', async () => {
    const add = (token: string, payload: object) =>
      t.app.inject({ method: 'POST', url: '/api/v1/wallet/biller/add', headers: bearer(token), payload });
    const created = await add(t.adminToken, {
      code: 'ZUKU_KE',
      name: 'Zuku fibre',
      category: 'internet',
      currency: 'KES',
      adapter: 'pattern',
      reference_pattern: '^[0-9]{6,9}$',
      min_amount: 100_000,
      max_amount: 2_000_000,
    });
    assert.equal(created.statusCode, 201, created.body);
    const biller = created.json();
    assert.equal(biller.active, true);
    assert.match(biller.settlement_account_id, /^[0-9a-f-]{36}$/);
    const account = await t.application.ledger.accounts([biller.settlement_account_id]);
    assert.equal(account[0]?.code, 'biller:ZUKU_KE');
    assert.equal(account[0]?.kind, 'liability');
    const paid = await pay(alice.token, {
      biller_code: 'ZUKU_KE',
      reference: '1234567',
      amount: 100_000,
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);

    const adapter = await add(t.adminToken, {
      code: 'ODD_BILLER',
      name: 'Odd',
      category: 'other',
      currency: 'KES',
      adapter: 'soap_lookup',
      reference_pattern: '^[0-9]+$',
    });
    assert.equal(adapter.statusCode, 422);
    assert.equal(adapter.json().error_code, 'UNKNOWN_BILLER_ADAPTER');
    const unanchored = await add(t.adminToken, {
      code: 'ODD_BILLER',
      name: 'Odd',
      category: 'other',
      currency: 'KES',
      adapter: 'pattern',
      reference_pattern: '[0-9]+',
    });
    assert.equal(unanchored.statusCode, 422);
    assert.equal(unanchored.json().error_code, 'INVALID_REFERENCE_PATTERN');
    const bounds = await add(t.adminToken, {
      code: 'ODD_BILLER',
      name: 'Odd',
      category: 'other',
      currency: 'KES',
      adapter: 'pattern',
      reference_pattern: '^[0-9]+$',
      min_amount: 500,
      max_amount: 100,
    });
    assert.equal(bounds.statusCode, 422);
    const duplicate = await add(t.adminToken, {
      code: 'ZUKU_KE',
      name: 'Zuku again',
      category: 'internet',
      currency: 'KES',
      adapter: 'pattern',
      reference_pattern: '^[0-9]+$',
    });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error_code, 'BILLER_EXISTS');
    const byCustomer = await add(alice.token, {
      code: 'MINE_KE',
      name: 'Mine',
      category: 'other',
      currency: 'KES',
      adapter: 'pattern',
      reference_pattern: '^[0-9]+$',
    });
    assert.equal(byCustomer.statusCode, 403);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/wallet/biller/${biller.id}`,
      headers: bearer(t.adminToken),
      payload: { adapter: 'carrier_pigeon' },
    });
    assert.equal(patch.statusCode, 422);
    assert.equal(patch.json().error_code, 'UNKNOWN_BILLER_ADAPTER');
    const missing = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/wallet/biller/0190a000-0000-7000-8000-000000000000',
      headers: bearer(t.adminToken),
      payload: { active: false },
    });
    assert.equal(missing.statusCode, 404);
  });

  test('the ledger balances after every payment', async () => {
    await t.application.ledger.rollUp();
    assert.ok((await t.application.ledger.verify()).ok);
  });
});
