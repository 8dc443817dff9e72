/**
 * The ledger's use cases over the `ledger_post` / `ledger_resolve` functions: post a batch of legs in one round trip,
 * resolve pending transfers, read balances (deferred accounts include their un-rolled deltas), roll deltas up, and
 * verify the invariants (double entry per currency, stored totals = journal lines, nothing guarded below zero).
 */
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { type Executor, inTransaction, rawRows, sqlState } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo } from '../../platform/money.ts';
import { type AccountKind, ledgerAccounts, ledgerTransfers } from './ledger.tables.ts';

export type AccountRow = typeof ledgerAccounts.$inferSelect;

export interface Leg {
  debit: string;
  credit: string;
  amount: bigint;
  /** What the leg is: principal, fee, tax, fx, hold, refund … */
  code: string;
}

export interface Posting {
  /** Applied at most once: a second posting with the same key returns the first batch. */
  key: string;
  code: string;
  reference?: string | null;
  metadata?: Record<string, unknown> | null;
  legs: Leg[];
  /** Make every leg pending until this time (two-phase); post or void later with `resolve`. */
  pendingUntil?: Date | null;
  /** Credited accounts whose balance must not exceed a cap after the posting (KYC max balance). */
  caps?: { accountId: string; cap: bigint }[];
}

export interface PostedBatch {
  batchId: string;
  replayed: boolean;
  transferIds: string[];
}

/** Ledger refusals; callers translate them to their own error codes (INSUFFICIENT_BALANCE, …). */
export class LedgerError extends Error {
  readonly state: string;
  readonly detail: Record<string, string>;
  constructor(state: string, message: string, detail: Record<string, string>) {
    super(message);
    this.name = 'LedgerError';
    this.state = state;
    this.detail = detail;
  }
}

export const LEDGER_STATES = {
  malformed: 'LD000',
  unknownAccount: 'LD001',
  currencyMismatch: 'LD003',
  insufficientFunds: 'LD101',
  capExceeded: 'LD102',
  noSuchPending: 'LD104',
  alreadyResolved: 'LD105',
  expired: 'LD106',
} as const;

const CODE_PATTERN = /^[a-z][a-z0-9_:.-]{0,63}$/;
const UUID_LIST = /^[0-9a-f-]{36}$/;

/** PostgreSQL array literals of checked values, for `ledger_post` and the calls that pass legs on to it. */
export function uuidArray(values: string[]): string {
  for (const value of values) if (!UUID_LIST.test(value)) throw new Error(`not a uuid: ${value}`);
  return `{${values.join(',')}}`;
}

export function bigintArray(values: bigint[]): string {
  return `{${values.map((value) => value.toString()).join(',')}}`;
}

export function codeArray(values: string[]): string {
  for (const value of values) if (!CODE_PATTERN.test(value)) throw new Error(`bad leg code: ${value}`);
  return `{${values.join(',')}}`;
}

