/**
 * The loans module's closed set of error codes (docs/errors.md is generated from it). Each area keeps its codes in
 * its own `loans.<area>.errors.ts` (a plain definitions object); this file joins them into the one catalogue.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { accountErrorDefinitions } from './loans.accounts.errors.ts';
import { applicationErrorDefinitions } from './loans.applications.errors.ts';
import { cobErrorDefinitions } from './loans.cob.errors.ts';
import { fraudErrorDefinitions } from './loans.fraud.errors.ts';
import { repaymentErrorDefinitions } from './loans.repayments.errors.ts';
import { scoringErrorDefinitions } from './loans.scoring.errors.ts';

const definitions = {
  ...applicationErrorDefinitions,
  ...fraudErrorDefinitions,
  ...scoringErrorDefinitions,
  ...accountErrorDefinitions,
  ...cobErrorDefinitions,
  ...repaymentErrorDefinitions,
} as const satisfies ErrorDefinitions;

type LoansErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends LoansErrorCodes {}
}

export const loansErrors = defineErrors('loans', definitions);
