/**
 * Fixtures of the agents module's commission tests: agents inserted directly with funded float (the network area has
 * its own tests), cash-ins posted through the payment engine the way the cash area does (`extraLegs` + `record` in
 * `beforeCommit`), and reversals posted the way the disputes module does, handed to the clawback handler.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AgentRow } from '../../src/modules/agents/agents.ports.ts';
import { agentCommissions, agents } from '../../src/modules/agents/agents.tables.ts';
import { agentsModule } from '../../src/modules/agents/index.ts';
import { batchTransfers, type LedgerService, ledgerModule } from '../../src/modules/ledger/index.ts';
import { findTransaction, transactionsModule } from '../../src/modules/transactions/index.ts';
import { systemContext } from '../../src/platform/audit.ts';
import { inTransaction } from '../../src/platform/db.ts';
import { uuidv7 } from '../../src/platform/ids.ts';
import type { TestContext } from './app.ts';
import { createCustomer, openWallet } from './money.ts';

export type CommissionFixture = Awaited<ReturnType<typeof commissionFixture>>;

/** A customer (owner of the agents and the cash-ins' wallet) and the helpers bound to one test app. */
export async function commissionFixture(t: TestContext) {
  const ledger: LedgerService = t.application.system.api(ledgerModule);
  const customer = await createCustomer(t, 'Wanjiru', `+2547${randomInt(10_000_000, 99_999_999)}`);
  const ownerId = customer.id;
  const walletId = (await openWallet(t, customer.id)).id;

  async function makeAgent(input: {
    parentId?: string | null;
    kind?: 'agent' | 'super_agent';
    planId?: string;
  }) {
    return inTransaction(t.deps.database.db, async (tx) => {
      const number = `A${randomInt(1_000_000, 9_999_999)}`;
      const float = await ledger.createAccount(tx, {
        name: `Float ${number}`,
        currency: 'KES',
        kind: 'liability',
        debitsMustNotExceedCredits: true,
      });
      const commission = await ledger.createAccount(tx, {
        name: `Commission ${number}`,
        currency: 'KES',
        kind: 'liability',
        debitsMustNotExceedCredits: true,
        deferred: true,
      });
      const [row] = await tx
        .insert(agents)
        .values({
          id: uuidv7(),
          agentNumber: number,
          kind: input.kind ?? 'agent',
          parentId: input.parentId ?? null,
          businessName: `Shop ${number}`,
          registrationNumber: `REG-${randomUUID()}`,
          businessTier: 'standard',
          ownerCustomerId: ownerId,
          phone: `+2547${randomInt(10_000_000, 99_999_999)}`,
          currency: 'KES',
          status: 'active',
          floatAccountId: float.id,
          commissionAccountId: commission.id,
          commissionPlanId: input.planId ?? null,
        })
        .returning();
      // Float to spend on cash-ins.
      const settlement = await ledger.houseAccount('settlement:KES', undefined, tx);
      await ledger.post(tx, {
        key: `fund-${row!.id}`,
        code: 'test_fund',
        legs: [{ debit: settlement, credit: float.id, amount: 100_000_000n, code: 'principal' }],
      });
      return row!;
    });
  }

  const steps = () => {
    const at = new Date().toISOString();
    return [
      { state: 'initiated' as const, at },
      { state: 'validated' as const, at },
      { state: 'authorized' as const, at },
    ];
  };

  /** A cash-in as the cash area posts it: float → wallet, the commission's legs and accruals in the same posting. */
  async function cashIn(agent: AgentRow, amount: bigint) {
    const api = t.application.system.api(agentsModule);
    const quote = await api.commissions.quote(agent, 'cash_in', amount, 'KES');
    return t.application.system.api(transactionsModule).service.engine.commit(
      {
        type: 'cash_in',
        channel: 'agent',
        initiator: { type: 'system', id: null },
        source: { kind: 'account', accountId: agent.floatAccountId },
        destination: { kind: 'wallet', walletId },
        amount,
        currency: 'KES',
        feeRule: null,
        limits: false,
        extraLegs: () => quote?.legs ?? [],
        beforeCommit: async (tx, record) => {
          if (quote) await api.commissions.record(tx, record.id, 'cash_in', quote);
        },
      },
      steps(),
      systemContext(),
    );
  }

  /** A reversal as the disputes module posts one: every leg of the original inverted (or only its principal). */
  async function reverse(originalId: string, options: { principalOnly?: boolean } = {}) {
    // The commission reached the payables as deferred deltas: the ledger's minute job rolls them up before a reversal
    // can debit them (a payable's guard counts rolled-up credits only).
    await ledger.rollUp();
    const original = (await findTransaction(t.deps.database.db, originalId))!;
    const legs = (await batchTransfers(t.deps.database.db, original.ledgerBatchId!, { kind: 'posted' }))
      .filter((leg) => !options.principalOnly || leg.code === 'principal')
      .map((leg) => ({
        debit: leg.creditAccountId,
        credit: leg.debitAccountId,
        amount: leg.amount,
        code: leg.code,
      }));
    const reversal = await t.application.system.api(transactionsModule).service.engine.commit(
      {
        type: 'reversal',
        allowFrozen: true,
        channel: 'back_office',
        initiator: { type: 'system', id: null },
        source: { kind: 'wallet', walletId },
        destination: { kind: 'account', accountId: legs.find((leg) => leg.code === 'principal')!.credit },
        amount: original.amount,
        currency: 'KES',
        feeRule: null,
        limits: false,
        legs: () => legs,
      },
      steps(),
      systemContext(),
    );
    // What the `transaction.reversed` consumer receives.
    await inTransaction(t.deps.database.db, (tx) =>
      t.application.system.api(agentsModule).commissions.clawback(tx, {
        id: 1n,
        topic: 'transaction.reversed',
        version: 1,
        aggregateType: 'transaction',
        aggregateId: original.id,
        occurredAt: new Date(),
        payload: {
          transaction_id: original.id,
          reference: original.reference,
          reversal_transaction_id: reversal.id,
          reversal_reference: reversal.reference,
          type: original.type,
          amount: original.amount.toString(),
          fee: '0',
          tax: '0',
          currency: 'KES',
          reason: 'test',
          source_customer_id: null,
          destination_customer_id: null,
          merchant_id: null,
          requested_by: randomUUID(),
          approved_by: null,
        },
      }),
    );
    return reversal;
  }

  const balance = async (accountId: string) => (await ledger.balance(accountId)).balance;
  const rowsOf = (transactionId: string) =>
    t.deps.database.db
      .select()
      .from(agentCommissions)
      .where(eq(agentCommissions.transactionId, transactionId));

  return { ledger, ownerId, walletId, makeAgent, cashIn, reverse, balance, rowsOf };
}
