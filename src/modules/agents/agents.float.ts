/**
 * The agent network's float: top-ups from bank deposits (an agent admin or staff asks, another staff member confirms
 * with the bank reference: a `float_topup` from the bank-cash house account), rebalancing between an agent and its
 * stores, between stores of one agent and between a super-agent and its agents (`float_transfer`), and positions read
 * from the ledger. Every movement goes through the payment engine (same ledger, outbox and idempotency).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { RequestContext } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, positiveAmount } from '../../platform/money.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { MovementPlan, Party, TransactionsService } from '../transactions/index.ts';
import { agentsErrors } from './agents.errors.ts';
import type { AgentDirectory, AgentRow, OperatorScope, OperatorScopes, StoreRow } from './agents.ports.ts';
import { agentFloatDeposits, agentStores, agents } from './agents.tables.ts';

export type FloatDepositRow = typeof agentFloatDeposits.$inferSelect;

/** One float: an agent's own (store null) or one of its stores'. */
export interface FloatHolder {
  agent: AgentRow;
  store: StoreRow | null;
  accountId: string;
}

export interface FloatRef {
  agent_id?: string;
  store_id?: string;
}

const AUTHORIZED = () => {
  const at = new Date().toISOString();
  return [
    { state: 'initiated' as const, at },
    { state: 'validated' as const, at },
    { state: 'authorized' as const, at },
  ];
};

/** The engine's refusal of a paying float, in the agent network's terms. */
export function floatRefusal(error: unknown, account: string): unknown {
  if (error instanceof AppError && error.errorCode === 'INSUFFICIENT_BALANCE') {
    const details = (error.details ?? {}) as { required?: unknown; available?: unknown };
    return agentsErrors.AGENT_FLOAT_INSUFFICIENT({
      params: {
        account,
        available: String(details.available ?? '0'),
        required: String(details.required ?? '0'),
      },
      details: { required: String(details.required ?? '0'), available: String(details.available ?? '0') },
    });
  }
  return error;
}

function limitOf(agent: AgentRow, key: 'float_max_minor' | 'rebalance_single_minor'): bigint | null {
  const value = agent.limits?.[key];
  return value === undefined || value === null ? null : BigInt(value);
}

export function depositView(row: FloatDepositRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    store_id: row.storeId,
    amount: row.amountMinor,
    currency: row.currency,
    bank_reference: row.bankReference,
    status: row.status,
    requested_by_type: row.requestedByType,
    requested_by_id: row.requestedById,
    decided_by: row.decidedBy,
    decision_reason: row.decisionReason,
    transaction_id: row.transactionId,
    created_at: row.createdAt.toISOString(),
    decided_at: row.decidedAt?.toISOString() ?? null,
  };
}

export class AgentFloat {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #transactions: TransactionsService;
  readonly #directory: AgentDirectory;
  readonly #scopes: OperatorScopes;

