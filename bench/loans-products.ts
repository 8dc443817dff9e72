/**
 * The four products of the close-of-business portfolio (bench/loans-portfolio.ts): both interest calculations,
 * monthly, weekly and two-weekly, annuity, flat and equal principal, fixed and percent late penalties.
 */
import type pg from 'pg';
import { DEFAULT_ALLOCATION_ORDER, type ProductTerms } from '../src/modules/loans/loans.terms.ts';
import { uuidv7 } from '../src/platform/ids.ts';

const BASE: Omit<ProductTerms, 'frequency' | 'interest_method' | 'interest_calculation' | 'annual_rate'> = {
  min_amount_minor: '100000',
  max_amount_minor: '100000000',
  min_term: 1,
  max_term: 52,
  grace_principal_periods: 0,
  grace_interest_periods: 0,
  upfront_fee: null,
  late_penalty: null,
  allocation_order: [...DEFAULT_ALLOCATION_ORDER],
  prepayment: 'reduce_term',
  overpayment: 'future_instalments',
  eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 3 },
  fraud_threshold: 60,
  auto_approve_limit_minor: '0',
  maker_checker_above_minor: '50000000',
};

export interface BenchProduct {
  code: string;
  terms: ProductTerms;
  /** Instalment counts drawn from. */
  termChoices: number[];
  /** Share of the portfolio. */
  weight: number;
}

export const BENCH_PRODUCTS: BenchProduct[] = [
  {
    code: 'bench-monthly-annuity',
    weight: 0.35,
    termChoices: [6, 12],
    terms: {
      ...BASE,
      frequency: 'monthly',
      interest_method: 'declining_equal_instalments',
      interest_calculation: 'per_period',
      annual_rate: '18',
      upfront_fee: { mode: 'first_instalment', percent: '1' },
      late_penalty: { type: 'percent', value: '5', after_days: 5 },
    },
  },
  {
    code: 'bench-monthly-flat',
    weight: 0.2,
    termChoices: [3, 6],
    terms: {
      ...BASE,
      frequency: 'monthly',
      interest_method: 'flat',
      interest_calculation: 'per_period',
      annual_rate: '24',
      late_penalty: { type: 'fixed', value: '20000', after_days: 3 },
    },
  },
  {
    code: 'bench-weekly-daily',
    weight: 0.3,
    termChoices: [8, 12, 16],
    terms: {
      ...BASE,
      frequency: 'weekly',
      interest_method: 'declining_equal_instalments',
      interest_calculation: 'daily',
      annual_rate: '20',
      late_penalty: { type: 'percent', value: '2', after_days: 3 },
    },
  },
  {
    code: 'bench-biweekly-daily-principal',
    weight: 0.15,
    termChoices: [6, 10],
    terms: {
      ...BASE,
      frequency: 'biweekly',
      interest_method: 'declining_equal_principal',
      interest_calculation: 'daily',
      annual_rate: '16',
      late_penalty: { type: 'fixed', value: '10000', after_days: 7 },
    },
  },
];

export const PRINCIPALS = [
  500_000n,
  1_000_000n,
  2_000_000n,
  2_500_000n,
  5_000_000n,
  7_500_000n,
  10_000_000n,
  20_000_000n,
];

/** The products with their version 1, inserted as the product routes would leave them. */
export async function insertProducts(pool: pg.Pool) {
  const products = new Map<string, { id: string; code: string; terms: ProductTerms }>();
  for (const spec of BENCH_PRODUCTS) {
    const id = uuidv7();
    await pool.query(
      `insert into loan_products (id, code, name, currency, status, current_version) values ($1, $2, $3, 'KES', 'active', 1)`,
      [id, spec.code, `Benchmark ${spec.code}`],
    );
    await pool.query(`insert into loan_product_versions (product_id, version, terms) values ($1, 1, $2)`, [
      id,
      JSON.stringify(spec.terms),
    ]);
    products.set(spec.code, { id, code: spec.code, terms: spec.terms });
  }
  return products;
}
