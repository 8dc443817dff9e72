/**
 * Staff moving a customer's money: refused on the customer payment routes, allowed only through the staff transfer
 * (its own permission, a reason, maker-checker at or above the threshold); maker-checker filings are idempotent per
 * subject (staff transfer, cash withdrawal, reversal, merchant registration) and keep money as decimal strings of minor units.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { settingDefinitions } from '../settings/settings.definitions.ts';

const PASSWORD = 'amber lighthouse river 5';

describe('staff moving a customer’s money', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;
  let tellerToken: string;
  let assistantToken: string;
  let checkerToken: string;

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

  async function role(code: string, permissions: string[]) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/role/add',
      headers: bearer(t.adminToken),
      payload: { code, name: code, permissions },
    });
    assert.equal(response.statusCode, 201, response.body);
  }

  const post = (url: string, token: string, payload: object, key: string | null = randomUUID()) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(token), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });
  const staffTransfer = (token: string, payload: object, key?: string) =>
    post('/api/v1/wallet/transaction/staff-transfer', token, payload, key);
  const decide = (verb: 'approve' | 'cancel', token: string, id: string) =>
    post(`/api/v1/policy/approval/${verb}`, token, { request_id: id }, null);

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254711300001');
    const bob = await createCustomer(t, 'Bob', '+254711300002');
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 5_000_000);
    tellerToken = await staff('teller', ['operations']);
    await role('branch_assist', ['transaction:transfer_for_customer', 'wallet:read', 'approval:decide']);
    await role('assist_checker', ['transaction:transfer_for_customer', 'approval:read', 'approval:decide']);
    assistantToken = await staff('assistant', ['branch_assist']);
    checkerToken = await staff('assistchecker', ['assist_checker']);
  });
  after(async () => t.close());

  test('the customer payment routes refuse staff: no moving a customer’s money without their PIN', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    for (const token of [tellerToken, t.adminToken]) {
      const transfer = await post('/api/v1/wallet/transaction/transfer', token, {
        source_wallet_id: aliceWallet.id,
        to_wallet_number: bobWallet.wallet_number,
        amount: 10_000,
        currency: 'KES',
      });
      assert.equal(transfer.statusCode, 403, transfer.body);
      assert.equal(transfer.json().error_code, 'STAFF_PAYMENT_NOT_ALLOWED');
      const dispatched = await post('/api/v1/transaction/add', token, {
        type: 'p2p',
        source_wallet_id: aliceWallet.id,
        to_wallet_number: bobWallet.wallet_number,
        amount: 10_000,
        currency: 'KES',
      });
      assert.equal(dispatched.statusCode, 403, dispatched.body);
      assert.equal(dispatched.json().error_code, 'STAFF_PAYMENT_NOT_ALLOWED');
    }
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    // The customer still pays with their PIN.
    const own = await post('/api/v1/wallet/transaction/transfer', alice.token, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 10_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(own.statusCode, 201, own.body);
  });

  test('the staff transfer needs its own permission and a reason', async () => {
    const body = {
      source_wallet_id: aliceWallet.id,
      to_wallet_number: bobWallet.wallet_number,
      amount: 20_000,
      currency: 'KES',
      reason: 'Customer instruction, ticket 4411',
    };
    const teller = await staffTransfer(tellerToken, body);
    assert.equal(teller.statusCode, 403, 'transaction:create is not enough');
    const { reason: _reason, ...withoutReason } = body;
    const missing = await staffTransfer(assistantToken, withoutReason);
    assert.equal(missing.statusCode, 422, missing.body);
    const short = await staffTransfer(assistantToken, { ...body, reason: 'because' });
    assert.equal(short.statusCode, 422, short.body);
    const merchantLike = await staffTransfer(assistantToken, { ...body, source_wallet_id: randomUUID() });
    assert.equal(merchantLike.statusCode, 404, merchantLike.body);
    const toSelf = await staffTransfer(assistantToken, {
      ...body,
      to_wallet_number: aliceWallet.wallet_number,
    });
    assert.equal(toSelf.json().error_code, 'SAME_WALLET');
  });

  test('below the threshold it runs at once, recorded with the maker and the reason', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const response = await staffTransfer(assistantToken, {
      source_wallet_id: aliceWallet.id,
      to_phone: '+254711300002',
      amount: 50_000,
      currency: 'KES',
      reason: 'Customer instruction at the branch, ticket 4412',
    });
    assert.equal(response.statusCode, 201, response.body);
    const transaction = response.json();
    assert.equal(transaction.type, 'p2p');
    assert.equal(transaction.status, 'completed');
    assert.equal(transaction.channel, 'back_office');
    assert.equal(transaction.initiated_by.type, 'user');
    assert.equal(transaction.amount, 50_000);
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, aliceBefore.balance - transaction.total);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance + 50_000);
    const stored = (await t.deps.database.db.execute(
      sql`select metadata->>'reason' as reason, metadata->>'staff_transfer' as staff from transactions where id = ${transaction.id}`,
    )) as unknown as { rows: { reason: string; staff: string }[] };
    assert.deepEqual(stored.rows[0], {
      reason: 'Customer instruction at the branch, ticket 4412',
      staff: 'true',
    });
  });

  test('at or above the threshold a second staff member approves it once; filing it again is refused; amounts are decimal strings', async () => {
    const body = {
      source_wallet_id: aliceWallet.id,
      to_wallet_number: bobWallet.wallet_number,
      amount: 1_000_000,
      currency: 'KES',
      reason: 'Rent paid for the customer, ticket 4413',
    };
    const bobBefore = await balanceOf(t, bobWallet.id);
    const filed = await staffTransfer(assistantToken, body);
    assert.equal(filed.statusCode, 202, filed.body);
    const request = filed.json();
    assert.equal(request.action, 'wallet.staff_transfer');
    assert.equal(request.payload.amount, '1000000', 'the payload holds minor units as a decimal string');
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance, 'nothing moves yet');

    const again = await staffTransfer(assistantToken, body);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'APPROVAL_ALREADY_PENDING');
    assert.equal(again.json().details.request_id, request.id);
    // Refusals known at filing are not queued.
    const tooMuch = await staffTransfer(assistantToken, { ...body, amount: 90_000_000 });
    assert.equal(tooMuch.statusCode, 422, tooMuch.body);
    assert.ok(['INSUFFICIENT_BALANCE', 'LIMIT_EXCEEDED'].includes(tooMuch.json().error_code), tooMuch.body);

    assert.equal((await decide('approve', assistantToken, request.id)).json().error_code, 'OWN_REQUEST');
    const approved = await decide('approve', checkerToken, request.id);
    assert.equal(approved.statusCode, 200, approved.body);
    const decided = approved.json();
    assert.equal(decided.status, 'approved', decided.error);
    for (const field of ['amount', 'fee', 'tax', 'total'] as const)
      assert.equal(typeof decided.result[field], 'string', `result.${field} is a decimal string`);
    assert.equal(decided.result.amount, '1000000');
    assert.equal(decided.payload.amount, '1000000');
    // As stored: money inside jsonb is never a JSON number.
    const kinds = (await t.deps.database.db.execute(
      sql`select jsonb_typeof(payload->'amount') as payload_amount, jsonb_typeof(result->'fee') as result_fee
          from approval_requests where id = ${request.id}`,
    )) as unknown as { rows: { payload_amount: string; result_fee: string }[] };
    assert.deepEqual(kinds.rows[0], { payload_amount: 'string', result_fee: 'string' });
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance + 1_000_000);
    const stored = (await t.deps.database.db.execute(
      sql`select metadata->>'approved_by' is not null as approved, initiated_by_id::text as maker
          from transactions where id = ${decided.result.id}`,
    )) as unknown as { rows: { approved: boolean; maker: string }[] };
    assert.equal(stored.rows[0]!.approved, true);
  });

  test('a currency without a configured threshold always needs a second staff member (fail closed)', async () => {
    const thresholds = settingDefinitions['payments.staff_transfer_approval_threshold_minor'].default;
    assert.equal(thresholds.UGX, undefined, 'UGX has no threshold by default');
    const bob = await createCustomer(t, 'Bob Ugx', '+254711300003');
    const aliceUgx = await openWallet(t, alice.id, 'UGX');
    const bobUgx = await openWallet(t, bob.id, 'UGX');
    await deposit(t, aliceUgx.id, 900_000, 'UGX');
    const response = await staffTransfer(assistantToken, {
      source_wallet_id: aliceUgx.id,
      to_wallet_number: bobUgx.wallet_number,
      amount: 800_000,
      currency: 'UGX',
      reason: 'Customer instruction at the branch, ticket 4419',
    });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal(response.json().action, 'wallet.staff_transfer');
    assert.equal((await balanceOf(t, bobUgx.id)).balance, 0, 'nothing moves before a checker approves');
    await decide('cancel', assistantToken, response.json().id);
  });

  test('a large cash withdrawal filed twice is one request, with its amount as a decimal string', async () => {
    const body = { wallet_id: aliceWallet.id, amount: 10_000_000, currency: 'KES' };
    const first = await post('/api/v1/wallet/transaction/withdraw', t.adminToken, body);
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.json().payload.amount, '10000000');
    const second = await post('/api/v1/wallet/transaction/withdraw', t.adminToken, body);
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().error_code, 'APPROVAL_ALREADY_PENDING');
    await decide('cancel', t.adminToken, first.json().id);
  });

  test('a second reversal of one transaction is refused when it is filed, not failed when approved', async () => {
    const paid = await post('/api/v1/wallet/transaction/transfer', alice.token, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 30_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const reverse = (reason: string) =>
      post('/api/v1/transaction/transaction/reverse', t.adminToken, {
        transaction_id: paid.json().id,
        reason,
      });
    const first = await reverse('Sent to the wrong number');
    assert.equal(first.statusCode, 202, first.body);
    const second = await reverse('Customer called again about it');
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().error_code, 'APPROVAL_ALREADY_PENDING');
    assert.equal(second.json().details.request_id, first.json().id);
  });

  test('registering the same merchant twice while the first waits is refused: one merchant, one wallet', async () => {
    const register = (name: string) =>
      post('/api/v1/merchant/merchant/add', t.adminToken, {
        name,
        mcc: '5411',
        city: 'Nairobi',
        country: 'KE',
        currency: 'KES',
        fee_bps: 100,
      });
    const first = await register('Mama Mboga Stores');
    assert.equal(first.statusCode, 202, first.body);
    const second = await register('  mama mboga   STORES ');
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().error_code, 'APPROVAL_ALREADY_PENDING');
    const pending = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from approval_requests where action = 'merchant.register' and status = 'pending'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(pending.rows[0]!.n, 1);
  });
});
