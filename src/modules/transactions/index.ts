/** Money movements: the payment engine, P2P and teller cash, transaction history, receipts. */
import type { Dependencies } from '../../platform/dependencies.ts';
import { approvalAction, defineModule, type ModuleContext } from '../../platform/modules.ts';
import { type ApprovalService, approvalsModule } from '../approvals/index.ts';
import { customersModule } from '../customers/index.ts';
import { type IdentityService, identityModule } from '../identity/index.ts';
import { type LedgerService, ledgerModule } from '../ledger/index.ts';
import { type PolicyService, policyModule } from '../policy/index.ts';
import { type SettingsService, settingsModule } from '../settings/index.ts';
import { type WalletsService, walletsModule } from '../wallets/index.ts';
import { PaymentAuthorizer } from './transactions.authorize.ts';
import { transactionsConfig } from './transactions.config.ts';
import { type PaymentKind, paymentDispatchRoutes } from './transactions.dispatch.ts';
import { PaymentEngine } from './transactions.engine.ts';
import { transactionErrorCatalogue } from './transactions.errors.ts';
import { transactionTopics } from './transactions.events.ts';
import { fxRoutes } from './transactions.fx.routes.ts';
import { FxService } from './transactions.fx.ts';
import { ReceiptsService } from './transactions.receipts.ts';
import { transactionRoutes } from './transactions.routes.ts';
import { TransferBody } from './transactions.schemas.ts';
import { type CashInput, TransactionsService } from './transactions.service.ts';
import { fxRates, transactions } from './transactions.tables.ts';

export {
  type Authorization,
  type AuthorizationBinding,
  PaymentAuthorizer,
} from './transactions.authorize.ts';
export { type PaymentKind, paymentDispatchRoutes } from './transactions.dispatch.ts';
export { PaymentEngine } from './transactions.engine.ts';
export { transactionErrorCatalogue, transactionErrors } from './transactions.errors.ts';
export {
  transactionCompleted,
  transactionHeld,
  transactionRejected,
  transactionTopics,
} from './transactions.events.ts';
export {
  completedEventPayload,
  type MovementPlan,
  newReference,
  type PartRefusal,
  type Party,
  type PaymentScreen,
  type PrePostingHook,
  type Quote,
  type ScreenDecision,
  type ScreenInput,
  type ScreenOutcome,
  type TransactionRow,
} from './transactions.plan.ts';
export {
  findTransaction,
  linkReversal,
  markReversed,
  transactionReferences,
} from './transactions.repository.ts';
export { TransactionView as TransactionViewSchema, TransferBody } from './transactions.schemas.ts';
export { TransactionsService } from './transactions.service.ts';
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

/** The modules a payment module built on the engine depends on (its `dependsOn`, plus any of its own). */
export const PAYMENT_MODULE_DEPENDENCIES = [
  'identity',
  'wallets',
  'ledger',
  'policy',
  'settings',
  'approvals',
  'transactions',
] as const;

/** A payment module's options, from the APIs it depends on (`PAYMENT_MODULE_DEPENDENCIES`). */
export function paymentModuleOptions(ctx: ModuleContext): PaymentModuleOptions {
  return {
    deps: ctx.deps,
    identity: ctx.use(identityModule),
    wallets: ctx.use(walletsModule),
    ledger: ctx.use(ledgerModule),
    policy: ctx.use(policyModule),
    settings: ctx.use(settingsModule),
    approvals: ctx.use(approvalsModule),
    transactions: ctx.use(transactionsModule).service,
  };
}

export interface TransactionsApi {
  service: TransactionsService;
  receipts: ReceiptsService;
  fx: FxService;
  /** The payment types `POST /transaction/add` takes; payment modules add theirs when they are built. */
  registerPaymentKind(kind: PaymentKind): void;
  readonly paymentKinds: PaymentKind[];
}

export const transactionsModule = defineModule({
  name: 'transactions',
  description: 'The payment engine, P2P and teller cash, FX, transaction history and receipts',
  dependsOn: ['identity', 'customers', 'wallets', 'ledger', 'policy', 'settings', 'approvals'],
  tables: { transactions, fxRates },
  config: transactionsConfig,
  publishes: transactionTopics,
  errors: transactionErrorCatalogue,
  // The movements this module records itself; payment modules declare theirs (merchant, bill, bank_topup …).
  transactionTypes: [
    { type: 'p2p', label: 'Transfer' },
    'cash_deposit',
    'cash_withdrawal',
    { type: 'fx', label: 'Currency exchange' },
  ],
  permissions: [
    { code: 'wallet:deposit', description: 'Cash deposit at a branch' },
    { code: 'wallet:withdraw', description: 'Cash withdrawal at a branch' },
    { code: 'transaction:read', description: 'Read transactions' },
    { code: 'transaction:create', description: 'Post transactions' },
  ],
  create(ctx): TransactionsApi {
    const { deps } = ctx;
    const wallets = ctx.use(walletsModule);
    const ledger = ctx.use(ledgerModule);
    const settings = ctx.use(settingsModule);
    const engine = new PaymentEngine(
      deps,
      wallets,
      ledger,
      ctx.use(policyModule),
      ctx.transactionTypes,
      ctx.config.PAYMENT_COMMIT,
      { maxBatch: ctx.config.PAYMENT_COMMIT_BATCH_MAX, concurrency: ctx.config.PAYMENT_COMMIT_CONCURRENCY },
    );
    const service = new TransactionsService({
      deps,
      engine,
      wallets,
      ledger,
      authorizer: new PaymentAuthorizer(deps, ctx.use(customersModule).auth, settings),
      settings,
      approvals: ctx.use(approvalsModule),
    });
    const receipts = new ReceiptsService({
      deps,
      transactions: service,
      wallets,
      types: ctx.transactionTypes,
    });
    // Statement lines say what each payment was (biller and account, merchant, the other person).
    wallets.documents.setTransactionDescriber((ids, walletId) => receipts.describe(ids, walletId));
    const paymentKinds: PaymentKind[] = [
      {
        type: 'p2p',
        summary: 'a transfer to a wallet number or phone (as `/wallet/transaction/transfer`)',
        body: TransferBody,
        handle: (principal, body, channel, claim, context) =>
          service.transfer(principal, body, channel, claim, context),
      },
    ];
    return {
      service,
      receipts,
      fx: new FxService(deps.database.db, ledger, service),
      paymentKinds,
      registerPaymentKind: (kind) => {
        if (paymentKinds.some((known) => known.type === kind.type))
          throw new Error(`payment type ${kind.type} is registered twice`);
        paymentKinds.push(kind);
      },
    };
  },
  routes: (api, ctx) => [
    transactionRoutes(api.service, api.receipts, ctx.transactionTypes.list()),
    fxRoutes(api.fx),
    // The spec's single "Process Payment" entry point, over the same use cases as the per-type routes.
    paymentDispatchRoutes(api.paymentKinds),
  ],
  approvalActions: (api) => [
    approvalAction<Omit<CashInput, 'amount'> & { amount: number | string; teller_id: string }>({
      name: 'wallet.cash_withdrawal',
      description:
        'Pay out cash from a wallet at a branch (always above payments.cash_withdrawal_approval_threshold_minor)',
      permission: 'wallet:withdraw',
      // The same amount from the same wallet while one is waiting is taken for a repeat of it.
      dedupeKey: (payload) => `${payload.wallet_id}:${payload.currency}:${payload.amount}`,
      execute: (payload, context) => api.service.executeCashWithdrawal(payload, context),
    }),
  ],
});
