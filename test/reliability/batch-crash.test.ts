/**
 * Property 7 of docs RELIABILITY.md for the group commit (issue 21, PAYMENT_COMMIT=batched): a crash inside the
 * batched path, then a retry of every payment with its Idempotency-Key, ends as if there had been no fault.
 *
 * The batcher (src/modules/transactions/transactions.commit.ts) carries two crash points (`BATCH_CRASH_POINTS`):
 * `transfer.batch-before-call` (the batch is built, the call not sent: nothing of it committed) and
 * `transfer.batch-after-call` (the call returned: every payment of the batch committed with its answer stored in
 * `idempotency_keys`, no response sent). Only a batch of two or more passes them, so for each point an API process
 * started with CRASH_POINTS=<point>:1, PAYMENT_COMMIT=batched and PAYMENT_COMMIT_CONCURRENCY=1 is given a batch made
 * deterministic as in src/modules/transactions/group-commit.test.ts: a connection of the test holds the first payer's
 * wallet row lock, the first transfer's commit call blocks on it (the one call in flight), the next transfers — each
 * between a sender and a recipient of its own — queue behind it (their claims written, the process then idle), and
 * the lock is let go: the first commits alone, the queue goes as one `payment_commit_batch` call, and the process
 * SIGKILLs itself at the point. The state it left is checked: before the call none of the batched transfers committed
 * (claim in progress, no transaction, no ledger batch, no money moved); after it every one committed once (claim
 * completed). The first transfer committed alone in both cases.
 *
 * Then every transfer, the first one too, is sent again with the same key and body to a healthy process, while the
 * dead holder's claims still have most of their 60 s lease: each must answer 201 within 5 s (the claim's holder
 * session died with the process, so the retry takes it over and runs, or replays the stored answer), and each pair must
 * end with exactly one completed transaction with the model's fee and duty, one ledger batch, one transaction.completed
 * event, amount + fee + duty out of the sender and the amount into the recipient, and a completed claim storing the
 * bytes the retry answered (which replay byte for byte); ledger-verify clean at the end.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { needsSharedServices } from '../helpers/databases.ts';
import { ApiProcess, freePort } from './harness/api-process.ts';
import { type Answer, errorCode } from './harness/client.ts';
import { BATCH_CRASH_POINTS } from './harness/faults.ts';
import { modelFee } from './harness/model.ts';
import { announceSeed, Prng, runSeed } from './harness/prng.ts';
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
/** The transfers that queue behind the first one and go as one batch. */
const BATCHED = 8;
const OPENING = 1_000_000;
/** How long a retry after a crash may take to resolve (as in crash-steps.test.ts). */
const RESOLVED_WITHIN_MS = 5_000;
/** How long the queued transfers may take to reach the batcher (claims written, then the process idle). */
const QUEUE_WITHIN_MS = 30_000;
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 240_000;
const CRASHES_TIMEOUT_MS = 600_000;
const CLEANUP_TIMEOUT_MS = 120_000;

type Http = Extract<Answer, { kind: 'http' }>;

interface Case {
  name: string;
  /** The first transfer (committed alone, its call held in flight) or one of the batch. */
  role: 'first' | 'batched';
  sender: Person;
  recipient: Person;
  amount: number;
  key: string;
  body: { to_wallet_number: string; amount: number; currency: string; pin: string; narration: string };
}

interface Scenario {
  point: (typeof BATCH_CRASH_POINTS)[number];
  /** Whether the batch had committed when the process died there. */
  committed: boolean;
  first: Case;
  batched: Case[];
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** CPU time (clock ticks) the process has used, from /proc; null where there is no /proc. */
function cpuTicks(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name and state.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Waits until the process has been idle for a while (at most a tick or two of CPU in 300 ms): the queued transfers
 * have done their checks and wait in the batcher. Without /proc, a fixed second.
 */
async function idle(api: ApiProcess): Promise<void> {
  const deadline = Date.now() + QUEUE_WITHIN_MS;
  let last = cpuTicks(api.pid);
  if (last === null) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return;
  }
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = cpuTicks(api.pid);
    if (now === null || now - last <= 2) return;
    if (Date.now() > deadline) throw new Error(`the API process stayed busy (${now - last} ticks in 300 ms)`);
    last = now;
  }
}

