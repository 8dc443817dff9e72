/**
 * Cash-ins in the group commit (issue 19): the agent's rows (usage, movement, accruals, geofence check) are a `part`
 * of the payment, run inside the batch call right after that payment. The batch is made deterministic as in
 * transactions/group-commit.test.ts: a test connection holds the first cash-in's wallet lock (one call in flight,
 * PAYMENT_COMMIT_CONCURRENCY=1) while the next cash-ins queue behind it. One of them goes beyond its agent's daily
 * limit inside the batch: it rolls back alone, rows and all, and the others commit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  floatBalances,
  fundFloat,
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, createCustomer, openWallet } from '../../../test/helpers/money.ts';
import { until } from '../../../test/helpers/until.ts';
import type { PaymentEngine } from '../transactions/index.ts';

describe('cash-ins in the group commit', () => {
  let t: TestContext;
  let engine: PaymentEngine;
  let limited: MoneyAgent;
  let open: MoneyAgent;
  const customers: { phone: string; walletId: string }[] = [];

  const cashIn = (agent: MoneyAgent, customer: { phone: string }, amount: number) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-in',
      headers: idem(agent.stores[0].tellerToken),
      payload: { phone: customer.phone, amount, currency: 'KES', location: inside() },
    });

  before(async () => {
    t = await startTestApp({ PAYMENT_COMMIT: 'batched', PAYMENT_COMMIT_CONCURRENCY: '1' });
    engine = t.application.transactions.engine;
    const owner = await createCustomer(t, 'Owner', randomPhone());
    limited = await moneyAgent(t, owner.id, { limits: { daily_minor: '25000' } });
    open = await moneyAgent(t, owner.id);
    await fundFloat(t, { store_id: limited.stores[0].id }, 1_000_000);
    await fundFloat(t, { store_id: open.stores[0].id }, 1_000_000);
    for (let index = 0; index < 6; index += 1) {
      const customer = await createCustomer(t, `Cust${index}`, randomPhone());
      customers.push({ phone: customer.phone, walletId: (await openWallet(t, customer.id)).id });
    }
  });
  after(async () => t.close());

  const rows = async (text: string, values: unknown[]) =>
    (await t.deps.database.pool!.query(text, values)).rows as Record<string, unknown>[];

  test('one batch: the cash-in beyond its agent’s daily limit rolls back alone, with its rows; the others commit', async () => {
    const batcher = engine.batcher!;
    const holder = new pg.Client({ connectionString: t.config.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from wallets where id = $1 for update', [customers[0]!.walletId]);
      const before = { ...batcher.stats };
      const first = cashIn(open, customers[0]!, 1_000);
      await until(() => batcher.stats.calls === before.calls + 1, 'the first call');
      // Three cash-ins of 10,000 at the limited agent (daily limit 25,000): the third in the batch goes beyond it.
      const queued = [
        cashIn(limited, customers[1]!, 10_000),
        cashIn(limited, customers[2]!, 10_000),
        cashIn(limited, customers[3]!, 10_000),
        cashIn(open, customers[4]!, 7_000),
        cashIn(open, customers[5]!, 8_000),
      ];
      await until(() => batcher.queued === queued.length, 'the cash-ins to queue');
      await holder.query('commit');

      assert.equal((await first).statusCode, 201);
      const answers = await Promise.all(queued);
      assert.equal(batcher.stats.batches, before.batches + 1, 'the queued cash-ins went in one call');
      assert.equal(batcher.stats.largest, queued.length);

      const limitedAnswers = answers.slice(0, 3);
      const refused = limitedAnswers.filter((answer) => answer.statusCode !== 201);
      assert.equal(refused.length, 1, JSON.stringify(limitedAnswers.map((answer) => answer.body)));
      const error = refused[0]!.json();
      assert.equal(error.error_code, 'AGENT_LIMIT_EXCEEDED', refused[0]!.body);
      assert.equal(refused[0]!.statusCode, 422);
      assert.deepEqual(
        [error.details.period, String(error.details.limit), String(error.details.remaining)],
        ['daily', '25000', '5000'],
      );
      for (const answer of answers.filter((answer) => answer.statusCode === 201))
        assert.equal(answer.json().status, 'completed');
      assert.equal(answers.filter((answer) => answer.statusCode === 201).length, 4);

      // Money: the refused one moved nothing; the rest moved exactly their amounts.
      const refusedIndex = limitedAnswers.indexOf(refused[0]!);
      for (const [index, amount] of [10_000, 10_000, 10_000, 7_000, 8_000].entries()) {
        const expected = index === refusedIndex ? 0 : amount;
        assert.equal((await balanceOf(t, customers[index + 1]!.walletId)).balance, expected);
      }
      assert.equal((await floatBalances(t, limited.id)).store(limited.stores[0].id), 1_000_000 - 20_000);
      assert.equal((await floatBalances(t, open.id)).store(open.stores[0].id), 1_000_000 - 16_000);

      // The agent's rows: the two committed cash-ins only.
      const [usage] = await rows(
        'select amount_minor::text as amount, count from agent_usage where agent_id = $1',
        [limited.id],
      );
      assert.deepEqual(usage, { amount: '20000', count: 2 });
      const movements = await rows(
        `select m.transaction_id, t.status from agent_cash_movements m join transactions t on t.id = m.transaction_id
          where m.agent_id = $1`,
        [limited.id],
      );
      assert.equal(movements.length, 2);
      assert.ok(movements.every((movement) => movement.status === 'completed'));
      // Every clean geofence check written with a committed cash-in is linked to it; the refused one's is kept apart.
      const checks = await rows(
        `select transaction_id from agent_location_checks c where c.agent_id = $1 and action = 'cash_in'`,
        [limited.id],
      );
      assert.equal(checks.length, 3);
      assert.equal(checks.filter((check) => check.transaction_id !== null).length, 2);
      const orphans = await rows(
        `select count(*)::int as n from agent_commissions c
          where not exists (select 1 from transactions t where t.id = c.transaction_id and t.status = 'completed')`,
        [],
      );
      assert.equal(orphans[0]!.n, 0);
    } finally {
      await holder.end();
    }
  });

  test('the ledger verifies clean', async () => {
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
