/**
 * Group commit (issue 21, PAYMENT_COMMIT=batched): payments whose commit arrives while an earlier call is in flight go
 * to PostgreSQL together in one `payment_commit_batch` call, each with its own outcome. The batch here is made
 * deterministic: a test connection holds the first payment's wallet lock, so its call stays in flight while the next
 * payments queue behind it (PAYMENT_COMMIT_CONCURRENCY=1), then lets go.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
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
import { until } from '../../../test/helpers/until.ts';
import { inTransaction } from '../../platform/db.ts';
import type { PaymentEngine } from './transactions.engine.ts';

const balance = async (t: TestContext, walletId: string): Promise<number> =>
  (await balanceOf(t, walletId)).balance;

interface Party {
  customer: TestCustomer;
  wallet: TestWallet;
  /** Each payer pays a payee of its own: a payee shared by two payments of a batch changes under the second. */
  payee: TestWallet;
}

describe('group commit', () => {
  let t: TestContext;
  let engine: PaymentEngine;
  const parties: Party[] = [];

  before(async () => {
    t = await startTestApp({ PAYMENT_COMMIT: 'batched', PAYMENT_COMMIT_CONCURRENCY: '1' });
    engine = t.application.transactions.engine;
    for (let index = 0; index < 8; index += 1) {
      const customer = await createCustomer(t, `Payer${index}`, `+25472200${String(index).padStart(4, '0')}`);
      const wallet = await openWallet(t, customer.id);
      await deposit(t, wallet.id, 100_000);
      const payee = await createCustomer(t, `Payee${index}`, `+25472201${String(index).padStart(4, '0')}`);
      parties.push({ customer, wallet, payee: await openWallet(t, payee.id) });
    }
  });
  after(async () => t.close());

  const transfer = (from: Party, amount: number, key = `k-${randomUUID()}`) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(from.customer.token, key),
      payload: { to_wallet_number: from.payee.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
    });

  test('one batch: a ledger refusal and a claim taken over fail alone, a second payment of a payer is retried alone, the rest commit together', async () => {
    const batcher = engine.batcher!;
    assert.ok(batcher, 'PAYMENT_COMMIT=batched builds the batcher');
    const [first, short, taken, twice, ...rest] = parties;
    const holder = new pg.Client({ connectionString: t.config.DATABASE_URL });
    await holder.connect();
    try {
      // The first payment's commit waits on its payer's wallet, held here: the one call in flight.
      await holder.query('begin');
      await holder.query('select 1 from wallets where id = $1 for update', [first!.wallet.id]);
      const before = { ...batcher.stats };
      const stale = engine.commits.stale;
      const firstAnswer = transfer(first!, 1_000);
      await until(() => batcher.stats.calls === before.calls + 1, 'the first call');
      // These queue behind it: checked against balances that still cover them.
      const takenKey = `k-${randomUUID()}`;
      const queued = [
        transfer(short!, 90_000),
        transfer(taken!, 2_000, takenKey),
        transfer(twice!, 3_000),
        transfer(twice!, 4_000),
        ...rest.map((party) => transfer(party, 5_000)),
      ];
      await until(() => batcher.queued === queued.length, 'the payments to queue');
      // Meanwhile the short payer's money leaves by another way, and a retry takes the claim over.
      await inTransaction(t.deps.database.db, async (tx) => {
        const suspense = await t.application.ledger.houseAccount('suspense:KES', undefined, tx);
        await t.application.ledger.post(tx, {
          key: `test-drain-${short!.wallet.id}`,
          code: 'adjustment',
          legs: [{ debit: short!.wallet.id, credit: suspense, amount: 50_000n, code: 'principal' }],
        });
      });
      const claimTaken = await holder.query(
        `update idempotency_keys set locked_until = locked_until + interval '1 minute' where key = $1`,
        [takenKey],
      );
      assert.equal(claimTaken.rowCount, 1);
      await holder.query('commit');

      const firstResponse = await firstAnswer;
      assert.equal(firstResponse.statusCode, 201, firstResponse.body);
      const [shortResponse, takenResponse, twiceA, twiceB, ...restResponses] = await Promise.all(queued);
      assert.equal(batcher.stats.batches, before.batches + 1, 'the queued payments went in one call');
      assert.equal(batcher.stats.largest, queued.length);

      assert.equal(shortResponse!.statusCode, 422, shortResponse!.body);
      assert.equal(shortResponse!.json().error_code, 'INSUFFICIENT_BALANCE');
      assert.equal(takenResponse!.statusCode, 409, takenResponse!.body);
      assert.equal(takenResponse!.json().error_code, 'IDEMPOTENCY_IN_PROGRESS');
      for (const response of [twiceA!, twiceB!, ...restResponses]) {
        assert.equal(response.statusCode, 201, response.body);
        assert.equal(response.json().status, 'completed');
      }
      assert.equal(engine.commits.stale, stale + 1, "the payer's second payment found its wallet changed");

      // What moved: each committed payment, nothing of the two that failed.
      assert.equal(await balance(t, short!.wallet.id), 50_000);
      assert.equal(await balance(t, taken!.wallet.id), 100_000);
      const fee = (response: { json(): { fee: number; tax: number } }) =>
        Number(response.json().fee) + Number(response.json().tax);
      assert.equal(await balance(t, twice!.wallet.id), 100_000 - 7_000 - fee(twiceA!) - fee(twiceB!));
      for (const [index, party] of rest.entries())
        assert.equal(await balance(t, party.wallet.id), 100_000 - 5_000 - fee(restResponses[index]!));
      assert.equal(await balance(t, first!.payee.id), 1_000);
      assert.equal(await balance(t, short!.payee.id), 0);
      assert.equal(await balance(t, taken!.payee.id), 0);
      assert.equal(await balance(t, twice!.payee.id), 7_000);
      for (const party of rest) assert.equal(await balance(t, party.payee.id), 5_000);

      // The refusal is recorded as a failed transaction, and its answer replays.
      const refused = await t.deps.database.pool!.query(
        `select count(*)::int as n from transactions where source_wallet_id = $1 and status = 'failed'
           and failure_code = 'INSUFFICIENT_BALANCE'`,
        [short!.wallet.id],
      );
      assert.equal(refused.rows[0].n, 1);
    } finally {
      await holder.end();
    }
  });

  test('under concurrency every payment commits once, and replays answer the stored bytes', async () => {
    const batcher = engine.batcher!;
    const before = { ...batcher.stats };
    const keys = parties.flatMap((party) => [0, 1, 2].map(() => ({ party, key: `k-${randomUUID()}` })));
    const balances = await Promise.all(parties.map((party) => balance(t, party.wallet.id)));
    const answers = await Promise.all(keys.map(({ party, key }) => transfer(party, 100, key)));
    for (const answer of answers) assert.equal(answer.statusCode, 201, answer.body);
    assert.ok(batcher.stats.calls > before.calls);
    const replays = await Promise.all(keys.map(({ party, key }) => transfer(party, 100, key)));
    replays.forEach((replay, index) => {
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.body, answers[index]!.body, 'a replay answers the stored bytes');
    });
    for (const [index, party] of parties.entries()) {
      const spent = answers
        .filter((_, at) => keys[at]!.party === party)
        .reduce((sum, answer) => sum + 100 + Number(answer.json().fee) + Number(answer.json().tax), 0);
      assert.equal(await balance(t, party.wallet.id), balances[index]! - spent);
    }
  });

  test('the ledger verifies clean', async () => {
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
