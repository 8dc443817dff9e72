/**
 * Cash-in and cash-out at an agent's store, through the payment engine on the `agent` channel.
 *
 * - Cash-in: the operator takes cash and the store's float pays the customer's wallet (the customer's receive limits
 *   apply; the float can't go negative: AGENT_FLOAT_INSUFFICIENT).
 * - Cash-out: the customer authorises it, with a withdrawal code they made in the app (PIN given then), or by approving
 *   with PIN the operator's request; the wallet pays the store's float, with the withdrawal fee of its product.
 * - Every one: the operator's scope (their store, or an admin's named store), the agent and store operational, the
 *   geofence (LocationGuard), the agent's single and daily limits (the day's usage row updated inside the posting's
 *   transaction: exact under concurrency), the commission legs and accruals (CommissionPort).
 */
import { and, desc, eq, gt, gte, lt, sql } from 'drizzle-orm';
import type { RequestContext } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, positiveAmount } from '../../platform/money.ts';
import { customerNames, customerStandingByPhone, normalisePhone } from '../customers/index.ts';
import type {
  Authorization,
  MovementPlan,
  TransactionRow,
  TransactionsService,
} from '../transactions/index.ts';
import type { WalletRow, WalletsService } from '../wallets/index.ts';
import { agentRowsStatement, DAILY_LIMIT_REFUSAL } from './agents.cash.part.ts';
import { agentsErrors } from './agents.errors.ts';
import { floatRefusal } from './agents.float.ts';
import type {
  AgentDirectory,
  AgentRow,
  AgentTransactionType,
  CommissionPort,
  CommissionQuote,
  DeviceLocation,
  LocationGuard,
  OperatorCounter,
  OperatorScope,
  OperatorScopes,
  PendingCheck,
  StoreRow,
} from './agents.ports.ts';
import { agentCashMovements, agentCashOutRequests } from './agents.tables.ts';
import type { WithdrawalCodes } from './agents.withdrawal.ts';

export type CashOutRequestRow = typeof agentCashOutRequests.$inferSelect;

const DEFAULT_REQUEST_TTL_MINUTES = 5;

export interface CashInInput {
  phone: string;
  amount: number;
  currency: string;
  location: DeviceLocation;
  store_id?: string;
  narration?: string;
}

export interface CashOutInput extends CashInInput {
  /** The customer's withdrawal code; without one the customer approves the request in the app. */
  code?: string;
}

