/**
 * Linked bank accounts and money between wallets and banks, end to end through the API against a fake Apache
 * Fineract speaking its wire format: link, verify (holder name, micro deposit), top-up, withdrawal to bank, bank
 * refusals, bank outages (outcome unknown) and the customer boundary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { FakeFineract } from '../../../test/fakes/fineract.ts';
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
import { FineractError } from '../../integrations/fineract/fineract.client.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { customers } from '../customers/customers.tables.ts';
import { linkedBankAccounts } from './banking.tables.ts';
import { classifyPostingFailure, postingDate } from './index.ts';

const BANK = 'CFBANK';

function fakeAccount(
  id: number,
  clientName: string,
  balance: string,
  status: 'active' | 'closed' = 'active',
) {
  return {
    id,
    accountNo: String(id).padStart(9, '0'),
    clientId: 100 + id,
    clientName,
    currency: 'KES',
    decimalPlaces: 2,
    balance,
    status,
  } as const;
}

/** Postings the fake received for an account, with their amounts in minor units. */
function postingsTo(fake: FakeFineract, id: number, command: 'deposit' | 'withdrawal') {
  return fake.requests
    .filter(
      (request) =>
        request.method === 'POST' &&
        request.path.endsWith(`/savingsaccounts/${id}/transactions?command=${command}`),
    )
    .map((request) => {
      const body = request.body as { transactionAmount: string; receiptNumber: string };
      return { minor: Math.round(Number(body.transactionAmount) * 100), receipt: body.receiptNumber };
    });
}

describe('what a failed CBS posting means for the money', () => {
  test('a refusal answered by the bank is definite; an outage or timeout is unknown', () => {
    const insufficient = new FineractError(
      403,
      'error.msg.savingsaccount.transaction.insufficient.account.balance',
      'Insufficient account balance.',
    );
    assert.deepEqual(classifyPostingFailure(insufficient), {
      kind: 'rejected',
      code: 'error.msg.savingsaccount.transaction.insufficient.account.balance',
      reason: 'Insufficient account balance.',
    });
    assert.equal(
      classifyPostingFailure(new FineractError(404, 'error.msg.resource.not.found', 'gone')).kind,
      'rejected',
    );
    assert.equal(
      classifyPostingFailure(new FineractError(401, 'error.msg.not.authenticated', 'no')).kind,
      'refused',
    );
    assert.equal(classifyPostingFailure(new DependencyUnavailableError('fineract')).kind, 'unknown');
    assert.equal(classifyPostingFailure(new Error('socket hang up')).kind, 'unknown');
    assert.equal(postingDate(new Date('2026-11-29T23:59:59Z')), '2026-11-29');
  });
});

