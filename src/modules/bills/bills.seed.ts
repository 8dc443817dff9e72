/** Loads the seed billers that do not exist yet (billers changed by staff survive re-seeding). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { SEED_DIR } from '../identity/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import { adapterFor } from './bills.adapters.ts';
import { billerByCode, insertBiller } from './bills.repository.ts';

export interface BillerSeed {
  code: string;
  name: string;
  category: string;
  currency: string;
  adapter: string;
  reference_pattern: string;
  min_amount: number;
  max_amount: number | null;
}

/** The ledger account a biller's payments settle to: what the platform owes the biller. */
export async function createSettlementAccount(
  tx: Executor,
  ledger: LedgerService,
  biller: { code: string; name: string; currency: string },
): Promise<string> {
  const account = await ledger.createAccount(tx, {
    code: `biller:${biller.code}`,
    name: `Biller ${biller.name}`,
    currency: biller.currency,
    kind: 'liability',
    // Credited by every payment to the biller: a hot account, so its side of a posting is appended, not locked.
    deferred: true,
  });
  return account.id;
}

export async function seedBillers(db: Executor, ledger: LedgerService): Promise<number> {
  const seeds = JSON.parse(readFileSync(join(SEED_DIR, 'billers.json'), 'utf8')) as BillerSeed[];
  let created = 0;
  for (const seed of seeds) {
    adapterFor({ code: seed.code, adapter: seed.adapter, referencePattern: seed.reference_pattern });
    try {
      const added = await inTransaction(db, async (tx) => {
        if (await billerByCode(tx, seed.code)) return false;
        const settlementAccountId = await createSettlementAccount(tx, ledger, seed);
        await insertBiller(tx, {
          id: uuidv7(),
          code: seed.code,
          name: seed.name,
          category: seed.category,
          currency: seed.currency,
          adapter: seed.adapter,
          referencePattern: seed.reference_pattern,
          minAmount: BigInt(seed.min_amount),
          maxAmount: seed.max_amount === null ? null : BigInt(seed.max_amount),
          settlementAccountId,
        });
        return true;
      });
      if (added) created += 1;
    } catch (error) {
      // Another process seeding at the same moment created it first.
      const constraint = violatedConstraint(error);
      if (constraint === 'billers_code_key' || constraint === 'ledger_accounts_code_key') continue;
      throw error;
    }
  }
  return created;
}
