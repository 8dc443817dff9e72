/**
 * Test factories for the loans module: a product inserted directly (with its version 1), a customer with a tier and
 * a funded wallet, staff users with roles, and applications in a chosen state — so each area's tests can start
 * from the state they exercise without going through every earlier step.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setCustomerTier } from '../../src/modules/customers/index.ts';
import {
  type ApplicationState,
  loanApplications,
  loanProducts,
  loanProductVersions,
} from '../../src/modules/loans/loans.tables.ts';
import type { ProductTerms } from '../../src/modules/loans/loans.terms.ts';
import { inTransaction } from '../../src/platform/db.ts';
import { humanNumber, uuidv7 } from '../../src/platform/ids.ts';
import { bearer, login, type TestContext } from './app.ts';
import { createCustomer, deposit, openWallet, type TestCustomer, type TestWallet } from './money.ts';

export const STAFF_PASSWORD = 'amber lantern river 7';

/** 12 % nominal annual, monthly, declining balance with equal instalments, per-period interest (the vector). */
export const MONTHLY_TERMS: ProductTerms = {
  min_amount_minor: '100000',
  max_amount_minor: '50000000',
  min_term: 1,
  max_term: 24,
  frequency: 'monthly',
  interest_method: 'declining_equal_instalments',
  interest_calculation: 'per_period',
  annual_rate: '12',
  grace_principal_periods: 0,
  grace_interest_periods: 0,
  upfront_fee: null,
  late_penalty: { type: 'percent', value: '5', after_days: 3 },
  allocation_order: ['penalty', 'fee', 'interest', 'principal'],
  prepayment: 'reduce_term',
  overpayment: 'future_instalments',
  eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 3 },
  fraud_threshold: 100,
  auto_approve_limit_minor: '0',
  maker_checker_above_minor: '100000000',
};

export interface TestProduct {
  id: string;
  code: string;
  currency: string;
  version: number;
  terms: ProductTerms;
}

/** A product with its version 1, inserted directly (the product routes have their own tests). */
export async function insertLoanProduct(
  t: TestContext,
  terms: Partial<ProductTerms> = {},
  options: { code?: string; currency?: string; name?: string } = {},
): Promise<TestProduct> {
  const id = uuidv7();
  const code = options.code ?? `test-${randomUUID().slice(0, 8)}`;
  const currency = options.currency ?? 'KES';
  const full: ProductTerms = { ...MONTHLY_TERMS, ...terms };
  await inTransaction(t.deps.database.db, async (tx) => {
    await tx.insert(loanProducts).values({
      id,
      code,
      name: options.name ?? `Test product ${code}`,
      currency,
      status: 'active',
      currentVersion: 1,
    });
    await tx.insert(loanProductVersions).values({ productId: id, version: 1, terms: full });
  });
  return { id, code, currency, version: 1, terms: full };
}

export interface LoanCustomer extends TestCustomer {
  wallet: TestWallet;
}

/** A customer at a KYC tier with a wallet holding `balance` minor units (0 for none). */
export async function loanCustomer(
  t: TestContext,
  firstName: string,
  phone: string,
  options: { tier?: string; balance?: number; currency?: string } = {},
): Promise<LoanCustomer> {
  const customer = await createCustomer(t, firstName, phone);
  await inTransaction(t.deps.database.db, (tx) =>
    setCustomerTier(tx, customer.id, options.tier ?? 'standard', null),
  );
  const wallet = await openWallet(t, customer.id, options.currency ?? 'KES');
  if (options.balance) await deposit(t, wallet.id, options.balance, options.currency ?? 'KES');
  return { ...customer, wallet };
}

/** A staff user with the given roles, signed in; returns the access token. */
export async function staffToken(t: TestContext, username: string, roles: string[]): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/user/user/add',
    headers: bearer(t.adminToken),
    payload: {
      username,
      email: `${username}@bank.test`,
      full_name: username,
      password: STAFF_PASSWORD,
      roles,
      must_change_password: false,
    },
  });
  assert.equal(response.statusCode, 201, response.body);
  return (await login(t.app, username, STAFF_PASSWORD)).access_token;
}

/** An application inserted directly in a chosen state (the application route has its own tests). */
export async function insertApplication(
  t: TestContext,
  input: {
    customerId: string;
    product: TestProduct;
    amountMinor: bigint | number;
    term: number;
    status?: ApplicationState;
    declaredMonthlyIncomeMinor?: bigint | number;
    deviceId?: string | null;
    purpose?: string;
  },
): Promise<string> {
  const id = uuidv7();
  await t.deps.database.db.insert(loanApplications).values({
    id,
    number: humanNumber('LA'),
    customerId: input.customerId,
    productId: input.product.id,
    productVersion: input.product.version,
    amountMinor: BigInt(input.amountMinor),
    currency: input.product.currency,
    term: input.term,
    purpose: input.purpose ?? 'Stock for the shop',
    declaredMonthlyIncomeMinor: BigInt(input.declaredMonthlyIncomeMinor ?? 5_000_000),
    status: input.status ?? 'referred',
    channel: 'app',
    deviceId: input.deviceId ?? null,
    submittedByType: 'customer',
    submittedById: input.customerId,
  });
  return id;
}
