/**
 * Loans: versioned products, applications with fraud rules, internal and bureau scoring, approval, disbursement
 * through the ledger, schedules, repayment and automatic collection, close of business and collections.
 * Other modules reach it only through this file.
 */
import { on } from '../../platform/events.ts';
import { defineModule } from '../../platform/modules.ts';
import { customerErased, customersModule } from '../customers/index.ts';
import { seedApprovalLimits } from './loans.accounts.limits.ts';
import { loanAccountRoutes } from './loans.accounts.routes.ts';
import type { LoanAccountsService } from './loans.accounts.ts';
import { accountApprovalActions, buildAccounts } from './loans.accounts.wiring.ts';
import { loanApplicationRoutes } from './loans.applications.routes.ts';
import type { LoanApplicationsService } from './loans.applications.ts';
import { buildProductsAndApplications } from './loans.applications.wiring.ts';
import {
  loanCobRuns,
  loanCollectionCases,
  loanCollectionNotes,
  loanInterestEarned,
  loanPromisesToPay,
  loanRemindersSent,
} from './loans.cob.tables.ts';
import type { CloseOfBusiness } from './loans.cob.ts';
import {
  buildCobArea,
  cobApprovalActions,
  cobAreaRoutes,
  cobConfig,
  cobJobs,
  type PortfolioFigures,
  seedCobArea,
} from './loans.cob.wiring.ts';
import type { CollectionsService } from './loans.collections.ts';
import { forgetErasedCustomer, loanErasureObligations } from './loans.erasure.ts';
import { loansErrors } from './loans.errors.ts';
import { loansTopics } from './loans.events.ts';
import { loanFraudRoutes } from './loans.fraud.routes.ts';
import {
  loanDenyList,
  loanFraudCases,
  loanFraudChecks,
  loanFraudFlags,
  loanFraudNotes,
  loanFraudResults,
  loanFraudRules,
} from './loans.fraud.tables.ts';
import { type FraudService, seedFraudRules } from './loans.fraud.ts';
import { buildFraudService, fraudConfig } from './loans.fraud.wiring.ts';
import { buildOffers, type LoanOffersService } from './loans.offers.ts';
import { loanProductRoutes } from './loans.products.routes.ts';
import { seedLoanProducts } from './loans.products.seed.ts';
import type { LoanProductsService } from './loans.products.ts';
import { repaymentRoutes } from './loans.repayments.routes.ts';
import {
  buildRepayments,
  collectionConfig,
  type RepaymentsArea,
  repaymentJobs,
  repaymentSubscriptions,
} from './loans.repayments.wiring.ts';
import { scoringRoutes } from './loans.scoring.routes.ts';
import { loanScoringResults } from './loans.scoring.tables.ts';
import type { ScoringService } from './loans.scoring.ts';
import { buildScoring, scoringConfig, scoringHealth } from './loans.scoring.wiring.ts';
import {
  loanApplications,
  loanApprovalLimits,
  loanHolidays,
  loanInstalments,
  loanProducts,
  loanProductVersions,
  loans,
  loanTransactions,
} from './loans.tables.ts';

export type { LoanAccountsService } from './loans.accounts.ts';
export type { LoanApplicationsService } from './loans.applications.ts';
export { loanApplicationDecided, loanDisbursed, loanRepaymentReceived, loansTopics } from './loans.events.ts';
export type { FraudService } from './loans.fraud.ts';
export type { LoanOffer, LoanOffers, LoanOffersService, LoanQuote } from './loans.offers.ts';
export {
  type PortfolioQuery,
  portfolioFlows,
  portfolioOutstanding,
  portfolioSummary,
} from './loans.portfolio.ts';
export type { LoanProductsService } from './loans.products.ts';
export type { ScoringService } from './loans.scoring.ts';

/** The loans module's API: one property per area (the others add theirs). */
export interface LoansApi {
  /** Products and their versions: `products.version(productId, n, executor?)` gives the terms a loan keeps. */
  products: LoanProductsService;
  /** Applications; `applications.continueAfterFraud(id, ctx)` after an investigation clears one. */
  applications: LoanApplicationsService;
  /** Fraud checks (the pipeline's FraudChecker), rules, flags and their investigations, deny lists. */
  fraud: FraudService;
  /** Scoring (the pipeline's Scorer): internal scorecard, credit bureau, policy; stored results. */
  scoring: ScoringService;
  /** Repayments (customer, staff, automatic collection) and payoff quotes. */
  repayments: RepaymentsArea;
  /** Close of business: `runCob(date)`, idempotent per business date; `runs(query)`. */
  cob: CloseOfBusiness;
  /** Collection cases and promises to pay; `collections.workouts`: reschedule, write-off, recovery. */
  collections: CollectionsService;
  /** Portfolio figures (outstanding, PAR30/60/90, disbursed and collected by period). */
  portfolio: PortfolioFigures;
  /**
   * Approval (the pipeline's LoanApprover), disbursement, approval limits, the loan reads; `accounts.loanLedger`:
   * the loans' ledger accounting every movement posts through.
   */
  accounts: LoanAccountsService;
  /** Products a customer may apply for now and a loan's cost, without an application (USSD asks before applying). */
  offers: LoanOffersService;
}

