/**
 * Property 7 of docs RELIABILITY.md: a crash at every step of a transfer, then a retry, ends where the run without a
 * fault ends — and the retry resolves at once, not when the dead holder's lease lapses.
 *
 * The transfer path carries `crashPoint('transfer.<step>')` at each step (src/platform/idempotency.ts and the
 * transactions module): after the idempotency claim, after prepare, after the PIN check, before the commit, and then
 * for the one-call commit (the default) after the call, and for the stepwise commit (PAYMENT_COMMIT=stepwise, also the
 * fallback of a one-call commit whose wallets changed after the checks) inside its transaction after the posting
 * (before usage and the record), after the record (before the outbox event) and after the outbox event (before the
 * stored response); finally after the commit, before the response is sent. For each step an API process started with
 * CRASH_POINTS=<step>:1 (and the commit mode of the case) receives one transfer and SIGKILLs itself there; the state it
 * leaves is checked (nothing committed before the commit; all of it after). Right then, while the dead holder's claim
 * still has most of its 60 s lease, the same request with the same Idempotency-Key goes to a healthy API process: the
 * claim's holder (the dead process's database session) is gone, so the retry takes the claim over at once and runs
 * (or, when the crash came after the commit, replays the stored answer) — answered within seconds, not after 60 s of
 * 409 IDEMPOTENCY_IN_PROGRESS. Every wallet pair must end exactly as the reference pair that ran without a fault:
 * balances, one completed transaction with the same amount, fee and duty, one ledger batch, one transaction.completed
 * event, the same usage counters, a completed claim holding the answer; ledger-verify clean.
 *
 * Refusals (one request, one record): a transfer refused for insufficient balance is recorded as a failed transaction
 * and its answer stored in the same database transaction. A crash between the two (`transfer.after-refusal-record`)
 * leaves neither, so the retry — after the money arrived — runs and ends with one completed record, never a failed one
 * beside it; a crash after both (`transfer.before-response`) leaves both, so the retry gets the stored refusal even
 * though the money is there now, and the request has its one failed record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { needsSharedServices } from '../helpers/databases.ts';
import { ApiProcess, freePort } from './harness/api-process.ts';
import { type Answer, errorCode } from './harness/client.ts';
import { STEPWISE_CRASH_POINTS, TRANSFER_CRASH_POINTS } from './harness/faults.ts';
import { announceSeed, LONG, Prng, runSeed } from './harness/prng.ts';
import {
  claimOf as claimOfCase,
  completedEvents,
  sendTransfer,
  transactionsOf,
} from './harness/transfer-case.ts';
import {
  apiEnvironment,
  type Bank,
  bounded,
  buildWorld,
  createBank,
  deposit,
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
/** Refused transfers (insufficient balance): a crash inside the refusal's transaction, and one after it. */
const REFUSALS: { point: string; committed: boolean }[] = [
  { point: 'transfer.after-refusal-record', committed: false },
  { point: 'transfer.before-response', committed: true },
];
const OPENING = 1_000_000;
/** How long a retry after a crash may take to resolve (it answers at once; 409s only while the dead session ends). */
const RESOLVED_WITHIN_MS = 5_000;
/** Upper bounds, so that a run always ends (`after` then stops every API process). */
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = LONG ? 600_000 : 240_000;
/** The tests that start an API process per crash point (each start compiles every route's schemas: seconds of CPU). */
const CRASHES_TIMEOUT_MS = 900_000;
const CLEANUP_TIMEOUT_MS = 120_000;