function detailOf(error: unknown): Record<string, string> {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const detail = (current as { detail?: unknown }).detail;
    if (typeof detail === 'string') {
      try {
        return JSON.parse(detail) as Record<string, string>;
      } catch {
        return { detail };
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return {};
}

/** Turns the functions' LDxxx errors into LedgerError; anything else passes through. */
/** A `LedgerError` for the ledger's SQLSTATEs (LDxxx), raised by `ledger_post` directly or through a caller's function. */
export function ledgerErrorOf(error: unknown): unknown {
  const state = sqlState(error);
  if (state?.startsWith('LD')) return new LedgerError(state, messageOf(error), detailOf(error));
  if (state === '23505' && String(messageOf(error)).includes('ledger_transfers_pending_key'))
    return new LedgerError(LEDGER_STATES.alreadyResolved, 'pending transfer already resolved', {});
  return error;
}

function messageOf(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const cause = (current as { cause?: unknown }).cause;
    if (!cause) return String((current as Error).message);
    current = cause;
  }
  return String((current as Error | undefined)?.message);
}

export interface HouseAccountSpec {
  prefix: string;
  name: string;
  kind: AccountKind;
  deferred: boolean;
  creditsMustNotExceedDebits?: boolean;
}

/** Internal accounts every currency has (ISSUE 5 "Ledger core"). */
export const HOUSE_ACCOUNTS: HouseAccountSpec[] = [
  { prefix: 'fee_income', name: 'Fee income', kind: 'income', deferred: true },
  { prefix: 'tax_payable', name: 'Excise duty payable', kind: 'liability', deferred: true },
  { prefix: 'settlement', name: 'Bank settlement (CBS)', kind: 'asset', deferred: true },
  { prefix: 'suspense', name: 'Suspense (disputes and holds)', kind: 'liability', deferred: false },
  { prefix: 'fx_position', name: 'FX position', kind: 'asset', deferred: true },
  { prefix: 'agent_float_pool', name: 'Agent float pool', kind: 'liability', deferred: false },
  { prefix: 'loan_portfolio', name: 'Loan portfolio', kind: 'asset', deferred: false },
  { prefix: 'interest_income', name: 'Interest income', kind: 'income', deferred: true },
  { prefix: 'capital', name: 'Share capital and funding', kind: 'equity', deferred: false },
];

export interface Balance {
  /** Posted balance on the account's normal side. */
  balance: bigint;
  /** What can be spent now: posted minus pending debits (wallets). */
  available: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
}

export function normalBalance(kind: AccountKind, debits: bigint, credits: bigint): bigint {
  return kind === 'asset' || kind === 'expense' ? debits - credits : credits - debits;
}

export class LedgerService {
  readonly #db: Executor;
  readonly #houseIds = new Map<string, string>();

  constructor(db: Executor) {
    this.#db = db;
  }

  async createAccount(
    tx: Executor,
    input: {
      id?: string;
      code?: string | null;
      name: string;
      currency: string;
      kind: AccountKind;
      debitsMustNotExceedCredits?: boolean;
      creditsMustNotExceedDebits?: boolean;
      deferred?: boolean;
    },
  ): Promise<AccountRow> {
    currencyInfo(input.currency);
    const [row] = await tx
      .insert(ledgerAccounts)
      .values({
        id: input.id ?? uuidv7(),
        code: input.code ?? null,
        name: input.name,
        currency: input.currency,
        kind: input.kind,
        debitsMustNotExceedCredits: input.debitsMustNotExceedCredits ?? false,
        creditsMustNotExceedDebits: input.creditsMustNotExceedDebits ?? false,
        deferred: input.deferred ?? false,
      })
      .returning();
    return row!;
  }

  /**
   * The id of a house account by code (`fee_income:KES`), created on first use. Inside a transaction pass it as
   * `executor` (the embedded database has one connection: a query beside an open transaction would wait forever).
   */
  async houseAccount(
    code: string,
    spec?: Omit<HouseAccountSpec, 'prefix'>,
    executor: Executor = this.#db,
  ): Promise<string> {
    const cached = this.#houseIds.get(code);
    if (cached) return cached;
    const [found] = await executor
      .select({ id: ledgerAccounts.id })
      .from(ledgerAccounts)
      .where(eq(ledgerAccounts.code, code))
      .limit(1);
    if (found) {
      this.#houseIds.set(code, found.id);
      return found.id;
    }
    const [prefix, currency] = [code.slice(0, code.lastIndexOf(':')), code.slice(code.lastIndexOf(':') + 1)];
    const known = spec ?? HOUSE_ACCOUNTS.find((entry) => entry.prefix === prefix);
    if (!known) throw new Error(`unknown house account ${code}`);
    await executor
      .insert(ledgerAccounts)
      .values({
        id: uuidv7(),
        code,
        name: `${known.name} (${currency})`,
        currency,
        kind: known.kind,
        deferred: known.deferred,
        creditsMustNotExceedDebits: known.creditsMustNotExceedDebits ?? false,
      })
      .onConflictDoNothing();
    return this.houseAccount(code, spec, executor);
  }

  /** Seeds every house account of a currency (idempotent). */
  async ensureHouseAccounts(currency: string): Promise<void> {
    currencyInfo(currency);
    for (const spec of HOUSE_ACCOUNTS) await this.houseAccount(`${spec.prefix}:${currency}`);
  }

  /** Posts the legs together in one round trip inside the caller's transaction. */
  async post(tx: Executor, posting: Posting): Promise<PostedBatch> {
    const batchId = uuidv7();
    const transferIds = posting.legs.map(() => uuidv7());
    const caps = posting.caps ?? [];
    try {
      const [row] = await rawRows<{ batch_id: string; replayed: boolean }>(
        tx,
        sql`select batch_id, replayed from ledger_post(${batchId}::uuid, ${posting.key}, ${posting.code},
          ${posting.reference ?? null}, ${posting.metadata ? JSON.stringify(posting.metadata) : null}::jsonb,
          ${uuidArray(transferIds)}::uuid[], ${uuidArray(posting.legs.map((leg) => leg.debit))}::uuid[],
          ${uuidArray(posting.legs.map((leg) => leg.credit))}::uuid[],
          ${bigintArray(posting.legs.map((leg) => leg.amount))}::bigint[],
          ${codeArray(posting.legs.map((leg) => leg.code))}::text[],
          ${posting.pendingUntil?.toISOString() ?? null}::timestamptz,
          ${uuidArray(caps.map((cap) => cap.accountId))}::uuid[],
          ${bigintArray(caps.map((cap) => cap.cap))}::bigint[])`,
      );
      if (!row!.replayed) return { batchId: row!.batch_id, replayed: false, transferIds };
      return {
        batchId: row!.batch_id,
        replayed: true,
        transferIds: await this.#transferIdsOf(tx, row!.batch_id),
      };
    } catch (error) {
      throw ledgerErrorOf(error);
    }
  }

  /** The legs a batch actually wrote (a replay's freshly drawn ids were never inserted). */
  async #transferIdsOf(executor: Executor, batchId: string): Promise<string[]> {
    const rows = await executor
      .select({ id: ledgerTransfers.id })
      .from(ledgerTransfers)
      .where(eq(ledgerTransfers.batchId, batchId))
      .orderBy(asc(ledgerTransfers.id));
    return rows.map((row) => row.id);
  }

  /** Posts (amount ≤ pending; omitted = all) or voids pending transfers, each exactly once. */
  async resolve(
    tx: Executor,
    input: {
      key: string;
      code: string;
      reference?: string | null;
      pending: { transferId: string; amount?: bigint }[];
      void: boolean;
    },
  ): Promise<PostedBatch> {
    const batchId = uuidv7();
    const transferIds = input.pending.map(() => uuidv7());
    try {
      const [row] = await rawRows<{ batch_id: string; replayed: boolean }>(
        tx,
        sql`select batch_id, replayed from ledger_resolve(${batchId}::uuid, ${input.key}, ${input.code},
          ${input.reference ?? null}, null::jsonb,
          ${uuidArray(input.pending.map((entry) => entry.transferId))}::uuid[],
          ${uuidArray(transferIds)}::uuid[],
          ${`{${input.pending.map((entry) => (entry.amount === undefined ? 'NULL' : entry.amount.toString())).join(',')}}`}::bigint[],
          ${input.void})`,
      );
      if (!row!.replayed) return { batchId: row!.batch_id, replayed: false, transferIds };
      return {
        batchId: row!.batch_id,
        replayed: true,
        transferIds: await this.#transferIdsOf(tx, row!.batch_id),
      };
    } catch (error) {
      throw ledgerErrorOf(error);
    }
  }

  async accounts(ids: string[], executor: Executor = this.#db): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    return executor.select().from(ledgerAccounts).where(inArray(ledgerAccounts.id, ids));
  }

  /**
   * Balance of one account, including un-rolled deltas of a deferred account — read in one statement, so a roll-up
   * committing meanwhile cannot count a delta twice or not at all.
   */
  async balance(accountId: string, executor: Executor = this.#db): Promise<Balance> {
    const [row] = await executor
      .select(balanceColumns)
      .from(ledgerAccounts)
      .where(eq(ledgerAccounts.id, accountId))
      .limit(1);
    if (!row) throw commonErrors.notFound('Ledger account');
    return balanceFrom(row);
  }

  /** Moves deferred deltas into account totals; returns how many were rolled up. */
  async rollUp(batchSize = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const [row] = await inTransaction(this.#db, (tx) =>
        rawRows<{ moved: number }>(tx, sql`select ledger_roll_up(${batchSize}) as moved`),
      );
      const moved = Number(row?.moved ?? 0);
      total += moved;
      if (moved < batchSize) return total;
    }
  }

  /** Voids pending transfers whose time ran out (each in its own transaction, keyed so a retry is harmless). */
  async voidExpired(limit = 500): Promise<number> {
    const expired = await rawRows<{ id: string }>(
      this.#db,
      sql`select t.id from ledger_transfers t
          where t.kind = 'pending' and t.expires_at < now()
            and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
          order by t.expires_at limit ${limit}`,
    );
    let voided = 0;
    for (const { id } of expired) {
      try {
        await inTransaction(this.#db, (tx) =>
          this.resolve(tx, {
            key: `expire:${id}`,
            code: 'pending_expired',
            pending: [{ transferId: id }],
            void: true,
          }),
        );
        voided += 1;
      } catch (error) {
        // Resolved meanwhile by its owner: nothing to do.
        if (!(error instanceof LedgerError && error.state === LEDGER_STATES.alreadyResolved)) throw error;
      }
    }
    return voided;
  }

  async verify(): Promise<LedgerVerification> {
    return verifyLedger(this.#db);
  }
}

