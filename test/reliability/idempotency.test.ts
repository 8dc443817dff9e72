/**
 * Properties 5 and 6 of docs RELIABILITY.md against two real API processes (requests alternate between them, so the
 * claim is shared through PostgreSQL as it is between production nodes):
 *
 * 5. idempotent replay — one transfer, then 10 sequential and 50 concurrent duplicates: exactly one ledger effect,
 *    every replay byte-identical with `Idempotent-Replayed: true`; 51 simultaneous copies of a new request (the
 *    database slowed through the proxy so they overlap): one runs, each other one gets the replay or 409
 *    IDEMPOTENCY_IN_PROGRESS, and a 409 retried later gets the replay; a refusal (insufficient funds) replays too,
 *    even once the money is there; a request still running (waiting on a wallet lock) keeps its key (409), also when
 *    its process's holder session is lost under it (the process opens a new one and takes its running claims back).
 *    A key whose process died is taken over at once: crash-steps.test.ts, and src/platform/idempotency.test.ts for
 *    the token that keeps a taken-over holder from writing.
 * 6. misuse — the same key with another body: 422 IDEMPOTENCY_KEY_REUSED and nothing moves; no key (or a malformed
 *    one) on a money POST: 400 and nothing moves; customer B using A's key: B's request runs as B's own, A's answer
 *    is untouched, and B's key is then B's (B with A's exact body is a reuse in B's scope, not A's replay).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOLDER_LOCK_CLASS } from '../../src/platform/idempotency.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { ApiProcess, freePort } from './harness/api-process.ts';
import { type Answer, call, errorCode, label } from './harness/client.ts';
import { announceSeed, Prng, runSeed } from './harness/prng.ts';
import { TcpProxy } from './harness/tcp-proxy.ts';
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
/** Upper bounds, so that a run always ends (`after` then stops the API processes). */
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 60_000;
const CLEANUP_TIMEOUT_MS = 120_000;

