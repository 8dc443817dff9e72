/**
 * Withdrawal codes: a customer asks for a cash-out at an agent in the app (with PIN) and gets a 6-digit code, shown
 * once, bound to the agent number, the amount and the customer, expiring after a few minutes. Only its keyed hash is
 * stored. The operator types it with the customer's phone; the cash-out's posting takes the code in its own
 * transaction (one conditional update), so a code pays out once however many submit it at the same time. Five wrong
 * codes typed for a customer cancel all their pending codes.
 */
import { randomInt } from 'node:crypto';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { keyedHash } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, positiveAmount } from '../../platform/money.ts';
import type { Authorization, PaymentAuthorizer } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { agentsErrors } from './agents.errors.ts';
import { agents, agentWithdrawalCodes } from './agents.tables.ts';

export type WithdrawalCodeRow = typeof agentWithdrawalCodes.$inferSelect;

/** Wrong codes typed for one customer before every pending code of theirs is cancelled. */
export const WITHDRAWAL_CODE_MAX_ATTEMPTS = 5;
const DEFAULT_TTL_MINUTES = 15;
const HASH_PURPOSE = 'agent_withdrawal_code';

function statusOf(row: WithdrawalCodeRow, now = new Date()): WithdrawalCodeRow['status'] {
  return row.status === 'pending' && row.expiresAt <= now ? 'expired' : row.status;
}

