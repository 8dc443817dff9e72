/**
 * Builds the products and applications areas from the modules they read (kyc tiers, wallets, documents,
 * notifications). index.ts calls it in `create` and connects the pipeline's ports (fraud, scoring, approval).
 */
import { AppError } from '../../platform/errors.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { documentsModule } from '../documents/index.ts';
import { kycModule } from '../kyc/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { LoanApplicationsService } from './loans.applications.ts';
import { LoanProductsService } from './loans.products.ts';

export function buildProductsAndApplications(ctx: ModuleContext): {
  products: LoanProductsService;
  applications: LoanApplicationsService;
} {
  const db = ctx.deps.database.db;
  const { kyc } = ctx.use(kycModule);
  const wallets = ctx.use(walletsModule);
  const documents = ctx.use(documentsModule);
  const notifications = ctx.use(notificationsModule);
  const tierRank = async (code: string): Promise<number | null> => {
    try {
      return (await kyc.getTier(code)).rank;
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 404) return null;
      throw error;
    }
  };
  const products = new LoanProductsService({
    db,
    knownTier: async (code) => (await tierRank(code)) !== null,
    walletCurrencies: async () => new Set((await wallets.products.list()).map((product) => product.currency)),
  });
  const applications = new LoanApplicationsService({
    db,
    products,
    tierRanks: async () => new Map((await kyc.listTiers()).items.map((tier) => [tier.code, tier.rank])),
    walletOf: (customerId, currency) => wallets.findCustomerWallet(customerId, currency),
    document: (id, principal) => documents.get(id, principal),
    notifier: notifications.service,
  });
  return { products, applications };
}
