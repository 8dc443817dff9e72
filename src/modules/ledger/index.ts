/** The double-entry ledger: the only module that writes money. Other modules post through `LedgerService`. */
import { defineModule } from '../../platform/modules.ts';
import { LedgerService } from './ledger.service.ts';
import {
  ledgerAccounts,
  ledgerBatches,
  ledgerDeferredDeltas,
  ledgerEntries,
  ledgerTransfers,
} from './ledger.tables.ts';

export {
  balanceBefore,
  batchTransfers,
  type JournalLine,
  journalLines,
  type PendingState,
  pendingStates,
  preparedRowWithBalance,
  type TransferRow,
} from './ledger.repository.ts';
export {
  type AccountRow,
  type Balance,
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

export const ledgerModule = defineModule({
  name: 'ledger',
  description:
    'The double-entry ledger: accounts, balanced batches, holds; the only module that writes money',
  dependsOn: [],
  tables: { ledgerAccounts, ledgerBatches, ledgerTransfers, ledgerEntries, ledgerDeferredDeltas },
  permissions: [
    { code: 'ledger:read', description: 'Read ledger accounts and entries' },
    { code: 'ledger:verify', description: 'Run ledger verification' },
  ],
  create: ({ deps }) => new LedgerService(deps.database.db),
  jobs: (ledger) => [
    // Hot house accounts take deltas instead of row updates; balances read them too, so this only keeps them short.
    { name: 'ledger.roll-up', schedule: '* * * * *', run: () => ledger.rollUp() },
    { name: 'ledger.void-expired-holds', schedule: '*/5 * * * *', run: () => ledger.voidExpired() },
  ],
});
