/**
 * How the money areas (float, cash) plug into the agents module (index.ts): their services over the other areas'
 * ports, their routes, and the functions USSD reaches (a customer's pending cash-outs and approving one with PIN).
 */
import { systemContext } from '../../platform/audit.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { identityModule } from '../identity/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { transactionsModule } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { cashRoutes } from './agents.cash.routes.ts';
import { AgentCash } from './agents.cash.ts';
import { floatRoutes } from './agents.float.routes.ts';
import { AgentFloat } from './agents.float.ts';
import type {
  AgentActivityReads,
  AgentDirectory,
  CommissionPort,
  LocationGuard,
  OperatorScopes,
} from './agents.ports.ts';
import { WithdrawalCodes } from './agents.withdrawal.ts';

export interface MoneyArea {
  /** Float top-ups from bank deposits, rebalancing, positions. */
  float: AgentFloat;
  /** Cash-in and cash-out at the agents' stores. */
  cash: AgentCash;
  /** Customers' one-time withdrawal codes. */
  withdrawalCodes: WithdrawalCodes;
  /** For USSD: the customer's cash-outs waiting for approval. */
  pendingCashOuts(customerId: string): ReturnType<AgentCash['pendingCashOuts']>;
  /** For USSD: the customer approves one with their PIN (the cash-out posts). */
  approveCashOut(customerId: string, id: string, pin: string): ReturnType<AgentCash['approveCashOut']>;
  /** AgentActivityReads (agent performance): completed cash-ins and cash-outs by day and type. */
  dailyVolumes: AgentActivityReads['dailyVolumes'];
  /** AgentActivityReads: distinct customers served. */
  customersServed: AgentActivityReads['customersServed'];
}

export function buildMoney(
  ctx: ModuleContext,
  ports: {
    directory: AgentDirectory;
    scopes: OperatorScopes;
    guard: LocationGuard;
    commissions: CommissionPort | null;
  },
): MoneyArea {
  const { deps } = ctx;
  const db = deps.database.db;
  const transactions = ctx.use(transactionsModule).service;
  const wallets = ctx.use(walletsModule);
  const identity = ctx.use(identityModule);
  const withdrawalCodes = new WithdrawalCodes({
    db,
    pepper: deps.config.HMAC_PEPPER,
    wallets,
    authorizer: transactions.authorizer,
  });
  const cash = new AgentCash({
    db,
    wallets,
    transactions,
    directory: ports.directory,
    scopes: ports.scopes,
    guard: ports.guard,
    commissions: () => ports.commissions,
    codes: withdrawalCodes,
    // The customer's app is asked by push (a customer without a registered device finds it in the pending list).
    ask: async (customerId, request) =>
      (
        await identity.push.createChallenge(
          { type: 'customer', id: customerId },
          {
            purpose: 'transaction',
            details: {
              kind: 'agent_cash_out',
              cash_out_id: request.id,
              amount: request.amountMinor.toString(),
              currency: request.currency,
            },
          },
        )
      ).challenge_id ?? null,
  });
  const float = new AgentFloat({
    db,
    ledger: ctx.use(ledgerModule),
    transactions,
    directory: ports.directory,
    scopes: ports.scopes,
  });
  return {
    float,
    cash,
    withdrawalCodes,
    pendingCashOuts: (customerId) => cash.pendingCashOuts(customerId),
    dailyVolumes: (agentId, from, to) => cash.dailyVolumes(agentId, from, to),
    customersServed: (agentId, from, to) => cash.customersServed(agentId, from, to),
    approveCashOut: (customerId, id, pin) =>
      cash.approveCashOut(
        customerId,
        id,
        { pin },
        { ...systemContext(), actor: { type: 'customer', id: customerId } },
      ),
  };
}

export function moneyAreaRoutes(api: { money: MoneyArea }) {
  return [floatRoutes(api.money.float), cashRoutes(api.money.cash, api.money.withdrawalCodes)];
}
