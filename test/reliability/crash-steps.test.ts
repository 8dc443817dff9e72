/**
 * Property 7 of docs RELIABILITY.md: a crash at every step of a transfer, then a retry, ends where the run without a
 * fault ends.
 *
 * The transfer path carries `crashPoint('transfer.<step>')` at each step (src/platform/idempotency.ts and the
 * transactions module): after the idempotency claim, after prepare, after the PIN check, before the commit, and then
 * for the one-call commit (the default) after the call, and for the stepwise commit (PAYMENT_COMMIT=stepwise, also the
 * fallback of a one-call commit whose wallets changed after the checks) inside its transaction after the posting
 * (before usage and the record), after the record (before the outbox event) and after the outbox event (before the
 * stored response); finally after the commit, before the response is sent. For each step an API process started with
 * CRASH_POINTS=<step>:1 (and the commit mode of the case) receives one transfer and SIGKILLs itself there; the state it leaves is checked (nothing committed before the commit; all of it after). Then the same
 * request with the same Idempotency-Key goes to a healthy API process: while the dead holder's claim is locked it
 * answers 409 IDEMPOTENCY_IN_PROGRESS, afterwards it takes the claim over and runs (or, when the crash came after the
 * commit, replays the stored answer). Every wallet pair must end exactly as the reference pair that ran without a
 * fault: balances, one completed transaction with the same amount, fee and duty, one ledger batch, one
 * transaction.completed event, the same usage counters, a completed claim holding the answer; ledger-verify clean.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiProcess, freePort } from './harness/api-process.ts';
import { type Answer, call, errorCode } from './harness/client.ts';
import { STEPWISE_CRASH_POINTS, TRANSFER_CRASH_POINTS } from './harness/faults.ts';
import { announceSeed, LONG, Prng, runSeed } from './harness/prng.ts';
import {
  apiEnvironment,
  type Bank,
  bounded,
  buildWorld,
  createBank,
  FIRST_START,
  type Person,
  reportIfStillAlive,
  sharedServices,
  signIn,
  TEST_PIN,
  type World,
  walletBalances,
} from './harness/world.ts';

const SEED = runSeed();
/** The crash points after which the transaction has committed (everything before them leaves nothing behind). */
const COMMITTED_AT = new Set<string>(['transfer.after-commit', 'transfer.before-response']);
/**
 * Every point of both commits: the one-call commit (the default) and the stepwise one (PAYMENT_COMMIT=stepwise, also
 * what a one-call commit falls back to when its wallets changed after the checks), which has points inside its
 * transaction. `transfer.before-posting` is in both.
 */
const STEPS: { point: string; mode: 'one-call' | 'stepwise' }[] = [
  ...TRANSFER_CRASH_POINTS.map((point) => ({ point, mode: 'one-call' as const })),
  ...['transfer.before-posting', ...STEPWISE_CRASH_POINTS].map((point) => ({
    point,
    mode: 'stepwise' as const,
  })),
];
const OPENING = 1_000_000;
/** Upper bounds, so that a run always ends (`after` then stops every API process). */
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = LONG ? 600_000 : 240_000;
const CLEANUP_TIMEOUT_MS = 120_000;

interface Case {
  name: string;
  point: string;
  mode: 'one-call' | 'stepwise';
  sender: Person;
  recipient: Person;
  key: string;
  body: ReturnType<typeof transferBody>;
  crashedAt?: number;
  answer?: Extract<Answer, { kind: 'http' }>;
}

function transferBody(to: Person, amount: number, narration: string) {
  return { to_wallet_number: to.wallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN, narration };
}

