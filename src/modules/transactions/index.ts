/** Money movements: the payment engine, P2P and teller cash, transaction history, receipts. */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { PolicyService } from '../policy/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { PaymentAuthorizer } from './transactions.authorize.ts';
import { PaymentEngine } from './transactions.engine.ts';
import { fxRoutes } from './transactions.fx.routes.ts';
import { FxService } from './transactions.fx.ts';
import { ReceiptsService } from './transactions.receipts.ts';
import { transactionRoutes } from './transactions.routes.ts';
import { type CashInput, TransactionsService } from './transactions.service.ts';

export {
  type Authorization,
  type AuthorizationBinding,
  PaymentAuthorizer,
} from './transactions.authorize.ts';
export { type PaymentKind, paymentDispatchRoutes } from './transactions.dispatch.ts';
export { PaymentEngine } from './transactions.engine.ts';
export { transactionErrors } from './transactions.errors.ts';
export {
  completedEventPayload,
  type MovementPlan,
  newReference,
  type Party,
  type PrePostingHook,
  type TransactionRow,
} from './transactions.plan.ts';
export { TransactionView as TransactionViewSchema, TransferBody } from './transactions.schemas.ts';
export { TransactionsService } from './transactions.service.ts';
export { disputes, TRANSACTION_TYPES, transactions } from './transactions.tables.ts';
export { transactionView } from './transactions.views.ts';

/** What the payment modules built on the engine (merchants, bills, banking, disputes) receive. */
export interface PaymentModuleOptions {
  deps: Dependencies;
  identity: IdentityService;
  wallets: WalletsService;
  ledger: LedgerService;
  policy: PolicyService;
  settings: SettingsService;
  approvals: ApprovalService;
  transactions: TransactionsService;
}

export interface TransactionsModule {
  service: TransactionsService;
  plugin: FastifyPluginAsync;
}

export function createTransactions(options: {
  deps: Dependencies;
  identity: IdentityService;
  wallets: WalletsService;
  ledger: LedgerService;
  policy: PolicyService;
  settings: SettingsService;
  approvals: ApprovalService;
}): TransactionsModule {
  const engine = new PaymentEngine(options.deps, options.wallets, options.ledger, options.policy);
  const service = new TransactionsService({
    deps: options.deps,
    engine,
    wallets: options.wallets,
    ledger: options.ledger,
    authorizer: new PaymentAuthorizer(options.deps, options.identity, options.settings),
    settings: options.settings,
    approvals: options.approvals,
  });
  options.approvals.register<Omit<CashInput, 'amount'> & { amount: number | string; teller_id: string }>({
    name: 'wallet.cash_withdrawal',
    description:
      'Pay out cash from a wallet at a branch (always above payments.cash_withdrawal_approval_threshold)',
    permission: 'wallet:withdraw',
    // The same amount from the same wallet while one is waiting is taken for a repeat of it.
    dedupeKey: (payload) => `${payload.wallet_id}:${payload.currency}:${payload.amount}`,
    execute: (payload, context) => service.executeCashWithdrawal(payload, context),
  });
  const receipts = new ReceiptsService({
    deps: options.deps,
    transactions: service,
    wallets: options.wallets,
  });
  // Statement lines say what each payment was (biller and account, merchant, the other person).
  options.wallets.documents.setTransactionDescriber((ids, walletId) => receipts.describe(ids, walletId));
  return {
    service,
    plugin: async (app) => {
      await app.register(transactionRoutes(service, receipts));
      await app.register(fxRoutes(new FxService(options.deps.database.db, options.ledger, service)));
    },
  };
}