if (sharedServices)
  describe(`reliability: a crash inside the group commit's batch (RELIABILITY_SEED=${SEED})`, () => {
    let bank: Bank;
    let world: World;
    let healthy: ApiProcess;
    const crashed: ApiProcess[] = [];
    const random = Prng.derive(SEED, 'batch-crash');
    const runId = random.int(100_000, 999_999);
    const scenarios: Scenario[] = [];
    let env: Record<string, string> = {};

    before(
      async () => {
        announceSeed('batch-crash', SEED);
        bank = await createBank();
        env = apiEnvironment(bank, { database: bank.databaseUrl, redis: bank.redisUrl });
        healthy = new ApiProcess({ port: await freePort(), env });
        await healthy.start(FIRST_START, 180_000);
        await signIn(bank, healthy);
        const pairsPerPoint = 1 + BATCHED;
        world = await buildWorld(bank, healthy, {
          wallets: 2 * pairsPerPoint * BATCH_CRASH_POINTS.length,
          opening: () => OPENING,
          phonePrefix: '+2547480',
        });
        assert.ok(world.feeRule, 'the product has a P2P fee rule');
        let pair = 0;
        const newCase = (point: string, role: Case['role'], index: number): Case => {
          const sender = world.people[2 * pair]!;
          const recipient = world.people[2 * pair + 1]!;
          pair += 1;
          const amount = random.int(1_000, 150_000);
          const key = `batch-${runId}-${point}-${index}`;
          return {
            name: `${point} ${role === 'first' ? 'first' : `batched #${index}`}`,
            role,
            sender,
            recipient,
            amount,
            key,
            body: {
              to_wallet_number: recipient.wallet.wallet_number,
              amount,
              currency: 'KES',
              pin: TEST_PIN,
              narration: key,
            },
          };
        };
        for (const point of BATCH_CRASH_POINTS)
          scenarios.push({
            point,
            committed: point === 'transfer.batch-after-call',
            first: newCase(point, 'first', 0),
            batched: Array.from({ length: BATCHED }, (_, index) => newCase(point, 'batched', index + 1)),
          });
        process.stdout.write(
          `# ${BATCHED} batched transfers behind a first one per point: ${BATCH_CRASH_POINTS.join(', ')}\n`,
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
        reportIfStillAlive('batch-crash');
      },
      { timeout: CLEANUP_TIMEOUT_MS },
    );

    const send = sendTransfer;
    const claimOf = (item: Case) => claimOfCase(bank, item);

    /** What a transfer left: money moved, its transactions, ledger batches, events, claim. */
    async function stateOf(item: Case) {
      const pool = bank.db.pool;
      const balances = await walletBalances(bank, [item.sender.wallet.id, item.recipient.wallet.id]);
      const transactions = (await transactionsOf(bank, item)).map(({ states: _states, ...row }) => row);
      const ids = transactions.map((row) => row.id);
      const batches = (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from ledger_batches where metadata->>'transaction_id' = any($1::text[])`,
          [ids],
        )
      ).rows[0]!.n;
      const events = await completedEvents(bank, ids);
      return {
        senderMoved: BigInt(OPENING) - balances.get(item.sender.wallet.id)!,
        recipientMoved: balances.get(item.recipient.wallet.id)! - BigInt(OPENING),
        transactions: transactions.map(({ id: _id, ...row }) => row),
        batches,
        events,
        claim: await claimOf(item),
      };
    }

    /** The end state of a transfer that committed exactly once, from the model's fee and duty. */
    function committedOnce(item: Case) {
      const { fee, tax } = modelFee(world.feeRule, BigInt(item.amount));
      return {
        senderMoved: BigInt(item.amount) + fee + tax,
        recipientMoved: BigInt(item.amount),
        transactions: [
          { status: 'completed', amount: String(item.amount), fee: String(fee), tax: String(tax) },
        ],
        batches: 1,
        events: 1,
      };
    }

    async function assertCommittedOnce(item: Case, when: string) {
      const { claim, ...state } = await stateOf(item);
      assert.deepEqual(state, committedOnce(item), `${item.name} ${when}: committed exactly once`);
      assert.equal(claim?.state, 'completed', `${item.name} ${when}: its answer stored with the effect`);
      assert.equal(claim.response_status, 201, `${item.name} ${when}`);
      return claim;
    }

    async function assertNothingCommitted(item: Case) {
      const { claim, ...state } = await stateOf(item);
      assert.deepEqual(
        state,
        { senderMoved: 0n, recipientMoved: 0n, transactions: [], batches: 0, events: 0 },
        `${item.name}: nothing of the batch committed`,
      );
      assert.equal(claim?.state, 'in_progress', `${item.name}: the claim is still held by the dead process`);
    }

    /** The retry on the healthy process while the dead holder's lease still runs: answered within 5 s. */
    async function retryAtOnce(item: Case): Promise<{ answer: Http; ms: number }> {
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
        const answer = retry as Http;
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

    /**
     * Makes the batch on a process armed with the scenario's point and lets it die there: the first transfer's call
     * held in flight by the payer's wallet lock, the others queued behind it, then the lock let go.
     */
    async function crashInBatch(scenario: Scenario, api: ApiProcess): Promise<Answer> {
      const holder = new pg.Client({ connectionString: bank.databaseUrl });
      holder.on('error', () => {});
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query('select 1 from wallets where id = $1 for update', [
          scenario.first.sender.wallet.id,
        ]);
        const firstAnswer = send(api, scenario.first);
        // Its commit call waits on the lock held here: the one call in flight.
        await until('the first transfer to wait on the held wallet lock', QUEUE_WITHIN_MS, async () => {
          const waiting = await bank.db.pool.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where datname = current_database()
                and wait_event_type = 'Lock' and pid <> $1`,
            [(holder as unknown as { processID: number }).processID],
          );
          return waiting.rows[0]!.n > 0 ? true : undefined;
        });
        const batchedAnswers = scenario.batched.map((item) => send(api, item));
        // Queued: every claim written, and the process idle after their checks (waiting in the batcher).
        await until('the batched transfers to claim their keys', QUEUE_WITHIN_MS, async () => {
          const claims = await Promise.all(scenario.batched.map(claimOf));
          return claims.every(Boolean) ? true : undefined;
        });
        await idle(api);
        assert.ok(api.running, `${scenario.point}: the process waits (no crash before the batch)`);
        await holder.query('commit');
        const exit = await api.exitWithin(15_000);
        assert.ok(exit, `${scenario.point}: the process died at its crash point (still running: killed)`);
        assert.equal(exit.signal, 'SIGKILL', `${scenario.point}: the process SIGKILLed itself`);
        assert.equal(exit.requested, false, `${scenario.point}: by its crash point`);
        for (const [index, answer] of (await Promise.all(batchedAnswers)).entries())
          assert.equal(
            answer.kind,
            'error',
            `${scenario.batched[index]!.name}: no answer from the dead process (${JSON.stringify(answer)})`,
          );
        return await firstAnswer;
      } finally {
        await holder.end().catch(() => {});
      }
    }

    test("a crash before or after the batch's call leaves none or all of it committed; every retry resolves at once and ends committed exactly once", {
      timeout: CRASHES_TIMEOUT_MS,
    }, async () => {
      // Start-up is the slow part (CPU-bound): both armed processes start together.
      const apis = await Promise.all(
        scenarios.map(async (scenario) => {
          const api = new ApiProcess({ port: await freePort(), env });
          crashed.push(api);
          await api.start(
            {
              CRASH_POINTS: `${scenario.point}:1`,
              PAYMENT_COMMIT: 'batched',
              PAYMENT_COMMIT_CONCURRENCY: '1',
            },
            180_000,
          );
          return api;
        }),
      );
      for (const [index, scenario] of scenarios.entries()) {
        const started = Date.now();
        const firstAnswer = await crashInBatch(scenario, apis[index]!);
        // The first transfer committed alone before the batch went (its answer may or may not have left in time).
        await assertCommittedOnce(scenario.first, 'after the crash');
        for (const item of scenario.batched)
          if (scenario.committed) await assertCommittedOnce(item, 'after the crash');
          else await assertNothingCommitted(item);

        const retries = await Promise.all(
          [scenario.first, ...scenario.batched].map(async (item) => ({ item, ...(await retryAtOnce(item)) })),
        );
        let slowest = 0;
        for (const { item, answer, ms } of retries) {
          slowest = Math.max(slowest, ms);
          assert.equal(answer.status, 201, `${item.name}: ${answer.body}`);
          // Committed before the crash: the stored answer replays; otherwise the taken-over claim runs it now.
          const replays = item.role === 'first' || scenario.committed;
          assert.equal(answer.replayed, replays, `${item.name}: replayed?`);
          const view = JSON.parse(answer.body) as Record<string, unknown>;
          const { fee, tax } = modelFee(world.feeRule, BigInt(item.amount));
          assert.equal(view.status, 'completed', item.name);
          assert.equal(String(view.amount), String(item.amount), `${item.name}: amount`);
          assert.equal(String(view.fee), String(fee), `${item.name}: fee`);
          assert.equal(String(view.tax), String(tax), `${item.name}: duty`);
          const claim = await assertCommittedOnce(item, 'after the retry');
          assert.equal(claim.response_body, answer.body, `${item.name}: the claim stores the bytes answered`);
          const again = await send(healthy, item);
          assert.equal(again.kind === 'http' && again.replayed, true, `${item.name}: a replay`);
          assert.equal(
            again.kind === 'http' && again.body,
            answer.body,
            `${item.name}: replays byte for byte`,
          );
        }
        if (firstAnswer.kind === 'http') {
          assert.equal(firstAnswer.status, 201, `${scenario.first.name}: ${firstAnswer.body}`);
          assert.equal(firstAnswer.body, retries[0]!.answer.body, `${scenario.first.name}: the same bytes`);
        }
        process.stdout.write(
          `#   ${scenario.point}: first ${firstAnswer.kind === 'http' ? `answered ${firstAnswer.status}` : 'unanswered'}` +
            `, ${BATCHED} batched ${scenario.committed ? 'all committed' : 'none committed'} at the crash; ` +
            `${retries.length} retries → ${retries.filter((retry) => retry.answer.replayed).length} replayed, ` +
            `${retries.filter((retry) => !retry.answer.replayed).length} ran; slowest ${slowest} ms; ` +
            `each pair committed once (${Date.now() - started} ms)\n`,
        );
      }
    });

    test('the ledger verifies after the crashes and retries', { timeout: TEST_TIMEOUT_MS }, async () => {
      const verification = await bank.db.ledger.verify();
      assert.ok(verification.ok, JSON.stringify(verification));
    });
  });
else test("reliability: a crash inside the group commit's batch", { skip: needsSharedServices }, () => {});