if (sharedServices)
  describe(`reliability: a crash at every step of a transfer (RELIABILITY_SEED=${SEED})`, () => {
    let bank: Bank;
    let world: World;
    let healthy: ApiProcess;
    const crashed: ApiProcess[] = [];
    const random = Prng.derive(SEED, 'crash-steps');
    const amount = random.int(1_000, 150_000);
    const runId = random.int(100_000, 999_999);
    let reference: Case;
    const cases: Case[] = [];
    let env: Record<string, string> = {};

    before(
      async () => {
        announceSeed('crash-steps', SEED);
        bank = await createBank();
        env = apiEnvironment(bank, { database: bank.databaseUrl, redis: bank.redisUrl });
        // The healthy process migrates and seeds; the customers are created through it.
        healthy = new ApiProcess({ port: await freePort(), env });
        await healthy.start(FIRST_START, 180_000);
        await signIn(bank, healthy);
        world = await buildWorld(bank, healthy, {
          wallets: 2 * (STEPS.length + 1),
          opening: () => OPENING,
          phonePrefix: '+2547470',
        });
        const pair = (index: number, point: string, mode: Case['mode']): Case => {
          const sender = world.people[2 * index]!;
          const recipient = world.people[2 * index + 1]!;
          const name = mode === 'one-call' ? point : `${point} (stepwise)`;
          const key = `crash-${runId}-${point}-${mode}`;
          return { name, point, mode, sender, recipient, key, body: transferBody(recipient, amount, key) };
        };
        reference = pair(0, 'reference', 'one-call');
        for (const [index, step] of STEPS.entries()) cases.push(pair(index + 1, step.point, step.mode));
        process.stdout.write(
          `# amount ${amount}; crash points: ${cases.map((item) => item.name).join(', ')}\n`,
        );
      },
      { timeout: SETUP_TIMEOUT_MS },
    );

    after(
      async () => {
        await bounded('API processes', 30_000, () =>
          Promise.all([healthy, ...crashed].map((api) => api?.stop())),
        );
        await bounded('database', 60_000, async () => bank?.close());
        reportIfStillAlive('crash-steps');
      },
      { timeout: CLEANUP_TIMEOUT_MS },
    );

    const send = (api: ApiProcess, item: Case) =>
      call(api.url, 'POST', '/api/v1/wallet/transaction/transfer', {
        token: item.sender.customer.token,
        body: item.body,
        key: item.key,
        timeoutMs: 30_000,
      });

    async function claimOf(item: Case) {
      const rows = (
        await bank.db.pool.query<{
          state: string;
          response_status: number | null;
          response_body: string | null;
          locked_until: Date;
        }>(
          'select state, response_status, response_body, locked_until from idempotency_keys where scope = $1 and key = $2',
          [`customer:${item.sender.customer.id}`, item.key],
        )
      ).rows;
      return rows[0];
    }

    /** Everything a transfer leaves behind, without ids and times (so two pairs can be compared). */
    async function endState(item: Case) {
      const pool = bank.db.pool;
      const balances = await walletBalances(bank, [item.sender.wallet.id, item.recipient.wallet.id]);
      const senderBalance = balances.get(item.sender.wallet.id)!;
      const recipientBalance = balances.get(item.recipient.wallet.id)!;
      const transactions = (
        await pool.query<{
          id: string;
          status: string;
          amount: string;
          fee: string;
          tax: string;
          states: string;
        }>(
          `select id, status, amount::text, fee::text, tax::text,
                  (select string_agg(h->>'state', ',') from jsonb_array_elements(history) h) as states
             from transactions where narration = $1 order by created_at`,
          [item.key],
        )
      ).rows;
      const ids = transactions.map((row) => row.id);
      const batches = (
        await pool.query<{ legs: string }>(
          `select string_agg(t.code || ':' || t.amount, ',' order by t.code) as legs from ledger_batches b
             join ledger_transfers t on t.batch_id = b.id
            where b.metadata->>'transaction_id' = any($1::text[]) group by b.id`,
          [ids],
        )
      ).rows.map((row) => row.legs);
      const events = (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from outbox_events where topic = 'transaction.completed'
            and aggregate_id = any($1::text[])`,
          [ids],
        )
      ).rows[0]!.n;
      const usage = (
        await pool.query<{ direction: string; amount: string; count: number }>(
          `select direction, sum(amount)::text as amount, sum(count)::int as count from wallet_usage
            where wallet_id = any($1::uuid[]) and period like 'd:%' group by direction order by direction`,
          [[item.sender.wallet.id, item.recipient.wallet.id]],
        )
      ).rows;
      const claim = await claimOf(item);
      return {
        senderMoved: BigInt(OPENING) - senderBalance,
        recipientMoved: recipientBalance - BigInt(OPENING),
        transactions: transactions.map(({ id: _id, ...row }) => row),
        batches,
        events,
        usage,
        claim: claim ? { state: claim.state, status: claim.response_status } : null,
      };
    }

    test('the reference: the same transfer without a fault', { timeout: TEST_TIMEOUT_MS }, async () => {
      const answer = await send(healthy, reference);
      assert.equal(answer.kind, 'http');
      reference.answer = answer as Extract<Answer, { kind: 'http' }>;
      assert.equal(reference.answer.status, 201, reference.answer.body);
      const state = await endState(reference);
      process.stdout.write(
        `# reference end state: ${JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
      );
      assert.equal(state.transactions.length, 1);
      assert.equal(state.transactions[0]!.status, 'completed');
      assert.equal(state.events, 1);
    });

    /** The retry on the healthy process while the dead holder's claim is still locked: 409, come back later. */
    async function retryWhileLocked(item: Case) {
      const claim = await claimOf(item);
      assert.ok(claim, `${item.name}: a claim`);
      const left = claim.locked_until.getTime() - Date.now();
      // Checked right after the crash: the lock (60 s) has most of its time left, so this check always runs.
      assert.ok(left > 5_000, `${item.name}: the dead holder's claim is still locked (${left} ms left)`);
      const early = await send(healthy, item);
      assert.equal(early.kind, 'http', `${item.name}: ${JSON.stringify(early)}`);
      const answer = early as Extract<Answer, { kind: 'http' }>;
      assert.equal(answer.status, 409, `${item.name}: ${answer.body}`);
      assert.equal(errorCode(answer.body), 'IDEMPOTENCY_IN_PROGRESS');
      assert.ok(answer.headers.get('retry-after'), `${item.name}: the 409 says when to retry`);
      const after = await endState(item);
      assert.deepEqual(after.transactions, [], `${item.name}: the 409 ran nothing`);
      assert.equal(after.senderMoved, 0n, `${item.name}: and moved nothing`);
    }

    test('each crash point kills the API at its step and leaves what that step implies', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const crashOne = async (item: Case) => {
        const api = new ApiProcess({ port: await freePort(), env });
        crashed.push(api);
        await api.start({ CRASH_POINTS: `${item.point}:1`, PAYMENT_COMMIT: item.mode }, 180_000);
        const answer = await send(api, item);
        // Bounded: a crash point the request never reached must fail the test, not hang it.
        const exit = await api.exitWithin(answer.kind === 'error' ? 15_000 : 1_000);
        item.crashedAt = Date.now();
        assert.equal(
          answer.kind,
          'error',
          `${item.name}: the request got no answer (${JSON.stringify(answer)})`,
        );
        assert.ok(exit, `${item.name}: the process died at its crash point (still running: killed)`);
        assert.equal(exit.signal, 'SIGKILL', `${item.name}: the process SIGKILLed itself`);
        assert.equal(exit.requested, false, `${item.name}: by its crash point`);
        const state = await endState(item);
        const claim = await claimOf(item);
        assert.ok(claim, `${item.name}: the claim was written before the crash`);
        if (COMMITTED_AT.has(item.point)) {
          assert.equal(claim.state, 'completed', `${item.name}: the answer was stored with the effect`);
          assert.equal(state.transactions.length, 1, `${item.name}: committed`);
          assert.equal(
            state.senderMoved,
            BigInt(amount) + BigInt(state.transactions[0]!.fee) + BigInt(state.transactions[0]!.tax),
          );
        } else {
          assert.equal(
            claim.state,
            'in_progress',
            `${item.name}: the claim is still held by the dead process`,
          );
          assert.deepEqual(state.transactions, [], `${item.name}: nothing recorded`);
          assert.deepEqual(state.batches, [], `${item.name}: nothing posted`);
          assert.equal(state.senderMoved, 0n, `${item.name}: no money moved`);
          assert.equal(state.recipientMoved, 0n);
          assert.equal(state.events, 0);
          await retryWhileLocked(item);
        }
        process.stdout.write(
          `#   ${item.name}: killed; claim ${claim.state}; ${state.transactions.length} transaction(s)` +
            `${COMMITTED_AT.has(item.point) ? '' : '; retry while locked → 409'}\n`,
        );
      };
      // Start-up is the slow part (and CPU-bound): two at a time on a two-core machine, each transfer sent as soon
      // as its process is up.
      const queue = [...cases];
      const worker = async () => {
        for (let item = queue.shift(); item; item = queue.shift()) await crashOne(item);
      };
      await Promise.all([worker(), worker()]);
    });

    test('a retry with the same key ends exactly as the run without a fault', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const held = cases.filter((item) => !COMMITTED_AT.has(item.point));
      assert.ok(
        held.every((item) => item.crashedAt !== undefined),
        'every crash point went off (previous test)',
      );
      if (LONG) {
        // The soak mode waits for the locks to lapse in real time.
        const latest = Math.max(
          ...(await Promise.all(
            held.map(async (item) => (await claimOf(item))?.locked_until.getTime() ?? 0),
          )),
        );
        const wait = Math.max(0, latest - Date.now() + 250);
        process.stdout.write(
          `# waiting ${(wait / 1000).toFixed(1)} s for the dead holders' claims to lapse (60 s lock)\n`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      } else {
        // The short mode does not sit out the 60 s: the holders are dead (their processes exited with SIGKILL,
        // checked above) and the 409 while locked was checked, so the lock is made to lapse now — exactly what the
        // passing of time does to the row; the product's takeover (`locked_until < now`) is what then runs.
        const ids = held.map((item) => item.key);
        const aged = await bank.db.pool.query(
          `update idempotency_keys set locked_until = now() - interval '1 second'
              where key = any($1::text[]) and state = 'in_progress' and locked_until > now()`,
          [ids],
        );
        assert.equal(aged.rowCount, held.length, 'every dead holder still held its claim');
        process.stdout.write(
          `# the dead holders' locks made to lapse (${held.length} claims; RELIABILITY_LONG=1 waits the 60 s)\n`,
        );
      }

      const expected = await endState(reference);
      for (const item of cases) {
        const retry = await send(healthy, item);
        assert.equal(retry.kind, 'http', `${item.name}: ${JSON.stringify(retry)}`);
        const answer = retry as Extract<Answer, { kind: 'http' }>;
        assert.equal(answer.status, 201, `${item.name}: ${answer.body}`);
        // After the commit the stored answer is replayed; before it, the taken-over claim runs the transfer.
        assert.equal(answer.replayed, COMMITTED_AT.has(item.point), `${item.name}: replayed?`);
        const view = JSON.parse(answer.body) as Record<string, unknown>;
        const referenceView = JSON.parse(reference.answer!.body) as Record<string, unknown>;
        for (const field of ['status', 'amount', 'fee', 'tax', 'total', 'currency', 'type'])
          assert.equal(view[field], referenceView[field], `${item.name}: ${field}`);
        const state = await endState(item);
        assert.deepEqual(state, expected, `${item.name}: the end state of the run without a fault`);
        const again = await send(healthy, item);
        assert.equal(
          again.kind === 'http' && again.body,
          answer.body,
          `${item.name}: and it replays byte for byte`,
        );
        process.stdout.write(
          `#   ${item.name}: retried → ${answer.replayed ? 'replayed' : 'ran'}; end state = reference\n`,
        );
      }
      const verification = await bank.db.ledger.verify();
      assert.ok(verification.ok, JSON.stringify(verification));
    });
  });
