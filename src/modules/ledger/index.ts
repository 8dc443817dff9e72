/** The double-entry ledger: the only module that writes money. Other modules post through `LedgerService`. */
export {
  type Balance,
  balanceColumns,
  balanceFrom,
  balanceOf,
  bigintArray,
  codeArray,
  HOUSE_ACCOUNTS,
  LEDGER_STATES,
  LedgerError,
  LedgerService,
  type LedgerVerification,
  type Leg,
  ledgerErrorOf,
  normalBalance,
  type PostedBatch,
  type Posting,
  uuidArray,
  verifyLedger,
} from './ledger.service.ts';
export { ledgerAccounts, ledgerBatches, ledgerEntries, ledgerTransfers } from './ledger.tables.ts';