export function withdrawalCodeView(row: WithdrawalCodeRow, agentNumber: string) {
  return {
    id: row.id,
    agent_number: agentNumber,
    amount: row.amountMinor,
    currency: row.currency,
    status: statusOf(row),
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

export class WithdrawalCodes {
  readonly #db: Executor;
  readonly #pepper: string;
  readonly #wallets: WalletsService;
  readonly #authorizer: PaymentAuthorizer;
  readonly #ttlMs: number;

  constructor(options: {
    db: Executor;
    pepper: string;
    wallets: WalletsService;
    authorizer: PaymentAuthorizer;
    ttlMinutes?: number;
  }) {
    this.#db = options.db;
    this.#pepper = options.pepper;
    this.#wallets = options.wallets;
    this.#authorizer = options.authorizer;
    this.#ttlMs = (options.ttlMinutes ?? DEFAULT_TTL_MINUTES) * 60_000;
  }

  hash(code: string): string {
    return keyedHash(this.#pepper, HASH_PURPOSE, code);
  }

  async #agentByNumber(agentNumber: string) {
    const [agent] = await this.#db
      .select({
        id: agents.id,
        agentNumber: agents.agentNumber,
        status: agents.status,
        currency: agents.currency,
      })
      .from(agents)
      .where(eq(agents.agentNumber, agentNumber.trim().toUpperCase()));
    if (agent?.status !== 'active')
      throw agentsErrors.AGENT_NUMBER_UNKNOWN({ params: { agent: agentNumber } });
    return agent;
  }

  /** The customer's code for a cash-out at this agent: PIN (and a one-time code above the threshold) first. */
  async create(
    customerId: string,
    input: { agent_number: string; amount: number; currency: string } & Authorization,
    channel: string,
  ) {
    const amount = positiveAmount(input.amount);
    currencyInfo(input.currency);
    const agent = await this.#agentByNumber(input.agent_number);
    const wallet = await this.#wallets.customerWallet(customerId, input.currency);
    await this.#authorizer.authorize(
      customerId,
      { type: 'cash_out', source: wallet.id, payee: agent.agentNumber, amount, currency: input.currency },
      { pin: input.pin, otp: input.otp },
    );
    for (let attempt = 0; ; attempt += 1) {
      const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
      const [row] = await this.#db
        .insert(agentWithdrawalCodes)
        .values({
          id: uuidv7(),
          customerId,
          walletId: wallet.id,
          agentId: agent.id,
          amountMinor: amount,
          currency: input.currency,
          codeHash: this.hash(code),
          expiresAt: new Date(Date.now() + this.#ttlMs),
          channel,
        })
        // Two pending codes of one agent never share a hash (the operator types only the code and the phone).
        .onConflictDoNothing()
        .returning();
      if (row) return { ...withdrawalCodeView(row, agent.agentNumber), code };
      if (attempt >= 5) throw new Error('no free withdrawal code after 6 draws');
    }
  }

  async list(customerId: string) {
    const rows = await this.#db
      .select({ code: agentWithdrawalCodes, agentNumber: agents.agentNumber })
      .from(agentWithdrawalCodes)
      .innerJoin(agents, eq(agents.id, agentWithdrawalCodes.agentId))
      .where(eq(agentWithdrawalCodes.customerId, customerId))
      .orderBy(desc(agentWithdrawalCodes.createdAt))
      .limit(50);
    return { items: rows.map((row) => withdrawalCodeView(row.code, row.agentNumber)) };
  }

  async cancel(customerId: string, id: string): Promise<void> {
    const cancelled = await this.#db
      .update(agentWithdrawalCodes)
      .set({ status: 'cancelled' })
      .where(
        and(
          eq(agentWithdrawalCodes.id, id),
          eq(agentWithdrawalCodes.customerId, customerId),
          eq(agentWithdrawalCodes.status, 'pending'),
        ),
      )
      .returning({ id: agentWithdrawalCodes.id });
    if (cancelled.length === 0) throw agentsErrors.AGENT_WITHDRAWAL_CODE_NOT_FOUND();
  }

  /**
   * The pending code the operator typed, before the posting (which takes it for good: `take`). A wrong code counts
   * against every pending code of the customer; at the fifth they are all cancelled.
   */
  async match(input: {
    customerId: string;
    agentId: string;
    amount: bigint;
    currency: string;
    code: string;
  }) {
    const [row] = await this.#db
      .select()
      .from(agentWithdrawalCodes)
      .where(
        and(
          eq(agentWithdrawalCodes.agentId, input.agentId),
          eq(agentWithdrawalCodes.customerId, input.customerId),
          eq(agentWithdrawalCodes.codeHash, this.hash(input.code)),
        ),
      )
      .orderBy(desc(agentWithdrawalCodes.createdAt))
      .limit(1);
    if (row?.status === 'used') throw agentsErrors.AGENT_WITHDRAWAL_CODE_USED();
    const valid =
      row !== undefined &&
      statusOf(row) === 'pending' &&
      row.amountMinor === input.amount &&
      row.currency === input.currency;
    if (!valid) {
      await this.#wrongCode(input.customerId);
      throw agentsErrors.AGENT_WITHDRAWAL_CODE_INVALID();
    }
    return row;
  }

  async #wrongCode(customerId: string): Promise<void> {
    const counted = await this.#db
      .update(agentWithdrawalCodes)
      .set({ failedAttempts: sql`${agentWithdrawalCodes.failedAttempts} + 1` })
      .where(and(eq(agentWithdrawalCodes.customerId, customerId), eq(agentWithdrawalCodes.status, 'pending')))
      .returning({ failedAttempts: agentWithdrawalCodes.failedAttempts });
    if (counted.some((row) => row.failedAttempts >= WITHDRAWAL_CODE_MAX_ATTEMPTS))
      await this.#db
        .update(agentWithdrawalCodes)
        .set({ status: 'cancelled' })
        .where(
          and(eq(agentWithdrawalCodes.customerId, customerId), eq(agentWithdrawalCodes.status, 'pending')),
        );
  }

  /** Inside the cash-out's transaction: the code becomes used by it, or the posting rolls back (someone took it). */
  async take(tx: Executor, id: string, transactionId: string): Promise<void> {
    const taken = await tx
      .update(agentWithdrawalCodes)
      .set({ status: 'used', usedTransactionId: transactionId })
      .where(
        and(
          eq(agentWithdrawalCodes.id, id),
          eq(agentWithdrawalCodes.status, 'pending'),
          gt(agentWithdrawalCodes.expiresAt, sql`now()`),
        ),
      )
      .returning({ id: agentWithdrawalCodes.id });
    if (taken.length === 0) throw agentsErrors.AGENT_WITHDRAWAL_CODE_USED();
  }
}
