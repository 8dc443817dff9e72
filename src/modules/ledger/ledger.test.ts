/** The ledger functions on the real database: guarded postings, caps, two-phase, deferred roll-up, verify. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { randomToken } from '../../platform/crypto.ts';
import { inTransaction } from '../../platform/db.ts';
import { LEDGER_STATES, LedgerError, LedgerService } from './ledger.service.ts';

describe('ledger', () => {
  let t: TestContext;
  let ledger: LedgerService;
  let alice: string;
  let bob: string;
  let cash: string;
  let fees: string;
  before(async () => {
    t = await startTestApp();
    ledger = new LedgerService(t.deps.database.db);
    await ledger.ensureHouseAccounts('KES');
    fees = await ledger.houseAccount('fee_income:KES');
    await inTransaction(t.deps.database.db, async (tx) => {
      alice = (
        await ledger.createAccount(tx, {
          name: 'Alice',
          currency: 'KES',
          kind: 'liability',
          debitsMustNotExceedCredits: true,
        })
      ).id;
      bob = (
        await ledger.createAccount(tx, {
          name: 'Bob',
          currency: 'KES',
          kind: 'liability',
          debitsMustNotExceedCredits: true,
        })
      ).id;
      cash = (
        await ledger.createAccount(tx, {
          name: 'Till',
          currency: 'KES',
          kind: 'asset',
          creditsMustNotExceedDebits: true,
        })
      ).id;
    });
  });
  after(async () => t.close());

  const post = (
    legs: { debit: string; credit: string; amount: bigint; code?: string }[],
    extra: object = {},
  ) =>
    inTransaction(t.deps.database.db, (tx) =>
      ledger.post(tx, {
        key: `test:${randomToken(8)}`,
        code: 'test',
        legs: legs.map((leg) => ({ code: 'principal', ...leg })),
        ...extra,
      }),
    );

  async function refused(promise: Promise<unknown>, state: string) {
    await assert.rejects(promise, (error: unknown) => error instanceof LedgerError && error.state === state);
  }

  test('a deposit from the till credits the wallet; multi-leg transfers commit together', async () => {
    await post([{ debit: cash, credit: alice, amount: 10_000n }]);
    await post([
      { debit: alice, credit: bob, amount: 3_000n },
      { debit: alice, credit: fees, amount: 50n, code: 'fee' },
    ]);
    assert.equal((await ledger.balance(alice)).available, 6_950n);
    assert.equal((await ledger.balance(bob)).balance, 3_000n);
    assert.equal((await ledger.balance(fees)).balance, 50n);
    assert.equal((await ledger.balance(cash)).balance, 10_000n);
  });

  test('insufficient funds refuses the whole batch with the balance before it and what it asks', async () => {
    const before = await ledger.balance(alice);
    await assert.rejects(
      post([
        { debit: alice, credit: bob, amount: 100n },
        { debit: alice, credit: bob, amount: 1_000_000n },
      ]),
      (error: unknown) =>
        error instanceof LedgerError &&
        error.state === LEDGER_STATES.insufficientFunds &&
        // Not the balance left after the first leg fitted: what the account had, and the batch's whole demand.
        error.detail.available === String(before.available) &&
        error.detail.required === '1000100',
    );
    assert.deepEqual(await ledger.balance(alice), before);
  });

  test('the till cannot pay out more cash than it holds', async () => {
    await refused(post([{ debit: bob, credit: cash, amount: 20_000n }]), LEDGER_STATES.insufficientFunds);
  });

  test('a balance cap on the credited account refuses the posting', async () => {
    await refused(
      post([{ debit: cash, credit: bob, amount: 5_000n }], { caps: [{ accountId: bob, cap: 7_000n }] }),
      LEDGER_STATES.capExceeded,
    );
  });

  test('the same key applies once', async () => {
    const key = `once:${randomToken(8)}`;
    const run = () =>
      inTransaction(t.deps.database.db, (tx) =>
        ledger.post(tx, {
          key,
          code: 'test',
          legs: [{ debit: cash, credit: bob, amount: 10n, code: 'principal' }],
        }),
      );
    const before = (await ledger.balance(bob)).balance;
    const results = await Promise.all([run(), run(), run()]);
    assert.equal(results.filter((result) => !result.replayed).length, 1);
    assert.equal((await ledger.balance(bob)).balance, before + 10n);
  });

  test('mismatched currencies and malformed legs are refused', async () => {
    const usd = await inTransaction(t.deps.database.db, (tx) =>
      ledger.createAccount(tx, { name: 'USD wallet', currency: 'USD', kind: 'liability' }),
    );
    await refused(post([{ debit: alice, credit: usd.id, amount: 1n }]), LEDGER_STATES.currencyMismatch);
    await refused(post([{ debit: alice, credit: bob, amount: 0n }]), LEDGER_STATES.malformed);
    await refused(post([{ debit: alice, credit: alice, amount: 1n }]), LEDGER_STATES.malformed);
  });

  test('two-phase: a pending hold reserves funds, posts partly once, and a void releases', async () => {
    const start = await ledger.balance(alice);
    const hold = await post([{ debit: alice, credit: bob, amount: 1_000n }], {
      pendingUntil: new Date(Date.now() + 60_000),
    });
    assert.equal((await ledger.balance(alice)).available, start.available - 1_000n);
    assert.equal((await ledger.balance(alice)).balance, start.balance);
    const resolve = (voiding: boolean, amount?: bigint) =>
      inTransaction(t.deps.database.db, (tx) =>
        ledger.resolve(tx, {
          key: `resolve:${randomToken(8)}`,
          code: 'test',
          pending: [{ transferId: hold.transferIds[0]!, ...(amount === undefined ? {} : { amount }) }],
          void: voiding,
        }),
      );
    await resolve(false, 400n);
    assert.equal((await ledger.balance(alice)).available, start.available - 400n);
    await refused(resolve(true), LEDGER_STATES.alreadyResolved);
    const second = await post([{ debit: alice, credit: bob, amount: 500n }], {
      pendingUntil: new Date(Date.now() + 60_000),
    });
    await inTransaction(t.deps.database.db, (tx) =>
      ledger.resolve(tx, {
        key: `v:${randomToken(8)}`,
        code: 'test',
        pending: [{ transferId: second.transferIds[0]! }],
        void: true,
      }),
    );
    assert.equal((await ledger.balance(alice)).available, start.available - 400n);
  });

  test('expired holds are voided by the housekeeping job, once', async () => {
    const start = await ledger.balance(alice);
    await post([{ debit: alice, credit: bob, amount: 700n }], { pendingUntil: new Date(Date.now() - 1000) });
    assert.equal((await ledger.balance(alice)).available, start.available - 700n);
    assert.ok((await ledger.voidExpired()) >= 1);
    assert.equal(await ledger.voidExpired(), 0);
    assert.deepEqual(await ledger.balance(alice), start);
  });

  test('deferred house accounts roll up to the same balance; verify stays clean', async () => {
    const before = await ledger.balance(fees);
    await Promise.all(
      Array.from({ length: 20 }, () => post([{ debit: bob, credit: fees, amount: 1n, code: 'fee' }])),
    );
    assert.equal((await ledger.balance(fees)).balance, before.balance + 20n);
    assert.ok((await ledger.rollUp()) >= 20);
    assert.equal((await ledger.balance(fees)).balance, before.balance + 20n);
    const verification = await ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });

  test('transfers and journal lines are append-only', async () => {
    await assert.rejects(t.deps.database.db.execute(sql`update ledger_entries set amount = amount + 1`));
    await assert.rejects(t.deps.database.db.execute(sql`delete from ledger_transfers`));
  });

  test('verify names a tampered balance', async () => {
    await t.deps.database.db.execute(
      sql`update ledger_accounts set credits_posted = credits_posted + 1 where id = ${bob}`,
    );
    const verification = await ledger.verify();
    assert.equal(verification.ok, false);
    assert.ok(verification.accountMismatches.some((row) => row.account_id === bob));
    await t.deps.database.db.execute(
      sql`update ledger_accounts set credits_posted = credits_posted - 1 where id = ${bob}`,
    );
  });
});
