/** Wallets, wallet products, balances and statements. */
export { walletErrors } from './wallets.errors.ts';
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
export { billers, fxRates, linkedBankAccounts, wallets } from './wallets.tables.ts';
