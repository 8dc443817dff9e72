/** The risk area's request and response schemas. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';

const Band = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

export const CustomerParams = Type.Object({ customerId: Type.String({ format: 'uuid' }) });

const Factor = Type.Object({
  factor: Type.String({
    description:
      '`product_tier`, `geography`, `occupation_income`, `pep`, `channel_mix` or `alert_history` ' +
      '(docs: aml.risk.factors.ts)',
  }),
  value: Type.Unknown({ description: 'What the factor saw (tier and products, countries, occupation …).' }),
  score: Type.Number({ minimum: 0, maximum: 100, description: 'The factor’s score before its weight.' }),
  weight: Type.Number({ minimum: 0, description: 'Its weight (`aml.risk_weights`).' }),
});

export const RatingView = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  score: Type.Number({ minimum: 0, maximum: 100, description: 'The weighted mean of the factors’ scores.' }),
  band: Band,
  pep: Type.Boolean({ description: 'The latest screening matched a PEP entry at review or hit.' }),
  factors: Type.Array(Factor),
  computed_at: Type.String({ format: 'date-time' }),
  limits: Type.Object(
    {
      reduced: Type.Boolean({ description: 'The customer’s payment limits count at less than 100%.' }),
      percent: Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Every KYC-tier and product amount limit of their wallets counts at this percent.',
      }),
      reason: Type.Union([Type.String(), Type.Null()], {
        description:
          'Who reduced them: `aml_high_risk` (enhanced due diligence while rated high: ' +
          '`aml.high_risk_limit_percent`), `staff`; null when not reduced.',
      }),
    },
    { description: 'The customer’s limit scale. Staff only: the customer sees lower limits, never why.' },
  ),
});

export const HistoryItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  score: Type.Number({ minimum: 0, maximum: 100 }),
  band: Band,
  factors: Type.Array(Factor),
  trigger: Type.String({
    description: 'Why it was computed: an event name, `nightly`, `staff`, `first_view`.',
  }),
  computed_at: Type.String({ format: 'date-time' }),
});

export const HistoryPage = pageOf(HistoryItem);
export const HistoryQuery = PageQuery;