describe('linked bank accounts and bank transfers (fake Fineract)', () => {
  let t: TestContext;
  let fake: FakeFineract;
  let closeFake: () => Promise<void>;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;
  let aliceBank: string;

  before(async () => {
    fake = new FakeFineract();
    fake.addAccount(fakeAccount(1, 'Alice Test', '50000.00'));
    fake.addAccount(fakeAccount(2, 'Someone Else', '100.00'));
    fake.addAccount(fakeAccount(3, 'Alice T. Savings', '10.00'));
    fake.addAccount(fakeAccount(4, 'Alice T. Savings', '10.00'));
    fake.addAccount(fakeAccount(5, 'Alice Test', '0.00', 'closed'));
    fake.addAccount(fakeAccount(6, 'MR BOB TEST', '300.00'));
    const server = await fake.start();
    closeFake = server.close;
    t = await startTestApp({
      FINERACT_BASE_URL: server.baseUrl,
      FINERACT_USERNAME: 'mifos',
      FINERACT_PASSWORD: 'password',
      FINERACT_TIMEOUT_MS: '1500',
    });
    alice = await createCustomer(t, 'Alice', '+254722200001');
    bob = await createCustomer(t, 'Bob', '+254722200002');
    // Bank transfers are a `standard` tier feature.
    for (const id of [alice.id, bob.id])
      await t.deps.database.db.update(customers).set({ kycTier: 'standard' }).where(eq(customers.id, id));
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 500_000);
    await deposit(t, bobWallet.id, 100_000);
  });
  after(async () => {
    await t?.close();
    await closeFake?.();
  });

  const link = (token: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/link',
      headers: bearer(token),
      payload,
    });
  const verify = (token: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/verify',
      headers: bearer(token),
      payload,
    });
  const money = (path: 'topup' | 'bank-withdraw', token: string, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/wallet/transaction/${path}`,
      headers: idempotent(token, key),
      payload,
    });
  const linkAs = async (customer: TestCustomer, accountNumber: string) => {
    const response = await link(customer.token, {
      bank_code: BANK,
      account_number: accountNumber,
      account_name: 'Savings',
      currency: 'KES',
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().id as string;
  };
  const record = (id: string) => t.application.transactions.row(id);

  test('link: stored sealed with the last four shown; duplicates refused; staff must name the customer', async () => {
    const response = await link(alice.token, {
      bank_code: BANK,
      account_number: '000000001',
      account_name: 'Alice Test',
      currency: 'KES',
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    aliceBank = body.id;
    assert.equal(body.status, 'pending');
    assert.equal(body.customer_id, alice.id);
    assert.equal(body.account_number_masked, '****0001');
    assert.equal(body.verification_method, null);
    const [row] = await t.deps.database.db
      .select()
      .from(linkedBankAccounts)
      .where(eq(linkedBankAccounts.id, aliceBank));
    assert.ok(row && !row.accountNumberSealed.includes('000000001'));
    assert.ok(!row.accountNumberIndex.includes('000000001'));

    const again = await link(alice.token, {
      bank_code: BANK,
      account_number: '000000001',
      account_name: 'Alice again',
      currency: 'KES',
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'ACCOUNT_ALREADY_LINKED');
    const staffNoCustomer = await link(t.adminToken, {
      bank_code: BANK,
      account_number: '000000006',
      account_name: 'Bob',
      currency: 'KES',
    });
    assert.equal(staffNoCustomer.statusCode, 422);
    const forOther = await link(alice.token, {
      customer_id: bob.id,
      bank_code: BANK,
      account_number: '000000006',
      account_name: 'Bob',
      currency: 'KES',
    });
    assert.equal(forOther.statusCode, 404);
    const badNumber = await link(alice.token, {
      bank_code: BANK,
      account_number: '12-34',
      account_name: 'Alice',
      currency: 'KES',
    });
    assert.equal(badNumber.statusCode, 422);
    const byStaff = await link(t.adminToken, {
      customer_id: bob.id,
      bank_code: BANK,
      account_number: '000000006',
      account_name: 'Bob Test',
      currency: 'KES',
    });
    assert.equal(byStaff.statusCode, 201, byStaff.body);
    assert.equal(byStaff.json().customer_id, bob.id);
  });

  test('customer A cannot see or act on customer B’s linked accounts', async () => {
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/bank-account',
      headers: bearer(bob.token),
    });
    assert.equal(list.statusCode, 200, list.body);
    assert.ok(list.json().items.length >= 1);
    assert.ok(list.json().items.every((item: { customer_id: string }) => item.customer_id === bob.id));
    const otherList = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/bank-account?customer_id=${alice.id}`,
      headers: bearer(bob.token),
    });
    assert.equal(otherList.statusCode, 404);
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/bank-account/${aliceBank}`,
      headers: bearer(bob.token),
    });
    assert.equal(one.statusCode, 404);
    assert.equal(
      (await verify(bob.token, { bank_account_id: aliceBank, method: 'name_match' })).statusCode,
      404,
    );
    const unlink = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/unlink',
      headers: bearer(bob.token),
      payload: { bank_account_id: aliceBank },
    });
    assert.equal(unlink.statusCode, 404);
    const topup = await money('topup', bob.token, {
      bank_account_id: aliceBank,
      amount: 1_000,
      pin: TEST_PIN,
    });
    assert.equal(topup.statusCode, 404);
    const staff = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/bank-account?customer_id=${alice.id}`,
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(
      staff.json().items.map((item: { id: string }) => item.id),
      [aliceBank],
    );
  });

  test('an unverified account cannot move money (409 ACCOUNT_NOT_VERIFIED)', async () => {
    const response = await money('topup', alice.token, {
      bank_account_id: aliceBank,
      amount: 1_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().error_code, 'ACCOUNT_NOT_VERIFIED');
    const out = await money('bank-withdraw', alice.token, {
      bank_account_id: aliceBank,
      amount: 1_000,
      pin: TEST_PIN,
    });
    assert.equal(out.statusCode, 409);
  });

  test('name match: the CBS holder matches the customer → verified; once settled it is closed', async () => {
    const response = await verify(alice.token, { bank_account_id: aliceBank, method: 'name_match' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.result, 'verified');
    assert.equal(body.reason, null);
    assert.equal(body.bank_account.status, 'verified');
    assert.equal(body.bank_account.verification_method, 'name_match');
    assert.ok(body.bank_account.verified_at);
    const again = await verify(alice.token, { bank_account_id: aliceBank, method: 'name_match' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'VERIFICATION_CLOSED');
    // Bob's CBS name is "MR BOB TEST": titles and case do not matter.
    const bobAccount = (
      await t.app.inject({ method: 'GET', url: '/api/v1/wallet/bank-account', headers: bearer(bob.token) })
    ).json().items[0].id as string;
    const bobs = await verify(bob.token, { bank_account_id: bobAccount, method: 'name_match' });
    assert.equal(bobs.json().result, 'verified', bobs.body);
  });

  test('name match failures: another holder, a closed account, an unknown account', async () => {
    const cases: [string, string][] = [
      ['000000002', 'name_mismatch'],
      ['000000005', 'account_not_active'],
      ['000000099', 'account_not_found'],
    ];
    for (const [number, reason] of cases) {
      const id = await linkAs(alice, number);
      const response = await verify(alice.token, { bank_account_id: id, method: 'name_match' });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().result, 'failed');
      assert.equal(response.json().reason, reason);
      assert.equal(response.json().bank_account.status, 'failed');
      const topup = await money('topup', alice.token, { bank_account_id: id, amount: 1_000, pin: TEST_PIN });
      assert.equal(topup.statusCode, 409);
      assert.equal(topup.json().error_code, 'ACCOUNT_NOT_VERIFIED');
      // Failed accounts count towards the cap of linked accounts until they are unlinked.
      const unlinked = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/bank-account/unlink',
        headers: bearer(alice.token),
        payload: { bank_account_id: id },
      });
      assert.equal(unlinked.statusCode, 200, unlinked.body);
    }
  });

  test('micro deposit: the fake receives 1–99 cents; the right amount verifies', async () => {
    const id = await linkAs(alice, '000000003');
    // The bank down before anything is sent: nothing moved, the account stays pending and can start again.
    fake.failNext(1, 'unavailable');
    const down = await verify(alice.token, { bank_account_id: id, method: 'micro_deposit' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().error_code, 'CBS_UNAVAILABLE');
    assert.equal(postingsTo(fake, 3, 'deposit').length, 0);
    const sent = await verify(alice.token, { bank_account_id: id, method: 'micro_deposit' });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(sent.json().result, 'micro_deposit_sent');
    assert.equal(sent.json().attempts_left, 3);
    const deposits = postingsTo(fake, 3, 'deposit');
    assert.equal(deposits.length, 1);
    const cents = deposits[0]!.minor;
    assert.ok(cents >= 1 && cents <= 99);
    assert.equal(fake.balanceOf(3), (10 + cents / 100).toFixed(2));
    const twice = await verify(alice.token, { bank_account_id: id, method: 'micro_deposit' });
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error_code, 'MICRO_DEPOSIT_ALREADY_SENT');
    const wrong = await verify(alice.token, {
      bank_account_id: id,
      method: 'micro_deposit',
      amount: cents === 99 ? 1 : cents + 1,
    });
    assert.equal(wrong.json().result, 'amount_mismatch');
    assert.equal(wrong.json().attempts_left, 2);
    const right = await verify(alice.token, { bank_account_id: id, method: 'micro_deposit', amount: cents });
    assert.equal(right.statusCode, 200, right.body);
    assert.equal(right.json().result, 'verified');
    assert.equal(right.json().bank_account.verification_method, 'micro_deposit');
    // The deposit is a cost: expense debited, bank settlement credited.
    const expense = await t.application.ledger.houseAccount('verification_expense:KES', {
      name: 'Account verification cost',
      kind: 'expense',
      deferred: true,
    });
    assert.equal((await t.application.ledger.balance(expense)).balance, BigInt(cents));
  });

  test('micro deposit: three wrong amounts fail the account; the right one is then refused', async () => {
    const id = await linkAs(alice, '000000004');
    const confirmFirst = await verify(alice.token, {
      bank_account_id: id,
      method: 'micro_deposit',
      amount: 5,
    });
    assert.equal(confirmFirst.statusCode, 409);
    assert.equal(confirmFirst.json().error_code, 'NO_MICRO_DEPOSIT');
    await verify(alice.token, { bank_account_id: id, method: 'micro_deposit' });
    const cents = postingsTo(fake, 4, 'deposit')[0]!.minor;
    const wrong = cents === 99 ? 98 : 99;
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt += 1)
      answers.push(
        (await verify(alice.token, { bank_account_id: id, method: 'micro_deposit', amount: wrong })).json(),
      );
    assert.deepEqual(
      answers.map((answer) => [answer.result, answer.attempts_left]),
      [
        ['amount_mismatch', 2],
        ['amount_mismatch', 1],
        ['failed', 0],
      ],
    );
    assert.equal(answers[2].reason, 'too_many_attempts');
    assert.equal(answers[2].bank_account.status, 'failed');
    const late = await verify(alice.token, { bank_account_id: id, method: 'micro_deposit', amount: cents });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().error_code, 'VERIFICATION_CLOSED');
  });

  test('top-up: the bank account is debited, the wallet credited, the reference is the receipt number', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const response = await money('topup', alice.token, {
      bank_account_id: aliceBank,
      amount: 100_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.type, 'bank_topup');
    assert.equal(body.status, 'completed');
    assert.equal(body.fee, 0);
    assert.equal(body.destination_wallet_id, aliceWallet.id);
    assert.deepEqual(
      body.history.map((step: { state: string }) => step.state),
      ['initiated', 'validated', 'authorized', 'processing', 'completed'],
    );
    assert.equal(fake.balanceOf(1), '49000.00');
    const withdrawals = postingsTo(fake, 1, 'withdrawal');
    assert.deepEqual(withdrawals.at(-1), { minor: 100_000, receipt: body.reference });
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, before.balance + 100_000);
    const stored = await record(body.id);
    assert.ok(stored.ledgerBatchId);
    assert.equal(typeof stored.metadata?.cbs_transaction_id, 'string');
    // The same key replays the stored answer byte for byte and never asks the bank again.
    const requests = fake.requests.length;
    const replay = await money(
      'topup',
      alice.token,
      { bank_account_id: aliceBank, amount: 100_000, currency: 'KES', pin: TEST_PIN },
      'topup-replay-0001',
    );
    assert.equal(replay.statusCode, 201, replay.body);
    const again = await money(
      'topup',
      alice.token,
      { bank_account_id: aliceBank, amount: 100_000, currency: 'KES', pin: TEST_PIN },
      'topup-replay-0001',
    );
    assert.equal(again.statusCode, 201);
    assert.equal(again.body, replay.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(fake.requests.length, requests + 1);
    assert.equal(fake.balanceOf(1), '48000.00');
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, before.balance + 200_000);
  });

  test('top-up the bank refuses (insufficient funds) → 422 BANK_REJECTED, failed record, wallet unchanged', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const key = `topup-${randomUUID()}`;
    const payload = { bank_account_id: aliceBank, amount: 6_000_000, pin: TEST_PIN };
    const response = await money('topup', alice.token, payload, key);
    assert.equal(response.statusCode, 422, response.body);
    const error = response.json();
    assert.equal(error.error_code, 'BANK_REJECTED');
    assert.equal(error.details.cbs_code, 'error.msg.savingsaccount.transaction.insufficient.account.balance');
    const failed = await record(error.details.transaction_id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failureCode, 'BANK_REJECTED');
    assert.equal(failed.ledgerBatchId, null);
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    assert.equal(fake.balanceOf(1), '48000.00');
    const replay = await money('topup', alice.token, payload, key);
    assert.equal(replay.statusCode, 422);
    assert.equal(replay.json().details.transaction_id, error.details.transaction_id);
  });

  test('top-up while the bank is down → 503 with the transaction id; it stays processing, nothing posted', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const key = `topup-${randomUUID()}`;
    const payload = { bank_account_id: aliceBank, amount: 50_000, pin: TEST_PIN };
    fake.failNext(1, 'unavailable');
    const response = await money('topup', alice.token, payload, key);
    assert.equal(response.statusCode, 503, response.body);
    const error = response.json();
    assert.equal(error.error_code, 'BANK_OUTCOME_UNKNOWN');
    assert.equal(error.details.status, 'processing');
    const pending = await record(error.details.transaction_id);
    assert.equal(pending.status, 'processing');
    assert.equal(pending.ledgerBatchId, null);
    assert.equal(pending.metadata?.cbs_outcome, 'unknown');
    // The credit waits as a pending transfer: not spendable, but counted against the balance cap.
    const during = (await balanceOf(t, aliceWallet.id)) as typeof before & { pending_credits: number };
    assert.equal(during.balance, before.balance);
    assert.equal(during.available, before.available);
    assert.equal(during.pending_credits, (before as typeof during).pending_credits + 50_000);
    // A retry with the same key never asks the bank again: it gets the same transaction.
    const requests = fake.requests.length;
    const retry = await money('topup', alice.token, payload, key);
    assert.equal(retry.statusCode, 503);
    assert.equal(retry.json().details.transaction_id, error.details.transaction_id);
    assert.equal(fake.requests.length, requests);
    const seen = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${error.details.transaction_id}`,
      headers: bearer(alice.token),
    });
    assert.equal(seen.json().status, 'processing');
  });

  test('withdrawal to bank: the bank account is credited the amount; the wallet pays amount + fee + duty', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const response = await money('bank-withdraw', alice.token, {
      bank_account_id: aliceBank,
      amount: 200_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.type, 'bank_withdrawal');
    assert.equal(body.status, 'completed');
    // KES_STANDARD bank_withdrawal: 50.00 fixed, 15% duty on it.
    assert.equal(body.fee, 5_000);
    assert.equal(body.tax, 750);
    assert.equal(body.source_wallet_id, aliceWallet.id);
    assert.equal(fake.balanceOf(1), '50000.00');
    assert.deepEqual(postingsTo(fake, 1, 'deposit').at(-1), { minor: 200_000, receipt: body.reference });
    const after = await balanceOf(t, aliceWallet.id);
    assert.equal(after.balance, before.balance - 205_750);
    assert.equal(after.available, after.balance);
    assert.equal((after as typeof after & { pending_debits: number }).pending_debits, 0);
  });

  test('withdrawal the bank refuses → 422, the hold is voided and the available balance restored', async () => {
    const bobAccount = (
      await t.app.inject({ method: 'GET', url: '/api/v1/wallet/bank-account', headers: bearer(bob.token) })
    ).json().items[0].id as string;
    // The account was closed at the bank after it was verified.
    fake.addAccount(fakeAccount(6, 'MR BOB TEST', '300.00', 'closed'));
    const before = await balanceOf(t, bobWallet.id);
    const response = await money('bank-withdraw', bob.token, {
      bank_account_id: bobAccount,
      amount: 20_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'BANK_REJECTED');
    const failed = await record(response.json().details.transaction_id);
    assert.equal(failed.status, 'failed');
    const after = await balanceOf(t, bobWallet.id);
    assert.deepEqual(after, before);
    assert.equal(after.available, 100_000);
  });

  test('withdrawal with too little in the wallet → 422 INSUFFICIENT_BALANCE and the bank is not asked', async () => {
    const bobAccount = (
      await t.app.inject({ method: 'GET', url: '/api/v1/wallet/bank-account', headers: bearer(bob.token) })
    ).json().items[0].id as string;
    const requests = fake.requests.length;
    const response = await money('bank-withdraw', bob.token, {
      bank_account_id: bobAccount,
      amount: 99_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'INSUFFICIENT_BALANCE');
    assert.equal(fake.requests.length, requests);
  });

  test('withdrawal while the bank hangs → 503, processing, the hold stays on the wallet', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    fake.failNext(1, 'hang');
    const response = await money('bank-withdraw', alice.token, {
      bank_account_id: aliceBank,
      amount: 10_000,
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.json().error_code, 'BANK_OUTCOME_UNKNOWN');
    const pending = await record(response.json().details.transaction_id);
    assert.equal(pending.status, 'processing');
    const after = await balanceOf(t, aliceWallet.id);
    assert.equal(after.balance, before.balance);
    assert.equal(after.available, before.available - 15_750);
    assert.equal((after as typeof after & { pending_debits: number }).pending_debits, 15_750);
  });

  test('PIN and principal rules: no PIN 422, wrong PIN refused, staff cannot move a customer’s bank money', async () => {
    const noPin = await money('topup', alice.token, { bank_account_id: aliceBank, amount: 1_000 });
    assert.equal(noPin.statusCode, 422);
    const wrongPin = await money('topup', alice.token, {
      bank_account_id: aliceBank,
      amount: 1_000,
      pin: '9999',
    });
    assert.equal(wrongPin.statusCode, 401, wrongPin.body);
    assert.equal(wrongPin.json().error_code, 'INVALID_PIN');
    // At or above payments.otp_threshold_minor (KES 100,000.00) a one-time code is needed first; the bank is not asked.
    const requests = fake.requests.length;
    const large = await money('topup', alice.token, {
      bank_account_id: aliceBank,
      amount: 10_000_000,
      pin: TEST_PIN,
    });
    assert.equal(large.statusCode, 428, large.body);
    assert.equal(large.json().error_code, 'OTP_REQUIRED');
    assert.equal(fake.requests.length, requests);
    const staff = await money('topup', t.adminToken, { bank_account_id: aliceBank, amount: 1_000 });
    assert.equal(staff.statusCode, 403);
    assert.equal(staff.json().error_code, 'CUSTOMER_ONLY');
    const currency = await money('topup', alice.token, {
      bank_account_id: aliceBank,
      amount: 1_000,
      currency: 'USD',
      pin: TEST_PIN,
    });
    assert.equal(currency.statusCode, 422);
    assert.equal(currency.json().error_code, 'CURRENCY_MISMATCH');
  });

  test('unlink: the account leaves the list and the same number can be linked again', async () => {
    const id = await linkAs(bob, '000000002');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/unlink',
      headers: bearer(bob.token),
      payload: { bank_account_id: id },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'unlinked');
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/bank-account',
      headers: bearer(bob.token),
    });
    assert.ok(!list.json().items.some((item: { id: string }) => item.id === id));
    const history = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/bank-account?status=unlinked',
      headers: bearer(bob.token),
    });
    assert.deepEqual(
      history.json().items.map((item: { id: string }) => item.id),
      [id],
    );
    await linkAs(bob, '000000002');
    const twice = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/unlink',
      headers: bearer(bob.token),
      payload: { bank_account_id: id },
    });
    assert.equal(twice.statusCode, 404);
  });

  test('another customer cannot link an account already linked here, nor retry verification without end', async () => {
    const taken = await link(bob.token, {
      bank_code: BANK,
      account_number: '000000001',
      account_name: 'Alice Test',
      currency: 'KES',
    });
    assert.equal(taken.statusCode, 409, taken.body);
    assert.equal(taken.json().error_code, 'ACCOUNT_NOT_LINKABLE');
    const statuses: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      const attempt = await link(bob.token, {
        bank_code: BANK,
        account_number: '000000777',
        account_name: 'Bob Test',
        currency: 'KES',
      });
      statuses.push(attempt.statusCode);
      if (attempt.statusCode === 201)
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/wallet/bank-account/unlink',
          headers: bearer(bob.token),
          payload: { bank_account_id: attempt.json().id },
        });
    }
    assert.deepEqual(statuses, [201, 201, 201, 429], 'three links of one number per 30 days');
  });

  test('parallel bank moves respect the daily limit and the balance cap exactly (checked under the wallet lock)', async () => {
    const products = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/product',
      headers: bearer(t.adminToken),
    });
    const kes = products.json().items.find((item: { code: string }) => item.code === 'KES_STANDARD');
    const setLimits = (limits: object) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/wallet/product/${kes.id}`,
        headers: bearer(t.adminToken),
        payload: { limits },
      });
    const current = await balanceOf(t, aliceWallet.id);
    const requests = fake.requests.length;
    // A cap that leaves room for one top-up of 200,000 but not two (pending ones included).
    assert.equal(
      (await setLimits({ ...kes.limits, max_balance_minor: current.balance + 250_000 })).statusCode,
      200,
    );
    const topUps = await Promise.all(
      [1, 2, 3].map(() =>
        money('topup', alice.token, { bank_account_id: aliceBank, amount: 200_000, pin: TEST_PIN }),
      ),
    );
    const topUpCodes = topUps.map((response) => response.statusCode).sort();
    assert.deepEqual(topUpCodes, [201, 422, 422], topUps.map((response) => response.body).join('\n'));
    for (const refused of topUps.filter((response) => response.statusCode === 422))
      assert.equal(refused.json().error_code, 'BALANCE_CAP_EXCEEDED');
    const bankCalls = fake.requests.slice(requests).filter((request) => request.method === 'POST');
    assert.equal(bankCalls.length, 1, 'the bank was asked once: refused top-ups never reached it');

    // A daily limit the withdrawals already counted today leave room for exactly one more of 150,000.
    const usedToday = await t.deps.database.db.execute(
      sql`select coalesce(sum(amount), 0)::text as used from wallet_usage
          where wallet_id = ${aliceWallet.id} and direction = 'send' and period like 'd:%'`,
    );
    const used = BigInt((usedToday as unknown as { rows: { used: string }[] }).rows[0]!.used);
    assert.equal((await setLimits({ ...kes.limits, daily_minor: Number(used) + 200_000 })).statusCode, 200);
    const withdrawals = await Promise.all(
      [1, 2, 3, 4].map(() =>
        money('bank-withdraw', alice.token, { bank_account_id: aliceBank, amount: 150_000, pin: TEST_PIN }),
      ),
    );
    const withdrawalCodes = withdrawals.map((response) => response.statusCode).sort();
    assert.deepEqual(
      withdrawalCodes,
      [201, 422, 422, 422],
      withdrawals.map((response) => response.body).join('\n'),
    );
    for (const refused of withdrawals.filter((response) => response.statusCode === 422))
      assert.equal(refused.json().error_code, 'LIMIT_EXCEEDED');
    assert.equal((await setLimits(kes.limits)).statusCode, 200);
  });

  test('the ledger balances (holds included)', async () => {
    await t.application.ledger.rollUp();
    assert.ok((await t.application.ledger.verify()).ok);
  });
});

describe('without a core banking system', () => {
  let t: TestContext;
  let alice: TestCustomer;
  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254722200009');
  });
  after(async () => t?.close());

  test('bank routes answer 503 CBS_NOT_CONFIGURED; listing still works', async () => {
    const linked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/bank-account/link',
      headers: bearer(alice.token),
      payload: { bank_code: BANK, account_number: '000000001', account_name: 'Alice Test', currency: 'KES' },
    });
    assert.equal(linked.statusCode, 503);
    assert.equal(linked.json().error_code, 'CBS_NOT_CONFIGURED');
    for (const path of ['topup', 'bank-withdraw'] as const) {
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/v1/wallet/transaction/${path}`,
        headers: idempotent(alice.token),
        payload: { bank_account_id: randomUUID(), amount: 1_000, pin: TEST_PIN },
      });
      assert.equal(response.statusCode, 503, path);
      assert.equal(response.json().error_code, 'CBS_NOT_CONFIGURED');
    }
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/bank-account',
      headers: bearer(alice.token),
    });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().items, []);
    await t.application.ledger.rollUp();
    assert.ok((await t.application.ledger.verify()).ok);
  });
});
