/** P2P transfers, teller cash and the transaction record end to end through the API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
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
import { rawRows } from '../../platform/db.ts';
import type { AppError } from '../../platform/errors.ts';
import { eventsOf } from '../../platform/outbox.ts';
import { transactionsModule } from './index.ts';
import { transactionErrorCatalogue } from './transactions.errors.ts';

describe('P2P transfers and cash', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254722000001');
    bob = await createCustomer(t, 'Bob', '+254722000002');
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 1_000_000);
  });
  after(async () => t.close());

  const transfer = (customer: TestCustomer, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(customer.token, key),
      payload,
    });

  test('a wallet is one per customer and currency, with a number and a zero balance', async () => {
    assert.match(aliceWallet.wallet_number, /^7\d{11}$/);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/wallet/create',
      headers: bearer(t.adminToken),
      payload: { customer_id: alice.id, currency: 'KES' },
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'WALLET_EXISTS');
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet/${bobWallet.id}`,
      headers: bearer(bob.token),
    });
    assert.equal(view.statusCode, 200);
    assert.equal(view.json().balance, 0);
  });

  test('P2P by phone: amount plus fee and duty leave the sender; the recipient gets the amount', async () => {
    const response = await transfer(alice, {
      to_phone: '+254 722 000 002',
      amount: 100_000,
      currency: 'KES',
      pin: TEST_PIN,
      narration: 'Rent',
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    // 0.5% of 1,000.00 = 5.00, below the 10.00 minimum; duty 15% of 10.00 = 1.50.
    assert.equal(body.fee, 1000);
    assert.equal(body.tax, 150);
    assert.equal(body.total, 101_150);
    assert.equal(body.status, 'completed');
    assert.deepEqual(
      body.history.map((step: { state: string }) => step.state),
      ['initiated', 'validated', 'authorized', 'processing', 'completed'],
    );
    assert.match(body.reference, /^[A-Z2-9]{10}$/);
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, 1_000_000 - 101_150);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, 100_000);
  });

  test('P2P by wallet number; the replay with the same key is byte-identical and moves nothing', async () => {
    const key = 'transfer-replay-0001';
    const first = await transfer(
      alice,
      { to_wallet_number: bobWallet.wallet_number, amount: 5_000, currency: 'KES', pin: TEST_PIN },
      key,
    );
    assert.equal(first.statusCode, 201, first.body);
    const before = await balanceOf(t, aliceWallet.id);
    const replay = await transfer(
      alice,
      { to_wallet_number: bobWallet.wallet_number, amount: 5_000, currency: 'KES', pin: TEST_PIN },
      key,
    );
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.body, first.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    const other = await transfer(
      alice,
      { to_wallet_number: bobWallet.wallet_number, amount: 5_001, currency: 'KES', pin: TEST_PIN },
      key,
    );
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().error_code, 'IDEMPOTENCY_KEY_REUSED');
  });

  test('a money POST without Idempotency-Key is refused', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: bearer(alice.token),
      payload: { to_wallet_number: bobWallet.wallet_number, amount: 100, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error_code, 'IDEMPOTENCY_KEY_REQUIRED');
  });

  test('insufficient balance answers the spec’s body and records a failed transaction', async () => {
    const response = await transfer(bob, {
      to_wallet_number: aliceWallet.wallet_number,
      amount: 200_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 422, response.body);
    const body = response.json();
    assert.equal(body.error_code, 'INSUFFICIENT_BALANCE');
    assert.equal(body.details.available, 105_000);
    assert.equal(body.details.required, 200_000 + 1_000 + 150);
    assert.equal(body.details.deficit, body.details.required - body.details.available);
    const failed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transaction/transaction?status=failed',
      headers: bearer(bob.token),
    });
    assert.equal(failed.json().items[0].failure_code, 'INSUFFICIENT_BALANCE');
  });

  test('when the amount fits but the fee does not, "available" is the whole balance before the payment', async () => {
    // The ledger posts amount, fee and duty as legs in order: the amount leg fits exactly, the fee leg does not.
    const response = await transfer(bob, {
      to_wallet_number: aliceWallet.wallet_number,
      amount: 105_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(response.statusCode, 422, response.body);
    const { details } = response.json();
    assert.equal(details.available, 105_000);
    assert.ok(details.required > 105_000, 'the fee and duty are part of what is required');
    assert.equal(details.deficit, details.required - 105_000);
  });

  test('a wrong PIN says how many tries are left and moves nothing', async () => {
    const response = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 100,
      currency: 'KES',
      pin: '9137',
    });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error_code, 'INVALID_PIN');
    assert.equal(typeof response.json().details.attempts_left, 'number');
    const missing = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 100,
      currency: 'KES',
    });
    assert.equal(missing.statusCode, 422);
  });

  test('refusals: same wallet, other currency, unknown recipient, zero amount, someone else’s wallet', async () => {
    const self = await transfer(alice, {
      to_wallet_number: aliceWallet.wallet_number,
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(self.json().error_code, 'SAME_WALLET');
    const usd = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 100,
      currency: 'USD',
      pin: TEST_PIN,
    });
    assert.equal(usd.statusCode, 404);
    const unknown = await transfer(alice, {
      to_phone: '+254799999999',
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(unknown.json().error_code, 'RECIPIENT_NOT_FOUND');
    const zero = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 0,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(zero.statusCode, 422);
    const stolen = await transfer(bob, {
      source_wallet_id: aliceWallet.id,
      to_wallet_number: bobWallet.wallet_number,
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(stolen.statusCode, 404);
  });

  test('customers see their own wallets and transactions only; others answer 404', async () => {
    const carol = await createCustomer(t, 'Carol', '+254722000003');
    for (const url of [
      `/api/v1/wallet/wallet/${aliceWallet.id}`,
      `/api/v1/wallet/wallet/${aliceWallet.id}/balance`,
      `/api/v1/wallet/wallet/${aliceWallet.id}/statement`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(carol.token) });
      assert.equal(response.statusCode, 404, url);
    }
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transaction/transaction',
      headers: bearer(alice.token),
    });
    const [latest] = list.json().items;
    const peek = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${latest.id}`,
      headers: bearer(carol.token),
    });
    assert.equal(peek.statusCode, 404);
    const received = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transaction/transaction?type=p2p&status=completed',
      headers: bearer(bob.token),
    });
    const incoming = received
      .json()
      .items.find((item: { customer_id: string | null }) => item.customer_id === null);
    assert.ok(incoming, 'the payee sees the payment without the payer’s id');
    assert.equal(incoming.fee, 0, 'nor the payer’s fee');
    assert.equal(incoming.total, incoming.amount);
    assert.equal(incoming.source_wallet_id, null);
    const others = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transaction/transaction',
      headers: bearer(carol.token),
    });
    assert.equal(others.json().items.length, 0);
  });

  test('the statement shows each line with its running balance; the receipt as JSON and PDF', async () => {
    const statement = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet/${aliceWallet.id}/statement`,
      headers: bearer(alice.token),
    });
    assert.equal(statement.statusCode, 200, statement.body);
    const body = statement.json();
    let running = body.opening_balance;
    for (const line of body.items) {
      running += line.amount;
      assert.equal(line.balance_after, running);
    }
    assert.equal(body.closing_balance, (await balanceOf(t, aliceWallet.id)).balance);
    const csv = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet/${aliceWallet.id}/statement/export?format=csv`,
      headers: bearer(alice.token),
    });
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    assert.match(csv.body, /posted_at,reference,type/);
    const pdf = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet/${aliceWallet.id}/statement/export?format=pdf`,
      headers: bearer(alice.token),
    });
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/transaction/transaction?type=p2p&status=completed',
      headers: bearer(alice.token),
    });
    const id = list.json().items[0].id;
    const receipt = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${id}/receipt`,
      headers: bearer(alice.token),
    });
    assert.equal(receipt.statusCode, 200, receipt.body);
    assert.equal(receipt.json().from.wallet_number, aliceWallet.wallet_number);
    const receiptPdf = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${id}/receipt?format=pdf`,
      headers: bearer(bob.token),
    });
    assert.equal(receiptPdf.statusCode, 200);
    assert.equal(receiptPdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
  });

  test('teller cash withdrawal charges the fee; the till cannot pay out cash it does not hold', async () => {
    const before = await balanceOf(t, bobWallet.id);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      payload: { wallet_id: bobWallet.id, amount: 10_000, currency: 'KES' },
    });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().type, 'cash_withdrawal');
    assert.equal((await balanceOf(t, bobWallet.id)).balance, before.balance - response.json().total);
    const emptyTill = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      payload: { wallet_id: bobWallet.id, amount: 1_000, currency: 'KES', branch_code: 'MSA01' },
    });
    assert.equal(emptyTill.statusCode, 409, emptyTill.body);
    assert.equal(emptyTill.json().error_code, 'COUNTERPARTY_INSUFFICIENT_FUNDS');
  });

  test('large cash withdrawals wait for a second staff member', async () => {
    const setting = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/payments.cash_withdrawal_approval_threshold_minor',
      headers: bearer(t.adminToken),
      payload: { value: { KES: '500000' } },
    });
    assert.equal(setting.statusCode, 200, setting.body);
    await deposit(t, bobWallet.id, 1_000_000);
    const before = await balanceOf(t, bobWallet.id);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      payload: { wallet_id: bobWallet.id, amount: 600_000, currency: 'KES' },
    });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal(response.json().action, 'wallet.cash_withdrawal');
    assert.equal(response.json().status, 'pending');
    assert.deepEqual(await balanceOf(t, bobWallet.id), before);
    // A currency the setting does not list fails closed: every withdrawal in it waits for a second staff member.
    const otherCurrencyOnly = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/payments.cash_withdrawal_approval_threshold_minor',
      headers: bearer(t.adminToken),
      payload: { value: { USD: '100000' } },
    });
    assert.equal(otherCurrencyOnly.statusCode, 200, otherCurrencyOnly.body);
    const unlisted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      payload: { wallet_id: bobWallet.id, amount: 1_500, currency: 'KES' },
    });
    assert.equal(unlisted.statusCode, 202, unlisted.body);
    assert.deepEqual(await balanceOf(t, bobWallet.id), before);
  });

  test('a frozen wallet neither sends nor receives', async () => {
    const frozen = await t.app.inject({
      method: 'POST',
      url: `/api/v1/wallet/wallet/${bobWallet.id}/freeze`,
      headers: bearer(t.adminToken),
      payload: { reason: 'fraud check' },
    });
    assert.equal(frozen.statusCode, 200, frozen.body);
    const toFrozen = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(toFrozen.json().error_code, 'RECIPIENT_UNAVAILABLE');
    const fromFrozen = await transfer(bob, {
      to_wallet_number: aliceWallet.wallet_number,
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(fromFrozen.json().error_code, 'WALLET_NOT_ACTIVE');
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/wallet/wallet/${bobWallet.id}/unfreeze`,
      headers: bearer(t.adminToken),
      payload: { reason: 'cleared' },
    });
  });

  test('POST /transaction/add runs the use case its type names', async () => {
    const add = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/transaction/add',
        headers: idempotent(alice.token),
        payload,
      });
    const p2p = await add({
      type: 'p2p',
      to_wallet_number: bobWallet.wallet_number,
      amount: 2_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(p2p.statusCode, 201, p2p.body);
    assert.equal(p2p.json().type, 'p2p');
    const unknownType = await add({ type: 'lottery', amount: 2_000, currency: 'KES' });
    assert.equal(unknownType.statusCode, 422);
    const untyped = await add({
      to_wallet_number: bobWallet.wallet_number,
      amount: 2_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(untyped.statusCode, 422);
    const foreignField = await add({
      type: 'p2p',
      biller_code: 'KPLC',
      to_wallet_number: bobWallet.wallet_number,
      amount: 1,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(foreignField.statusCode, 422, 'fields of another type are refused');
    const merchant = await add({
      type: 'merchant',
      merchant_id: '01a20000-0000-7000-8000-000000000000',
      amount: 100,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(merchant.statusCode, 404, merchant.body);
  });

  test('forged cursors and impossible instants answer 422, not a database error', async () => {
    const forged = Buffer.from(JSON.stringify({ id: 'abc', entry: 'abc' })).toString('base64url');
    for (const url of [
      `/api/v1/wallet/wallet/${aliceWallet.id}/statement?cursor=${forged}`,
      `/api/v1/transaction/transaction?cursor=${forged}`,
      `/api/v1/wallet/wallet?cursor=${forged}`,
      `/api/v1/transaction/dispute?cursor=${forged}`,
      `/api/v1/wallet/wallet/${aliceWallet.id}/statement?cursor=${Buffer.from('{"entry":"9999999999999999999"}').toString('base64url')}`,
      `/api/v1/wallet/wallet/${aliceWallet.id}/statement?from=2026-06-30T23:59:60Z`,
      '/api/v1/transaction/transaction?from=2026-02-30T10:00:00Z',
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(alice.token) });
      assert.equal(response.statusCode, 422, `${url}: ${response.body}`);
    }
  });

  test('a transfer commits in one call: record, ledger, usage, event and the stored answer together', async () => {
    const { engine } = t.application.transactions;
    const before = { ...engine.commits };
    const db = t.deps.database.db;
    const usageOf = async () =>
      (
        await rawRows<{ amount: string }>(
          db,
          sql`select coalesce(sum(amount), 0)::text as amount from wallet_usage
              where wallet_id = ${aliceWallet.id}::uuid and direction = 'send' and period like 'd:%'`,
        )
      )[0]!.amount;
    const usedBefore = BigInt(await usageOf());
    const key = `one-call-${Date.now()}`;
    const payload = {
      to_wallet_number: bobWallet.wallet_number,
      amount: 2_500,
      currency: 'KES',
      pin: TEST_PIN,
    };
    const response = await transfer(alice, payload, key);
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(engine.commits, { ...before, oneCall: before.oneCall + 1 });
    const body = response.json();
    // What was stored is what was answered: the record read back, the replay's bytes.
    const read = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${body.id}`,
      headers: bearer(alice.token),
    });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(read.json(), body);
    const replay = await transfer(alice, payload, key);
    assert.equal(replay.body, response.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(BigInt(await usageOf()), usedBefore + 2_500n);
    const events = await eventsOf(db, 'transaction', body.id);
    assert.deepEqual(
      events.map((event) => event.topic),
      ['transaction.completed'],
    );
    assert.equal(events[0]!.payload.amount, '2500');
    const [batch] = await rawRows<{ legs: number }>(
      db,
      sql`select count(*)::int as legs from ledger_transfers lt join transactions tx on tx.ledger_batch_id = lt.batch_id
          where tx.id = ${body.id}::uuid`,
    );
    assert.equal(batch!.legs, 3, 'amount, fee and duty');
  });

  test('a payment whose wallets changed after its checks is checked again under lock', async () => {
    const { engine } = t.application.transactions;
    const db = t.deps.database.db;
    const context = {
      actor: { type: 'customer' as const, id: alice.id },
      ip: null,
      userAgent: null,
      requestId: 'r',
    };
    const plan = {
      type: 'p2p' as const,
      channel: 'mobile',
      initiator: { type: 'customer' as const, id: alice.id },
      source: { kind: 'wallet' as const, walletId: aliceWallet.id },
      destination: { kind: 'wallet' as const, walletId: bobWallet.id },
      amount: 1_000n,
      currency: 'KES',
      feature: 'p2p',
    };
    const steps = [{ state: 'initiated' as const, at: new Date().toISOString() }];
    // Frozen between the check and the commit: the commit finds the state changed, checks again and refuses.
    const before = { ...engine.commits };
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const checked = await engine.check(plan);
    await db.execute(sql`update wallets set status = 'frozen' where id = ${bobWallet.id}::uuid`);
    try {
      await assert.rejects(engine.commit(plan, steps, context, checked), (error: AppError) => {
        assert.equal(error.errorCode, 'RECIPIENT_UNAVAILABLE');
        return true;
      });
    } finally {
      await db.execute(sql`update wallets set status = 'active' where id = ${bobWallet.id}::uuid`);
    }
    assert.equal(engine.commits.stale, before.stale + 1);
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    // Another payment between the check and the commit (usage moved): posted under lock, both counted.
    const again = await engine.check(plan);
    const between = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 1_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(between.statusCode, 201, between.body);
    const view = await engine.commit(plan, steps, context, again);
    assert.equal(view.status, 'completed');
    assert.equal(engine.commits.stale, before.stale + 2);
    assert.equal(engine.commits.oneCall, before.oneCall + 1, 'only the payment in between went in one call');
    const after = await balanceOf(t, aliceWallet.id);
    assert.equal(BigInt(aliceBefore.balance) - BigInt(after.balance), 2n * (1_000n + 1_000n + 150n));
  });

  test('outside READ COMMITTED the one call writes nothing and leaves the payment to the stepwise path', async () => {
    // Its re-read after the lock would see a stale snapshot (a database whose default isolation was changed).
    const outcome = await t.deps.database.db.transaction(
      async (tx) => {
        const [row] = await rawRows<{ outcome: string }>(
          tx,
          sql`select payment_commit(array[${aliceWallet.id}::uuid], '{}'::jsonb, 'd:x', 'm:x', gen_random_uuid(),
                'k', 'p2p', null, null, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[], '{}'::bigint[], '{}'::text[],
                '{}'::uuid[], '{}'::bigint[], '{}'::uuid[], '{}'::text[], '{}'::bigint[], '{}'::jsonb, '{}'::jsonb,
                null, null, null, null, null, null) as outcome`,
        );
        return row!.outcome;
      },
      { isolationLevel: 'repeatable read' },
    );
    assert.equal(outcome, 'stale');
  });

  test('the PIN is compared inside the commit call; a wrong one counts, and a right one after it resets the count', async () => {
    const { engine } = t.application.transactions;
    const send = (pin: string) =>
      transfer(alice, { to_wallet_number: bobWallet.wallet_number, amount: 300, currency: 'KES', pin });
    const before = { ...engine.commits };
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const wrong = await send('9138');
    assert.equal(wrong.statusCode, 401, wrong.body);
    assert.equal(wrong.json().error_code, 'INVALID_PIN');
    const left = wrong.json().details.attempts_left as number;
    const again = await send('9139');
    assert.equal(again.json().details.attempts_left, left - 1, 'each wrong PIN is counted');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore, 'nothing moved');
    // Right PIN with failures to reset: the call answers 'pin', the counting check resets, the call commits.
    const right = await send(TEST_PIN);
    assert.equal(right.statusCode, 201, right.body);
    const after = await send('9140');
    assert.equal(after.json().details.attempts_left, left, 'the right PIN reset the count');
    const clean = await send(TEST_PIN);
    assert.equal(clean.statusCode, 201, clean.body);
    assert.equal(engine.commits.oneCall, before.oneCall + 2, 'both right PINs committed in one call');
    assert.equal(engine.commits.locked, before.locked);
  });

  test('a pre-posting hook (where AML plugs in) refuses inside the transaction and nothing moves', async () => {
    t.application.transactions.engine.addPrePostingHook(async ({ plan, context }) => {
      assert.ok(context.requestId, 'the hook sees who asked');
      if (plan.amount === 4_321n)
        throw transactionErrorCatalogue.TRANSACTION_BLOCKED({ message: 'Screening refused this payment' });
    });
    const before = await balanceOf(t, aliceWallet.id);
    const refused = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 4_321,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().error_code, 'TRANSACTION_BLOCKED');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    const passed = await transfer(alice, {
      to_wallet_number: bobWallet.wallet_number,
      amount: 4_322,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(passed.statusCode, 201, passed.body);
  });

  test("the payee never sees the payer's refused attempts: not listed, 404 by id and receipt, not in the statement", async () => {
    const payer = await createCustomer(t, 'Dora', '+254722000010');
    const payee = await createCustomer(t, 'Evans', '+254722000011');
    const payerWallet = await openWallet(t, payer.id);
    const payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 20_000);
    const paid = await transfer(payer, {
      to_wallet_number: payeeWallet.wallet_number,
      amount: 5_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const refused = await transfer(payer, {
      to_wallet_number: payeeWallet.wallet_number,
      amount: 500_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(refused.statusCode, 422, refused.body);
    const get = (token: string, url: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
    // The payer sees their own refused attempt, and why.
    const mine = (await get(payer.token, '/api/v1/transaction/transaction?status=failed')).json().items;
    assert.equal(mine.length, 1);
    const failed = mine[0] as { id: string; reference: string; failure_reason: string };
    assert.match(failed.failure_reason, /Insufficient balance/);
    assert.equal((await get(payer.token, `/api/v1/transaction/transaction/${failed.id}`)).statusCode, 200);
    // The payee sees the completed payment and nothing of the refused one.
    const seen = (await get(payee.token, '/api/v1/transaction/transaction')).json().items as {
      id: string;
      status: string;
    }[];
    assert.deepEqual(
      seen.map((item) => [item.id, item.status]),
      [[paid.json().id, 'completed']],
    );
    assert.deepEqual(
      (await get(payee.token, '/api/v1/transaction/transaction?status=failed')).json().items,
      [],
    );
    assert.deepEqual(
      (await get(payee.token, `/api/v1/transaction/transaction?reference=${failed.reference}`)).json().items,
      [],
    );
    for (const url of [
      `/api/v1/transaction/transaction/${failed.id}`,
      `/api/v1/transaction/transaction/${failed.id}/receipt`,
      `/api/v1/transaction/transaction/${failed.id}/receipt?format=pdf`,
    ]) {
      const response = await get(payee.token, url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error_code, 'NOT_FOUND');
      assert.doesNotMatch(response.body, /nsufficient/);
    }
    const statement = await get(payee.token, `/api/v1/wallet/wallet/${payeeWallet.id}/statement`);
    assert.equal(statement.statusCode, 200);
    assert.doesNotMatch(statement.body, new RegExp(failed.reference));
    assert.doesNotMatch(statement.body, /nsufficient/);
    // Staff see every attempt.
    assert.equal(
      (await get(t.adminToken, `/api/v1/transaction/transaction/${failed.id}`)).json().failure_code,
      'INSUFFICIENT_BALANCE',
    );
  });

  test("a reversal's total is what was credited back: amount, fee and duty to the payer, the amount from the payee", async () => {
    const payer = await createCustomer(t, 'Faith', '+254722000012');
    const payee = await createCustomer(t, 'Gitau', '+254722000013');
    const payerWallet = await openWallet(t, payer.id);
    const payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 200_000);
    const paid = await transfer(payer, {
      to_wallet_number: payeeWallet.wallet_number,
      amount: 100_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal(paid.json().total, 101_150);
    const payerBefore = (await balanceOf(t, payerWallet.id)).balance;
    const payeeBefore = (await balanceOf(t, payeeWallet.id)).balance;
    const staff = async (username: string) => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/user/user/add',
        headers: bearer(t.adminToken),
        payload: {
          username,
          email: `${username}@bank.test`,
          full_name: username,
          password: 'amber lantern river 7',
          roles: ['operations'],
          must_change_password: false,
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      return (await login(t.app, username, 'amber lantern river 7')).access_token;
    };
    const maker = await staff('transfers_maker');
    const checker = await staff('transfers_checker');
    const filed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/transaction/reverse',
      headers: idempotent(maker),
      payload: { transaction_id: paid.json().id, reason: 'Sent to the wrong wallet' },
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer(checker),
      payload: { request_id: filed.json().id },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);
    const reversalId = approved.json().result.id as string;
    const credited = (await balanceOf(t, payerWallet.id)).balance - payerBefore;
    const debited = payeeBefore - (await balanceOf(t, payeeWallet.id)).balance;
    assert.equal(credited, 101_150, 'amount, fee and duty came back');
    assert.equal(debited, 100_000);
    const view = async (token: string) =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/transaction/transaction/${reversalId}`,
          headers: bearer(token),
        })
      ).json();
    const asStaff = await view(t.adminToken);
    assert.deepEqual(
      [asStaff.amount, asStaff.fee, asStaff.tax, asStaff.total],
      [100_000, 1_000, 150, credited],
    );
    assert.equal(Number(approved.json().result.total), credited, "the approval's result says the same");
    const asPayer = await view(payer.token);
    assert.equal(asPayer.total, credited, 'the original payer: what came back');
    assert.deepEqual([asPayer.fee, asPayer.tax], [1_000, 150]);
    const asPayee = await view(payee.token);
    assert.equal(asPayee.total, debited, 'the original payee: what was taken back');
    assert.deepEqual([asPayee.fee, asPayee.tax], [0, 0]);
  });

  test('transaction types come from the modules that record them; an undeclared one is refused', async () => {
    const types = t.application.system.context(transactionsModule).transactionTypes;
    // Each type the payment modules here record, with the module declaring it (others, e.g. agents', may follow).
    const owners = {
      p2p: 'transactions',
      cash_deposit: 'transactions',
      cash_withdrawal: 'transactions',
      fx: 'transactions',
      merchant: 'merchants',
      bill: 'bills',
      bank_topup: 'banking',
      bank_withdrawal: 'banking',
      reversal: 'disputes',
      refund: 'disputes',
    };
    for (const [type, owner] of Object.entries(owners)) assert.equal(types.owner(type), owner, type);
    // A plan of a type no module declared is a programming error: thrown before anything is checked or written.
    const { engine } = t.application.transactions;
    const context = {
      actor: { type: 'customer' as const, id: alice.id },
      ip: null,
      userAgent: null,
      requestId: 'r',
    };
    const plan = {
      type: 'lottery',
      channel: 'mobile',
      initiator: { type: 'customer' as const, id: alice.id },
      source: { kind: 'wallet' as const, walletId: aliceWallet.id },
      destination: { kind: 'wallet' as const, walletId: bobWallet.id },
      amount: 1_000n,
      currency: 'KES',
    };
    const refused = (error: unknown) =>
      error instanceof Error &&
      !('errorCode' in error) &&
      /transaction type "lottery" is not declared by any module/.test(error.message);
    const balance = await balanceOf(t, aliceWallet.id);
    await assert.rejects(engine.check(plan), refused);
    await assert.rejects(
      engine.commit(plan, [{ state: 'initiated', at: new Date().toISOString() }], context),
      refused,
    );
    assert.deepEqual(await balanceOf(t, aliceWallet.id), balance);
    const [written] = await rawRows<{ count: number }>(
      t.deps.database.db,
      sql`select count(*)::int as count from transactions where type = 'lottery'`,
    );
    assert.equal(written!.count, 0);
    // The history filter takes the declared types (those of other modules too) and refuses any other as bad input
    // (422 VALIDATION_ERROR, like any value outside a query enum), listing the declared ones.
    const byType = (type: string) =>
      t.app.inject({
        method: 'GET',
        url: `/api/v1/transaction/transaction?type=${type}`,
        headers: bearer(t.adminToken),
      });
    assert.equal((await byType('bank_topup')).statusCode, 200);
    const unknown = await byType('lottery');
    assert.equal(unknown.statusCode, 422, unknown.body);
    assert.equal(unknown.json().error_code, 'VALIDATION_ERROR');
    assert.deepEqual(unknown.json().details.errors[0].allowed, types.list());
  });

  test('the ledger verifies clean after all of it', async () => {
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