  constructor(options: {
    db: Executor;
    ledger: LedgerService;
    transactions: TransactionsService;
    directory: AgentDirectory;
    scopes: OperatorScopes;
  }) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#transactions = options.transactions;
    this.#directory = options.directory;
    this.#scopes = options.scopes;
  }

  /** The float a reference names (exactly one of agent_id, store_id). */
  async holder(ref: FloatRef): Promise<FloatHolder> {
    if ((ref.agent_id === undefined) === (ref.store_id === undefined))
      throw commonErrors.badRequest('Name exactly one of agent_id and store_id');
    if (ref.store_id !== undefined) {
      const store = await this.#directory.store(ref.store_id);
      const agent = await this.#directory.agent(store.agentId);
      return { agent, store, accountId: store.floatAccountId };
    }
    const agent = await this.#directory.agent(ref.agent_id!);
    return { agent, store: null, accountId: agent.floatAccountId };
  }

  /**
   * Who may act on a float: staff with the permission on any; an agent admin on its own agent's floats (and a
   * super-agent's admin on its agents' own floats); a float outside an admin's agent is 404, as if it did not exist;
   * anyone else is refused (AGENT_FLOAT_NOT_PERMITTED).
   */
  async #mayAct(
    principal: Principal,
    holder: FloatHolder,
    staffPermission: string,
  ): Promise<OperatorScope | null> {
    const refused = () => agentsErrors.AGENT_FLOAT_NOT_PERMITTED({ params: { permission: staffPermission } });
    if (principal.type === 'user') {
      if (!principal.permissions.has(staffPermission)) throw refused();
      return null;
    }
    if (principal.type !== 'agent_operator') throw refused();
    const scope = await this.#scopes.scopeOf(principal);
    if (scope.role !== 'agent_admin' || !principal.permissions.has('agent_op:admin')) throw refused();
    if (holder.agent.id === scope.agentId) return scope;
    if (holder.store === null && holder.agent.parentId === scope.agentId) return scope;
    // Outside the admin's agent: as if it did not exist.
    throw holder.store ? agentsErrors.AGENT_STORE_NOT_FOUND() : agentsErrors.AGENT_NOT_FOUND();
  }

  /**
   * Refuses, before the body is looked at or anything read, whoever may act on no float at all (customers, tellers,
   * staff without the permission): 403 AGENT_FLOAT_NOT_PERMITTED, never a 400 or 404 that would answer for them.
   */
  #gate(principal: Principal, ...staffPermissions: string[]): void {
    const allowed =
      principal.type === 'user'
        ? staffPermissions.some((permission) => principal.permissions.has(permission))
        : principal.type === 'agent_operator' && principal.permissions.has('agent_op:admin');
    if (!allowed)
      throw agentsErrors.AGENT_FLOAT_NOT_PERMITTED({ params: { permission: staffPermissions.at(-1)! } });
  }

  // ---- Bank deposits -------------------------------------------------------------------------------------------

  async requestDeposit(
    principal: Principal,
    input: FloatRef & { amount: number; currency: string; bank_reference: string },
  ) {
    this.#gate(principal, 'agent:float');
    const amount = positiveAmount(input.amount);
    currencyInfo(input.currency);
    const holder = await this.holder(input);
    await this.#mayAct(principal, holder, 'agent:float');
    if (holder.agent.currency !== input.currency)
      throw commonErrors.badRequest(`The agent's float is in ${holder.agent.currency}`);
    const [row] = await this.#db
      .insert(agentFloatDeposits)
      .values({
        id: uuidv7(),
        agentId: holder.agent.id,
        storeId: holder.store?.id ?? null,
        amountMinor: amount,
        currency: input.currency,
        bankReference: input.bank_reference.trim(),
        requestedByType: principal.type,
        requestedById: principal.id,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw agentsErrors.AGENT_BANK_REFERENCE_USED();
    return depositView(row);
  }

  async #deposit(id: string, tx: Executor = this.#db, lock = false): Promise<FloatDepositRow> {
    const query = tx.select().from(agentFloatDeposits).where(eq(agentFloatDeposits.id, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw agentsErrors.AGENT_FLOAT_DEPOSIT_NOT_FOUND();
    return row;
  }

  async getDeposit(principal: Principal, id: string) {
    this.#gate(principal, 'agent:float', 'agent:read');
    const row = await this.#deposit(id);
    if (principal.type !== 'user') {
      const holder = await this.holder(row.storeId ? { store_id: row.storeId } : { agent_id: row.agentId });
      await this.#mayAct(principal, holder, 'agent:float').catch(() => {
        throw agentsErrors.AGENT_FLOAT_DEPOSIT_NOT_FOUND();
      });
    }
    return depositView(row);
  }

  async listDeposits(query: { status?: 'pending' | 'confirmed' | 'rejected'; agent_id?: string }) {
    const conditions = [];
    if (query.status) conditions.push(eq(agentFloatDeposits.status, query.status));
    if (query.agent_id) conditions.push(eq(agentFloatDeposits.agentId, query.agent_id));
    const rows = await this.#db
      .select()
      .from(agentFloatDeposits)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(agentFloatDeposits.createdAt)
      .limit(200);
    return { items: rows.map(depositView) };
  }

  async #bankAccount(currency: string): Promise<string> {
    return this.#ledger.houseAccount(`agent_float_bank:${currency}`, {
      name: 'Agent float: bank deposits',
      kind: 'asset',
      deferred: false,
    });
  }

  /** A second staff member confirms: the float is credited from the bank-cash house account (one transaction). */
  async confirmDeposit(principal: Principal, id: string, context: RequestContext) {
    const pending = await this.#deposit(id);
    if (pending.status !== 'pending')
      throw agentsErrors.AGENT_FLOAT_DEPOSIT_DECIDED({ params: { status: pending.status } });
    if (pending.requestedByType === 'user' && pending.requestedById === principal.id)
      throw agentsErrors.AGENT_FLOAT_SELF_APPROVAL();
    const holder = await this.holder(
      pending.storeId ? { store_id: pending.storeId } : { agent_id: pending.agentId },
    );
    const bank = await this.#bankAccount(pending.currency);
    const max = limitOf(holder.agent, 'float_max_minor');
    const plan: MovementPlan = {
      type: 'float_topup',
      channel: 'back_office',
      initiator: { type: 'user', id: principal.id },
      source: { kind: 'account', accountId: bank },
      destination: { kind: 'account', accountId: holder.accountId },
      amount: pending.amountMinor,
      currency: pending.currency,
      feeRule: null,
      limits: false,
      narration: `Float top-up ${pending.bankReference}`,
      metadata: {
        agent_id: holder.agent.id,
        store_id: holder.store?.id ?? null,
        float_deposit_id: pending.id,
        bank_reference: pending.bankReference,
      },
      beforeCommit: async (tx, record) => {
        const row = await this.#deposit(id, tx, true);
        if (row.status !== 'pending')
          throw agentsErrors.AGENT_FLOAT_DEPOSIT_DECIDED({ params: { status: row.status } });
        if (max !== null) await this.#assertUnderMax(tx, holder.accountId, max);
        await tx
          .update(agentFloatDeposits)
          .set({
            status: 'confirmed',
            decidedBy: principal.id,
            decidedAt: new Date(),
            transactionId: record.id,
          })
          .where(eq(agentFloatDeposits.id, id));
      },
    };
    const transaction = await this.#transactions.engine.commit(plan, AUTHORIZED(), context);
    return { deposit: depositView(await this.#deposit(id)), transaction };
  }

  async rejectDeposit(principal: Principal, id: string, reason: string) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#deposit(id, tx, true);
      if (row.status !== 'pending')
        throw agentsErrors.AGENT_FLOAT_DEPOSIT_DECIDED({ params: { status: row.status } });
      const [updated] = await tx
        .update(agentFloatDeposits)
        .set({ status: 'rejected', decidedBy: principal.id, decidedAt: new Date(), decisionReason: reason })
        .where(eq(agentFloatDeposits.id, id))
        .returning();
      return depositView(updated!);
    });
  }

  async #assertUnderMax(tx: Executor, accountId: string, max: bigint): Promise<void> {
    const { balance } = await this.#ledger.balance(accountId, tx);
    if (balance > max)
      throw agentsErrors.AGENT_FLOAT_LIMIT_EXCEEDED({
        params: { limit: 'float_max_minor', value: max.toString() },
      });
  }

  // ---- Rebalancing ---------------------------------------------------------------------------------------------

  /** Whether float may move between these two holders (agent ↔ its stores, store ↔ store, super-agent ↔ agent). */
  static allowed(from: FloatHolder, to: FloatHolder): boolean {
    if (from.accountId === to.accountId) return false;
    if (from.agent.id === to.agent.id) return true;
    // Super-agent ↔ its agents: their own floats only (a store's float moves through its agent).
    if (from.store !== null || to.store !== null) return false;
    return from.agent.parentId === to.agent.id || to.agent.parentId === from.agent.id;
  }

  async rebalance(
    principal: Principal,
    input: { from: FloatRef; to: FloatRef; amount: number; narration?: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    this.#gate(principal, 'agent:float');
    const amount = positiveAmount(input.amount);
    const from = await this.holder(input.from);
    const to = await this.holder(input.to);
    const scope = await this.#mayAct(principal, from, 'agent:float');
    await this.#mayAct(principal, to, 'agent:float');
    const name = (holder: FloatHolder) => holder.store?.storeNumber ?? holder.agent.agentNumber;
    if (!AgentFloat.allowed(from, to) || from.agent.currency !== to.agent.currency)
      throw agentsErrors.AGENT_REBALANCE_NOT_ALLOWED({ params: { from: name(from), to: name(to) } });
    await this.#directory.assertOperational(from.agent, from.store);
    await this.#directory.assertOperational(to.agent, to.store);
    // The limits of the agent that owns the paying side (for a super-agent's move, the super-agent's).
    const single = limitOf(from.agent, 'rebalance_single_minor');
    if (single !== null && amount > single)
      throw agentsErrors.AGENT_FLOAT_LIMIT_EXCEEDED({
        params: { limit: 'rebalance_single_minor', value: single.toString() },
      });
    const max = limitOf(to.agent, 'float_max_minor');
    try {
      return await this.#transactions.engine.commit(
        {
          type: 'float_transfer',
          channel: principal.type === 'agent_operator' ? 'agent' : 'back_office',
          initiator: {
            type: principal.type === 'agent_operator' ? 'agent_operator' : 'user',
            id: principal.id,
          },
          source: { kind: 'account', accountId: from.accountId },
          destination: { kind: 'account', accountId: to.accountId },
          amount,
          currency: from.agent.currency,
          feeRule: null,
          limits: false,
          narration: input.narration ?? `Float ${name(from)} → ${name(to)}`,
          metadata: {
            from_agent_id: from.agent.id,
            from_store_id: from.store?.id ?? null,
            to_agent_id: to.agent.id,
            to_store_id: to.store?.id ?? null,
            operator_id: scope?.operatorId ?? null,
          },
          beforeCommit: max === null ? undefined : (tx) => this.#assertUnderMax(tx, to.accountId, max),
          claim,
        },
        AUTHORIZED(),
        context,
      );
    } catch (error) {
      throw floatRefusal(error, name(from));
    }
  }

  /**
   * Moves the whole of a float to `destination` (an agent's closure sweep by staff): one `float_transfer` through the
   * engine, its own commit. `limits: false`: a bank closure moving the agent's money to its owner, not the owner's own
   * receipt, so a customer wallet's receive limits do not apply. Idempotent under the deterministic `sweep_key`
   * (derived from the agent and the float): it moves what the float holds now and, inside the commit, requires the
   * float to be empty after it, so a retried close after a crash finds it empty and moves nothing (and two closes at
   * once cannot both move it: the float's ledger guard refuses the second). Null when there was nothing to move.
   */
  async sweep(
    holder: FloatHolder,
    destination: Party,
    sweepKey: string,
    context: RequestContext,
  ): Promise<Awaited<ReturnType<TransactionsService['engine']['commit']>> | null> {
    const { balance } = await this.#ledger.balance(holder.accountId);
    if (balance <= 0n) return null;
    const name = holder.store?.storeNumber ?? holder.agent.agentNumber;
    try {
      return await this.#transactions.engine.commit(
        {
          type: 'float_transfer',
          channel: 'back_office',
          initiator:
            context.actor.type === 'user'
              ? { type: 'user', id: context.actor.id }
              : { type: 'system', id: null },
          source: { kind: 'account', accountId: holder.accountId },
          destination,
          amount: balance,
          currency: holder.agent.currency,
          feeRule: null,
          limits: false,
          narration: `Closure sweep ${name}`,
          metadata: {
            sweep_key: sweepKey,
            agent_id: holder.agent.id,
            from_store_id: holder.store?.id ?? null,
          },
          beforeCommit: async (tx) => {
            const after = await this.#ledger.balance(holder.accountId, tx);
            if (after.balance !== 0n)
              throw agentsErrors.AGENT_FLOAT_INSUFFICIENT({
                params: { account: name, available: after.balance.toString(), required: '0' },
                details: { required: '0', available: after.balance.toString() },
              });
          },
        },
        AUTHORIZED(),
        context,
      );
    } catch (error) {
      throw floatRefusal(error, name);
    }
  }

  // ---- Positions -----------------------------------------------------------------------------------------------

  async #positions(agent: AgentRow, stores: StoreRow[]) {
    const balance = async (accountId: string) => (await this.#ledger.balance(accountId)).balance;
    return {
      agent: {
        agent_id: agent.id,
        agent_number: agent.agentNumber,
        currency: agent.currency,
        balance: await balance(agent.floatAccountId),
      },
      stores: await Promise.all(
        stores.map(async (store) => ({
          store_id: store.id,
          store_number: store.storeNumber,
          name: store.name,
          currency: agent.currency,
          balance: await balance(store.floatAccountId),
        })),
      ),
    };
  }

  /** An operator's view: a teller their store's float and the agent's; an admin every store of the agent. */
  async operatorPositions(principal: Principal) {
    const scope = await this.#scopes.scopeOf(principal);
    const agent = await this.#directory.agent(scope.agentId);
    const stores = scope.storeId
      ? [await this.#directory.store(scope.storeId)]
      : await this.#db.select().from(agentStores).where(eq(agentStores.agentId, agent.id));
    return this.#positions(agent, stores);
  }

  /** Staff: an agent's float and each of its stores'. */
  async agentPositions(agentId: string) {
    const agent = await this.#directory.agent(agentId);
    const stores = await this.#db.select().from(agentStores).where(eq(agentStores.agentId, agent.id));
    return this.#positions(agent, stores);
  }

  /** The agents of a super-agent (for its admin's rebalancing screens and reports). */
  async childAgents(superAgentId: string): Promise<AgentRow[]> {
    return this.#db
      .select()
      .from(agents)
      .where(inArray(agents.parentId, [superAgentId]));
  }
}
