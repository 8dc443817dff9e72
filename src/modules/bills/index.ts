/** Bills: the biller registry, reference validation and bill payment on the payment engine. */
import { defineModule } from '../../platform/modules.ts';
import { LedgerService } from '../ledger/index.ts';
import {
  PAYMENT_MODULE_DEPENDENCIES,
  paymentModuleOptions,
  transactionsModule,
} from '../transactions/index.ts';
import { billErrorCatalogue } from './bills.errors.ts';
import { billRoutes } from './bills.routes.ts';
import { BillPayBody } from './bills.schemas.ts';
import { seedBillers } from './bills.seed.ts';
import { BillsService } from './bills.service.ts';
import { billers } from './bills.tables.ts';

export {
  ADAPTER_NAMES,
  adapterFor,
  type BillerAdapter,
  type BillValidation,
  luhnValid,
  PatternAdapter,
} from './bills.adapters.ts';
export { billerNames } from './bills.repository.ts';
export { BillPayBody } from './bills.schemas.ts';
export { type BillerSeed, seedBillers } from './bills.seed.ts';
export { BillsService } from './bills.service.ts';

export const billsModule = defineModule({
  name: 'bills',
  description: 'The biller registry, reference validation and bill payment on the payment engine',
  dependsOn: PAYMENT_MODULE_DEPENDENCIES,
  errors: billErrorCatalogue,
  tables: { billers },
  transactionTypes: [{ type: 'bill', label: 'Bill payment' }],
  create(ctx) {
    const options = paymentModuleOptions(ctx);
    const service = new BillsService({
      db: options.deps.database.db,
      ledger: options.ledger,
      wallets: options.wallets,
      settings: options.settings,
      transactions: options.transactions,
    });
    ctx.use(transactionsModule).registerPaymentKind({
      type: 'bill',
      summary: 'a bill payment (as `/wallet/transaction/bill`)',
      body: BillPayBody,
      handle: (principal, body, channel, claim, context) =>
        service.pay(principal, body, channel, claim, context),
    });
    return service;
  },
  routes: (service) => billRoutes(service),
  seed: ({ deps }) => seedBillers(deps.database.db, new LedgerService(deps.database.db)).then(() => {}),
});
