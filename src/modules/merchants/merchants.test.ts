/** Merchants end to end: maker-checker registration, EMVCo QR codes, and payment by merchant id, static and dynamic QR. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
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
import { crc16CcittFalse, encodeMerchantQr, parseMerchantQr } from './emvco.ts';
import { MERCHANT_QR_GUID } from './merchants.service.ts';
import { merchantQrCodes } from './merchants.tables.ts';

const PASSWORD = 'merchant desk lantern 7';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Merchant {
  id: string;
  merchant_number: string;
  wallet_id: string;
  currency: string;
}

describe('merchants and merchant payments', () => {
  let t: TestContext;
  let makerToken: string;
  let checkerToken: string;
  let alice: TestCustomer;
  let aliceWallet: TestWallet;
  let owner: TestCustomer;
  let carol: TestCustomer;
  let shop: Merchant;
  let feeIncome: string;

  async function staff(username: string, roles: string[]) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  const fileRegistration = (token: string, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/merchant/merchant/add', headers: bearer(token), payload });
  const approve = (token: string, requestId: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer(token),
      payload: { request_id: requestId },
    });

  async function register(payload: object): Promise<Merchant> {
    const filed = await fileRegistration(makerToken, payload);
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await approve(checkerToken, filed.json().id);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);
    return approved.json().result as Merchant;
  }

  const pay = (customer: TestCustomer, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/merchant',
      headers: idempotent(customer.token, key),
      payload: { pin: TEST_PIN, ...payload },
    });
  const createQr = (token: string, mode: 'static' | 'dynamic', payload: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1/merchant/qr/${mode}`, headers: bearer(token), payload });
  const feeIncomeBalance = async () => (await t.application.ledger.balance(feeIncome)).balance;

  before(async () => {
    t = await startTestApp();
    makerToken = await staff('merchant_maker', ['operations']);
    checkerToken = await staff('merchant_checker', ['operations']);
    alice = await createCustomer(t, 'Alice', '+254733000001');
    owner = await createCustomer(t, 'Owner', '+254733000002');
    carol = await createCustomer(t, 'Carol', '+254733000003');
    aliceWallet = await openWallet(t, alice.id);
    await deposit(t, aliceWallet.id, 2_000_000);
    shop = await register({
      name: 'MAMA MBOGA STORES',
      mcc: '5411',
      city: 'NAIROBI',
      country: 'KE',
      currency: 'KES',
      fee_bps: 150,
      owner_customer_id: owner.id,
    });
    feeIncome = await t.application.ledger.houseAccount('fee_income:KES');
  });
  after(async () => t.close());

  test('registration waits for a second staff member; the maker cannot approve; approval opens the wallet', async () => {
    const filed = await fileRegistration(makerToken, {
      name: 'JAVA HOUSE',
      mcc: '5812',
      city: 'MOMBASA',
      country: 'KE',
      currency: 'KES',
      fee_bps: 0,
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const request = filed.json();
    assert.equal(request.action, 'merchant.register');
    assert.equal(request.status, 'pending');
    const before = await t.app.inject({
      method: 'GET',
      url: '/api/v1/merchant/merchant?mcc=5812',
      headers: bearer(makerToken),
    });
    assert.equal(before.json().items.length, 0, 'nothing exists until approved');

    const own = await approve(makerToken, request.id);
    assert.equal(own.statusCode, 403);
    assert.equal(own.json().error_code, 'OWN_REQUEST');

    const approved = await approve(checkerToken, request.id);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved');
    const merchant = approved.json().result as Merchant & { status: string };
    assert.equal(merchant.status, 'active');
    assert.match(merchant.merchant_number, /^M\d{8}$/);

    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/v1/merchant/merchant/${merchant.id}`,
      headers: bearer(makerToken),
    });
    assert.equal(detail.statusCode, 200, detail.body);
    assert.equal(detail.json().wallet_id, merchant.wallet_id);
    assert.equal(detail.json().balance, 0);
    const wallet = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet/${merchant.wallet_id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(wallet.statusCode, 200, wallet.body);
    assert.equal(wallet.json().owner_type, 'merchant');
    assert.equal(wallet.json().merchant_id, merchant.id);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/merchant/merchant?mcc=5812',
      headers: bearer(makerToken),
    });
    assert.deepEqual(
      listed.json().items.map((item: { id: string }) => item.id),
      [merchant.id],
    );
  });

  test('registration input is checked against the EMVCo field limits', async () => {
    const valid = {
      name: 'SHOP',
      mcc: '5411',
      city: 'NAIROBI',
      country: 'KE',
      currency: 'KES',
      fee_bps: 100,
    };
    for (const bad of [
      { name: 'A'.repeat(26) },
      { mcc: '54A1' },
      { city: 'C'.repeat(16) },
      { country: 'ken' },
      { fee_bps: 1001 },
      { name: 'CAFÉ' },
    ]) {
      const response = await fileRegistration(makerToken, { ...valid, ...bad });
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, JSON.stringify(bad));
    }
    const unsupported = await fileRegistration(makerToken, { ...valid, currency: 'XYZ' });
    assert.equal(unsupported.statusCode, 422);
    const noOwner = await fileRegistration(makerToken, {
      ...valid,
      owner_customer_id: '01a20000-0000-7000-8000-000000000000',
    });
    assert.equal(noOwner.statusCode, 404);
    const customer = await fileRegistration(owner.token, valid);
    assert.equal(customer.statusCode, 403);
  });

  test('a static QR code parses back with a valid CRC, our merchant account and no amount; PNG as well', async () => {
    const response = await createQr(owner.token, 'static', { merchant_id: shop.id });
    assert.equal(response.statusCode, 201, response.body);
    const qr = response.json();
    assert.equal(qr.mode, 'static');
    assert.equal(qr.amount, undefined);
    const parsed = parseMerchantQr(qr.payload);
    assert.equal(parsed.mode, 'static');
    assert.equal(parsed.raw['01'], '11');
    assert.deepEqual(parsed.merchantAccounts['26'], { '00': MERCHANT_QR_GUID, '01': shop.merchant_number });
    assert.equal(parsed.mcc, '5411');
    assert.equal(parsed.currencyNumeric, '404');
    assert.equal(parsed.merchantName, 'MAMA MBOGA STORES');
    assert.equal(parsed.merchantCity, 'NAIROBI');
    assert.equal(parsed.amount, undefined);
    assert.equal(qr.payload.slice(-4), crc16CcittFalse(qr.payload.slice(0, -4)));
    assert.match(qr.qr_png, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const image = Buffer.from(qr.qr_png.slice('data:image/png;base64,'.length), 'base64');
    assert.ok(image.subarray(0, 8).equals(PNG_SIGNATURE));

    const png = await t.app.inject({
      method: 'GET',
      url: `/api/v1/merchant/qr/${qr.id}/png`,
      headers: bearer(owner.token),
    });
    assert.equal(png.statusCode, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.ok(png.rawPayload.subarray(0, 8).equals(PNG_SIGNATURE));
  });

  test('pay by static QR: the customer pays the amount, the merchant gets it less MDR, fee income the MDR', async () => {
    const qr = (await createQr(t.adminToken, 'static', { merchant_id: shop.id })).json();
    const customerBefore = (await balanceOf(t, aliceWallet.id)).balance;
    const merchantBefore = (await balanceOf(t, shop.wallet_id)).balance;
    const feeBefore = await feeIncomeBalance();

    const noAmount = await pay(alice, { qr_payload: qr.payload });
    assert.equal(noAmount.statusCode, 422, noAmount.body);

    const response = await pay(alice, { qr_payload: qr.payload, amount: 10_000, narration: 'Sukuma' });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.type, 'merchant');
    assert.equal(body.status, 'completed');
    assert.equal(body.merchant_id, shop.id);
    assert.equal(body.amount, 10_000);
    assert.equal(body.destination_wallet_id, shop.wallet_id);
    // KES_STANDARD charges the customer nothing for merchant payments; 1.5% MDR of 100.00 = 1.50.
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, customerBefore - body.total);
    assert.equal(body.total, 10_000 + body.fee + body.tax);
    assert.equal((await balanceOf(t, shop.wallet_id)).balance, merchantBefore + 10_000 - 150);
    assert.equal((await feeIncomeBalance()) - feeBefore, BigInt(150 + body.fee));
    // The MDR in the record's metadata is money inside jsonb: a decimal string of minor units.
    const stored = (await t.deps.database.db.execute(
      sql`select metadata->'merchant_fee_minor' as fee from transactions where id = ${body.id}`,
    )) as unknown as { rows: { fee: unknown }[] };
    assert.equal(stored.rows[0]!.fee, '150');

    const merchant = await t.app.inject({
      method: 'GET',
      url: `/api/v1/merchant/merchant/${shop.id}`,
      headers: bearer(owner.token),
    });
    assert.equal(merchant.json().balance, merchantBefore + 10_000 - 150);
  });

  test('a dynamic QR code carries amount and reference and pays exactly once', async () => {
    const created = await createQr(owner.token, 'dynamic', {
      merchant_id: shop.id,
      amount: 25_050,
      reference: 'INV-0001',
    });
    assert.equal(created.statusCode, 201, created.body);
    const qr = created.json();
    assert.equal(qr.amount, 25_050);
    assert.equal(qr.reference, 'INV-0001');
    const ttl = Date.parse(qr.expires_at) - Date.parse(qr.created_at);
    assert.ok(ttl > 890_000 && ttl <= 901_000, `default ttl 900 s, got ${ttl} ms`);
    const parsed = parseMerchantQr(qr.payload);
    assert.equal(parsed.raw['01'], '12');
    assert.equal(parsed.amount, '250.50');
    assert.equal(parsed.additional.referenceLabel, 'INV-0001');

    const duplicate = await createQr(owner.token, 'dynamic', {
      merchant_id: shop.id,
      amount: 100,
      reference: 'INV-0001',
    });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error_code, 'REFERENCE_EXISTS');

    const wrongAmount = await pay(alice, { qr_payload: qr.payload, amount: 25_000 });
    assert.equal(wrongAmount.statusCode, 422);
    assert.equal(wrongAmount.json().error_code, 'AMOUNT_MISMATCH');

    const merchantBefore = (await balanceOf(t, shop.wallet_id)).balance;
    const first = await pay(alice, { qr_payload: qr.payload });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().amount, 25_050);
    // 1.5% of 250.50 = 3.7575, rounded half-up to 3.76.
    assert.equal((await balanceOf(t, shop.wallet_id)).balance, merchantBefore + 25_050 - 376);

    const second = await pay(alice, { qr_payload: qr.payload });
    assert.equal(second.statusCode, 409);
    assert.equal(second.json().error_code, 'QR_ALREADY_USED');

    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/merchant/qr/${qr.id}`,
      headers: bearer(owner.token),
    });
    assert.equal(view.json().transaction_id, first.json().id);
    assert.ok(view.json().used_at);
  });

  test('ten parallel payments of one dynamic code: exactly one posts', async () => {
    const payers: TestCustomer[] = [];
    for (let index = 0; index < 10; index += 1) {
      const payer = await createCustomer(t, `Payer${index}`, `+2547331000${String(index).padStart(2, '0')}`);
      await deposit(t, (await openWallet(t, payer.id)).id, 100_000);
      payers.push(payer);
    }
    const qr = (
      await createQr(t.adminToken, 'dynamic', { merchant_id: shop.id, amount: 5_000, reference: 'RACE-1' })
    ).json();
    const merchantBefore = (await balanceOf(t, shop.wallet_id)).balance;
    const responses = await Promise.all(payers.map((payer) => pay(payer, { qr_payload: qr.payload })));
    const statuses = responses.map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 201).length, 1, JSON.stringify(statuses));
    for (const response of responses.filter((item) => item.statusCode !== 201)) {
      assert.equal(response.statusCode, 409, response.body);
      assert.equal(response.json().error_code, 'QR_ALREADY_USED');
    }
    assert.equal((await balanceOf(t, shop.wallet_id)).balance, merchantBefore + 5_000 - 75);
  });

  test('an expired dynamic code is refused', async () => {
    const qr = (
      await createQr(owner.token, 'dynamic', {
        merchant_id: shop.id,
        amount: 1_000,
        reference: 'LATE-1',
        ttl_seconds: 30,
      })
    ).json();
    await t.deps.database.db
      .update(merchantQrCodes)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(merchantQrCodes.id, qr.id));
    const response = await pay(alice, { qr_payload: qr.payload });
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'QR_EXPIRED');
  });

  test('tampered and foreign codes are refused', async () => {
    const qr = (await createQr(owner.token, 'static', { merchant_id: shop.id })).json();
    const at = qr.payload.indexOf('MAMA');
    const tampered = `${qr.payload.slice(0, at)}N${qr.payload.slice(at + 1)}`;
    const response = await pay(alice, { qr_payload: tampered, amount: 100 });
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'INVALID_QR');
    const garbage = await pay(alice, { qr_payload: 'not a qr code', amount: 100 });
    assert.equal(garbage.json().error_code, 'INVALID_QR');

    const foreign = encodeMerchantQr({
      mode: 'static',
      merchantAccount: { globallyUniqueId: 'ke.co.examplebank', merchantId: shop.merchant_number },
      mcc: '5411',
      currencyNumeric: '404',
      countryCode: 'KE',
      merchantName: 'ACME STORES',
      merchantCity: 'NAIROBI',
    });
    const other = await pay(alice, { qr_payload: foreign, amount: 100 });
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().error_code, 'UNKNOWN_QR_SCHEME');

    // A valid CRC is not enough for a dynamic code: the amount must be the one issued.
    const dynamic = (
      await createQr(owner.token, 'dynamic', { merchant_id: shop.id, amount: 9_900, reference: 'FORGE-1' })
    ).json();
    const forged = encodeMerchantQr({
      mode: 'dynamic',
      merchantAccount: { globallyUniqueId: MERCHANT_QR_GUID, merchantId: shop.merchant_number },
      mcc: '5411',
      currencyNumeric: '404',
      amount: '1.00',
      countryCode: 'KE',
      merchantName: 'MAMA MBOGA STORES',
      merchantCity: 'NAIROBI',
      additional: { referenceLabel: 'FORGE-1' },
    });
    const forgedPayment = await pay(alice, { qr_payload: forged });
    assert.equal(forgedPayment.statusCode, 422);
    assert.equal(forgedPayment.json().error_code, 'INVALID_QR');
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/merchant/qr/${dynamic.id}`,
          headers: bearer(t.adminToken),
        })
      ).json().used_at,
      null,
    );
  });

  test('pay by merchant id; exactly one of merchant_id and qr_payload; the replay moves nothing', async () => {
    const merchantBefore = (await balanceOf(t, shop.wallet_id)).balance;
    const key = 'merchant-pay-0001';
    const response = await pay(alice, { merchant_id: shop.id, amount: 2_000, currency: 'KES' }, key);
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().merchant_id, shop.id);
    const replay = await pay(alice, { merchant_id: shop.id, amount: 2_000, currency: 'KES' }, key);
    assert.equal(replay.body, response.body);
    assert.equal((await balanceOf(t, shop.wallet_id)).balance, merchantBefore + 2_000 - 30);

    const noAmount = await pay(alice, { merchant_id: shop.id });
    assert.equal(noAmount.statusCode, 422);
    const both = await pay(alice, { merchant_id: shop.id, qr_payload: 'x', amount: 100 });
    assert.equal(both.statusCode, 422);
    const neither = await pay(alice, { amount: 100 });
    assert.equal(neither.statusCode, 422);
    const usd = await pay(alice, { merchant_id: shop.id, amount: 100, currency: 'USD' });
    assert.equal(usd.json().error_code, 'CURRENCY_MISMATCH');
    const wrongPin = await pay(alice, { merchant_id: shop.id, amount: 100, pin: '9137' });
    assert.equal(wrongPin.statusCode, 401);
    const noWallet = await pay(carol, { merchant_id: shop.id, amount: 100 });
    assert.equal(noWallet.statusCode, 404);
  });

  test('a suspended merchant can be neither paid nor issue codes until reactivated', async () => {
    const qr = (await createQr(owner.token, 'static', { merchant_id: shop.id })).json();
    const bySelf = await t.app.inject({
      method: 'POST',
      url: `/api/v1/merchant/merchant/${shop.id}/suspend`,
      headers: bearer(owner.token),
      payload: {},
    });
    assert.equal(bySelf.statusCode, 403);
    const suspended = await t.app.inject({
      method: 'POST',
      url: `/api/v1/merchant/merchant/${shop.id}/suspend`,
      headers: bearer(makerToken),
      payload: { reason: 'KYB review' },
    });
    assert.equal(suspended.statusCode, 200, suspended.body);
    assert.equal(suspended.json().status, 'suspended');
    for (const payload of [
      { merchant_id: shop.id, amount: 100 },
      { qr_payload: qr.payload, amount: 100 },
    ]) {
      const refused = await pay(alice, payload);
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json().error_code, 'MERCHANT_UNAVAILABLE');
    }
    const newCode = await createQr(owner.token, 'static', { merchant_id: shop.id });
    assert.equal(newCode.json().error_code, 'MERCHANT_UNAVAILABLE');
    const twice = await t.app.inject({
      method: 'POST',
      url: `/api/v1/merchant/merchant/${shop.id}/suspend`,
      headers: bearer(makerToken),
      payload: {},
    });
    assert.equal(twice.statusCode, 409);
    const activated = await t.app.inject({
      method: 'POST',
      url: `/api/v1/merchant/merchant/${shop.id}/activate`,
      headers: bearer(makerToken),
      payload: {},
    });
    assert.equal(activated.json().status, 'active');
    assert.equal((await pay(alice, { qr_payload: qr.payload, amount: 100 })).statusCode, 201);
  });

  test('customers reach only the merchants they own and those merchants’ codes', async () => {
    const qr = (
      await createQr(owner.token, 'dynamic', { merchant_id: shop.id, amount: 700, reference: 'OWN-1' })
    ).json();
    for (const url of [
      `/api/v1/merchant/qr/${qr.id}/png`,
      `/api/v1/merchant/qr/${qr.id}`,
      `/api/v1/merchant/merchant/${shop.id}`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(carol.token) });
      assert.equal(response.statusCode, 404, url);
    }
    for (const [mode, payload] of [
      ['static', { merchant_id: shop.id }],
      ['dynamic', { merchant_id: shop.id, amount: 100, reference: 'STEAL-1' }],
    ] as const) {
      const response = await createQr(carol.token, mode, payload);
      assert.equal(response.statusCode, 404, response.body);
    }
    const carolList = await t.app.inject({
      method: 'GET',
      url: '/api/v1/merchant/merchant',
      headers: bearer(carol.token),
    });
    assert.equal(carolList.json().items.length, 0);
    const ownerList = await t.app.inject({
      method: 'GET',
      url: '/api/v1/merchant/merchant',
      headers: bearer(owner.token),
    });
    assert.deepEqual(
      ownerList.json().items.map((item: { id: string }) => item.id),
      [shop.id],
    );
    const peek = await t.app.inject({
      method: 'GET',
      url: `/api/v1/merchant/merchant?owner_customer_id=${owner.id}`,
      headers: bearer(carol.token),
    });
    assert.equal(peek.statusCode, 404);
  });

  test('the owner reads the merchant wallet and its payments; other customers get 404', async () => {
    for (const url of [
      `/api/v1/wallet/wallet/${shop.wallet_id}`,
      `/api/v1/wallet/wallet/${shop.wallet_id}/balance`,
      `/api/v1/wallet/wallet/${shop.wallet_id}/statement`,
      `/api/v1/transaction/transaction?wallet_id=${shop.wallet_id}`,
    ]) {
      const own = await t.app.inject({ method: 'GET', url, headers: bearer(owner.token) });
      assert.equal(own.statusCode, 200, `${url}: ${own.body}`);
      const other = await t.app.inject({ method: 'GET', url, headers: bearer(carol.token) });
      assert.equal(other.statusCode, 404, url);
    }
    const payments = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction?wallet_id=${shop.wallet_id}&type=merchant`,
      headers: bearer(owner.token),
    });
    const [latest] = payments.json().items;
    assert.ok(latest, 'the owner sees payments into the merchant wallet');
    assert.equal(latest.customer_id, null, 'not the payers’ ids');
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${latest.id}`,
      headers: bearer(owner.token),
    });
    assert.equal(one.statusCode, 200);
  });

  test('the ledger verifies clean after all of it', async () => {
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
