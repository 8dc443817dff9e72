/**
 * Demo loan products every installation starts with, so a customer can apply at once (the quick start): a small
 * salary advance any KYC tier may take, and an SME working-capital loan for Standard tier and up. Idempotent: a
 * product whose code exists is left as it is (staff may have changed it).
 */
import { type Executor, inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { insertProduct, insertProductVersion } from './loans.products.repository.ts';
import { DEFAULT_ALLOCATION_ORDER, type ProductTerms } from './loans.terms.ts';

interface ProductSeed {
  code: string;
  name: string;
  currency: string;
  terms: ProductTerms;
}

export const DEMO_LOAN_PRODUCTS: readonly ProductSeed[] = [
  {
    code: 'salary-advance',
    name: 'Salary advance',
    currency: 'KES',
    terms: {
      min_amount_minor: '100000',
      max_amount_minor: '5000000',
      min_term: 1,
      max_term: 3,
      frequency: 'monthly',
      interest_method: 'flat',
      interest_calculation: 'per_period',
      annual_rate: '24',
      grace_principal_periods: 0,
      grace_interest_periods: 0,
      upfront_fee: { mode: 'deduct', percent: '2' },
      late_penalty: { type: 'fixed', value: '20000', after_days: 3 },
      allocation_order: [...DEFAULT_ALLOCATION_ORDER],
      prepayment: 'reduce_term',
      overpayment: 'future_instalments',
      eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 1 },
      fraud_threshold: 60,
      auto_approve_limit_minor: '2000000',
      maker_checker_above_minor: '5000000',
    },
  },
  {
    code: 'sme-working-capital',
    name: 'SME working capital',
    currency: 'KES',
    terms: {
      min_amount_minor: '1000000',
      max_amount_minor: '100000000',
      min_term: 3,
      max_term: 24,
      frequency: 'monthly',
      interest_method: 'declining_equal_instalments',
      interest_calculation: 'per_period',
      annual_rate: '18',
      grace_principal_periods: 0,
      grace_interest_periods: 0,
      upfront_fee: { mode: 'first_instalment', percent: '1' },
      late_penalty: { type: 'percent', value: '5', after_days: 5 },
      allocation_order: [...DEFAULT_ALLOCATION_ORDER],
      prepayment: 'reduce_instalment',
      overpayment: 'future_instalments',
      eligibility: { min_kyc_tier: 'standard', min_wallet_tenure_days: 90, max_active_loans: 2 },
      fraud_threshold: 60,
      auto_approve_limit_minor: '0',
      maker_checker_above_minor: '50000000',
    },
  },
];

export async function seedLoanProducts(db: Executor): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const seed of DEMO_LOAN_PRODUCTS) {
      const id = uuidv7();
      const inserted = await insertProduct(tx, {
        id,
        code: seed.code,
        name: seed.name,
        currency: seed.currency,
        status: 'active',
        currentVersion: 1,
      });
      if (inserted)
        await insertProductVersion(tx, { productId: id, version: 1, terms: seed.terms, createdById: null });
    }
  });
}
