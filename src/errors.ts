/**
 * The run-time catalogue of error codes: the platform's generic ones and each module's (its `<module>.errors.ts`),
 * collected once. The OpenAPI document lists each operation's codes from it, docs/errors.md is written from it
 * (`node scripts/write-errors-doc.ts`), and a code that two catalogues declare stops start-up with both modules named.
 * A new module adds its catalogue to `ERROR_CATALOGUES`.
 */
import { accessErrorCatalogue } from './modules/access/access.errors.ts';
import { approvalErrorCatalogue } from './modules/approvals/approvals.errors.ts';
import { bankingErrorCatalogue } from './modules/banking/banking.errors.ts';
import { billErrorCatalogue } from './modules/bills/bills.errors.ts';
import { coreErrorCatalogue } from './modules/core/core.errors.ts';
import { customerErrorCatalogue } from './modules/customers/customers.errors.ts';
import { disputeErrorCatalogue } from './modules/disputes/disputes.errors.ts';
import { documentErrorCatalogue } from './modules/documents/documents.errors.ts';
import { identityErrorCatalogue } from './modules/identity/identity.errors.ts';
import { merchantErrorCatalogue } from './modules/merchants/merchants.errors.ts';
import { policyErrorCatalogue } from './modules/policy/policy.errors.ts';
import { realtimeErrorCatalogue } from './modules/realtime/realtime.errors.ts';
import { settingErrorCatalogue } from './modules/settings/settings.errors.ts';
import { supportErrorCatalogue } from './modules/support/index.ts';
import { transactionErrorCatalogue } from './modules/transactions/transactions.errors.ts';
import { walletErrorCatalogue } from './modules/wallets/wallets.errors.ts';
import {
  collectErrorCatalogue,
  type ErrorCatalogue,
  type ErrorCatalogueEntry,
  type ErrorCode,
  platformErrorCatalogue,
} from './platform/error-catalogue.ts';

/** The platform's catalogue, then each module's. */
export const ERROR_CATALOGUES: readonly ErrorCatalogue[] = [
  platformErrorCatalogue,
  accessErrorCatalogue,
  approvalErrorCatalogue,
  bankingErrorCatalogue,
  billErrorCatalogue,
  coreErrorCatalogue,
  customerErrorCatalogue,
  disputeErrorCatalogue,
  documentErrorCatalogue,
  identityErrorCatalogue,
  merchantErrorCatalogue,
  policyErrorCatalogue,
  realtimeErrorCatalogue,
  settingErrorCatalogue,
  supportErrorCatalogue,
  transactionErrorCatalogue,
  walletErrorCatalogue,
];

let collected: ReadonlyMap<ErrorCode, ErrorCatalogueEntry> | undefined;

/** Every declared code with its definition and owning module; throws when two catalogues declare one code. */
export function errorCatalogue(): ReadonlyMap<ErrorCode, ErrorCatalogueEntry> {
  collected ??= collectErrorCatalogue(ERROR_CATALOGUES);
  return collected;
}

export function isErrorCode(value: string): value is ErrorCode {
  return errorCatalogue().has(value as ErrorCode);
}