/**
 * What a balance is computed from (the account and its deferred deltas not yet rolled up), for any query that
 * reads `ledger_accounts`, alone or joined to the row it belongs to (a wallet); `balanceFrom` turns it into a balance.
 */
export const balanceColumns = {
  account: ledgerAccounts,
  deferredDebits: sql<string>`(select coalesce(sum(d.debits), 0) from ledger_deferred_deltas d where d.account_id = ledger_accounts.id)::text`,
  deferredCredits: sql<string>`(select coalesce(sum(d.credits), 0) from ledger_deferred_deltas d where d.account_id = ledger_accounts.id)::text`,
};

export function balanceFrom(row: {
  account: AccountRow;
  deferredDebits: string;
  deferredCredits: string;
}): Balance {
  const { account } = row;
  return balanceOf(
    account,
    account.debitsPosted + BigInt(row.deferredDebits),
    account.creditsPosted + BigInt(row.deferredCredits),
  );
}

export function balanceOf(account: AccountRow, debits: bigint, credits: bigint): Balance {
  const balance = normalBalance(account.kind, debits, credits);
  // Pending movements away from the account's normal side are already reserved; pending arrivals are not yet usable.
  const reserved =
    account.kind === 'asset' || account.kind === 'expense' ? account.creditsPending : account.debitsPending;
  return {
    balance,
    available: balance - reserved,
    pendingDebits: account.debitsPending,
    pendingCredits: account.creditsPending,
  };
}

