/**
 * The AML module's closed set of error codes (docs/errors.md is generated from it). Each area keeps its codes in its
 * own `aml.<area>.errors.ts` (a plain definitions object); this file joins them into the one catalogue.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { casesErrorDefinitions } from './aml.cases.errors.ts';
import { realtimeErrorDefinitions } from './aml.realtime.errors.ts';
import { reportsErrorDefinitions } from './aml.reports.errors.ts';
import { riskErrorDefinitions } from './aml.risk.errors.ts';
import { scenariosErrorDefinitions } from './aml.scenarios.errors.ts';
import { screeningErrorDefinitions } from './aml.screening.errors.ts';

const definitions = {
  ...casesErrorDefinitions,
  ...reportsErrorDefinitions,
  ...riskErrorDefinitions,
  ...screeningErrorDefinitions,
  ...realtimeErrorDefinitions,
  ...scenariosErrorDefinitions,
} as const satisfies ErrorDefinitions;

type AmlErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends AmlErrorCodes {}
}

export const amlErrors = defineErrors('aml', definitions);
