/**
 * Banking: linked bank accounts (link, verify by holder name or micro deposit, unlink) and money between a wallet
 * and a verified bank account through the core banking system (Apache Fineract).
 */
import type { CoreBankingPort } from '../../integrations/fineract/fineract.client.ts';
import { approvalAction, defineModule } from '../../platform/modules.ts';
import {
  PAYMENT_MODULE_DEPENDENCIES,
  type PaymentModuleOptions,
  paymentModuleOptions,
} from '../transactions/index.ts';
import { LinkedAccountsService } from './banking.accounts.ts';
import { coreBankingFrom } from './banking.cbs.ts';
import { bankingErrorCatalogue } from './banking.errors.ts';
import { bankingRoutes } from './banking.routes.ts';
import { linkedBankAccounts } from './banking.tables.ts';
import { BankTransfersService } from './banking.transfers.ts';
import { staffTransferRoutes } from './staff-transfers.routes.ts';
import {
  STAFF_TRANSFER_ACTION,
  type StaffTransferPayload,
  StaffTransfersService,
} from './staff-transfers.service.ts';

export {
  BANK_HOLD_DAYS,
  LinkedAccountsService,
  linkedAccountView,
  MAX_LINKED_ACCOUNTS,
  MAX_MICRO_DEPOSIT_ATTEMPTS,
} from './banking.accounts.ts';
export { classifyPostingFailure, coreBankingFrom, postingDate } from './banking.cbs.ts';
export { BankTransfersService } from './banking.transfers.ts';
export { StaffTransfersService } from './staff-transfers.service.ts';

export interface BankingApi {
  accounts: LinkedAccountsService;
  transfers: BankTransfersService;
  staffTransfers: StaffTransfersService;
}

/** `cbs` overrides the client built from config (FINERACT_*); null there means no core banking system. */
export function createBanking(options: PaymentModuleOptions & { cbs?: CoreBankingPort | null }): BankingApi {
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
  return { accounts, transfers, staffTransfers: new StaffTransfersService(options) };
}

export const bankingModule = defineModule({
  name: 'banking',
  description:
    'Linked bank accounts (verified by name or micro deposit) and money between wallets and banks through Fineract',
  dependsOn: PAYMENT_MODULE_DEPENDENCIES,
  errors: bankingErrorCatalogue,
  tables: { linkedBankAccounts },
  transactionTypes: [
    { type: 'bank_topup', label: 'Bank top-up' },
    { type: 'bank_withdrawal', label: 'Withdrawal to bank' },
  ],
  permissions: [
    {
      code: 'transaction:transfer_for_customer',
      description:
        "Move a customer's money to another wallet without their PIN (with a reason; large amounts need a second staff member)",
    },
  ],
  create: (ctx) => createBanking(paymentModuleOptions(ctx)),
  routes: (api) => [bankingRoutes(api.accounts, api.transfers), staffTransferRoutes(api.staffTransfers)],
  approvalActions: (api) => [
    approvalAction<StaffTransferPayload>({
      name: STAFF_TRANSFER_ACTION,
      description:
        "Staff move a customer's money to another wallet without their PIN (always at or above payments.staff_transfer_approval_threshold_minor)",
      permission: 'transaction:transfer_for_customer',
      // The same amount between the same wallets while one is waiting is taken for a repeat of it.
      dedupeKey: (payload) =>
        `${payload.source_wallet_id}:${payload.destination_wallet_id}:${payload.currency}:${payload.amount}`,
      execute: (payload, context) => api.staffTransfers.execute(payload, context),
    }),
  ],
});