export interface LedgerVerification {
  ok: boolean;
  currencies: { currency: string; debits: string; credits: string }[];
  unbalancedCurrencies: string[];
  accountMismatches: { account_id: string; field: string; stored: string; journal: string }[];
  negativeGuarded: { account_id: string; balance: string }[];
  unbalancedTransfers: string[];
}

/** ledger-verify: each invariant as one query; every mismatch is named. */
export async function verifyLedger(db: Executor): Promise<LedgerVerification> {
  const currencies = await rawRows<{ currency: string; debits: string; credits: string }>(
    db,
    sql`select currency,
          coalesce(sum(amount) filter (where direction = 'debit'), 0)::text as debits,
          coalesce(sum(amount) filter (where direction = 'credit'), 0)::text as credits
        from ledger_entries group by currency order by currency`,
  );
  const unbalancedTransfers = await rawRows<{ transfer_id: string }>(
    db,
    sql`select t.id as transfer_id from ledger_transfers t
        left join ledger_entries e on e.transfer_id = t.id
        where t.kind in ('posted', 'post_pending')
        group by t.id, t.amount
        having count(e.id) filter (where e.direction = 'debit') <> (case when t.amount > 0 then 1 else 0 end)
            or count(e.id) filter (where e.direction = 'credit') <> (case when t.amount > 0 then 1 else 0 end)
            or coalesce(sum(e.amount) filter (where e.direction = 'debit'), 0) <> t.amount
               and t.amount > 0
        limit 100`,
  );
  const mismatches = await rawRows<{ account_id: string; field: string; stored: string; journal: string }>(
    db,
    sql`with journal as (
          select account_id,
            coalesce(sum(amount) filter (where direction = 'debit'), 0) as debits,
            coalesce(sum(amount) filter (where direction = 'credit'), 0) as credits
          from ledger_entries group by account_id
        ), deltas as (
          select account_id, sum(debits) as debits, sum(credits) as credits
          from ledger_deferred_deltas group by account_id
        ), pending as (
          select t.debit_account_id as account_id, t.amount as debits, 0::bigint as credits
            from ledger_transfers t
            where t.kind = 'pending' and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
          union all
          select t.credit_account_id, 0::bigint, t.amount
            from ledger_transfers t
            where t.kind = 'pending' and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
        ), open_pending as (
          select account_id, sum(debits) as debits, sum(credits) as credits from pending group by account_id
        ), compared as (
          select a.id,
            a.debits_posted + coalesce(d.debits, 0) as stored_debits, coalesce(j.debits, 0) as journal_debits,
            a.credits_posted + coalesce(d.credits, 0) as stored_credits, coalesce(j.credits, 0) as journal_credits,
            a.debits_pending, coalesce(p.debits, 0) as open_debits,
            a.credits_pending, coalesce(p.credits, 0) as open_credits
          from ledger_accounts a
          left join journal j on j.account_id = a.id
          left join deltas d on d.account_id = a.id
          left join open_pending p on p.account_id = a.id
        )
        select id as account_id, 'debits_posted' as field, stored_debits::text as stored, journal_debits::text as journal
          from compared where stored_debits <> journal_debits
        union all
        select id, 'credits_posted', stored_credits::text, journal_credits::text
          from compared where stored_credits <> journal_credits
        union all
        select id, 'debits_pending', debits_pending::text, open_debits::text
          from compared where debits_pending <> open_debits
        union all
        select id, 'credits_pending', credits_pending::text, open_credits::text
          from compared where credits_pending <> open_credits
        limit 100`,
  );
  const negative = await rawRows<{ account_id: string; balance: string }>(
    db,
    sql`select id as account_id,
          (case when debits_must_not_exceed_credits then credits_posted - debits_posted - debits_pending
                else debits_posted - credits_posted - credits_pending end)::text as balance
        from ledger_accounts
        where (debits_must_not_exceed_credits and debits_posted + debits_pending > credits_posted)
           or (credits_must_not_exceed_debits and credits_posted + credits_pending > debits_posted)
        limit 100`,
  );
  const unbalancedCurrencies = currencies
    .filter((row) => row.debits !== row.credits)
    .map((row) => row.currency);
  return {
    ok:
      unbalancedCurrencies.length === 0 &&
      mismatches.length === 0 &&
      negative.length === 0 &&
      unbalancedTransfers.length === 0,
    currencies,
    unbalancedCurrencies,
    accountMismatches: mismatches,
    negativeGuarded: negative,
    unbalancedTransfers: unbalancedTransfers.map((row) => row.transfer_id),
  };
}