export const loansModule = defineModule({
  name: 'loans',
  description:
    'Loans: versioned products, applications with fraud rules, scoring (internal and bureau), approval, disbursement, schedules, repayment, close of business and collections',
  dependsOn: [
    'settings',
    'identity',
    'customers',
    'kyc',
    'documents',
    'ledger',
    'wallets',
    'transactions',
    'approvals',
    'notifications',
  ],
  config: { ...fraudConfig, ...collectionConfig, ...scoringConfig, ...cobConfig },
  errors: loansErrors,
  tables: {
    loanProducts,
    loanProductVersions,
    loanApplications,
    loans,
    loanInstalments,
    loanTransactions,
    loanHolidays,
    loanApprovalLimits,
    loanFraudRules,
    loanFraudChecks,
    loanFraudResults,
    loanFraudFlags,
    loanFraudCases,
    loanFraudNotes,
    loanDenyList,
    loanScoringResults,
    loanCobRuns,
    loanRemindersSent,
    loanCollectionCases,
    loanCollectionNotes,
    loanPromisesToPay,
    loanInterestEarned,
  },
  permissions: [
    {
      code: 'loan:read',
      description: 'Read loan products, applications, loans, schedules and collection cases',
    },
    {
      code: 'loan:product_manage',
      description: 'Create and change loan products (each change is a new version)',
    },
    { code: 'loan:apply', description: 'Submit and withdraw loan applications on a customer’s behalf' },
    {
      code: 'loan:fraud_manage',
      description: 'Run fraud checks, manage fraud rules, deny lists and investigations',
    },
    { code: 'loan:score', description: 'Score loan applications (internal scorecard and credit bureau)' },
    {
      code: 'loan:approve',
      description: 'Approve or decline loan applications (within the role’s approval limit)',
    },
    { code: 'loan:disburse', description: 'Disburse approved loans' },
    { code: 'loan:repay', description: 'Record repayments (cash, bank) and quote payoffs' },
    { code: 'loan:collect', description: 'Work collection cases and promises to pay' },
    { code: 'loan:reschedule', description: 'Request a loan reschedule (maker-checker)' },
    { code: 'loan:write_off', description: 'Request write-offs and record recoveries (maker-checker)' },
    { code: 'loan:cob', description: 'Run and read close of business' },
  ],
  publishes: loansTopics,
  // create / routes / jobs / seed / approvalActions / subscribes: each area adds its own wiring (see the brief).
  create: (ctx): LoansApi => {
    const { products, applications } = buildProductsAndApplications(ctx);
    const fraud = buildFraudService(ctx, ctx.config);
    applications.connect({ fraud });
    const scoring = buildScoring(ctx, ctx.config);
    applications.connect({ scoring });
    fraud.onCleared((id, context) => applications.continueAfterFraud(id, context));
    const { accounts } = buildAccounts(ctx);
    applications.connect({ approver: accounts });
    const cobArea = buildCobArea(ctx);
    const repayments = buildRepayments(ctx, ctx.config);
    // A customer who owes a loan or awaits a decision on an application is not erased (loans.erasure.ts).
    ctx.use(customersModule).customers.addErasureCheck(loanErasureObligations);
    const offers = buildOffers(ctx, products);
    return { products, applications, fraud, scoring, ...cobArea, repayments, accounts, offers };
  },
  routes: (api, ctx) => [
    ...cobAreaRoutes(api, ctx),
    loanProductRoutes(api.products),
    loanApplicationRoutes(api.applications),
    loanFraudRoutes(api.fraud),
    scoringRoutes(api.scoring),
    repaymentRoutes(api.repayments.service),
    loanAccountRoutes(api.accounts),
  ],
  jobs: (api) => [...cobJobs(api), ...repaymentJobs(api.repayments)],
  subscribes: (api) => [
    ...repaymentSubscriptions(api.repayments),
    ...api.applications.subscriptions(),
    on(customerErased, forgetErasedCustomer),
  ],
  health: (api) => scoringHealth(api.scoring),
  approvalActions: (api) => [...cobApprovalActions(api), ...accountApprovalActions(api.accounts)],
  seed: async ({ deps }) => {
    await seedCobArea(deps);
    await seedLoanProducts(deps.database.db);
    await seedFraudRules(deps.database.db);
    await seedApprovalLimits(deps.database.db);
  },
});
