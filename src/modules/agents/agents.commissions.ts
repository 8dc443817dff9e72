/**
 * Commissions (issue 19): plans by transaction type and amount band, the quote a cash-in or cash-out posts with its
 * own legs (accrued in the same posting), payouts to the agent's float or the owner's wallet through the payment
 * engine, clawback when a cash transaction is reversed, and the statements staff and agent admins read.
 *
 * Ledger shape. A commission is an expense of the bank owed to the agent until paid: its legs debit the house account
 * `agent_commission_expense:<CUR>` (deferred: every cash-in adds a delta instead of locking one row, the ledger's hot
 * account design) and credit each beneficiary's commission payable account. A payout debits the payable and credits
 * the agent's float (or the owner's wallet). A payout pays what is accrued, but never more than the payable holds: a
 * reversal that took back an already paid commission left the payable short (a clawback debt), and the next payouts
 * net it.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { DomainEvent } from '../../platform/events.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo } from '../../platform/money.ts';
import type { transactionReversed } from '../disputes/index.ts';
import { batchTransfers, type LedgerService, type Leg } from '../ledger/index.ts';
import { findTransaction, type Party, type PaymentEngine } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import {
  accruedBefore,
  agentRow,
  agentsOnPlan,
  clearDefault,
  commissionsOfTransaction,
  commissionTotals,
  defaultPlan,
  insertAccruals,
  insertPayout,
  insertPlan,
  lastPayout,
  listPlans,
  markClawedBack,
  markPaid,
  type PayoutRow,
  payoutById,
  payoutCommissions,
  planById,
  updatePlan,
} from './agents.commission.repository.ts';
import {
  bandErrors,
  bandFor,
  COMMISSION_TYPES,
  commissionOf,
  splitCommission,
} from './agents.commission.rules.ts';
import { agentsErrors } from './agents.errors.ts';
import type {
  AgentRow,
  AgentTransactionType,
  CommissionPlanRow,
  CommissionPort,
  CommissionQuote,
} from './agents.ports.ts';
import type { CommissionBand } from './agents.tables.ts';

/** The leg code of a commission accrual (a reversal that inverts a transaction's legs finds its commission by it). */
export const COMMISSION_LEG = 'commission';
export const CLAWBACK_LEG = 'commission_clawback';
export const PAYOUT_DESTINATIONS = ['float', 'wallet'] as const;
export type PayoutDestination = (typeof PAYOUT_DESTINATIONS)[number];

export const EXPENSE_SPEC = { name: 'Agent commission expense', kind: 'expense' as const, deferred: true };
/** How long a node keeps a commission plan it quoted with (`#quotedPlan`). */
const PLAN_CACHE_MS = 30_000;
export const expenseAccountCode = (currency: string) => `agent_commission_expense:${currency}`;

export interface PlanInput {
  code: string;
  name: string;
  currency: string;
  rules: Partial<Record<'cash_in' | 'cash_out', CommissionBand[]>>;
  super_agent_share_bps?: number;
  is_default?: boolean;
  payout_destination?: PayoutDestination;
}

export interface PlanChange {
  name?: string;
  rules?: Partial<Record<'cash_in' | 'cash_out', CommissionBand[]>>;
  super_agent_share_bps?: number;
  is_default?: boolean;
  payout_destination?: PayoutDestination;
  active?: boolean;
}

export function planView(row: CommissionPlanRow) {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    currency: row.currency,
    rules: row.rules,
    super_agent_share_bps: row.superAgentShareBps,
    is_default: row.isDefault,
    payout_destination: row.payoutDestination,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function payoutView(row: PayoutRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    period_start: row.periodStart.toISOString(),
    period_end: row.periodEnd.toISOString(),
    amount_minor: row.amountMinor.toString(),
    currency: row.currency,
    destination: row.destination,
    transaction_id: row.transactionId,
    commission_count: row.commissionCount,
    created_at: row.createdAt.toISOString(),
  };
}

