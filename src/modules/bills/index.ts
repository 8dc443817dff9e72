/** Bills: the biller registry, reference validation and bill payment on the payment engine. */
import type { FastifyPluginAsync } from 'fastify';
import type { PaymentModuleOptions } from '../transactions/index.ts';
import { billRoutes } from './bills.routes.ts';
import { BillsService } from './bills.service.ts';

export {
  ADAPTER_NAMES,
  adapterFor,
  type BillerAdapter,
  type BillValidation,
  luhnValid,
  PatternAdapter,
} from './bills.adapters.ts';
export { BillPayBody } from './bills.schemas.ts';
export { type BillerSeed, seedBillers } from './bills.seed.ts';
export { BillsService } from './bills.service.ts';

export function createBills(options: PaymentModuleOptions): {
  plugin: FastifyPluginAsync;
  service: BillsService;
} {
  const service = new BillsService({
    db: options.deps.database.db,
    ledger: options.ledger,
    wallets: options.wallets,
    settings: options.settings,
    transactions: options.transactions,
  });
  return {
    service,
    plugin: async (app) => {
      await app.register(billRoutes(service));
    },
  };
}
