/**
 * The outbox promise end to end, with the worker as its own process: a rolled-back business transaction sends
 * nothing; committed transfers send each alert exactly once, even though the first worker is SIGKILLed in the middle
 * of its dispatch batch (crash point `outbox.dispatch.mid-batch`) and a second worker starts over.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { transactionCompleted } from '../../src/modules/transactions/index.ts';
import { inTransaction } from '../../src/platform/db.ts';
import { emitEvent } from '../../src/platform/outbox.ts';
import { type FakeTwilio, startFakeTwilio } from '../fakes/twilio.ts';
import { sharedServices, startTestApp, type TestContext } from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../helpers/money.ts';

const TRANSFERS = 12;
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'kill-test-auth-token';

if (sharedServices)
  describe('outbox → notifications with a worker killed mid-batch', () => {
    let t: TestContext;
    let twilio: FakeTwilio;
    const workers: ChildProcess[] = [];
    let env: Record<string, string>;

    before(async () => {
      twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
      const providerEnv = {
        SMS_PROVIDERS: 'twilio',
        TWILIO_BASE_URL: twilio.url,
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
      };
      t = await startTestApp(providerEnv);
      env = {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: t.config.DATABASE_URL!,
        REDIS_URL: t.config.REDIS_URL!,
        REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
        LOG_LEVEL: 'warn',
        ...providerEnv,
      };
    });

    after(async () => {
      for (const worker of workers)
        if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await t?.close();
      await twilio?.close();
    });

    function startWorker(extra: Record<string, string> = {}): ChildProcess {
      const worker = spawn(process.execPath, ['src/worker.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { ...env, ...extra },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      workers.push(worker);
      return worker;
    }

    async function counts(): Promise<Record<string, number>> {
      const result = (await t.deps.database.db.execute(
        sql`select channel || ':' || status as key, count(*)::int as n from notifications group by 1`,
      )) as unknown as { rows: { key: string; n: number }[] };
      return Object.fromEntries(result.rows.map((row) => [row.key, row.n]));
    }

    test('nothing from a rollback; every committed alert exactly once across a crash', async () => {
      const alice = await createCustomer(t, 'Alice', '+254711000101');
      const bob = await createCustomer(t, 'Bob', '+254711000102');
      const aliceWallet = await openWallet(t, alice.id);
      const bobWallet = await openWallet(t, bob.id);
      await deposit(t, aliceWallet.id, 1_000_000);
      for (let index = 0; index < TRANSFERS; index += 1) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/v1/wallet/transaction/transfer',
          headers: idempotent(alice.token),
          payload: {
            to_wallet_number: bobWallet.wallet_number,
            amount: 100 + index,
            currency: 'KES',
            pin: TEST_PIN,
          },
        });
        assert.equal(response.statusCode, 201, response.body);
      }
      // A business transaction that emits its event and then fails: the event goes with it.
      await assert.rejects(
        inTransaction(t.deps.database.db, async (tx) => {
          await emitEvent(
            tx,
            transactionCompleted,
            { type: 'transaction', id: '00000000-0000-7000-8000-000000000000' },
            {
              transaction_id: '00000000-0000-7000-8000-000000000000',
              reference: 'ROLLEDBACK01',
              type: 'p2p',
              amount: '999',
              currency: 'KES',
              fee: '0',
              tax: '0',
              source_wallet_id: aliceWallet.id,
              destination_wallet_id: bobWallet.id,
              source_customer_id: alice.id,
              destination_customer_id: bob.id,
              merchant_id: null,
              biller_id: null,
              bill_reference: null,
            },
          );
          throw new Error('the use case failed after emitting');
        }),
        /failed after emitting/,
      );

      // The first worker dies inside its first batch, after handling 5 of the events.
      const first = startWorker({ CRASH_POINTS: 'outbox.dispatch.mid-batch:5' });
      const [, signal] = (await once(first, 'exit')) as [number | null, string | null];
      assert.equal(signal, 'SIGKILL', 'the worker was killed by its crash point');
      assert.deepEqual(await counts(), {}, 'the killed batch left no notification behind');
      assert.equal(twilio.messages.length, 0);

      // A fresh worker starts over from the same outbox rows.
      startWorker();
      // Each transfer alerts payer and payee; the opening cash deposit alerts Alice once more.
      const expectedSms = TRANSFERS * 2 + 1;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const now = await counts();
        if ((now['sms:sent'] ?? 0) === expectedSms && (now['in_app:delivered'] ?? 0) === expectedSms) break;
        assert.ok(Date.now() < deadline, `timed out waiting for delivery: ${JSON.stringify(now)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Let a duplicate, if any, arrive before counting.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(await counts(), { 'sms:sent': expectedSms, 'in_app:delivered': expectedSms });

      assert.equal(twilio.messages.length, expectedSms, 'each alert reached the provider exactly once');
      const seen = new Map<string, number>();
      for (const message of twilio.messages) {
        assert.doesNotMatch(message.body, /ROLLEDBACK01/, 'the rolled-back event sent nothing');
        const reference =
          /[A-Z0-9]{8,}/.exec(message.body.replace(/KES|CodeForge/g, ''))?.[0] ?? message.body;
        const key = `${message.to}|${reference}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      assert.equal(seen.size, expectedSms, 'no two messages to one phone for one transfer');
      assert.equal(twilio.messages.filter((message) => message.to === alice.phone).length, TRANSFERS + 1);
      assert.equal(twilio.messages.filter((message) => message.to === bob.phone).length, TRANSFERS);
      const undispatched = (await t.deps.database.db.execute(
        sql`select count(*)::int as n from outbox_events where dispatched_at is null`,
      )) as unknown as { rows: { n: number }[] };
      assert.equal(undispatched.rows[0]!.n, 0);
    });
  });
else test('outbox → notifications with a worker killed mid-batch', { skip: needsSharedServices }, () => {});