if (sharedServices)
  describe(`reliability: idempotency keys (RELIABILITY_SEED=${SEED})`, () => {
    let bank: Bank;
    let world: World;
    let proxy: TcpProxy;
    const apis: ApiProcess[] = [];
    const random = Prng.derive(SEED, 'idempotency');
    // Keys and amounts come from the seed: a re-run sends the same requests.
    const runId = random.int(100_000, 999_999);
    const key = (name: string) => `idem-${runId}-${name}`;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let payee: Person;
    let poor: Person;

    before(
      async () => {
        announceSeed('idempotency', SEED);
        bank = await createBank();
        const databaseUrl = new URL(bank.databaseUrl);
        proxy = await TcpProxy.start({
          name: 'postgres',
          target: { host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432) },
          seed: SEED,
        });
        const env = apiEnvironment(bank, {
          database: proxy.urlThrough(bank.databaseUrl),
          redis: bank.redisUrl,
        });
        for (let node = 0; node < 2; node += 1) apis.push(new ApiProcess({ port: await freePort(), env }));
        // The first process migrates and seeds; the second starts while the customers are created through the first.
        await apis[0]!.start(FIRST_START, 180_000);
        const starting = apis[1]!.start({}, 180_000);
        await signIn(bank, apis[0]!);
        world = await buildWorld(bank, apis[0]!, {
          wallets: 5,
          opening: (index) => (index === 4 ? 1_000 : 5_000_000),
          phonePrefix: '+2547460',
        });
        [alice, bob, carol, payee, poor] = world.people as [Person, Person, Person, Person, Person];
        await starting;
      },
      { timeout: SETUP_TIMEOUT_MS },
    );

    after(
      async () => {
        await bounded('API processes', 30_000, () => Promise.all(apis.map((api) => api.stop())));
        await bounded('proxy', 10_000, async () => proxy?.close());
        await bounded('database', 60_000, async () => bank?.close());
        reportIfStillAlive('idempotency');
      },
      { timeout: CLEANUP_TIMEOUT_MS },
    );

    const transferBody = (to: Person, amount: number, narration: string) => ({
      to_wallet_number: to.wallet.wallet_number,
      amount,
      currency: 'KES',
      pin: TEST_PIN,
      narration,
    });

    function transfer(node: number, from: Person, body: unknown, idempotencyKey?: string): Promise<Answer> {
      return call(apis[node % apis.length]!.url, 'POST', '/api/v1/wallet/transaction/transfer', {
        token: from.customer.token,
        body,
        key: idempotencyKey,
      });
    }

    function http(answer: Answer): Extract<Answer, { kind: 'http' }> {
      assert.equal(answer.kind, 'http', answer.kind === 'error' ? answer.error : '');
      return answer as Extract<Answer, { kind: 'http' }>;
    }

    /** Completed transactions carrying this narration, their ledger batches and their transaction.completed events. */
    async function effects(narration: string) {
      const pool = bank.db.pool;
      const rows = (
        await pool.query<{ id: string; status: string }>(
          'select id, status from transactions where narration = $1',
          [narration],
        )
      ).rows;
      const completed = rows.filter((row) => row.status === 'completed').map((row) => row.id);
      const batches = (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from ledger_batches where metadata->>'transaction_id' = any($1::text[])`,
          [completed],
        )
      ).rows[0]!.n;
      const events = (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from outbox_events where topic = 'transaction.completed'
            and aggregate_id = any($1::text[])`,
          [completed],
        )
      ).rows[0]!.n;
      return { rows: rows.length, completed, batches, events };
    }

    async function balances(...people: Person[]) {
      const map = await walletBalances(
        bank,
        people.map((person) => person.wallet.id),
      );
      return people.map((person) => map.get(person.wallet.id)!);
    }

    const count = (answers: Answer[]) => {
      const histogram: Record<string, number> = {};
      for (const answer of answers) histogram[label(answer)] = (histogram[label(answer)] ?? 0) + 1;
      return histogram;
    };

    test('property 5: one request, 10 sequential and 50 concurrent duplicates — one effect, byte-identical replays', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const amount = random.int(1_000, 90_000);
      const body = transferBody(payee, amount, key('five'));
      const [aliceBefore, payeeBefore] = await balances(alice, payee);
      const first = http(await transfer(0, alice, body, key('five')));
      assert.equal(first.status, 201, first.body);
      assert.equal(first.replayed, false, 'the first answer is not a replay');
      const view = JSON.parse(first.body) as { id: string; fee: number; tax: number; total: number };
      assert.equal(view.total, amount + view.fee + view.tax);

      const sequential: Answer[] = [];
      for (let index = 0; index < 10; index += 1)
        sequential.push(await transfer(index + 1, alice, body, key('five')));
      const concurrent = await Promise.all(
        Array.from({ length: 50 }, (_, index) => transfer(index, alice, body, key('five'))),
      );
      process.stdout.write(
        `# 10 sequential duplicates: ${JSON.stringify(count(sequential))}; 50 concurrent: ${JSON.stringify(count(concurrent))}\n`,
      );
      for (const answer of [...sequential, ...concurrent].map(http)) {
        assert.equal(answer.status, 201);
        assert.equal(answer.body, first.body, 'byte-identical replay');
        assert.equal(answer.replayed, true, 'marked Idempotent-Replayed');
      }
      const found = await effects(key('five'));
      assert.deepEqual(
        found,
        { rows: 1, completed: [view.id], batches: 1, events: 1 },
        'exactly one ledger effect',
      );
      assert.deepEqual(await balances(alice, payee), [
        aliceBefore! - BigInt(view.total),
        payeeBefore! + BigInt(amount),
      ]);
    });

    test('property 5: 51 simultaneous copies of a new request — one runs, the rest replay it or get 409', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const amount = random.int(1_000, 90_000);
      const body = transferBody(payee, amount, key('race'));
      const [bobBefore, payeeBefore] = await balances(bob, payee);
      // Every database round trip of both nodes slowed down: the copies overlap with the one that runs.
      proxy.setLatency(15, 10);
      let answers: Answer[];
      try {
        answers = await Promise.all(
          Array.from({ length: 51 }, (_, index) => transfer(index, bob, body, key('race'))),
        );
      } finally {
        proxy.setLatency(0, 0);
      }
      const histogram = count(answers);
      process.stdout.write(`# 51 simultaneous copies: ${JSON.stringify(histogram)}\n`);
      const ran = answers.map(http).filter((answer) => answer.status === 201 && !answer.replayed);
      assert.equal(ran.length, 1, 'exactly one copy ran');
      const original = ran[0]!;
      const inProgress = answers.map(http).filter((answer) => answer.status === 409);
      for (const answer of answers.map(http)) {
        if (answer === original) continue;
        if (answer.status === 409) {
          assert.equal(errorCode(answer.body), 'IDEMPOTENCY_IN_PROGRESS', answer.body);
          assert.ok(answer.headers.get('retry-after'), '409 says when to retry');
          continue;
        }
        assert.equal(answer.status, 201, answer.body);
        assert.equal(answer.replayed, true);
        assert.equal(answer.body, original.body, 'byte-identical replay');
      }
      assert.ok(
        inProgress.length > 0,
        'with the database slowed, some copies overlapped the running one (409)',
      );
      // Each client that was told "in progress" retries and now gets the replay.
      const retries = await Promise.all(
        inProgress.map((_, index) => transfer(index, bob, body, key('race'))),
      );
      for (const answer of retries.map(http)) {
        assert.equal(answer.status, 201, answer.body);
        assert.equal(answer.body, original.body);
        assert.equal(answer.replayed, true);
      }
      const view = JSON.parse(original.body) as { id: string; total: number };
      assert.deepEqual(await effects(key('race')), {
        rows: 1,
        completed: [view.id],
        batches: 1,
        events: 1,
      });
      assert.deepEqual(await balances(bob, payee), [
        bobBefore! - BigInt(view.total),
        payeeBefore! + BigInt(amount),
      ]);
    });

    test('property 5: a refusal replays as refused, even after the money arrives', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const body = transferBody(payee, 50_000, key('refused'));
      const refused = http(await transfer(0, poor, body, key('refused')));
      assert.equal(refused.status, 422, refused.body);
      assert.equal(errorCode(refused.body), 'INSUFFICIENT_BALANCE');
      await deposit(bank, apis[0]!, poor.wallet.id, 100_000);
      const [poorBefore] = await balances(poor);
      const again = http(await transfer(1, poor, body, key('refused')));
      assert.equal(again.status, 422);
      assert.equal(again.body, refused.body, 'the stored refusal, byte for byte');
      assert.equal(again.replayed, true);
      assert.deepEqual(await balances(poor), [poorBefore]);
      const found = await effects(key('refused'));
      assert.deepEqual(found.completed, [], 'nothing completed under the refused key');
      // A new key is a new request: now it goes through.
      const fresh = http(
        await transfer(0, poor, transferBody(payee, 50_000, key('refused-2')), key('refused-2')),
      );
      assert.equal(fresh.status, 201, fresh.body);
    });

    test('property 5: a refusal is definite only once stored — if storing it fails, the answer is 503', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      // The database refuses to store this one key's answer (as a connection lost at that statement would).
      const unstored = key('unstored');
      const pool = bank.db.pool;
      await pool.query(`create or replace function reliability_lose_store() returns trigger language plpgsql as $$
        begin raise exception 'connection lost while storing the answer' using errcode = '08006'; end $$`);
      await pool.query(`create trigger reliability_lose_store before update on idempotency_keys for each row
        when (new.key = '${unstored}' and new.state = 'completed') execute function reliability_lose_store()`);
      const body = transferBody(payee, 5_000_000, unstored);
      let first: Extract<Answer, { kind: 'http' }>;
      try {
        first = http(await transfer(0, poor, body, unstored));
      } finally {
        await pool.query('drop trigger reliability_lose_store on idempotency_keys');
      }
      const claim = (
        await pool.query<{ state: string }>('select state from idempotency_keys where key = $1', [unstored])
      ).rows[0];
      // The refusal could not be recorded: a 422 now would be contradicted by a retry that runs once the lock lapses.
      assert.equal(first.status, 503, `an unstored refusal must not be answered as definite: ${first.body}`);
      assert.notEqual(claim?.state, 'completed');
      const retry = http(await transfer(1, poor, body, unstored));
      assert.equal(retry.status, 422, retry.body);
      assert.equal(errorCode(retry.body), 'INSUFFICIENT_BALANCE');
      const replay = http(await transfer(0, poor, body, unstored));
      assert.equal(replay.body, retry.body, 'now stored: replayed byte for byte');
      assert.equal(replay.replayed, true);
    });

    /** Polls `probe` until it gives a value (bounded: a condition that never comes fails the test). */
    async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null>): Promise<T> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== null) return value;
        assert.ok(Date.now() < deadline, `waited 10 s for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    test('property 5: a running request keeps its key (409) on the other node, even when its holder session is lost', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const amount = random.int(1_000, 90_000);
      const name = key('holder');
      const body = transferBody(payee, amount, name);
      const pool = bank.db.pool;
      const [carolBefore, payeeBefore] = await balances(carol, payee);
      const claimRow = async () =>
        (
          await pool.query<{ holder: number | null; locked_until: Date }>(
            `select holder, locked_until from idempotency_keys where key = $1 and state = 'in_progress'`,
            [name],
          )
        ).rows[0];
      const holderPid = async (holder: number) =>
        (
          await pool.query<{ pid: number }>(
            `select pid from pg_locks where locktype = 'advisory' and granted and classid = $1::oid
                and objid = $2::oid and objsubid = 2
                and database = (select oid from pg_database where datname = current_database())`,
            [HOLDER_LOCK_CLASS, holder],
          )
        ).rows[0]?.pid;
      // The test holds the sender's wallet row: node 0's transfer takes its claim, then waits on that lock — a
      // request that is genuinely still running.
      const blocker = await pool.connect();
      let first: Promise<Answer>;
      try {
        await blocker.query('begin');
        await blocker.query('select 1 from wallets where id = $1 for update', [carol.wallet.id]);
        first = transfer(0, carol, body, name);
        const claim = await waitFor("node 0's claim", claimRow);
        assert.ok(claim.holder !== null, 'the claim names its holder');
        await waitFor('node 0 waiting on the wallet lock', async () =>
          (
            await pool.query<{ n: number }>(
              `select count(*)::int as n from pg_stat_activity where datname = current_database()
                  and wait_event_type = 'Lock' and query like '%payment_commit%'`,
            )
          ).rows[0]!.n > 0
            ? true
            : null,
        );
        // Its holder is alive: a copy on the other node is told to come back later.
        const early = http(await transfer(1, carol, body, name));
        assert.equal(early.status, 409, early.body);
        assert.equal(errorCode(early.body), 'IDEMPOTENCY_IN_PROGRESS');
        assert.ok(early.headers.get('retry-after'), '409 says when to retry');
        // Node 0's holder session ends while node 0 and its transfer live on (a terminated backend, a dropped link):
        // node 0 opens a new session at once and names it the holder of the claims it still runs.
        const pid = await holderPid(claim.holder!);
        assert.ok(pid, "node 0's holder session holds its advisory lock");
        await pool.query('select pg_terminate_backend($1)', [pid]);
        const adopted = await waitFor("node 0's new session to hold the claim", async () => {
          const row = await claimRow();
          if (!row || row.holder === null || row.holder === claim.holder) return null;
          const now = await holderPid(row.holder);
          return now !== undefined && now !== pid ? row : null;
        });
        assert.equal(
          adopted.locked_until.getTime(),
          claim.locked_until.getTime(),
          "the first holder's token",
        );
        // The transfer is still running: a copy on the other node still waits for it instead of running it again.
        const late = http(await transfer(1, carol, body, name));
        assert.equal(late.status, 409, late.body);
        assert.equal(errorCode(late.body), 'IDEMPOTENCY_IN_PROGRESS');
      } finally {
        await blocker.query('rollback');
        blocker.release();
      }
      // The first holder reaches its commit with its claim still its own: one effect, which every copy replays.
      const firstAnswer = http(await first);
      assert.equal(firstAnswer.status, 201, firstAnswer.body);
      assert.equal(firstAnswer.replayed, false, 'the first request ran');
      const view = JSON.parse(firstAnswer.body) as { id: string; total: number };
      assert.deepEqual(await effects(name), { rows: 1, completed: [view.id], batches: 1, events: 1 });
      assert.deepEqual(await balances(carol, payee), [
        carolBefore! - BigInt(view.total),
        payeeBefore! + BigInt(amount),
      ]);
      const replay = http(await transfer(1, carol, body, name));
      assert.equal(replay.body, firstAnswer.body, 'node 1 replays it');
      assert.equal(replay.replayed, true);
    });

    test('property 6: the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and moves nothing', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const original = http(
        await transfer(0, alice, transferBody(payee, 2_000, key('misuse')), key('misuse')),
      );
      assert.equal(original.status, 201, original.body);
      const before = await balances(alice, payee, bob);
      const variants = [
        transferBody(payee, 2_001, key('misuse')),
        transferBody(bob, 2_000, key('misuse')),
        { ...transferBody(payee, 2_000, key('misuse')), narration: 'another narration' },
      ];
      for (const [index, variant] of variants.entries()) {
        const answer = http(await transfer(index, alice, variant, key('misuse')));
        assert.equal(answer.status, 422, answer.body);
        assert.equal(errorCode(answer.body), 'IDEMPOTENCY_KEY_REUSED');
      }
      assert.deepEqual(await balances(alice, payee, bob), before);
      const replay = http(await transfer(1, alice, transferBody(payee, 2_000, key('misuse')), key('misuse')));
      assert.equal(replay.body, original.body, 'the original answer is untouched');
      assert.equal((await effects(key('misuse'))).completed.length, 1);
      assert.equal((await effects('another narration')).rows, 0);
    });

    test('property 6: a money POST without a key (or with a malformed one) is 400 and moves nothing', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const before = await balances(alice, payee);
      const countBefore = (
        await bank.db.pool.query<{ n: number }>('select count(*)::int as n from transactions')
      ).rows[0]!.n;
      const cases: {
        name: string;
        path: string;
        token: string;
        body: unknown;
        key?: string;
        code: string;
      }[] = [
        {
          name: 'transfer, no key',
          path: '/api/v1/wallet/transaction/transfer',
          token: alice.customer.token,
          body: transferBody(payee, 1_000, key('nokey')),
          code: 'IDEMPOTENCY_KEY_REQUIRED',
        },
        {
          name: 'transfer, 7-character key',
          path: '/api/v1/wallet/transaction/transfer',
          token: alice.customer.token,
          body: transferBody(payee, 1_000, key('nokey')),
          key: 'short-k',
          code: 'IDEMPOTENCY_KEY_INVALID',
        },
        {
          name: 'transfer, 256-character key',
          path: '/api/v1/wallet/transaction/transfer',
          token: alice.customer.token,
          body: transferBody(payee, 1_000, key('nokey')),
          key: 'k'.repeat(256),
          code: 'IDEMPOTENCY_KEY_INVALID',
        },
        {
          name: 'transfer, key with a space',
          path: '/api/v1/wallet/transaction/transfer',
          token: alice.customer.token,
          body: transferBody(payee, 1_000, key('nokey')),
          key: 'has a space in it',
          code: 'IDEMPOTENCY_KEY_INVALID',
        },
        {
          name: 'teller deposit, no key',
          path: '/api/v1/wallet/transaction/deposit',
          token: bank.adminToken,
          body: { wallet_id: payee.wallet.id, amount: 1_000, currency: 'KES', narration: key('nokey') },
          code: 'IDEMPOTENCY_KEY_REQUIRED',
        },
        {
          name: 'teller withdrawal, no key',
          path: '/api/v1/wallet/transaction/withdraw',
          token: bank.adminToken,
          body: { wallet_id: payee.wallet.id, amount: 1_000, currency: 'KES', narration: key('nokey') },
          code: 'IDEMPOTENCY_KEY_REQUIRED',
        },
      ];
      for (const [index, item] of cases.entries()) {
        const answer = http(
          await call(apis[index % 2]!.url, 'POST', item.path, {
            token: item.token,
            body: item.body,
            key: item.key,
          }),
        );
        assert.equal(answer.status, 400, `${item.name}: ${answer.body}`);
        assert.equal(errorCode(answer.body), item.code, item.name);
      }
      assert.deepEqual(await balances(alice, payee), before);
      const countAfter = (
        await bank.db.pool.query<{ n: number }>('select count(*)::int as n from transactions')
      ).rows[0]!.n;
      assert.equal(countAfter, countBefore, 'no transaction recorded');
    });

    test("property 6: customer B reusing A's key is independent of A", {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const aliceBody = transferBody(payee, 3_000, key('shared'));
      const aliceAnswer = http(await transfer(0, alice, aliceBody, key('shared')));
      assert.equal(aliceAnswer.status, 201, aliceAnswer.body);
      const aliceView = JSON.parse(aliceAnswer.body) as { id: string };

      // B, same key, B's own request: it runs as B's.
      const [bobBefore, payeeBefore] = await balances(bob, payee);
      const bobBody = transferBody(payee, 4_000, `${key('shared')}-bob`);
      const bobAnswer = http(await transfer(1, bob, bobBody, key('shared')));
      assert.equal(bobAnswer.status, 201, bobAnswer.body);
      assert.equal(bobAnswer.replayed, false, "B's request ran; it is not A's replay");
      const bobView = JSON.parse(bobAnswer.body) as { id: string; total: number; customer_id: string };
      assert.notEqual(bobView.id, aliceView.id);
      assert.equal(bobView.customer_id, bob.customer.id);
      assert.deepEqual(await balances(bob, payee), [
        bobBefore! - BigInt(bobView.total),
        payeeBefore! + 4_000n,
      ]);

      // C sends A's exact request under A's key: C's own new transaction, not A's answer.
      const carolAnswer = http(await transfer(0, carol, aliceBody, key('shared')));
      assert.equal(carolAnswer.status, 201, carolAnswer.body);
      assert.equal(carolAnswer.replayed, false);
      assert.notEqual(JSON.parse(carolAnswer.body).id, aliceView.id);
      assert.equal(JSON.parse(carolAnswer.body).customer_id, carol.customer.id);

      // Each scope keeps its own answer.
      const aliceReplay = http(await transfer(1, alice, aliceBody, key('shared')));
      assert.equal(aliceReplay.body, aliceAnswer.body);
      assert.equal(aliceReplay.replayed, true);
      const bobReplay = http(await transfer(0, bob, bobBody, key('shared')));
      assert.equal(bobReplay.body, bobAnswer.body);
      // In B's scope the key is taken by B's body: A's body under it is a reuse there, never A's answer.
      const bobWithAliceBody = http(await transfer(1, bob, aliceBody, key('shared')));
      assert.equal(bobWithAliceBody.status, 422, bobWithAliceBody.body);
      assert.equal(errorCode(bobWithAliceBody.body), 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((await effects(key('shared'))).completed.length, 2, "A's and C's");
      assert.equal((await effects(`${key('shared')}-bob`)).completed.length, 1, "B's");
    });
  });
else test('reliability: idempotency keys', { skip: needsSharedServices }, () => {});