export interface PayoutSkip {
  agent_id: string;
  currency: string;
  accrued_minor: string;
  reason: 'clawback_debt' | 'no_wallet' | 'agent_closed' | 'failed';
  /** For `failed`: the refusal's error code. */
  error_code?: string;
}

export interface CommissionServiceOptions {
  db: Executor;
  ledger: LedgerService;
  engine: PaymentEngine;
  wallets: WalletsService;
  /** Where a plan's payouts go when it does not say (the module config's default). */
  defaultDestination?: PayoutDestination;
}

export class CommissionService implements CommissionPort {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #engine: PaymentEngine;
  readonly #wallets: WalletsService;
  /** Plans by `<agent's plan id>:<currency>` for quoting (`#quotedPlan`). */
  readonly #plans = new Map<string, { plan: Awaited<ReturnType<typeof defaultPlan>>; until: number }>();
  #plansGeneration = 0;

  constructor(options: CommissionServiceOptions) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#engine = options.engine;
    this.#wallets = options.wallets;
  }

  // ---- Plans ----

  async createPlan(input: PlanInput, context: RequestContext) {
    currencyInfo(input.currency);
    this.#assertRules(input.rules);
    return this.#changingPlans(() =>
      inTransaction(this.#db, async (tx) => {
        const id = uuidv7();
        if (input.is_default) await clearDefault(tx, input.currency, id);
        const row = await insertPlan(tx, {
          id,
          code: input.code,
          name: input.name,
          currency: input.currency,
          rules: input.rules as Record<string, CommissionBand[]>,
          superAgentShareBps: input.super_agent_share_bps ?? 0,
          isDefault: input.is_default ?? false,
          payoutDestination: input.payout_destination ?? 'float',
        });
        if (!row) throw agentsErrors.AGENT_COMMISSION_PLAN_EXISTS({ params: { code: input.code } });
        await writeAudit(tx, context, {
          action: 'agent.commission_plan.created',
          entityType: 'agent_commission_plan',
          entityId: row.id,
          after: planView(row),
        });
        return planView(row);
      }),
    );
  }

  async updatePlan(id: string, change: PlanChange, context: RequestContext) {
    if (change.rules) this.#assertRules(change.rules);
    return this.#changingPlans(() =>
      inTransaction(this.#db, async (tx) => {
        const before = await planById(tx, id, true);
        if (!before) throw agentsErrors.AGENT_COMMISSION_PLAN_NOT_FOUND();
        if (change.active === false && (before.isDefault || (await agentsOnPlan(tx, id)) > 0))
          throw agentsErrors.AGENT_COMMISSION_PLAN_IN_USE({ params: { code: before.code } });
        if (change.is_default === false && before.isDefault)
          throw agentsErrors.AGENT_COMMISSION_PLAN_IN_USE({ params: { code: before.code } });
        if (change.is_default) await clearDefault(tx, before.currency, id);
        const row = await updatePlan(tx, id, {
          ...(change.name !== undefined && { name: change.name }),
          ...(change.rules !== undefined && { rules: change.rules as Record<string, CommissionBand[]> }),
          ...(change.super_agent_share_bps !== undefined && {
            superAgentShareBps: change.super_agent_share_bps,
          }),
          ...(change.is_default !== undefined && { isDefault: change.is_default }),
          ...(change.payout_destination !== undefined && { payoutDestination: change.payout_destination }),
          ...(change.active !== undefined && { active: change.active }),
        });
        await writeAudit(tx, context, {
          action: 'agent.commission_plan.updated',
          entityType: 'agent_commission_plan',
          entityId: id,
          before: planView(before),
          after: planView(row),
        });
        return planView(row);
      }),
    );
  }

  async plan(id: string) {
    const row = await planById(this.#db, id);
    if (!row) throw agentsErrors.AGENT_COMMISSION_PLAN_NOT_FOUND();
    return planView(row);
  }

  async plans(filter: { currency?: string; active?: boolean }) {
    return { items: (await listPlans(this.#db, filter)).map(planView) };
  }

  #assertRules(rules: Record<string, CommissionBand[] | undefined>): void {
    const errors = bandErrors(
      Object.fromEntries(Object.entries(rules).filter(([, bands]) => bands !== undefined)) as Record<
        string,
        CommissionBand[]
      >,
    );
    if (errors.length > 0) throw commonErrors.validation('The commission rules are not valid', { errors });
  }

  /** The agent's plan in the currency: its own when it has one in that currency, else the currency's default. */
  async #planFor(agent: AgentRow, currency: string, executor: Executor = this.#db) {
    if (agent.commissionPlanId) {
      const own = await planById(executor, agent.commissionPlanId);
      if (own?.active && own.currency === currency) return own;
    }
    return defaultPlan(executor, currency);
  }

  /**
   * `#planFor` for quoting a cash-in or cash-out: plans change rarely, so this node keeps the answer for
   * PLAN_CACHE_MS (a change made here clears it at once; one made on another node is seen within that time). The
   * agent row (which plan it is on) is read live by the caller.
   */
  async #quotedPlan(agent: AgentRow, currency: string) {
    const key = `${agent.commissionPlanId ?? ''}:${currency}`;
    const now = Date.now();
    const cached = this.#plans.get(key);
    if (cached && cached.until > now) return cached.plan;
    const generation = this.#plansGeneration;
    const plan = await this.#planFor(agent, currency);
    // A change committed on this node while the read ran may not be in it: not kept then.
    if (generation === this.#plansGeneration) this.#plans.set(key, { plan, until: now + PLAN_CACHE_MS });
    return plan;
  }

  /** Runs a change of the plans, then forgets the cached ones (whatever its outcome). */
  async #changingPlans<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      this.#plansChanged();
    }
  }

  /** Forgets the cached plans (after a plan is created or changed on this node). */
  #plansChanged(): void {
    this.#plansGeneration += 1;
    this.#plans.clear();
  }

  // ---- Accrual (CommissionPort) ----

  async quote(
    agent: AgentRow,
    type: AgentTransactionType,
    amount: bigint,
    currency: string,
  ): Promise<CommissionQuote | null> {
    if (!(COMMISSION_TYPES as readonly string[]).includes(type) || amount <= 0n) return null;
    const plan = await this.#quotedPlan(agent, currency);
    if (!plan) return null;
    const band = bandFor(plan.rules[type] ?? [], amount);
    if (!band) return null;
    const total = commissionOf(band, amount);
    if (total <= 0n) return null;
    const parent = agent.parentId ? await agentRow(this.#db, agent.parentId) : undefined;
    const split = parent ? splitCommission(total, plan.superAgentShareBps) : { agent: total, superAgent: 0n };
    const expense = await this.#ledger.houseAccount(expenseAccountCode(currency), EXPENSE_SPEC);
    const legs: Leg[] = [];
    const accruals: CommissionQuote['accruals'] = [];
    if (split.agent > 0n) {
      legs.push({
        debit: expense,
        credit: agent.commissionAccountId,
        amount: split.agent,
        code: COMMISSION_LEG,
      });
      accruals.push({ agentId: agent.id, sourceAgentId: agent.id, amount: split.agent });
    }
    if (parent && split.superAgent > 0n) {
      legs.push({
        debit: expense,
        credit: parent.commissionAccountId,
        amount: split.superAgent,
        code: COMMISSION_LEG,
      });
      accruals.push({ agentId: parent.id, sourceAgentId: agent.id, amount: split.superAgent });
    }
    return { currency, legs, accruals };
  }

  async record(
    tx: Executor,
    transactionId: string,
    type: AgentTransactionType,
    quote: CommissionQuote,
  ): Promise<void> {
    await insertAccruals(tx, this.#accrualRows(transactionId, type, quote));
  }

  #accrualRows(transactionId: string, type: AgentTransactionType, quote: CommissionQuote) {
    return quote.accruals.map((accrual) => ({
      id: uuidv7(),
      transactionId,
      agentId: accrual.agentId,
      sourceAgentId: accrual.sourceAgentId,
      transactionType: type,
      amountMinor: accrual.amount,
      currency: quote.currency,
    }));
  }

  // ---- Payouts ----

  /**
   * Pays every agent (or the one named) what accrued before `period_end` (default now): one payout per agent and
   * currency, each its own `commission_payout` movement. Idempotent per (agent, period): accruals once paid are not
   * accrued any more, and the payout row is unique per agent and period.
   */
  async payout(
    input: { period_end?: string; agent_id?: string },
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ) {
    const now = new Date();
    const end = input.period_end ? new Date(input.period_end) : now;
    if (Number.isNaN(end.getTime()) || end.getTime() > now.getTime())
      throw agentsErrors.AGENT_COMMISSION_PERIOD_INVALID({
        params: { reason: 'period_end is in the future' },
      });
    if (input.agent_id && !(await agentRow(this.#db, input.agent_id)))
      throw agentsErrors.AGENT_COMMISSION_AGENT_NOT_FOUND();
    // Accruals credit the payable accounts as deferred deltas (hot accounts); the payable's guard counts only
    // rolled-up credits, so roll them up first (what the ledger's minute job does).
    await this.#ledger.rollUp();
    const payouts: ReturnType<typeof payoutView>[] = [];
    const skipped: PayoutSkip[] = [];
    for (const group of await accruedBefore(this.#db, end, input.agent_id)) {
      let outcome: Awaited<ReturnType<CommissionService['payOne']>>;
      try {
        outcome = await this.payOne(group, end, context);
      } catch (error) {
        // One agent's refusal (its wallet frozen, its accruals changed meanwhile) does not stop the others' payouts
        // in a run for every agent; a run for one agent answers the error itself.
        if (input.agent_id || !(error instanceof AppError)) throw error;
        outcome = {
          agent_id: group.agentId,
          currency: group.currency,
          accrued_minor: group.total.toString(),
          reason: 'failed',
          error_code: error.errorCode,
        };
      }
      if ('reason' in outcome) skipped.push(outcome);
      else if (outcome.payout) payouts.push(payoutView(outcome.payout));
    }
    const body = { period_end: end.toISOString(), payouts, skipped };
    // Each payout committed on its own (and is idempotent per period); the answer is kept for the key's replays.
    if (claim) await inTransaction(this.#db, (tx) => claim.commit(tx, 200, body));
    return body;
  }

  /** One agent's payout in one currency (exposed for tests; `payout` is the use case). */
  async payOne(
    group: { agentId: string; currency: string; count: number; total: bigint; earliest: Date },
    end: Date,
    context: RequestContext,
  ): Promise<{ payout: PayoutRow | null } | PayoutSkip> {
    const skip = (reason: PayoutSkip['reason']): PayoutSkip => ({
      agent_id: group.agentId,
      currency: group.currency,
      accrued_minor: group.total.toString(),
      reason,
    });
    const agent = (await agentRow(this.#db, group.agentId))!;
    if (agent.status === 'closed') return skip('agent_closed');
    const plan = await this.#planFor(agent, group.currency);
    const destination: PayoutDestination = plan?.payoutDestination ?? 'float';
    let party: Party;
    if (destination === 'wallet') {
      const wallet = await this.#wallets.findCustomerWallet(agent.ownerCustomerId, group.currency);
      if (!wallet) return skip('no_wallet');
      party = { kind: 'wallet', walletId: wallet.id };
    } else party = { kind: 'account', accountId: agent.floatAccountId };
    // What a clawback took back after a payout is owed first: the debt is what the payable holds less than every
    // accrual not yet paid, read in one snapshot with the payable's balance (its deferred credits included: an
    // accrual committed after the roll-up is owed, not debt). Paying min(total, rolled-up credits) instead marked
    // such accruals paid without paying them (found by test/reliability/agents-ledger.test.ts).
    const { balance, held, owed } = await inTransaction(
      this.#db,
      async (tx) => {
        const [account] = await this.#ledger.accounts([agent.commissionAccountId], tx);
        const unpaid = await accruedBefore(tx, new Date('9999-12-31T00:00:00Z'), agent.id);
        return {
          balance: (await this.#ledger.balance(agent.commissionAccountId, tx)).balance,
          held: account!.creditsPosted - account!.debitsPosted - account!.debitsPending,
          owed: unpaid.find((item) => item.currency === group.currency)?.total ?? 0n,
        };
      },
      { isolation: 'repeatable read' },
    );
    const debt = owed > balance ? owed - balance : 0n;
    const amount = group.total - debt;
    if (amount <= 0n) return skip('clawback_debt');
    // Accruals of the period whose credit is not rolled up yet (the payable's guard spends only rolled-up credits):
    // nothing is paid, the next run pays them.
    if (amount > held) throw agentsErrors.AGENT_COMMISSION_PAYOUT_CHANGED({ params: { agent_id: agent.id } });
    const previous = await lastPayout(this.#db, agent.id, group.currency);
    const periodStart =
      previous && previous.periodEnd.getTime() <= group.earliest.getTime()
        ? previous.periodEnd
        : group.earliest;
    const payoutId = uuidv7();
    const at = new Date().toISOString();
    const made: { payout: PayoutRow | null } = { payout: null };
    try {
      await this.#engine.commit(
        {
          type: 'commission_payout',
          channel: 'back_office',
          initiator:
            context.actor.type === 'user'
              ? { type: 'user', id: context.actor.id }
              : { type: 'system', id: null },
          source: { kind: 'account', accountId: agent.commissionAccountId },
          destination: party,
          amount,
          currency: group.currency,
          feeRule: null,
          limits: false,
          narration: `Commission payout ${agent.agentNumber} to ${end.toISOString().slice(0, 10)}`,
          metadata: {
            agent_id: agent.id,
            payout_id: payoutId,
            period_start: periodStart.toISOString(),
            period_end: end.toISOString(),
            accrued_minor: group.total.toString(),
          },
          beforeCommit: async (tx, record) => {
            made.payout = await insertPayout(tx, {
              id: payoutId,
              agentId: agent.id,
              periodStart,
              periodEnd: end,
              amountMinor: amount,
              currency: group.currency,
              destination,
              transactionId: record.id,
              commissionCount: group.count,
            });
            const marked = await markPaid(tx, {
              agentId: agent.id,
              currency: group.currency,
              before: end,
              payoutId,
            });
            if (marked.count !== group.count || marked.total !== group.total)
              throw agentsErrors.AGENT_COMMISSION_PAYOUT_CHANGED({ params: { agent_id: agent.id } });
          },
        },
        [
          { state: 'initiated', at },
          { state: 'validated', at },
          { state: 'authorized', at },
        ],
        context,
      );
    } catch (error) {
      // A payout of the same agent and period ran at the same time and committed first: it paid these accruals.
      if (violatedConstraint(error) === 'agent_commission_payouts_period_key') return { payout: null };
      // Another payout of this agent (another period_end) debited the payable after `held` was read: the same
      // race as changed accruals, and nothing was paid (it answered an undeclared 422 INSUFFICIENT_BALANCE).
      if (error instanceof AppError && error.errorCode === 'INSUFFICIENT_BALANCE')
        throw agentsErrors.AGENT_COMMISSION_PAYOUT_CHANGED({ params: { agent_id: agent.id } });
      throw error;
    }
    return made;
  }

  /** A payout with its commissions (paginated, oldest first). Operators see only their own agent's. */
  async statement(id: string, page: { limit?: number; cursor?: string }, ownAgentId?: string) {
    const payout = await payoutById(this.#db, id);
    if (!payout || (ownAgentId !== undefined && payout.agentId !== ownAgentId))
      throw agentsErrors.AGENT_COMMISSION_PAYOUT_NOT_FOUND();
    const limit = page.limit ?? 20;
    const after = page.cursor ? decodeId(page.cursor) : null;
    const rows = await payoutCommissions(this.#db, id, after, limit);
    const items = rows.slice(0, limit).map(commissionView);
    return {
      payout: payoutView(payout),
      commissions: {
        items,
        next_cursor:
          rows.length > limit ? Buffer.from(items[items.length - 1]!.id).toString('base64url') : null,
      },
    };
  }

  /** An agent's commissions: accrued (owed), paid and clawed back, per currency. */
  async totals(agentId: string) {
    const agent = await agentRow(this.#db, agentId);
    if (!agent) throw agentsErrors.AGENT_COMMISSION_AGENT_NOT_FOUND();
    const rows = await commissionTotals(this.#db, agentId);
    const currencies = [...new Set([agent.currency, ...rows.map((row) => row.currency)])];
    const payable = await this.#ledger.balance(agent.commissionAccountId);
    return {
      agent_id: agentId,
      payable_balance_minor: payable.balance.toString(),
      totals: currencies.map((currency) => {
        const of = (status: string) => rows.find((row) => row.currency === currency && row.status === status);
        return {
          currency,
          accrued_minor: (of('accrued')?.total ?? 0n).toString(),
          accrued_count: of('accrued')?.count ?? 0,
          paid_minor: (of('paid')?.total ?? 0n).toString(),
          paid_count: of('paid')?.count ?? 0,
          clawed_back_minor: (of('clawed_back')?.total ?? 0n).toString(),
          clawed_back_count: of('clawed_back')?.count ?? 0,
        };
      }),
    };
  }

  // ---- Clawback ----

  /**
   * A reversed cash-in or cash-out takes its commissions back, in the event's dispatch transaction (idempotent: rows
   * already clawed back are left). The payment engine's reversal inverts every leg of the original, commission legs
   * included: then the ledger side is done and the rows are only marked. A reversal that did not invert them gets
   * its own posting: an accrued commission debits the payable back to the expense; a paid one debits the agent's
   * float (guarded: an agent whose float cannot cover it fails the handler, and the event waits in the consumer's
   * dead letters for staff).
   */
  async clawback(tx: Executor, event: DomainEvent<typeof transactionReversed>): Promise<void> {
    const payload = event.payload;
    if (!(COMMISSION_TYPES as readonly string[]).includes(payload.type)) return;
    const open = (await commissionsOfTransaction(tx, payload.transaction_id)).filter(
      (row) => row.status !== 'clawed_back',
    );
    if (open.length === 0) return;
    const reversal = await findTransaction(tx, payload.reversal_transaction_id);
    const inverted = reversal?.ledgerBatchId
      ? (await batchTransfers(tx, reversal.ledgerBatchId, { code: COMMISSION_LEG })).length > 0
      : false;
    if (!inverted) {
      const legs: Leg[] = [];
      for (const row of open) {
        const agent = (await agentRow(tx, row.agentId))!;
        const expense = await this.#ledger.houseAccount(expenseAccountCode(row.currency), EXPENSE_SPEC, tx);
        legs.push({
          debit: row.status === 'paid' ? agent.floatAccountId : agent.commissionAccountId,
          credit: expense,
          amount: row.amountMinor,
          code: CLAWBACK_LEG,
        });
      }
      await this.#ledger.post(tx, {
        key: `agent-commission-clawback:${payload.transaction_id}`,
        code: CLAWBACK_LEG,
        reference: payload.reversal_reference,
        metadata: {
          transaction_id: payload.transaction_id,
          reversal_transaction_id: payload.reversal_transaction_id,
        },
        legs,
      });
    }
    await markClawedBack(
      tx,
      open.map((row) => row.id),
      payload.reversal_transaction_id,
    );
  }
}

function decodeId(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw commonErrors.validation('Invalid cursor', {
      errors: [{ field: 'query.cursor', message: 'is not a cursor' }],
    });
  return id;
}

export function commissionView(row: Awaited<ReturnType<typeof payoutCommissions>>[number]) {
  return {
    id: row.id,
    transaction_id: row.transactionId,
    agent_id: row.agentId,
    source_agent_id: row.sourceAgentId,
    transaction_type: row.transactionType,
    amount_minor: row.amountMinor.toString(),
    currency: row.currency,
    status: row.status,
    payout_id: row.payoutId,
    clawback_transaction_id: row.clawbackTransactionId,
    accrued_at: row.accruedAt.toISOString(),
  };
}
