/**
 * Builds the repayments area (repayments, payoff quotes, automatic collection) from the modules it uses, and its
 * contributions to the loans module: the daily collection job and the inbound-credit subscription. index.ts calls
 * these in `create`, `jobs` and `subscribes`.
 */
import { on, type Subscription } from '../../platform/events.ts';
import type { ModuleContext, ModuleJob } from '../../platform/modules.ts';
import { customersModule } from '../customers/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { settingsModule } from '../settings/index.ts';
import { PaymentAuthorizer, transactionCompleted } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { AutoCollection } from './loans.collection.auto.ts';
import { LoanLedger } from './loans.ledger.ts';
import { RepaymentsService } from './loans.repayments.ts';

export { collectionConfig } from './loans.collection.auto.ts';

/** The repayments area of the loans API. */
export interface RepaymentsArea {
  /** Customer and staff repayments, payoff quotes, and `collect` (one loan, in the caller's transaction). */
  service: RepaymentsService;
  /** The daily run and the inbound-credit collection. */
  auto: AutoCollection;
}

export function buildRepayments(
  ctx: ModuleContext,
  config: { LOANS_COLLECTION_RETRY_DAYS: readonly number[] },
): RepaymentsArea {
  const { deps } = ctx;
  const service = new RepaymentsService({
    deps,
    ledger: new LoanLedger(ctx.use(ledgerModule)),
    wallets: ctx.use(walletsModule),
    authorizer: new PaymentAuthorizer(deps, ctx.use(customersModule).auth, ctx.use(settingsModule)),
  });
  const auto = new AutoCollection({
    db: deps.database.db,
    repayments: service,
    notifications: ctx.use(notificationsModule).service,
    retryDays: config.LOANS_COLLECTION_RETRY_DAYS,
  });
  return { service, auto };
}

/** The daily collection run (UTC; after close of business has marked the day's instalments). */
export function repaymentJobs(area: RepaymentsArea): ModuleJob[] {
  return [{ name: 'loans.auto-collect', schedule: '30 1 * * *', run: () => area.auto.runDaily() }];
}

/** Every completed payment into a wallet collects that wallet's loans with instalments due and unpaid. */
export function repaymentSubscriptions(area: RepaymentsArea): Subscription[] {
  return [
    on(transactionCompleted, async (tx, event) => {
      await area.auto.onCredit(tx, event);
    }),
  ];
}