/** "Jane Kamau" → "J*** K***": enough for the customer to recognise, not to learn a stranger's name. */
export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${[...part][0]!.toUpperCase()}***`)
    .join(' ');
}

/** `d:2026-12-07`: the UTC day the agent's daily limit counts. */
export function usagePeriod(at = new Date()): string {
  return `d:${at.toISOString().slice(0, 10)}`;
}

function limitOf(agent: AgentRow, key: 'single_minor' | 'daily_minor'): bigint | null {
  const value = agent.limits?.[key];
  return value === undefined || value === null ? null : BigInt(value);
}

function requestStatus(row: CashOutRequestRow, now = new Date()): CashOutRequestRow['status'] {
  return row.status === 'pending' && row.expiresAt <= now ? 'expired' : row.status;
}

export function cashOutRequestView(row: CashOutRequestRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    store_id: row.storeId,
    operator_id: row.operatorId,
    customer_id: row.customerId,
    amount: row.amountMinor,
    currency: row.currency,
    status: requestStatus(row),
    transaction_id: row.transactionId,
    failure_code: row.failureCode,
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

/** Where an operator's money action happens: who, which agent and store, after the shared checks. */
interface Counter {
  scope: OperatorScope;
  agent: AgentRow;
  store: StoreRow;
  /** The operator's last fix when read with the store (the geofence's speed check); else the guard reads it. */
  lastFix?: OperatorCounter['lastFix'];
  customerId: string;
  wallet: WalletRow;
  amount: bigint;
}

/** The geofence check a posting carries: written with it when pending, else linked to it. */
interface ActionCheck {
  checkId: string;
  decision: string;
  pending: PendingCheck | null;
}

/** A pending check is kept when its action failed (every check is); a failure to keep it does not hide the refusal. */
async function keepCheck(pending: PendingCheck | null): Promise<void> {
  await pending?.keep().catch(() => undefined);
}

export class AgentCash {
  readonly #db: Executor;
  readonly #wallets: WalletsService;
  readonly #transactions: TransactionsService;
  readonly #directory: AgentDirectory;
  readonly #scopes: OperatorScopes;
  readonly #guard: LocationGuard;
  readonly #commissions: () => CommissionPort | null;
  readonly #codes: WithdrawalCodes;
  readonly #requestTtlMs: number;
  /** Asks the customer's app to approve an operator's cash-out (a push challenge); null when none can be sent. */
  readonly #ask: (customerId: string, request: CashOutRequestRow) => Promise<string | null>;

  constructor(options: {
    db: Executor;
    wallets: WalletsService;
    transactions: TransactionsService;
    directory: AgentDirectory;
    scopes: OperatorScopes;
    guard: LocationGuard;
    commissions: () => CommissionPort | null;
    codes: WithdrawalCodes;
    ask?: (customerId: string, request: CashOutRequestRow) => Promise<string | null>;
    requestTtlMinutes?: number;
  }) {
    this.#db = options.db;
    this.#wallets = options.wallets;
    this.#transactions = options.transactions;
    this.#directory = options.directory;
    this.#scopes = options.scopes;
    this.#guard = options.guard;
    this.#commissions = options.commissions;
    this.#codes = options.codes;
    this.#ask = options.ask ?? (async () => null);
    this.#requestTtlMs = (options.requestTtlMinutes ?? DEFAULT_REQUEST_TTL_MINUTES) * 60_000;
  }

  /** An active customer with an active wallet in the currency, by phone; AGENT_CUSTOMER_NOT_FOUND otherwise. */
  async #customer(phone: string, currency: string): Promise<{ customerId: string; wallet: WalletRow }> {
    const notFound = () => agentsErrors.AGENT_CUSTOMER_NOT_FOUND({ params: { currency } });
    let normalised: string;
    try {
      normalised = normalisePhone(phone);
    } catch {
      throw notFound();
    }
    const standing = await customerStandingByPhone(this.#db, normalised);
    // As the customer principal: pending (not yet fully verified) and active customers transact; suspended and
    // closed ones do not. The wallet's tier limits apply either way.
    if (!standing || !['pending', 'active'].includes(standing.status) || standing.erasedAt) throw notFound();
    const customerId = standing.id;
    const wallet = await this.#wallets.findCustomerWallet(customerId, currency);
    if (wallet?.status !== 'active') throw notFound();
    return { customerId, wallet };
  }

  /** The customer's masked name, for the operator to confirm before a cash-in. */
  async lookup(principal: Principal, query: { phone: string; currency?: string }) {
    const scope = await this.#scopes.scopeOf(principal);
    const agent = await this.#directory.agent(scope.agentId);
    const currency = query.currency ?? agent.currency;
    const { customerId, wallet } = await this.#customer(query.phone, currency);
    const names = (await customerNames(this.#db, [customerId])).get(customerId);
    const name = names?.businessName ?? `${names?.firstName ?? ''} ${names?.lastName ?? ''}`;
    return { masked_name: maskName(name), currency: wallet.currency };
  }

  /** The checks every operator money action passes before the geofence and the posting. */
  async #counter(principal: Principal, input: CashInInput): Promise<Counter> {
    // The operator, the agent, the store, the super-agent's status and the last fix in one read (live: a suspension
    // blocks at once).
    const { scope, agent, store, lastFix } = await this.#directory.operatorCounter(
      principal,
      input.store_id ?? null,
      'agent_op:transact',
    );
    const amount = positiveAmount(input.amount);
    currencyInfo(input.currency);
    if (input.currency !== agent.currency)
      throw commonErrors.badRequest(`This agent transacts in ${agent.currency}`);
    const single = limitOf(agent, 'single_minor');
    if (single !== null && amount > single)
      throw agentsErrors.AGENT_LIMIT_EXCEEDED({
        params: { period: 'single', limit: single.toString(), remaining: single.toString() },
        details: { period: 'single', limit: single, remaining: single },
      });
    const { customerId, wallet } = await this.#customer(input.phone, input.currency);
    return { scope, agent, store, lastFix, customerId, wallet, amount };
  }

  /**
   * The agent's rows of one posting as one statement, written right after the payment in its transaction (the
   * engine's `part`: in a group commit's call too): the day's usage counted (refused beyond the daily limit with
   * `payment_part_refuse`, which rolls the payment back), the movement, the commission accruals and the geofence
   * check (written, or linked). Built from the record before the commit; nothing here runs a query.
   */
  #agentRows(
    counter: Counter,
    type: AgentTransactionType,
    quote: CommissionQuote | null,
    check: ActionCheck,
  ): NonNullable<MovementPlan['part']> {
    const { agent, amount } = counter;
    const daily = limitOf(agent, 'daily_minor');
    return {
      statement: (record) =>
        agentRowsStatement({
          agentId: agent.id,
          period: usagePeriod(),
          amount,
          transactionId: record.id,
          storeId: counter.store.id,
          operatorId: counter.scope.operatorId,
          customerId: counter.customerId,
          type,
          currency: record.currency,
          quote,
          check: check.pending ? { write: check.pending.row } : { link: check.checkId },
          dailyLimit: daily,
        }),
      refusal: (refused) => {
        if (refused.reason !== DAILY_LIMIT_REFUSAL || daily === null) return null;
        const used = BigInt(String(refused.detail.total)) - amount;
        const remaining = daily > used ? daily - used : 0n;
        return agentsErrors.AGENT_LIMIT_EXCEEDED({
          params: { period: 'daily', limit: daily.toString(), remaining: remaining.toString() },
          details: { period: 'daily', limit: daily, remaining },
        });
      },
    };
  }

  async #quote(agent: AgentRow, type: AgentTransactionType, amount: bigint, currency: string) {
    return (await this.#commissions()?.quote(agent, type, amount, currency)) ?? null;
  }

  /**
   * The plan's agent-side parts: commission legs, and the agent's rows written with the payment (`part`). A plan
   * with more rows of its own (`more`: a cash-out's code or approval taken) writes them in the same transaction.
   */
  #agentParts(
    counter: Counter,
    type: AgentTransactionType,
    quote: CommissionQuote | null,
    check: ActionCheck,
    more?: (tx: Executor, record: TransactionRow) => Promise<void>,
  ): Pick<MovementPlan, 'extraLegs' | 'beforeCommit' | 'part'> {
    return {
      extraLegs: quote ? () => quote.legs : undefined,
      part: this.#agentRows(counter, type, quote, check),
      ...(more ? { beforeCommit: more } : {}),
    };
  }

  /**
   * The posting: checked first without locks against the customer's wallet as read, so the engine commits in one
   * call with the agent's rows (`part`): a cash-in in the group commit's call. A refusal of that check goes to the locked
   * commit, which checks again and records the refusal as it always did.
   */
  async #commit(plan: MovementPlan, wallet: WalletRow, context: RequestContext) {
    const engine = this.#transactions.engine;
    const checked = await engine.check(plan, [wallet]).catch((error: unknown) => {
      if (error instanceof AppError) return undefined;
      throw error;
    });
    return engine.commit(plan, this.#steps(), context, checked);
  }

  #steps() {
    const at = new Date().toISOString();
    return [
      { state: 'initiated' as const, at },
      { state: 'validated' as const, at },
      { state: 'authorized' as const, at },
    ];
  }

  async cashIn(
    principal: Principal,
    input: CashInInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const counter = await this.#counter(principal, input);
    const check = await this.#guard.checkForAction({
      scope: counter.scope,
      storeId: counter.store.id,
      action: 'cash_in',
      location: input.location,
      known: counter,
    });
    try {
      const quote = await this.#quote(counter.agent, 'cash_in', counter.amount, input.currency);
      return await this.#commit(
        {
          type: 'cash_in',
          channel: 'agent',
          initiator: { type: 'agent_operator', id: counter.scope.operatorId },
          source: { kind: 'account', accountId: counter.store.floatAccountId },
          destination: { kind: 'wallet', walletId: counter.wallet.id },
          amount: counter.amount,
          currency: input.currency,
          feeRule: null,
          limits: true,
          narration: input.narration ?? null,
          metadata: this.#metadata(counter, check.checkId, check.decision),
          ...this.#agentParts(counter, 'cash_in', quote, check),
          claim,
        },
        counter.wallet,
        context,
      );
    } catch (error) {
      await keepCheck(check.pending);
      throw floatRefusal(error, counter.store.storeNumber);
    }
  }

  #metadata(counter: Counter, checkId: string, decision: string) {
    return {
      agent_id: counter.agent.id,
      agent_number: counter.agent.agentNumber,
      store_id: counter.store.id,
      store_number: counter.store.storeNumber,
      operator_id: counter.scope.operatorId,
      location_check_id: checkId,
      geofence_decision: decision,
    };
  }

  /** The customer-authorised posting of a cash-out (the code or the approval is taken inside its transaction). */
  async #postCashOut(
    counter: Counter,
    check: ActionCheck,
    take: (tx: Executor, record: TransactionRow) => Promise<void>,
    claim: IdempotencyClaim | null,
    context: RequestContext,
    status: 200 | 201 = 201,
  ) {
    const quote = await this.#quote(counter.agent, 'cash_out', counter.amount, counter.wallet.currency);
    return this.#commit(
      {
        type: 'cash_out',
        channel: 'agent',
        initiator: { type: 'customer', id: counter.customerId },
        source: { kind: 'wallet', walletId: counter.wallet.id },
        destination: { kind: 'account', accountId: counter.store.floatAccountId },
        amount: counter.amount,
        currency: counter.wallet.currency,
        feeRule: 'cash_withdrawal',
        feature: 'cash_out',
        limits: true,
        metadata: this.#metadata(counter, check.checkId, check.decision),
        ...this.#agentParts(counter, 'cash_out', quote, check, take),
        claim,
        status,
      },
      counter.wallet,
      context,
    );
  }

  /**
   * With a code: checked now (a wrong one counts against the customer's codes), taken inside the posting. Without:
   * a pending request the customer approves in the app (202).
   */
  async cashOut(
    principal: Principal,
    input: CashOutInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const counter = await this.#counter(principal, input);
    if (input.code === undefined)
      return { status: 202 as const, body: await this.#request(counter, input, claim) };
    const code = await this.#codes.match({
      customerId: counter.customerId,
      agentId: counter.agent.id,
      amount: counter.amount,
      currency: input.currency,
      code: input.code,
    });
    const check = await this.#guard.checkForAction({
      scope: counter.scope,
      storeId: counter.store.id,
      action: 'cash_out',
      location: input.location,
      known: counter,
    });
    try {
      const body = await this.#postCashOut(
        counter,
        check,
        (tx, record) => this.#codes.take(tx, code.id, record.id),
        claim,
        context,
      );
      return { status: 201 as const, body };
    } catch (error) {
      await keepCheck(check.pending);
      throw error;
    }
  }

  async #request(counter: Counter, input: CashOutInput, claim: IdempotencyClaim | null) {
    const check = await this.#guard.check({
      scope: counter.scope,
      storeId: counter.store.id,
      action: 'cash_out_request',
      location: input.location,
      known: counter,
    });
    const row = await inTransaction(this.#db, async (tx) => {
      const [created] = await tx
        .insert(agentCashOutRequests)
        .values({
          id: uuidv7(),
          operatorId: counter.scope.operatorId,
          agentId: counter.agent.id,
          storeId: counter.store.id,
          customerId: counter.customerId,
          walletId: counter.wallet.id,
          amountMinor: counter.amount,
          currency: counter.wallet.currency,
          locationCheckId: check.checkId,
          expiresAt: new Date(Date.now() + this.#requestTtlMs),
        })
        .returning();
      await claim?.commit(tx, 202, cashOutRequestView(created!));
      return created!;
    });
    // The app is asked after the request exists; a customer without a registered device sees it in the pending list.
    const challengeId = await this.#ask(counter.customerId, row).catch(() => null);
    if (challengeId)
      await this.#db
        .update(agentCashOutRequests)
        .set({ challengeId })
        .where(eq(agentCashOutRequests.id, row.id));
    return cashOutRequestView(row);
  }

  async #requestRow(id: string, executor: Executor = this.#db): Promise<CashOutRequestRow> {
    const [row] = await executor.select().from(agentCashOutRequests).where(eq(agentCashOutRequests.id, id));
    if (!row) throw agentsErrors.AGENT_CASH_OUT_NOT_FOUND();
    return row;
  }

  /** The operator polls their request: only their store's (an admin: their agent's). */
  async getRequest(principal: Principal, id: string) {
    const scope = await this.#scopes.scopeOf(principal);
    const row = await this.#requestRow(id);
    if (row.agentId !== scope.agentId || (scope.storeId !== null && row.storeId !== scope.storeId))
      throw agentsErrors.AGENT_CASH_OUT_NOT_FOUND();
    return cashOutRequestView(row);
  }

  /** A customer's requests waiting for their approval (the app, and the USSD prompt). */
  async pendingCashOuts(customerId: string) {
    const rows = await this.#db
      .select()
      .from(agentCashOutRequests)
      .where(
        and(
          eq(agentCashOutRequests.customerId, customerId),
          eq(agentCashOutRequests.status, 'pending'),
          gt(agentCashOutRequests.expiresAt, sql`now()`),
        ),
      )
      .orderBy(desc(agentCashOutRequests.createdAt))
      .limit(20);
    return { items: rows.map(cashOutRequestView) };
  }

  async #ownPending(customerId: string, id: string): Promise<CashOutRequestRow> {
    const row = await this.#requestRow(id);
    if (row.customerId !== customerId) throw agentsErrors.AGENT_CASH_OUT_NOT_FOUND();
    const status = requestStatus(row);
    if (status !== 'pending') throw agentsErrors.AGENT_CASH_OUT_NOT_PENDING({ params: { status } });
    return row;
  }

  /** The customer approves with PIN: the cash-out posts (the request completes in the posting's transaction). */
  async approveCashOut(
    customerId: string,
    id: string,
    authorization: Authorization,
    context: RequestContext,
  ) {
    const row = await this.#ownPending(customerId, id);
    await this.#transactions.authorizer.authorize(
      customerId,
      {
        type: 'cash_out',
        source: row.walletId,
        payee: row.storeId,
        amount: row.amountMinor,
        currency: row.currency,
      },
      authorization,
    );
    const agent = await this.#directory.agent(row.agentId);
    const store = await this.#directory.store(row.storeId);
    const operator = await this.#directory.operator(row.operatorId);
    await this.#directory.assertOperational(agent, store);
    const counter: Counter = {
      scope: { operatorId: operator.id, agentId: agent.id, storeId: store.id, role: operator.role },
      agent,
      store,
      customerId,
      wallet: await this.#wallets.row(row.walletId),
      amount: row.amountMinor,
    };
    try {
      return await this.#postCashOut(
        counter,
        { checkId: row.locationCheckId!, decision: 'approved', pending: null },
        async (tx, record) => {
          const done = await tx
            .update(agentCashOutRequests)
            .set({ status: 'completed', transactionId: record.id, updatedAt: new Date() })
            .where(and(eq(agentCashOutRequests.id, id), eq(agentCashOutRequests.status, 'pending')))
            .returning({ id: agentCashOutRequests.id });
          if (done.length === 0)
            throw agentsErrors.AGENT_CASH_OUT_NOT_PENDING({ params: { status: 'completed' } });
        },
        null,
        context,
        201,
      );
    } catch (error) {
      // A refusal of the payment itself (balance, limits, the agent's day) ends the request: the operator sees why.
      if (error instanceof AppError && error.errorCode !== 'AGENT_CASH_OUT_NOT_PENDING')
        await this.#db
          .update(agentCashOutRequests)
          .set({ status: 'failed', failureCode: error.errorCode, updatedAt: new Date() })
          .where(and(eq(agentCashOutRequests.id, id), eq(agentCashOutRequests.status, 'pending')));
      throw error;
    }
  }

  async rejectCashOut(customerId: string, id: string) {
    await this.#ownPending(customerId, id);
    const [row] = await this.#db
      .update(agentCashOutRequests)
      .set({ status: 'rejected', updatedAt: new Date() })
      .where(and(eq(agentCashOutRequests.id, id), eq(agentCashOutRequests.status, 'pending')))
      .returning();
    if (!row) throw agentsErrors.AGENT_CASH_OUT_NOT_PENDING({ params: { status: 'decided' } });
    return cashOutRequestView(row);
  }

  // ---- Activity (AgentActivityReads, for agent performance) ------------------------------------------------------

  /** Completed cash-ins and cash-outs of the agent's stores in [from, to), by UTC day and type. */
  async dailyVolumes(agentId: string, from: Date, to: Date) {
    const day = sql<string>`to_char(${agentCashMovements.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
    const rows = await this.#db
      .select({
        day,
        type: agentCashMovements.type,
        count: sql<number>`count(*)::int`,
        value: sql<string>`sum(${agentCashMovements.amountMinor})::text`,
      })
      .from(agentCashMovements)
      .where(
        and(
          eq(agentCashMovements.agentId, agentId),
          gte(agentCashMovements.createdAt, from),
          lt(agentCashMovements.createdAt, to),
        ),
      )
      .groupBy(day, agentCashMovements.type)
      .orderBy(day, agentCashMovements.type);
    return rows.map((row) => ({
      day: row.day,
      type: row.type as AgentTransactionType,
      count: row.count,
      value: BigInt(row.value),
    }));
  }

  /** How many distinct customers the agent's stores served in [from, to). */
  async customersServed(agentId: string, from: Date, to: Date): Promise<number> {
    const [row] = await this.#db
      .select({ count: sql<number>`count(distinct ${agentCashMovements.customerId})::int` })
      .from(agentCashMovements)
      .where(
        and(
          eq(agentCashMovements.agentId, agentId),
          gte(agentCashMovements.createdAt, from),
          lt(agentCashMovements.createdAt, to),
        ),
      );
    return row?.count ?? 0;
  }
}
