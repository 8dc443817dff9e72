/** Wallets, wallet products, balances and statements. */
import { defineModule } from '../../platform/modules.ts';
import { customersModule } from '../customers/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { settingsModule } from '../settings/index.ts';
import { walletErasureObligations } from './wallets.erasure.ts';
import { walletErrorCatalogue } from './wallets.errors.ts';
import { ProductsService, seedWalletProducts } from './wallets.products.ts';
import { walletRoutes } from './wallets.routes.ts';
import { WalletsService } from './wallets.service.ts';
import { walletProducts, wallets, walletUsage } from './wallets.tables.ts';

export { walletErrorCatalogue, walletErrors } from './wallets.errors.ts';
export {
  type PartiesRead,
  periodsOf,
  type Usage,
  type WalletFacts,
  type WalletLimits,
  type WalletState,
} from './wallets.facts.ts';
export {
  feeFor,
  type ProductRow,
  ProductsService,
  productView,
  seedWalletProducts,
} from './wallets.products.ts';
export { walletRoutes } from './wallets.routes.ts';
export {
  type WalletRow,
  WalletsService,
  type WalletView,
  walletView,
} from './wallets.service.ts';

export const walletsModule = defineModule({
  name: 'wallets',
  description: 'Wallets, wallet products, balances, statements and receipts as PDF',
  dependsOn: ['ledger', 'settings', 'customers'],
  errors: walletErrorCatalogue,
  tables: { walletProducts, wallets, walletUsage },
  permissions: [
    { code: 'wallet:read', description: 'Read wallets, balances and statements' },
    { code: 'wallet:create', description: 'Open wallets' },
    { code: 'wallet:freeze', description: 'Freeze and unfreeze wallets' },
    { code: 'wallet:product_manage', description: 'Manage wallet products and fees' },
  ],
  async create(ctx) {
    const ledger = ctx.use(ledgerModule);
    const wallets = new WalletsService(ctx.deps, ledger, new ProductsService(ctx.deps.database.db));
    // Receipts and statements: the letterhead from settings.
    wallets.documents.configure({ settings: ctx.use(settingsModule) });
    // A customer whose wallet holds money (or has a hold pending) is not erased until it is paid out.
    ctx
      .use(customersModule)
      .customers.addErasureCheck((tx, customerId) => walletErasureObligations(tx, ledger, customerId));
    // Every currency's house accounts exist (and are cached) before the first payment, so postings never look them up.
    for (const product of await wallets.products.list()) await ledger.ensureHouseAccounts(product.currency);
    return wallets;
  },
  routes: (wallets) => walletRoutes(wallets),
  seed: ({ deps }) => seedWalletProducts(deps.database.db),
});
