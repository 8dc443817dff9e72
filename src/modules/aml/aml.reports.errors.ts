/** The AML reports area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const reportsErrorDefinitions = {
  AML_REPORT_NOT_FOUND: {
    status: 404,
    message: 'Report not found',
    description: 'No goAML report with this id.',
  },
  AML_REPORT_NO_TRANSACTIONS: {
    status: 422,
    message: 'The case has no transactions to report',
    description:
      'A goAML STR lists the transactions of the case’s alerts (their evidence); none of its alerts names a ' +
      'transaction that exists.',
  },
  AML_REPORT_INVALID: {
    status: 422,
    message: 'The generated goAML report does not validate against the schema: {reason}',
    description:
      'Every report is validated against goaml/goAML_report.xsd before it is stored; one that fails is not stored. ' +
      'The reason is libxml2’s first message (a customer record missing a field the schema requires, a value too ' +
      'long).',
  },
  AML_REPORT_FX_RATE_MISSING: {
    status: 422,
    message: 'No FX rate from {currency} to {local} to report the amount in the local currency',
    description:
      'goAML reports amounts in the local currency (GOAML_CURRENCY_LOCAL); a transaction in another currency needs ' +
      'the payment engine’s rate between the two.',
  },
} as const satisfies ErrorDefinitions;
