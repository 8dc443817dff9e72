/** Schemas of close of business (`/api/v1/loan/cob/*`) and the portfolio summary (`/api/v1/loan/portfolio/summary`). */
import { type Static, Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyOut } from '../../platform/money.ts';

const BusinessDate = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  description: 'Business date (YYYY-MM-DD, UTC)',
});

export const CobRunBody = Type.Object({ business_date: BusinessDate }, { additionalProperties: false });
export type CobRunInput = Static<typeof CobRunBody>;

export const CobRunView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  business_date: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')], {
    description:
      '`failed`: some loans could not be closed (named in `failures`); a rerun for the date retries them',
  }),
  loans_processed: Type.Integer({ description: 'Loans closed for the date so far (all runs for the date)' }),
  loans_failed: Type.Integer(),
  batches: Type.Integer(),
  failures: Type.Array(Type.Object({ loan_id: Type.String(), error: Type.String() })),
  triggered_by_type: Type.String(),
  triggered_by_id: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CobRunQuery = PageQuery;
export const CobRunPage = pageOf(CobRunView);

export const PortfolioQuery = Type.Object({
  currency: Type.Optional(CurrencyCode),
  from: Type.Optional(BusinessDate),
  to: Type.Optional(BusinessDate),
  period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('month')], { default: 'month' })),
});

const Par = Type.Object({
  days: Type.Integer({ description: 'PAR30, PAR60, PAR90: loans more than this many days past due' }),
  loans: Type.Integer(),
  principal_minor: MoneyOut,
  ratio: Type.String({ description: 'principal at risk / all principal outstanding, 4 decimals' }),
});

export const PortfolioSummary = Type.Object({
  from: Type.String(),
  to: Type.String(),
  period: Type.String(),
  currencies: Type.Array(
    Type.Object({
      currency: Type.String(),
      active_loans: Type.Integer(),
      outstanding: Type.Object({
        principal_minor: MoneyOut,
        interest_minor: MoneyOut,
        fee_minor: MoneyOut,
        penalty_minor: MoneyOut,
        total_minor: MoneyOut,
      }),
      par: Type.Array(Par),
      flows: Type.Array(
        Type.Object({
          period: Type.String(),
          disbursed_minor: MoneyOut,
          collected_minor: MoneyOut,
          recovered_minor: MoneyOut,
        }),
      ),
    }),
  ),
});
