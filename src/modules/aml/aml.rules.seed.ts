/**
 * The default real-time ruleset, seeded idempotently (a code already present is left as staff versioned it). Each
 * rule's thresholds are in its definition: staff change them by adding a version (PATCH /api/v1/aml/rules/{code}).
 * Amounts are minor units: KES 1,000,000.00 is "100000000".
 */
import type { RuleCreate } from './aml.rules.service.ts';

export const DEFAULT_REALTIME_RULES: readonly RuleCreate[] = [
  {
    code: 'rt_large_single_payment',
    kind: 'realtime',
    name: 'Very large single payment',
    description: 'One payment at or above the large-value threshold of its currency is held for review.',
    mode: 'active',
    action: 'review',
    priority: 'high',
    definition: {
      conditions: [{ field: 'amount', op: 'gte', values: { KES: '100000000', USD: '1000000' } }],
    },
  },
  {
    code: 'rt_velocity_1h',
    kind: 'realtime',
    name: 'Payment velocity in one hour',
    description:
      'More than 100 payments by one customer within an hour (this one included) are held for review.',
    mode: 'active',
    action: 'review',
    priority: 'medium',
    definition: {
      conditions: [
        { field: 'aggregate', subject: 'customer', measure: 'count', window: '1h', op: 'gt', value: 100 },
      ],
    },
  },
  {
    code: 'rt_many_counterparties_24h',
    kind: 'realtime',
    name: 'Many distinct counterparties in a day',
    description: 'Paying 30 or more distinct wallets within 24 hours raises an alert (the payment goes on).',
    mode: 'active',
    action: 'alert',
    priority: 'medium',
    definition: {
      conditions: [
        {
          field: 'aggregate',
          subject: 'customer',
          measure: 'distinct_counterparties',
          window: '24h',
          op: 'gte',
          value: 30,
        },
      ],
    },
  },
  {
    code: 'rt_high_risk_large_payment',
    kind: 'realtime',
    name: 'High-risk customer, large payment',
    description: 'A customer rated high risk paying KES 100,000 (USD 1,000) or more is held for review.',
    mode: 'active',
    action: 'review',
    priority: 'high',
    definition: {
      conditions: [
        { field: 'risk_band', in: ['high'] },
        { field: 'amount', op: 'gte', values: { KES: '10000000', USD: '100000' } },
      ],
    },
  },
  {
    code: 'rt_new_counterparty_large',
    kind: 'realtime',
    name: 'Large payment to a new counterparty',
    description:
      'KES 200,000 (USD 2,000) or more to a wallet the customer never paid before is held for review.',
    mode: 'active',
    action: 'review',
    priority: 'medium',
    definition: {
      conditions: [
        { field: 'counterparty_new', value: true },
        { field: 'amount', op: 'gte', values: { KES: '20000000', USD: '200000' } },
      ],
    },
  },
];