interface Case {
  name: string;
  point: string;
  mode: 'one-call' | 'stepwise';
  sender: Person;
  recipient: Person;
  key: string;
  body: ReturnType<typeof transferBody>;
  /** A refused transfer: the sender's wallet opens empty, and the money arrives after the crash. */
  refusal?: boolean;
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
    const refusals: Case[] = [];
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
        const pairs = STEPS.length + 1 + REFUSALS.length;
        // The refusal pairs come last; their senders open empty.
        const refusalSender = (index: number) => index % 2 === 0 && index >= 2 * (STEPS.length + 1);
        world = await buildWorld(bank, healthy, {
          wallets: 2 * pairs,
          opening: (index) => (refusalSender(index) ? 0 : OPENING),
          phonePrefix: '+2547470',
        });
        const pair = (index: number, point: string, mode: Case['mode'], refusal = false): Case => {
          const sender = world.people[2 * index]!;
          const recipient = world.people[2 * index + 1]!;
          const name = `${refusal ? 'refusal at ' : ''}${point}${mode === 'one-call' ? '' : ' (stepwise)'}`;
          const key = `crash-${runId}-${refusal ? 'refusal-' : ''}${point}-${mode}`;
          return {
            name,
            point,
            mode,
            sender,
            recipient,
            key,
            body: transferBody(recipient, amount, key),
            refusal,
          };
        };
        reference = pair(0, 'reference', 'one-call');
        for (const [index, step] of STEPS.entries()) cases.push(pair(index + 1, step.point, step.mode));
        for (const [index, refusal] of REFUSALS.entries())
          refusals.push(pair(STEPS.length + 1 + index, refusal.point, 'one-call', true));
        process.stdout.write(
          `# amount ${amount}; crash points: ${[...cases, ...refusals].map((item) => item.name).join(', ')}\n`,
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

    const send = sendTransfer;
    const claimOf = (item: Case) => claimOfCase(bank, item);

    /** Everything a transfer leaves behind, without ids and times (so two pairs can be compared). */
    async function endState(item: Case) {
      const pool = bank.db.pool;
      const balances = await walletBalances(bank, [item.sender.wallet.id, item.recipient.wallet.id]);
      const senderBalance = balances.get(item.sender.wallet.id)!;
      const recipientBalance = balances.get(item.recipient.wallet.id)!;
      const transactions = await transactionsOf(bank, item);
      const ids = transactions.map((row) => row.id);
      const batches = (
        await pool.query<{ legs: string }>(
          `select string_agg(t.code || ':' || t.amount, ',' order by t.code) as legs from ledger_batches b
             join ledger_transfers t on t.batch_id = b.id
            where b.metadata->>'transaction_id' = any($1::text[]) group by b.id`,
          [ids],
        )
      ).rows.map((row) => row.legs);
      const events = await completedEvents(bank, ids);
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

    /**
     * Starts an API process armed with the case's crash point, sends the case's request to it and waits for the
     * process to kill itself there.
     */
    async function crash(item: Case): Promise<void> {
      const api = new ApiProcess({ port: await freePort(), env });
      crashed.push(api);
      await api.start({ CRASH_POINTS: `${item.point}:1`, PAYMENT_COMMIT: item.mode }, 180_000);
      const answer = await send(api, item);
      // Bounded: a crash point the request never reached must fail the test, not hang it.
      const exit = await api.exitWithin(answer.kind === 'error' ? 15_000 : 1_000);
      assert.equal(
        answer.kind,
        'error',
        `${item.name}: the request got no answer (${JSON.stringify(answer)})`,
      );
      assert.ok(exit, `${item.name}: the process died at its crash point (still running: killed)`);
      assert.equal(exit.signal, 'SIGKILL', `${item.name}: the process SIGKILLed itself`);
      assert.equal(exit.requested, false, `${item.name}: by its crash point`);
    }

    /**
     * The retry on the healthy process right after the crash, while the dead holder's lease still runs: it is
     * answered at once (a 409 only while PostgreSQL is ending the dead process's sessions, a few milliseconds).
     */
    async function retryAtOnce(
      item: Case,
    ): Promise<{ answer: Extract<Answer, { kind: 'http' }>; ms: number }> {
      const claim = await claimOf(item);
      assert.ok(claim, `${item.name}: a claim`);
      const started = Date.now();
      if (claim.state === 'in_progress') {
        const left = claim.locked_until.getTime() - started;
        assert.ok(left > 30_000, `${item.name}: the dead holder's lease still runs (${left} ms left)`);
      }
      for (;;) {
        const retry = await send(healthy, item);
        assert.equal(retry.kind, 'http', `${item.name}: ${JSON.stringify(retry)}`);
        const answer = retry as Extract<Answer, { kind: 'http' }>;
        const ms = Date.now() - started;
        if (
          answer.status === 409 &&
          errorCode(answer.body) === 'IDEMPOTENCY_IN_PROGRESS' &&
          ms < RESOLVED_WITHIN_MS
        ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        assert.ok(ms < RESOLVED_WITHIN_MS, `${item.name}: the retry resolved in ${ms} ms (${answer.body})`);
        return { answer, ms };
      }
    }

    test('a crash at each step leaves what that step implies; the retry right after resolves at once and ends as the run without a fault', {
      timeout: CRASHES_TIMEOUT_MS,
    }, async () => {
      const expected = await endState(reference);
      const crashOne = async (item: Case) => {
        await crash(item);
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
        }
        const { answer, ms } = await retryAtOnce(item);
        assert.equal(answer.status, 201, `${item.name}: ${answer.body}`);
        // After the commit the stored answer is replayed; before it, the taken-over claim runs the transfer.
        assert.equal(answer.replayed, COMMITTED_AT.has(item.point), `${item.name}: replayed?`);
        const view = JSON.parse(answer.body) as Record<string, unknown>;
        const referenceView = JSON.parse(reference.answer!.body) as Record<string, unknown>;
        for (const field of ['status', 'amount', 'fee', 'tax', 'total', 'currency', 'type'])
          assert.equal(view[field], referenceView[field], `${item.name}: ${field}`);
        assert.deepEqual(
          await endState(item),
          expected,
          `${item.name}: the end state of the run without a fault`,
        );
        const again = await send(healthy, item);
        assert.equal(
          again.kind === 'http' && again.body,
          answer.body,
          `${item.name}: and it replays byte for byte`,
        );
        process.stdout.write(
          `#   ${item.name}: killed; claim ${claim.state}; ${state.transactions.length} transaction(s); retried → ` +
            `${answer.replayed ? 'replayed' : 'ran'} after ${ms} ms; end state = reference\n`,
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

    test('a refusal and its stored answer commit together: one request, one record', {
      timeout: CRASHES_TIMEOUT_MS,
    }, async () => {
      const refusalOne = async (item: Case) => {
        const committed = REFUSALS.find((refusal) => refusal.point === item.point)!.committed;
        await crash(item);
        const claim = await claimOf(item);
        assert.ok(claim, `${item.name}: the claim was written before the crash`);
        const state = await endState(item);
        if (committed) {
          assert.equal(claim.state, 'completed', `${item.name}: the refusal was stored with its record`);
          assert.equal(claim.response_status, 422);
          assert.equal(errorCode(claim.response_body ?? ''), 'INSUFFICIENT_BALANCE');
          assert.deepEqual(
            state.transactions.map((row) => row.status),
            ['failed'],
            `${item.name}: its record`,
          );
        } else {
          assert.equal(claim.state, 'in_progress', `${item.name}: neither the refusal's answer…`);
          assert.deepEqual(state.transactions, [], `${item.name}: …nor its record committed`);
        }
        // The money arrives; then the client retries with its key.
        await deposit(bank, healthy, item.sender.wallet.id, OPENING);
        const { answer, ms } = await retryAtOnce(item);
        const after = await endState(item);
        if (committed) {
          assert.equal(answer.status, 422, `${item.name}: the stored refusal, though the money is there now`);
          assert.equal(answer.replayed, true);
          assert.equal(answer.body, claim.response_body, `${item.name}: byte for byte`);
          assert.deepEqual(
            after.transactions.map((row) => row.status),
            ['failed'],
            `${item.name}: one record`,
          );
          assert.equal(after.senderMoved, 0n, `${item.name}: nothing moved`);
          assert.equal(after.recipientMoved, 0n);
        } else {
          assert.equal(
            answer.status,
            201,
            `${item.name}: the request runs (its refusal never committed): ${answer.body}`,
          );
          assert.equal(answer.replayed, false);
          assert.deepEqual(
            after,
            await endState(reference),
            `${item.name}: one completed record, as without a fault`,
          );
        }
        const again = await send(healthy, item);
        assert.equal(
          again.kind === 'http' && again.body,
          answer.body,
          `${item.name}: and it replays byte for byte`,
        );
        process.stdout.write(
          `#   ${item.name}: killed; claim ${claim.state}; retried after the deposit → ${answer.status}` +
            `${answer.replayed ? ' replayed' : ''} after ${ms} ms; records: ${after.transactions.map((row) => row.status).join(',')}\n`,
        );
      };
      await Promise.all(refusals.map(refusalOne));
    });

    test('the ledger verifies after every crash and retry', { timeout: TEST_TIMEOUT_MS }, async () => {
      const verification = await bank.db.ledger.verify();
      assert.ok(verification.ok, JSON.stringify(verification));
    });
  });
else test('reliability: a crash at every step of a transfer', { skip: needsSharedServices }, () => {});
