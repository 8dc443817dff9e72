/**
 * Banking: linked bank accounts (link, verify by holder name or micro deposit, unlink) and money between a wallet
 * and a verified bank account through the core banking system (Apache Fineract).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { CoreBankingPort } from '../../integrations/fineract/fineract.client.ts';
import type { PaymentModuleOptions } from '../transactions/index.ts';
import { LinkedAccountsService } from './banking.accounts.ts';
import { coreBankingFrom } from './banking.cbs.ts';
import { bankingRoutes } from './banking.routes.ts';
import { BankTransfersService } from './banking.transfers.ts';

export {
  BANK_HOLD_DAYS,
  LinkedAccountsService,
  linkedAccountView,
  MAX_LINKED_ACCOUNTS,
  MAX_MICRO_DEPOSIT_ATTEMPTS,
} from './banking.accounts.ts';
export { classifyPostingFailure, coreBankingFrom, postingDate } from './banking.cbs.ts';
export { BankTransfersService } from './banking.transfers.ts';

export interface BankingModule {
  plugin: FastifyPluginAsync;
  accounts: LinkedAccountsService;
  transfers: BankTransfersService;
}

/** `cbs` overrides the client built from config (FINERACT_*); null there means no core banking system. */
export function createBanking(
  options: PaymentModuleOptions & { cbs?: CoreBankingPort | null },
): BankingModule {
  const cbs = options.cbs === undefined ? coreBankingFrom(options.deps.config) : options.cbs;
  const accounts = new LinkedAccountsService(options.deps, options.ledger, cbs);
  const transfers = new BankTransfersService({
    deps: options.deps,
    ledger: options.ledger,
    wallets: options.wallets,
    transactions: options.transactions,
    accounts,
    authorizer: options.transactions.authorizer,
  });
  return {
    accounts,
    transfers,
    plugin: async (app) => {
      await app.register(bankingRoutes(accounts, transfers));
    },
  };
}
